import { describe, expect, it } from "vitest";
/** The Hermes format's grammars: the generic builders with HERMES_DIALECT's tool-call syntax. */
import { GbnfRecognizer, JsonSchemaGrammarError, jsonSchemaConstraint, toolCallsConstraint, type ToolGrammarSpec } from "../grammar/index.js";
import { HERMES_DIALECT } from "../hermes/dialect.js";
import { ChatError } from "./errors.js";
import { createHermesChatFormat } from "./hermes-format.js";
import type { GrammarConstraintsOptions } from "./constraints.js";

const TOOL_CALL_TRIGGER = HERMES_DIALECT.toolCall.open;
const lazyToolCallGrammar = (t: readonly ToolGrammarSpec[], o: { maxCalls?: number } = {}) =>
  toolCallsConstraint(HERMES_DIALECT.toolCall, t, { lazy: true, maxCalls: o.maxCalls ?? Infinity });
const forcedToolCallGrammar = (t: readonly ToolGrammarSpec[]) => toolCallsConstraint(HERMES_DIALECT.toolCall, t);
const jsonModeGrammar = jsonSchemaConstraint;
const createToolConstraints = (o?: GrammarConstraintsOptions) => createHermesChatFormat().constraints(o);

const tools = [
  { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
  { name: "get_time" },
];
const WEATHER = '\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
const TIME = '\n{"name": "get_time", "arguments": {}}\n</tool_call>';

describe("lazyToolCallGrammar", () => {
  const lazy = lazyToolCallGrammar(tools);
  const r = GbnfRecognizer.fromText(lazy.gbnf);

  it("is triggered by <tool_call> and matches the call body after it", () => {
    expect(lazy.lazyTriggers).toEqual([TOOL_CALL_TRIGGER]);
    expect(r.accepts(WEATHER)).toBe(true);
    expect(r.accepts(TIME)).toBe(true);
  });

  it("allows more calls after up to two whitespace characters, then the end", () => {
    expect(r.accepts(`${WEATHER}\n<tool_call>${TIME}`)).toBe(true);
    expect(r.accepts(`${WEATHER}<tool_call>${TIME}`)).toBe(true);
    expect(r.accepts(`${WEATHER}\n\n\n<tool_call>${TIME}`)).toBe(false);
    expect(r.accepts(`${WEATHER}\nSome text`)).toBe(false);
  });

  it("keeps an undeclared name (any object as its arguments: the parser reports it); rejects invalid arguments of a declared tool and a missing close tag", () => {
    expect(r.accepts('\n{"name": "send_email", "arguments": {"to": "x"}}\n</tool_call>')).toBe(true);
    expect(r.isViablePrefix('\n{"name": "get_weather", "arguments": {"city": 3')).toBe(false);
    expect(r.accepts(WEATHER.replace("\n</tool_call>", ""))).toBe(false);
  });

  it("forces the envelope, and everything after a complete declared name (jump-forward material)", () => {
    // Under auto the name is the model's own choice (declared or not), so no part of it is forced
    // (docs/decisions/0096-tool-call-integrity.md); the forced grammar below still forces "get_".
    expect(r.forcedText(r.initial()).text).toBe('\n{"name": "');
    expect(r.forcedText(r.feed(r.initial(), '\n{"name": "get_w')).text).toBe("");
    const named = r.feed(r.initial(), '\n{"name": "get_weather"');
    expect(r.forcedText(named).text).toBe(', "arguments": {');
  });

  it("maxCalls 1 allows exactly one call", () => {
    const one = GbnfRecognizer.fromText(lazyToolCallGrammar(tools, { maxCalls: 1 }).gbnf);
    expect(one.accepts(WEATHER)).toBe(true);
    expect(one.accepts(`${WEATHER}\n<tool_call>${TIME}`)).toBe(false);
    const end = one.feed(one.initial(), WEATHER);
    expect(end.canEnd && one.allowedNext(end).isEmpty).toBe(true);
  });

  it("names the tool whose schema cannot be enforced; rejects empty and duplicate lists", () => {
    expect(() => lazyToolCallGrammar([{ name: "bad", parameters: { type: "object", properties: { x: { type: "string", not: {} } } } }])).toThrow(
      /tool "bad"/,
    );
    expect(() => lazyToolCallGrammar([])).toThrow(JsonSchemaGrammarError);
    expect(() => lazyToolCallGrammar([{ name: "a" }, { name: "a" }])).toThrow(/duplicate/);
  });
});

describe("forcedToolCallGrammar and jsonModeGrammar", () => {
  it("forces a call from the first character", () => {
    const r = GbnfRecognizer.fromText(forcedToolCallGrammar(tools).gbnf);
    expect(r.forcedText(r.initial()).text).toBe('<tool_call>\n{"name": "get_');
    expect(r.accepts(`<tool_call>${WEATHER}`)).toBe(true);
    expect(r.accepts(`<tool_call>${WEATHER}\n<tool_call>${TIME}`)).toBe(false);
  });

  it("JSON mode: the schema, or any object", () => {
    const any = GbnfRecognizer.fromText(jsonModeGrammar().gbnf);
    expect(any.accepts('{"a": [1, 2]}')).toBe(true);
    expect(any.accepts("[1]")).toBe(false);
    const typed = GbnfRecognizer.fromText(jsonModeGrammar({ type: "object", properties: { n: { type: "integer" } }, required: ["n"] }).gbnf);
    expect(typed.accepts('{"n": 1}')).toBe(true);
    expect(typed.accepts('{"n": "1"}')).toBe(false);
  });
});

describe("the Hermes format's constraints", () => {
  const base = { responseFormat: { type: "text" as const }, parallelToolCalls: true };
  it("auto → the lazy grammar (one call without parallel calls); required → the forced grammar", () => {
    const build = createToolConstraints();
    const auto = build({ ...base, tools, toolChoice: { type: "auto" } });
    expect(auto?.lazyTriggers).toEqual(["<tool_call>"]);
    const single = build({ ...base, tools, toolChoice: { type: "auto" }, parallelToolCalls: false });
    expect(GbnfRecognizer.fromText(single?.gbnf ?? "").accepts(`${WEATHER}\n<tool_call>${TIME}`)).toBe(false);
    const required = build({ ...base, tools, toolChoice: { type: "required" } });
    expect(required?.lazyTriggers).toBeUndefined();
    expect(build({ ...base, tools: [], toolChoice: { type: "none" } })).toBeUndefined();
  });

  it("auto with a schema it cannot enforce: unconstrained (told) or an error", () => {
    const bad = [{ name: "bad", parameters: { type: "object", properties: { x: { not: {} } } } }];
    const told: string[] = [];
    expect(createToolConstraints({ onUnconstrained: (m: string) => told.push(m) })({ ...base, tools: bad, toolChoice: { type: "auto" } })).toBeUndefined();
    expect(told[0]).toMatch(/tool "bad"/);
    expect(() => createToolConstraints({ autoFallback: "error" })({ ...base, tools: bad, toolChoice: { type: "auto" } })).toThrow(ChatError);
  });
});
