import { describe, expect, it } from "vitest";
import { createHermesMockEngine as createMockEngine } from "../../test/support/hermes-mock.js";
import { promptToString } from "../prompt/text.js";
import { ChatService, collectChat, type ChatServiceOptions } from "./service.js";
import { createHermesChatFormat } from "./hermes-format.js";
import { ChatError } from "./errors.js";
import type { ChatEvent, ChatRequest, ToolDefinition } from "./types.js";

const weather: ToolDefinition = {
  name: "get_weather",
  description: "Weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};
const CALL = '<tool_call>\n{"arguments": {"city": "Paris"}, "name": "get_weather"}\n</tool_call>';

function service(script: (prompt: string) => string | undefined, contextSize = 4096, options: Partial<ChatServiceOptions> = {}): ChatService {
  const engine = createMockEngine({ script, contextSize, sequences: 2 });
  let n = 0;
  return new ChatService({ engine, format: createHermesChatFormat({ profile: "hermes-3" }), createToolCallId: () => `call_${n++}`, ...options });
}

async function events(chat: ChatService, request: ChatRequest, signal?: AbortSignal): Promise<ChatEvent[]> {
  const prepared = await chat.prepare(request);
  const out: ChatEvent[] = [];
  for await (const e of chat.stream(prepared, signal === undefined ? {} : { signal })) out.push(e);
  return out;
}

describe("ChatService", () => {
  it("streams plain text: generation-start first, text deltas, finish stop with usage", async () => {
    const chat = service((p) => (p.endsWith("Hi<|im_end|>\n<|im_start|>assistant\n") ? "Hello there!" : undefined));
    const out = await events(chat, { messages: [{ role: "user", content: "Hi" }] });
    expect(out[0]).toEqual({ type: "generation-start" });
    expect(out.filter((e) => e.type === "text-delta").map((e) => (e as { text: string }).text).join("")).toBe("Hello there!");
    const finish = out.at(-1);
    expect(finish).toMatchObject({ type: "finish", reason: "stop", engineReason: "stop" });
    expect((finish as Extract<ChatEvent, { type: "finish" }>).usage.completionTokens).toBe("Hello there!".length + 1);
  });

  it("parses a tool call: start (id, name), arguments, end; finish_reason tool_calls; no markup in content", async () => {
    const chat = service((p) => (p.includes("<tools>") ? `Let me check.\n${CALL}` : undefined));
    const out = await events(chat, { messages: [{ role: "user", content: "Weather in Paris?" }], tools: [weather] });
    const text = out.filter((e) => e.type === "text-delta").map((e) => (e as { text: string }).text).join("");
    expect(text.trim()).toBe("Let me check.");
    expect(text).not.toContain("tool_call");
    const start = out.find((e) => e.type === "tool-call-start");
    expect(start).toEqual({ type: "tool-call-start", index: 0, id: "call_0", name: "get_weather" });
    const args = out.filter((e) => e.type === "tool-call-delta").map((e) => (e as { argumentsDelta: string }).argumentsDelta).join("");
    expect(JSON.parse(args)).toEqual({ city: "Paris" });
    expect(out.at(-1)).toMatchObject({ type: "finish", reason: "tool_calls" });
  });

  it("complete(): tool round trip renders the tool result and answers", async () => {
    const chat = service((p) => {
      if (p.includes("<tool_response>")) return "It is sunny in Paris.";
      if (p.includes("<tools>")) return CALL;
      return undefined;
    });
    const first = await chat.complete(await chat.prepare({ messages: [{ role: "user", content: "Weather?" }], tools: [weather] }));
    expect(first.finishReason).toBe("tool_calls");
    expect(first.content).toBe("");
    const call = first.toolCalls[0]!;
    expect(call.name).toBe("get_weather");
    const second = await chat.complete(
      await chat.prepare({
        messages: [
          { role: "user", content: "Weather?" },
          { role: "assistant", content: null, toolCalls: [call] },
          { role: "tool", content: '{"temp": 21}', toolCallId: call.id },
        ],
        tools: [weather],
      }),
    );
    expect(second).toMatchObject({ content: "It is sunny in Paris.", finishReason: "stop", toolCalls: [] });
  });

  it("parallel_tool_calls false stops after the first call", async () => {
    const two = `${CALL}\n${CALL.replace("Paris", "Rome")}\nand more text`;
    const chat = service((p) => (p.includes("<tools>") ? two : undefined));
    const parallel = await collectChat(chat.stream(await chat.prepare({ messages: [{ role: "user", content: "x" }], tools: [weather] })));
    expect(parallel.toolCalls).toHaveLength(2);
    const single = await collectChat(
      chat.stream(await chat.prepare({ messages: [{ role: "user", content: "x" }], tools: [weather], parallelToolCalls: false })),
    );
    expect(single.toolCalls).toHaveLength(1);
    expect(JSON.parse(single.toolCalls[0]!.arguments)).toEqual({ city: "Paris" });
    expect(single.finishReason).toBe("tool_calls");
    expect(single.usage.completionTokens).toBeLessThan(parallel.usage.completionTokens);
    expect(chat.engine.stats().sequencesBusy).toBe(0);
  });

  it("tool_choice none removes the tools from the prompt and does not parse calls", async () => {
    const chat = service((p) => (p.includes("<tools>") ? CALL : `plain ${CALL}`));
    const r = await chat.complete(await chat.prepare({ messages: [{ role: "user", content: "x" }], tools: [weather], toolChoice: { type: "none" } }));
    expect(r.toolCalls).toEqual([]);
    expect(r.content).toBe(`plain ${CALL}`);
    expect(promptToString(chat.render({ messages: [{ role: "user", content: "x" }], tools: [weather], toolChoice: { type: "none" } }))).not.toContain("<tools>");
  });

  it("rejects unknown named tool choice, required without tools and duplicate tools with a param", async () => {
    const chat = service(() => "x");
    const m = [{ role: "user" as const, content: "x" }];
    await expect(chat.prepare({ messages: m, tools: [weather], toolChoice: { type: "function", name: "nope" } })).rejects.toMatchObject({
      code: "invalid_request",
      param: "tool_choice",
    });
    await expect(chat.prepare({ messages: m, toolChoice: { type: "required" } })).rejects.toBeInstanceOf(ChatError);
    await expect(chat.prepare({ messages: m, tools: [weather, weather] })).rejects.toMatchObject({ param: "tools[1].function.name" });
  });

  it("rejects a prompt longer than the context with context_length_exceeded", async () => {
    const chat = service(() => "x", 64);
    await expect(chat.prepare({ messages: [{ role: "user", content: "y".repeat(200) }] })).rejects.toMatchObject({
      code: "context_length_exceeded",
      param: "messages",
    });
  });

  it("maps max tokens to finish length and honours stop strings", async () => {
    const chat = service(() => "one two three four");
    const short = await chat.complete(await chat.prepare({ messages: [{ role: "user", content: "x" }], maxTokens: 3 }));
    expect(short).toMatchObject({ content: "one", finishReason: "length" });
    const stopped = await chat.complete(await chat.prepare({ messages: [{ role: "user", content: "x" }], stop: [" three"] }));
    expect(stopped).toMatchObject({ content: "one two", finishReason: "stop" });
  });

  it("aborting frees the sequence and finishes with abort", async () => {
    const engine = createMockEngine({ script: () => "a".repeat(500), tokenDelayMs: 2, sequences: 1 });
    const chat = new ChatService({ engine, format: createHermesChatFormat() });
    const controller = new AbortController();
    const out: ChatEvent[] = [];
    for await (const e of chat.stream(await chat.prepare({ messages: [{ role: "user", content: "x" }] }), { signal: controller.signal })) {
      out.push(e);
      if (out.length === 5) controller.abort();
    }
    expect(out.at(-1)).toMatchObject({ type: "finish", reason: "abort" });
    expect(engine.stats().sequencesBusy).toBe(0);
  });

  it("reports logprobs for generated tokens when asked", async () => {
    const chat = service(() => "abc");
    const r = await chat.complete(await chat.prepare({ messages: [{ role: "user", content: "x" }], logprobs: true, topLogprobs: 2 }));
    expect(r.logprobs?.map((t) => t.text).join("")).toBe("abc");
    expect(r.logprobs?.[0]?.top).toHaveLength(2);
    expect(r.logprobs?.[0]?.logprob).toBeLessThan(0);
  });

  it("validates completed tool calls against their parameters and reports failures after the call", async () => {
    const bad = '<tool_call>\n{"name": "get_weather", "arguments": {"town": "Paris"}}\n</tool_call>\n<tool_call>\n{"name": "nope", "arguments": {}}\n</tool_call>';
    // undeclaredToolCalls "call" (the agent loop's): an undeclared call is a call, flagged by validation
    const chat = service((p) => (p.includes("<tools>") ? `${CALL}\n${bad}` : undefined), 4096, { undeclaredToolCalls: "call" });
    const out = await events(chat, { messages: [{ role: "user", content: "x" }], tools: [weather] });
    const failures = out.filter((e) => e.type === "validation-error");
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({ target: "tool-call", index: 1, name: "get_weather", message: expect.stringContaining("must have required property 'city'") });
    expect((failures[0] as { issues: readonly unknown[] }).issues.length).toBeGreaterThan(0);
    expect(failures[1]).toMatchObject({ target: "tool-call", index: 2, name: "nope", message: 'unknown tool "nope"' });
    // each failure follows its call's end
    const kinds = out.map((e) => e.type);
    expect(kinds.indexOf("validation-error")).toBe(kinds.indexOf("tool-call-end", kinds.indexOf("tool-call-end") + 1) + 1);
    const result = await collectChat(chat.stream(await chat.prepare({ messages: [{ role: "user", content: "x" }], tools: [weather] })));
    expect(result.toolCalls).toHaveLength(3);
    expect(result.validationErrors?.map((f) => f.index)).toEqual([1, 2]);
  });

  it("validates JSON-mode answers against response_format; a valid answer has no validation errors", async () => {
    const schema = { type: "object", properties: { n: { type: "integer" } }, required: ["n"] };
    const reply = { current: '{"n": "one"}' };
    const chat = service(() => reply.current);
    const ask = async (responseFormat: ChatRequest["responseFormat"]) =>
      chat.complete(await chat.prepare({ messages: [{ role: "user", content: "x" }], ...(responseFormat === undefined ? {} : { responseFormat }) }));
    const invalid = await ask({ type: "json_schema", name: "n", schema, strict: false });
    expect(invalid.validationErrors).toEqual([
      expect.objectContaining({ target: "response", message: expect.stringContaining("/n must be integer") }),
    ]);
    reply.current = '{"n": 1}';
    expect((await ask({ type: "json_schema", name: "n", schema, strict: false })).validationErrors).toBeUndefined();
    reply.current = "not json";
    expect((await ask({ type: "json_object" })).validationErrors).toEqual([{ target: "response", message: "the answer is not JSON", issues: [] }]);
    reply.current = "[1]";
    expect((await ask({ type: "json_object" })).validationErrors?.[0]?.message).toContain("must be object");
    expect((await ask(undefined)).validationErrors).toBeUndefined();
  });

  it("validate: false turns validation off", async () => {
    const engine = createMockEngine({ script: () => '<tool_call>\n{"name": "get_weather", "arguments": {}}\n</tool_call>' });
    const chat = new ChatService({ engine, format: createHermesChatFormat(), validate: false });
    const result = await chat.complete(await chat.prepare({ messages: [{ role: "user", content: "x" }], tools: [weather] }));
    expect(result.toolCalls).toHaveLength(1);
    expect(result.validationErrors).toBeUndefined();
  });
});

describe("tool-call integrity (docs/decisions/0096-tool-call-integrity.md)", () => {
  const DELETE = '<tool_call>\n{"name": "delete_everything", "arguments": {"confirm": true}}\n</tool_call>';
  const ask = { messages: [{ role: "user" as const, content: "Clean up." }], tools: [weather] };

  for (const constrained of [true, false]) {
    it(`an undeclared tool under auto is a tool-call-error, never a call of a declared tool (grammar ${constrained ? "on" : "off"})`, async () => {
      const chat = service((p) => (p.includes("<tools>") ? `On it.\n${DELETE}` : undefined), 4096, { constrained });
      const prepared = await chat.prepare(ask);
      expect(prepared.grammar !== undefined).toBe(constrained);
      const out: ChatEvent[] = [];
      for await (const e of chat.stream(prepared)) out.push(e);
      expect(out.filter((e) => e.type === "tool-call-start")).toEqual([]);
      const errors = out.filter((e) => e.type === "tool-call-error");
      expect(errors).toEqual([
        { type: "tool-call-error", kind: "unknown_tool", name: "delete_everything", raw: DELETE, closed: true, message: expect.stringContaining('"delete_everything"') },
      ]);
      // the raw text came first, as content, in place
      const text = out.filter((e) => e.type === "text-delta").map((e) => (e as { text: string }).text).join("");
      expect(text).toBe(`On it.\n${DELETE}`);
      expect(out.findIndex((e) => e.type === "tool-call-error")).toBeGreaterThan(out.findLastIndex((e) => e.type === "text-delta"));
      expect(out.at(-1)).toMatchObject({ type: "finish", reason: "stop" });
      const result = await chat.complete(await chat.prepare(ask));
      expect(result.toolCalls).toEqual([]);
      expect(result.content).toBe(`On it.\n${DELETE}`);
      expect(result.toolCallErrors).toEqual([expect.objectContaining({ kind: "unknown_tool", name: "delete_everything", raw: DELETE })]);
      expect(result.toolCallError).toEqual({ kind: "unknown_tool", raw: DELETE });
    });
  }

  it("a declared call next to an undeclared one: the declared call is kept, the other reported", async () => {
    const paris = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
    const chat = service((p) => (p.includes("<tools>") ? `${paris}\n${DELETE}` : undefined), 4096, { constrained: true });
    const result = await chat.complete(await chat.prepare(ask));
    expect(result.toolCalls.map((c) => c.name)).toEqual(["get_weather"]);
    expect(result.toolCallErrors?.map((e) => e.kind)).toEqual(["unknown_tool"]);
    expect(result.content).toBe(DELETE);
    expect(result.finishReason).toBe("tool_calls");
  });

  it("a call the model rambles in until max_tokens comes back as the call with the arguments so far (reported invalid), finish length", async () => {
    const ramble = `<tool_call>\n{"name": "get_weather", "arguments": {"city": ":${"!".repeat(200)}`;
    for (const constrained of [true, false]) {
      const chat = service((p) => (p.includes("<tools>") ? ramble : undefined), 4096, { constrained });
      const result = await chat.complete(await chat.prepare({ ...ask, maxTokens: 80 }));
      expect(result.finishReason).toBe("length");
      expect(result.toolCalls.map((c) => c.name)).toEqual(["get_weather"]);
      expect(result.toolCalls[0]?.arguments.startsWith('{"city": ":!!!')).toBe(true);
      expect(result.toolCallErrors).toBeUndefined();
      expect(result.content).not.toContain("<tool_call>");
      expect(result.validationErrors?.[0]).toMatchObject({ target: "tool-call", name: "get_weather" });
    }
  });

  it("a block cut by max_tokens before its tool name is complete keeps the raw-text rule (closed: false)", async () => {
    const chat = service((p) => (p.includes("<tools>") ? '<tool_call>\n{"name": "get_weather_in_a_very_long_name' : undefined), 4096, { constrained: false });
    const result = await chat.complete(await chat.prepare({ ...ask, maxTokens: 30 }));
    expect(result.finishReason).toBe("length");
    expect(result.toolCalls).toEqual([]);
    expect(result.toolCallErrors?.[0]).toMatchObject({ closed: false });
    expect(result.content).toBe(result.toolCallErrors?.[0]?.raw);
  });

  it("a malformed block without a grammar: the raw text in content, a tool-call-error (closed: true)", async () => {
    const broken = '<tool_call>\n{"name": "get_weather", "arguments": {"city": :!!!}}\n</tool_call>';
    const chat = service((p) => (p.includes("<tools>") ? broken : undefined));
    const result = await chat.complete(await chat.prepare(ask));
    expect(result.content).toBe(broken);
    expect(result.toolCallErrors).toEqual([{ kind: "invalid_json", raw: broken, closed: true, message: expect.any(String) }]);
    expect(result.finishReason).toBe("stop");
  });

  it("required / named tool choice: the grammar keeps names strictly declared", async () => {
    const chat = service((p) => (p.includes("<tools>") ? DELETE : undefined), 4096, { constrained: true });
    const result = await chat.complete(await chat.prepare({ ...ask, toolChoice: { type: "required" } }));
    expect(result.toolCalls.map((c) => c.name)).toEqual(["get_weather"]);
    expect(result.toolCallErrors).toBeUndefined();
  });
});
