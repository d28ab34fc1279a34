import { describe, expect, it } from "vitest";
import { GbnfRecognizer } from "../grammar/index.js";
import { GrammarTracker, planForcedTokens, splitAtMarkers } from "./constrained-decoding.js";

/** A toy decoder: token id = one character code (ids ≥ 1000 are whole words from a table). */
const WORDS: Record<number, string> = { 1000: "<tool_call>", 1001: "</tool_call>", 1002: '{"a', 1003: ">\n{" };
const decode = (tokens: readonly number[]): string => tokens.map((t) => WORDS[t] ?? String.fromCharCode(t)).join("");
const ids = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

const GRAMMAR = 'root ::= "{\\"name\\": \\"" ("get_weather" | "get_time") "\\"}"\n';

describe("GrammarTracker", () => {
  it("an eager grammar is active at once and forces its opening text", () => {
    const tracker = new GrammarTracker({ triggers: [], decode, previous: [], recognizer: GbnfRecognizer.fromText(GRAMMAR) });
    expect(tracker.active).toBe(true);
    expect(tracker.forced()).toEqual({ text: '{"name": "get_', thenEnds: false });
    for (const t of ids('{"name": "get_t')) tracker.push(t);
    expect(tracker.forced()).toEqual({ text: 'ime"}', thenEnds: true });
    for (const t of ids('ime"}')) tracker.push(t);
    expect(tracker.complete).toBe(true);
    expect(tracker.violated).toBe(false);
  });

  it("a lazy grammar waits for the trigger, then follows the text after it (leftover included)", () => {
    const tracker = new GrammarTracker({
      triggers: ["<tool_call>"],
      decode,
      previous: [],
      recognizer: GbnfRecognizer.fromText('root ::= "\\n{\\"x\\": 1}"\n'),
    });
    for (const t of ids("Let me check. <tool_call")) expect(tracker.push(t)).toEqual({});
    expect(tracker.active).toBe(false);
    expect(tracker.forced().text).toBe("");
    // ">\n{" completes the trigger and carries "\n{" past it.
    expect(tracker.push(1003)).toEqual({ activated: { trigger: "<tool_call>", leftover: "\n{" } });
    expect(tracker.active).toBe(true);
    expect(tracker.forced()).toEqual({ text: '"x": 1}', thenEnds: true });
  });

  it("a trigger split over tokens is found; a marker token activates with empty leftover", () => {
    const a = new GrammarTracker({ triggers: ["<tool_call>"], decode, previous: [] });
    expect(a.push(1000)).toEqual({ activated: { trigger: "<tool_call>", leftover: "" } });
    const b = new GrammarTracker({ triggers: ["<tool_call>"], decode, previous: [] });
    let activated = false;
    for (const t of ids("<tool_call>")) activated ||= b.push(t).activated !== undefined;
    expect(activated).toBe(true);
  });

  it("reports text outside the grammar as violated", () => {
    const tracker = new GrammarTracker({ triggers: [], decode, previous: [], recognizer: GbnfRecognizer.fromText(GRAMMAR) });
    tracker.push("[".charCodeAt(0));
    expect(tracker.violated).toBe(true);
    expect(tracker.forced().text).toBe("");
  });

  it("does not force text while a UTF-8 character is incomplete", () => {
    // decoder that yields U+FFFD for token 1 until token 2 completes it
    const utf8 = (tokens: readonly number[]): string => (tokens.at(-1) === 1 ? "\uFFFD" : tokens.includes(1) ? "é" : decode(tokens));
    const tracker = new GrammarTracker({ triggers: [], decode: utf8, previous: [], recognizer: GbnfRecognizer.fromText('root ::= "é!!"\n') });
    tracker.push(1);
    expect(tracker.settled).toBe(false);
    expect(tracker.forced().text).toBe("");
    tracker.push(2);
    expect(tracker.settled).toBe(true);
    expect(tracker.forced()).toEqual({ text: "!!", thenEnds: true });
  });
});

describe("splitAtMarkers", () => {
  it("splits marker texts out, longest first", () => {
    expect(splitAtMarkers('}\n</tool_call>\n<tool_call>\n{"', ["<tool_call>", "</tool_call>"])).toEqual([
      { text: "}\n", marker: false },
      { text: "</tool_call>", marker: true },
      { text: "\n", marker: false },
      { text: "<tool_call>", marker: true },
      { text: '\n{"', marker: false },
    ]);
    expect(splitAtMarkers("plain", ["<tool_call>"])).toEqual([{ text: "plain", marker: false }]);
    expect(splitAtMarkers("", ["<tool_call>"])).toEqual([]);
  });
});

describe("planForcedTokens", () => {
  const t = (id: number, marker = false) => ({ id, marker });
  it("holds back a last plain token that could merge with what follows", () => {
    expect(planForcedTokens([t(1), t(2), t(3)], false)).toEqual([1, 2]);
    expect(planForcedTokens([t(1)], false)).toEqual([]);
  });
  it("keeps the last token when it is a marker or the grammar ends after it", () => {
    expect(planForcedTokens([t(1), t(2, true)], false)).toEqual([1, 2]);
    expect(planForcedTokens([t(1), t(2)], true)).toEqual([1, 2]);
    expect(planForcedTokens([], true)).toEqual([]);
  });
});
