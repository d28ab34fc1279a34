/**
 * Grammar-constrained tool calls through llama.cpp:
 * - on the RANDOM model (garbage without a grammar), `tool_choice: required` and a named tool yield a
 *   parseable `<tool_call>` whose arguments validate for the chosen tool, every time, over seeds;
 *   `parallel_tool_calls: false` yields exactly one call;
 * - on SCRIPTED models whose reply starts with text and then calls tools (one call with invalid
 *   arguments), `auto` with the lazy grammar leaves the text alone and repairs what follows
 *   `<tool_call>`; `parallel_tool_calls: false` keeps one call; both GGUF types of the tags.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToolConstraints, JsonValidator } from "../../src/agent/index.js";
import { ChatService } from "../../src/chat/service.js";
import { createHermesChatFormat } from "../../src/chat/hermes-format.js";
import { noConstraints } from "../../src/chat/constraints.js";
import type { ChatRequest, ChatResult, ToolDefinition } from "../../src/chat/types.js";
import { createLlamaCppEngine, type LlamaCppEngine } from "../../src/engine/llama-cpp/index.js";
import { ensureTestModel } from "../../src/testmodels/index.js";

const TOOLS: ToolDefinition[] = [
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
  {
    name: "set_alarm",
    description: "Set an alarm",
    parameters: {
      type: "object",
      properties: { hour: { type: "integer", minimum: 0, maximum: 23 }, minute: { type: "integer", minimum: 0, maximum: 59 } },
      required: ["hour", "minute"],
      additionalProperties: false,
    },
  },
  { name: "get_time", description: "Current time", parameters: { type: "object", properties: {}, additionalProperties: false } },
];
const validator = new JsonValidator();

function expectValidCalls(result: ChatResult, allowed: readonly string[] = TOOLS.map((t) => t.name)): void {
  expect(result.toolCallError, JSON.stringify(result)).toBeUndefined();
  expect(result.toolCalls.length).toBeGreaterThan(0);
  for (const call of result.toolCalls) {
    expect(allowed).toContain(call.name);
    const schema = TOOLS.find((t) => t.name === call.name)?.parameters;
    const check = validator.validate(schema, JSON.parse(call.arguments));
    expect(check, `${call.name} ${call.arguments}`).toEqual({ valid: true });
  }
}

function service(engine: LlamaCppEngine, constrained = true): ChatService {
  return new ChatService({
    engine,
    format: createHermesChatFormat({ profile: "hermes-3", style: "template", bosToken: engine.info.specialTokens.bos?.text ?? "" }),
    constraints: constrained ? createToolConstraints() : noConstraints,
  });
}

async function complete(chat: ChatService, request: Omit<ChatRequest, "messages">): Promise<ChatResult> {
  return chat.complete(await chat.prepare({ messages: [{ role: "user", content: "Set an alarm or check the weather." }], tools: TOOLS, ...request }));
}

describe("forced tool calls on the random model", () => {
  let engine: LlamaCppEngine;
  beforeAll(async () => {
    engine = await createLlamaCppEngine({ model: await ensureTestModel({ kind: "random" }), threads: 1, contextSize: 2048 });
  });
  afterAll(async () => engine?.dispose());

  it("without a grammar the random model produces no tool call (control)", async () => {
    const result = await complete(service(engine, false), { toolChoice: { type: "required" }, maxTokens: 24, sampling: { temperature: 1, seed: 1 } });
    expect(result.toolCalls).toHaveLength(0);
  });

  for (const seed of [1, 2, 3]) {
    it(`required (parallel_tool_calls false): exactly one valid call, seed ${seed}`, async () => {
      const result = await complete(service(engine), {
        toolChoice: { type: "required" },
        parallelToolCalls: false,
        maxTokens: 160,
        sampling: { temperature: 1, seed },
      });
      expectValidCalls(result);
      expect(result.toolCalls).toHaveLength(1);
      expect(result.finishReason).toBe("tool_calls");
    });

    it(`named tool: a valid call of that tool, seed ${seed}`, async () => {
      const name = seed % 2 === 0 ? "get_weather" : "set_alarm";
      const result = await complete(service(engine), { toolChoice: { type: "function", name }, maxTokens: 160, sampling: { temperature: 1, seed } });
      expectValidCalls(result, [name]);
      expect(result.toolCalls).toHaveLength(1);
    });
  }

  it("jump-forward on and off both give valid calls at temperature 0 (named tool)", async () => {
    const prompt = await service(engine).prepare({
      messages: [{ role: "user", content: "Weather?" }],
      tools: TOOLS,
      toolChoice: { type: "function", name: "get_weather" },
    });
    const texts: string[] = [];
    for (const jumpForward of [false, true]) {
      let text = "";
      for await (const e of engine.generate({ prompt: prompt.promptTokens, grammar: prompt.grammar as NonNullable<typeof prompt.grammar>, jumpForward, maxTokens: 160, sampling: { temperature: 0 } })) {
        if (e.type === "text-delta") text += e.text;
      }
      const match = /^<tool_call>\n(.*)\n<\/tool_call>$/s.exec(text);
      expect(match, text).not.toBeNull();
      const call = JSON.parse(match?.[1] as string) as { name: string; arguments: unknown };
      expect(call.name).toBe("get_weather");
      expect(validator.validate(TOOLS[0]?.parameters, call.arguments).valid).toBe(true);
      texts.push(text);
    }
  });
});

const SCRIPT =
  'Checking both.\n<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>\n<tool_call>\n{"name": "get_weather", "arguments": {"city": 42, "unit": "celsius"}}\n</tool_call>';

for (const toolTokenType of ["control", "user"] as const) {
  describe(`auto with the lazy grammar (scripted model, tool tags ${toolTokenType})`, () => {
    let engine: LlamaCppEngine;
    beforeAll(async () => {
      const model = await ensureTestModel({ kind: "scripted", reply: SCRIPT, toolTokenType });
      engine = await createLlamaCppEngine({ model, threads: 1, contextSize: 2048 });
    });
    afterAll(async () => engine?.dispose());

    it("unconstrained: the model's second call has invalid arguments (control)", async () => {
      const result = await complete(service(engine, false), { maxTokens: 96, sampling: { temperature: 0 } });
      expect(result.toolCalls.map((c) => c.name)).toEqual(["get_time", "get_weather"]);
      expect(JSON.parse(result.toolCalls[1]?.arguments ?? "{}")).toEqual({ city: 42, unit: "celsius" });
    });

    it("constrained: the text before <tool_call> is free, every call after it validates", async () => {
      const result = await complete(service(engine), { maxTokens: 96, sampling: { temperature: 0 } });
      expect(result.content).toBe("Checking both.");
      expect(result.toolCalls[0]).toMatchObject({ name: "get_time", arguments: "{}" });
      expectValidCalls(result);
    });

    it("parallel_tool_calls false: generation ends after the first call", async () => {
      const result = await complete(service(engine), { maxTokens: 96, parallelToolCalls: false, sampling: { temperature: 0 } });
      expect(result.toolCalls).toHaveLength(1);
      expect(result.toolCalls[0]?.name).toBe("get_time");
      expect(result.usage.completionTokens).toBeLessThan(30);
    });
  });
}
