import { describe, expect, it } from "vitest";
import { joinPrompt, plain, special } from "../../prompt/text.js";
import type { GenerateEvent } from "../types.js";
import { createHermesMockEngine as createMockEngine } from "../../../test/support/hermes-mock.js";
import { GbnfRecognizer, gbnfConstraint, jsonSchemaConstraint, toolCallsConstraint } from "../../grammar/index.js";
import { HERMES_DIALECT } from "../../hermes/dialect.js";
import { createMockEngine as createBareMockEngine, MOCK_SPECIAL_BASE, type MockEngine } from "./mock-engine.js";

const hermes = createMockEngine({ script: [] });
const mockTokenize = (text: string, special: boolean) => hermes.tokenizeText(text, special);
const mockDetokenize = (tokens: readonly number[], special: boolean) => hermes.detokenizeTokens(tokens, special);
const MOCK_IM_END = hermes.endOfTurnId;

async function text(events: AsyncIterable<GenerateEvent>): Promise<string> {
  let out = "";
  for await (const e of events) if (e.type === "text-delta") out += e.text;
  return out;
}

describe("mock engine", () => {
  it("answers from rules (first match wins; strings match the prompt's end)", async () => {
    const engine = createMockEngine({
      script: [
        { match: /weather/, reply: "<tool_call>\n{}\n</tool_call>" },
        { match: "assistant\n", reply: "Hi!" },
      ],
      defaultReply: "?",
    });
    expect(await text(engine.generate({ prompt: "<|im_start|>user\nweather?<|im_end|>\n<|im_start|>assistant\n" }))).toBe(
      "<tool_call>\n{}\n</tool_call>",
    );
    expect(await text(engine.generate({ prompt: "<|im_start|>assistant\n" }))).toBe("Hi!");
    expect(await text(engine.generate({ prompt: "nothing" }))).toBe("?");
    expect(engine.replyTokens(mockTokenize("<|im_start|>user\nweather<|im_end|>", true))).toContain(engine.info.specialTokens.markers["<tool_call>"]);
  });

  it("answers from a function of the rendered prompt", async () => {
    const engine = createMockEngine({ script: (prompt) => `echo:${prompt.length}` });
    expect(await text(engine.generate({ prompt: joinPrompt(special("<|im_start|>"), plain("ab")) }))).toBe("echo:14");
  });

  it("tokenizes bytes and special tokens, and renders them back", () => {
    const tokens = mockTokenize("<|im_end|>é<tool_call>", true);
    expect(tokens).toEqual([MOCK_IM_END, 0xc3, 0xa9, hermes.info.specialTokens.markers["<tool_call>"]]);
    expect(mockDetokenize(tokens, true)).toBe("<|im_end|>é<tool_call>");
    expect(mockDetokenize(tokens, false)).toBe("é");
    expect(mockTokenize("<|im_end|>", false)).toHaveLength(10);
  });

  it("gives a normalised deterministic distribution with the scripted token on top", () => {
    const engine = createMockEngine({ script: [{ match: "go:", reply: "ok" }] });
    const lp = engine.logprobsAfter(mockTokenize("go:", true));
    expect([...lp].reduce((a, v) => a + Math.exp(v), 0)).toBeCloseTo(1, 9);
    let best = 0;
    lp.forEach((v, i) => {
      if (v > (lp[best] as number)) best = i;
    });
    expect(best).toBe("o".charCodeAt(0));
    expect(engine.logprobsAfter(mockTokenize("go:", true))).toEqual(lp);
  });

  it("waits for a sequence when all are busy", async () => {
    const engine = createMockEngine({ script: () => "abcdef", sequences: 1, tokenDelayMs: 1 });
    const a = text(engine.generate({ prompt: "x" }));
    const b = text(engine.generate({ prompt: "y" }));
    await new Promise((r) => setTimeout(r, 2));
    expect(engine.stats()).toMatchObject({ sequencesTotal: 1, sequencesBusy: 1, waiting: 1 });
    expect(await Promise.all([a, b])).toEqual(["abcdef", "abcdef"]);
  });

  it("knows no chat format: its vocabulary is bytes, BOS/EOS and the caller's special tokens", () => {
    const bare = createBareMockEngine({ script: [] });
    expect(bare.info.specialTokens.markers).toEqual({});
    expect(bare.tokenizeText("<tool_call>", true)).toHaveLength("<tool_call>".length);
    expect(hermes.info.specialTokens.markers["<tool_call>"]).toBeGreaterThanOrEqual(MOCK_SPECIAL_BASE);
    expect(Object.keys(hermes.info.specialTokens.markers)).toEqual(expect.arrayContaining([...HERMES_DIALECT.markers]));
    expect(hermes.capabilities).toMatchObject({ grammar: true, lazyGrammar: true, jumpForward: false });
  });
});

