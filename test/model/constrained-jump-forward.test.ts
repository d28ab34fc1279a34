/**
 * Jump-forward decoding (GenerateRequest.jumpForward, default on under a grammar): forced grammar text
 * is appended as tokens without sampling. Outputs must stay valid; at temperature 0 a model that
 * spells its text the way the tokenizer does gives the same text with and without it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JsonValidator } from "../../src/chat/validate.js";
import { jsonSchemaConstraint, toolCallsConstraint } from "../../src/grammar/index.js";
import { HERMES_DIALECT } from "../../src/hermes/index.js";
import { createLlamaCppEngine, type LlamaCppEngine } from "../../src/engine/llama-cpp/index.js";
import type { FinishReason, GenerateRequest } from "../../src/engine/types.js";
import { renderPrompt } from "../../src/hermes/index.js";
import { ensureTestModel } from "../../src/testmodels/index.js";

const TOOLS = [
  {
    name: "get_weather",
    description: "Weather for a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string", maxLength: 10 }, unit: { enum: ["celsius", "fahrenheit"] } },
      required: ["city", "unit"],
      additionalProperties: false,
    },
  },
  { name: "get_time", description: "Current time", parameters: { type: "object", properties: {}, additionalProperties: false } },
];
const validator = new JsonValidator();

async function generate(engine: LlamaCppEngine, request: GenerateRequest): Promise<{ text: string; reason: FinishReason; forced: number }> {
  const before = engine.forcedTokenCount;
  let text = "";
  let reason: FinishReason = "stop";
  for await (const event of engine.generate(request)) {
    if (event.type === "text-delta") text += event.text;
    else if (event.type === "finish") reason = event.reason;
  }
  return { text, reason, forced: engine.forcedTokenCount - before };
}

function prompt(engine: LlamaCppEngine) {
  return renderPrompt({ messages: [{ role: "user", content: "Weather in Paris?" }], tools: TOOLS, style: "template", bosToken: engine.info.specialTokens.bos?.text ?? "" });
}

describe("jump-forward on a scripted model (canonical spelling)", () => {
  const CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call>';
  let engine: LlamaCppEngine;
  beforeAll(async () => {
    engine = await createLlamaCppEngine({ model: await ensureTestModel({ kind: "scripted", reply: `Sure.\n${CALL}` }), threads: 1, contextSize: 2048 });
  });
  afterAll(async () => engine?.dispose());

  it("lazy auto grammar: the same text with and without jump-forward at temperature 0, with tokens forced", async () => {
    const base = { prompt: prompt(engine), maxTokens: 64, sampling: { temperature: 0 }, grammar: toolCallsConstraint(HERMES_DIALECT.toolCall, TOOLS, { lazy: true, maxCalls: Infinity }) };
    const off = await generate(engine, { ...base, jumpForward: false });
    const on = await generate(engine, { ...base, jumpForward: true });
    expect(off.text).toBe(`Sure.\n${CALL}`);
    expect(on.text).toBe(off.text);
    expect(on.reason).toBe("stop");
    expect(off.forced).toBe(0);
    // the envelope up to the name, the arguments key and the argument keys, the closing tag. Under auto
    // the tool name itself is the model's own choice (declared or not: docs/decisions/0096), so none
    // of it is forced; the forced grammar below still forces name suffixes.
    expect(on.forced).toBeGreaterThanOrEqual(10);
  });

  it("a grammar that is complete stops generation without sampling (parallel calls off)", async () => {
    const single = toolCallsConstraint(HERMES_DIALECT.toolCall, TOOLS, { lazy: true, maxCalls: 1 });
    const on = await generate(engine, { prompt: prompt(engine), maxTokens: 64, sampling: { temperature: 0 }, grammar: single });
    expect(on.text).toBe(`Sure.\n${CALL}`);
    expect(on.reason).toBe("stop");
  });
});

describe("jump-forward on the random model", () => {
  let engine: LlamaCppEngine;
  beforeAll(async () => {
    engine = await createLlamaCppEngine({ model: await ensureTestModel({ kind: "random" }), threads: 1, contextSize: 2048 });
  });
  afterAll(async () => engine?.dispose());

  for (const temperature of [0, 1]) {
    it(`forced calls are valid with and without jump-forward (temperature ${temperature})`, async () => {
      for (const jumpForward of [false, true]) {
        const r = await generate(engine, {
          prompt: prompt(engine),
          grammar: toolCallsConstraint(HERMES_DIALECT.toolCall, TOOLS),
          jumpForward,
          maxTokens: 160,
          sampling: { temperature, seed: 11 },
        });
        const match = /^<tool_call>\n(.*)\n<\/tool_call>$/s.exec(r.text);
        expect(match, r.text).not.toBeNull();
        const call = JSON.parse(match?.[1] as string) as { name: string; arguments: unknown };
        const schema = TOOLS.find((t) => t.name === call.name)?.parameters;
        expect(schema).toBeDefined();
        expect(validator.validate(schema, call.arguments)).toEqual({ valid: true });
        if (jumpForward) expect(r.forced).toBeGreaterThan(5);
        else expect(r.forced).toBe(0);
      }
    });
  }

  it("JSON mode: a schema's answer is valid with jump-forward (compact keys forced)", async () => {
    const schema = {
      type: "object",
      properties: { name: { type: "string", maxLength: 8 }, age: { type: "integer", minimum: 0, maximum: 120 }, tags: { type: "array", items: { enum: ["a", "b"] }, maxItems: 3 } },
      required: ["name", "age", "tags"],
      additionalProperties: false,
    };
    for (const seed of [1, 2]) {
      const r = await generate(engine, { prompt: "<|im_start|>user\nJSON please<|im_end|>\n<|im_start|>assistant\n", grammar: jsonSchemaConstraint(schema, { whitespace: "compact" }), maxTokens: 120, sampling: { temperature: 1, seed } });
      expect(r.reason).toBe("stop");
      expect(validator.validate(schema, JSON.parse(r.text)), r.text).toEqual({ valid: true });
      expect(r.forced).toBeGreaterThan(0);
    }
  });
});
