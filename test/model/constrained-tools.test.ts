/**
 * Grammar-constrained tool calls through llama.cpp:
 * - on the RANDOM model (garbage without a grammar), `tool_choice: required` and a named tool yield a
 *   parseable `<tool_call>` whose arguments validate for the chosen tool, every time, over seeds;
 *   `parallel_tool_calls: false` yields exactly one call;
 * - on SCRIPTED models whose reply starts with text and then calls tools (one call with invalid
 *   arguments), `auto` with the lazy grammar leaves the text alone and repairs what follows
 *   `<tool_call>`; `parallel_tool_calls: false` keeps one call; both GGUF types of the tags;
 * - on a SCRIPTED model calling an undeclared tool, `auto` keeps the model's choice (the grammar allows
 *   any other name) and the service reports it as an `unknown_tool` tool-call error.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JsonValidator } from "../../src/chat/validate.js";
import { ChatService } from "../../src/chat/service.js";
import { createHermesChatFormat } from "../../src/chat/hermes-format.js";
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
    constrained,
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

  it("required with parallel calls: every call valid", async () => {
    const result = await complete(service(engine), { toolChoice: { type: "required" }, maxTokens: 200, sampling: { temperature: 1, seed: 7 } });
    expect(result.toolCalls.length).toBeGreaterThan(0);
    for (const call of result.toolCalls) {
      expect(validator.validate(TOOLS.find((t) => t.name === call.name)?.parameters, JSON.parse(call.arguments)).valid).toBe(true);
    }
  });
});

/** Text, then one call whose arguments are invalid (`city` must be a string). */
const SCRIPT = 'Checking.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": 42, "unit": "celsius"}}\n</tool_call>';

for (const toolTokenType of ["control", "user"] as const) {
  describe(`auto with the lazy grammar (scripted model, tool tags ${toolTokenType})`, () => {
    let engine: LlamaCppEngine;
    beforeAll(async () => {
      const model = await ensureTestModel({ kind: "scripted", reply: SCRIPT, toolTokenType });
      engine = await createLlamaCppEngine({ model, threads: 1, contextSize: 2048 });
    });
    afterAll(async () => engine?.dispose());

    it("unconstrained: the model's call has invalid arguments (control)", async () => {
      const result = await complete(service(engine, false), { maxTokens: 96, sampling: { temperature: 0 } });
      expect(result.content).toBe("Checking.");
      expect(result.toolCalls.map((c) => c.name)).toEqual(["get_weather"]);
      expect(JSON.parse(result.toolCalls[0]?.arguments ?? "{}")).toEqual({ city: 42, unit: "celsius" });
    });

    it("constrained: the text before <tool_call> is free, the call after it validates", async () => {
      const result = await complete(service(engine), { maxTokens: 96, sampling: { temperature: 0 } });
      expect(result.content).toBe("Checking.");
      expect(result.toolCalls[0]?.name).toBe("get_weather");
      expectValidCalls(result);
    });

    it("parallel_tool_calls false: exactly one call, and generation ends with it", async () => {
      const result = await complete(service(engine), { maxTokens: 96, parallelToolCalls: false, sampling: { temperature: 1, seed: 3 } });
      expect(result.toolCalls).toHaveLength(1);
      expectValidCalls(result);
      expect(result.finishReason).toBe("tool_calls");
    });
  });
}

describe("auto with the lazy grammar: an undeclared tool is kept and reported, not rewritten (scripted model)", () => {
  const DELETE = '<tool_call>\n{"name": "delete_everything", "arguments": {"confirm": true}}\n</tool_call>';
  let engine: LlamaCppEngine;
  beforeAll(async () => {
    engine = await createLlamaCppEngine({ model: await ensureTestModel({ kind: "scripted", reply: `Cleaning.\n${DELETE}` }), threads: 1, contextSize: 2048 });
  });
  afterAll(async () => engine?.dispose());

  it("llama.cpp runs the open-name grammar; the call is a tool-call error (unknown_tool) with its raw text in content", async () => {
    const result = await complete(service(engine), { maxTokens: 96, sampling: { temperature: 0 } });
    expect(result.toolCalls).toEqual([]);
    expect(result.content).toBe(`Cleaning.\n${DELETE}`);
    expect(result.toolCallErrors).toEqual([expect.objectContaining({ kind: "unknown_tool", name: "delete_everything", raw: DELETE, closed: true })]);
    expect(result.finishReason).toBe("stop");
  });
});