describe("mock engine: grammars are enforced with our recognizer", () => {
  const prompt = "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n";
  const run = async (engine: MockEngine, request: Parameters<MockEngine["generate"]>[0]) => {
    const events: GenerateEvent[] = [];
    for await (const e of engine.generate(request)) events.push(e);
    const out = events.filter((e) => e.type === "text-delta").map((e) => (e.type === "text-delta" ? e.text : "")).join("");
    return { out, events, finish: events[events.length - 1] };
  };
  const tools = [
    { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
    { name: "ping" },
  ];

  it("a reply the grammar allows passes unchanged", async () => {
    const engine = createMockEngine({ script: () => '{"a": 1}' });
    const r = await run(engine, { prompt, grammar: jsonSchemaConstraint({ type: "object", properties: { a: { type: "integer" } } }) });
    expect(r.out).toBe('{"a": 1}');
    expect(r.finish).toMatchObject({ type: "finish", reason: "stop" });
  });

  it("a reply the grammar rejects is replaced by text in the grammar's language", async () => {
    const schema = { type: "object", properties: { a: { type: "integer" } }, required: ["a"] };
    const constraint = jsonSchemaConstraint(schema);
    const engine = createMockEngine({ script: () => "Sure! Here is JSON" });
    const r = await run(engine, { prompt, grammar: constraint });
    expect(GbnfRecognizer.fromText(constraint.gbnf).accepts(r.out)).toBe(true);
    expect(JSON.parse(r.out)).toMatchObject({ a: expect.any(Number) });
  });

  it("lazy: free text until the trigger, then what the grammar rejects (an undeclared name, with otherNames off) is rewritten", async () => {
    const constraint = toolCallsConstraint(HERMES_DIALECT.toolCall, tools, { lazy: true, maxCalls: 1, otherNames: false });
    const engine = createMockEngine({ script: () => 'Let me check.<tool_call>\n{"name": "delete_everything", "arguments": {}}\n</tool_call>' });
    const r = await run(engine, { prompt, grammar: constraint });
    expect(r.out.startsWith("Let me check.<tool_call>")).toBe(true);
    const after = r.out.slice("Let me check.<tool_call>".length);
    expect(GbnfRecognizer.fromText(constraint.gbnf).accepts(after)).toBe(true);
    expect(after).not.toContain("delete_everything");
  });

  it("lazy: a reply that never opens a call is not constrained", async () => {
    const engine = createMockEngine({ script: () => "No tools needed." });
    const r = await run(engine, { prompt, grammar: toolCallsConstraint(HERMES_DIALECT.toolCall, tools, { lazy: true }) });
    expect(r.out).toBe("No tools needed.");
  });

  it("an invalid grammar is an invalid_request; jumpForward: true is a warning, not ignored silently", async () => {
    const engine = createMockEngine({ script: () => "x" });
    await expect(run(engine, { prompt, grammar: gbnfConstraint("root ::= (") })).rejects.toMatchObject({ code: "invalid_request" });
    const r = await run(engine, { prompt, grammar: gbnfConstraint('root ::= "x"'), jumpForward: true });
    expect(r.events[0]).toMatchObject({ type: "warning", code: "jump-forward-unavailable" });
    expect(r.out).toBe("x");
  });
});
