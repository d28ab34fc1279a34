import { describe, expect, it } from "vitest";
import { createParser } from "eventsource-parser";
import type { ChatEvent } from "../../chat/types.js";
import { ChatChunkEncoder, toChatCompletion } from "./responses.js";

const usage = { promptTokens: 10, completionTokens: 5, cachedPromptTokens: 4 };

function parse(text: string): unknown[] {
  const out: unknown[] = [];
  const p = createParser({ onEvent: (e) => out.push(e.data === "[DONE]" ? "[DONE]" : JSON.parse(e.data)) });
  p.feed(text);
  return out;
}

describe("ChatChunkEncoder", () => {
  it("streams role, content, tool-call deltas and finish like OpenAI", () => {
    const enc = new ChatChunkEncoder({ id: "chatcmpl-1", created: 42, model: "m", includeUsage: true });
    const events: ChatEvent[] = [
      { type: "generation-start" },
      { type: "text-delta", text: "Hi \"there\"\n" },
      { type: "tool-call-start", index: 0, id: "call_a", name: "get_weather" },
      { type: "tool-call-delta", index: 0, argumentsDelta: '{"city": ' },
      { type: "tool-call-delta", index: 0, argumentsDelta: '"Paris"}' },
      { type: "tool-call-end", index: 0, id: "call_a", name: "get_weather", arguments: '{"city": "Paris"}' },
      { type: "finish", reason: "tool_calls", engineReason: "stop", usage },
    ];
    const text = events.map((e) => enc.encode(0, e)).join("") + enc.encodeUsage(usage);
    const chunks = parse(text) as Array<Record<string, any>>;
    expect(chunks).toHaveLength(7); // tool-call-end produces no chunk
    for (const c of chunks) {
      expect(c).toMatchObject({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 42, model: "m" });
    }
    expect(chunks[0]!.choices).toEqual([{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]);
    expect(chunks[0]!.usage).toBeNull();
    expect(chunks[1]!.choices[0].delta).toEqual({ content: "Hi \"there\"\n" });
    expect(chunks[2]!.choices[0].delta).toEqual({
      tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "get_weather", arguments: "" } }],
    });
    expect(chunks[3]!.choices[0].delta).toEqual({ tool_calls: [{ index: 0, function: { arguments: '{"city": ' } }] });
    expect(chunks[4]!.choices[0].delta).toEqual({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] });
    expect(chunks[5]!.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: "tool_calls" });
    expect(chunks[6]!.choices).toEqual([]);
    expect(chunks[6]!.usage).toEqual({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 4 } });
  });

  it("omits usage fields when include_usage is off, and attaches pending logprobs to the next chunk", () => {
    const enc = new ChatChunkEncoder({ id: "x", created: 1, model: "m", includeUsage: false });
    expect(enc.encode(1, { type: "logprobs", tokens: [{ id: 5, text: "é", logprob: -0.5, top: [{ token: 5, text: "é", logprob: -0.5 }] }] })).toBe("");
    const [chunk] = parse(enc.encode(1, { type: "text-delta", text: "é" })) as Array<Record<string, any>>;
    expect(chunk!.usage).toBeUndefined();
    expect(chunk!.choices[0].index).toBe(1);
    expect(chunk!.choices[0].logprobs).toEqual({
      content: [{ token: "é", logprob: -0.5, bytes: [195, 169], top_logprobs: [{ token: "é", logprob: -0.5, bytes: [195, 169] }] }],
    });
    const [next] = parse(enc.encode(1, { type: "text-delta", text: "x" })) as Array<Record<string, any>>;
    expect(next!.choices[0].logprobs).toBeNull();
    expect(enc.encodeUsage(usage)).toBe("");
  });
});

describe("toChatCompletion", () => {
  it("builds a chat.completion with null content for tool-call-only turns and sums usage over choices", () => {
    const body = toChatCompletion({ id: "c", created: 3, model: "m" }, [
      { content: "", toolCalls: [{ id: "call_1", name: "f", arguments: "{}" }], finishReason: "tool_calls", usage },
      { content: "plain", toolCalls: [], finishReason: "length", usage },
    ]) as Record<string, any>;
    expect(body.object).toBe("chat.completion");
    expect(body.choices[0].message).toEqual({
      role: "assistant",
      content: null,
      refusal: null,
      tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: "{}" } }],
    });
    expect(body.choices[0].finish_reason).toBe("tool_calls");
    expect(body.choices[1].message.content).toBe("plain");
    expect(body.choices[1].message.tool_calls).toBeUndefined();
    expect(body.choices[1].finish_reason).toBe("length");
    expect(body.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 });
  });
});

describe("validation errors on the wire", () => {
  const failure = { target: "tool-call" as const, index: 0, id: "call_a", name: "get_weather", message: "invalid arguments: /city must be string", issues: [{ path: "/city", keyword: "type", message: "/city must be string" }] };

  it("a streamed choice carries its validation errors on its finish chunk only", () => {
    const enc = new ChatChunkEncoder({ id: "x", created: 1, model: "m", includeUsage: false });
    expect(enc.encode(0, { type: "validation-error", ...failure })).toBe("");
    const [other] = parse(enc.encode(1, { type: "finish", reason: "stop", engineReason: "stop", usage })) as Array<Record<string, any>>;
    expect(other!.choices[0].validation_errors).toBeUndefined();
    const [finish] = parse(enc.encode(0, { type: "finish", reason: "tool_calls", engineReason: "stop", usage })) as Array<Record<string, any>>;
    expect(finish!.choices[0].validation_errors).toEqual([{ ...failure, target: "tool_call" }]);
    const [again] = parse(enc.encode(0, { type: "finish", reason: "stop", engineReason: "stop", usage })) as Array<Record<string, any>>;
    expect(again!.choices[0].validation_errors).toBeUndefined();
  });

  it("a whole completion carries them on the choice; absent when none", () => {
    const base = { content: "", toolCalls: [{ id: "call_a", name: "get_weather", arguments: '{"city": 1}' }], finishReason: "tool_calls" as const, usage };
    const body = toChatCompletion({ id: "c", created: 1, model: "m" }, [{ ...base, validationErrors: [failure] }, base]);
    expect(body.choices[0]!.validation_errors).toEqual([{ ...failure, target: "tool_call" }]);
    expect(body.choices[1]).not.toHaveProperty("validation_errors");
  });

  it("serialises content chunks byte-exactly (the preformatted fast path), with and without usage", () => {
    for (const includeUsage of [false, true]) {
      const encoder = new ChatChunkEncoder({ id: "chatcmpl-x", created: 7, model: 'm"1', includeUsage });
      expect(encoder.encode(2, { type: "text-delta", text: 'a "b"\n' })).toBe(
        `data: {"id":"chatcmpl-x","object":"chat.completion.chunk","created":7,"model":"m\\"1","system_fingerprint":null,` +
          `"choices":[{"index":2,"delta":{"content":"a \\"b\\"\\n"},"logprobs":null,"finish_reason":null}]` +
          `${includeUsage ? ',"usage":null' : ""}}\n\n`,
      );
    }
  });
});

describe("tool-call errors on the wire (tool_call_errors)", () => {
  const raw = '<tool_call>\n{"name": "delete_everything", "arguments": {}}\n</tool_call>';
  const error = { kind: "unknown_tool", raw, message: 'the model called "delete_everything", which is not a declared tool', closed: true, name: "delete_everything" };

  it("a stream reports each failed block in its own chunk after its raw text, before the finish chunk", () => {
    const enc = new ChatChunkEncoder({ id: "i", created: 2, model: "m", includeUsage: false });
    const events: ChatEvent[] = [
      { type: "generation-start" },
      { type: "text-delta", text: raw },
      { type: "tool-call-error", ...error },
      { type: "text-delta", text: "<tool_call>{x" },
      { type: "tool-call-error", kind: "invalid_json", raw: "<tool_call>{x", message: "cut", closed: false },
      { type: "finish", reason: "length", engineReason: "length", usage },
    ];
    const chunks = parse(events.map((e) => enc.encode(0, e)).join("")) as Array<Record<string, any>>;
    expect(chunks).toHaveLength(6);
    expect(chunks[1]!.choices[0].delta).toEqual({ content: raw });
    expect(chunks[2]!.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: null, tool_call_errors: [error] });
    expect(chunks[4]!.choices[0].tool_call_errors).toEqual([{ kind: "invalid_json", raw: "<tool_call>{x", message: "cut", closed: false }]);
    expect(chunks[5]!.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: "length" });
    const head = '{"id":"i","object":"chat.completion.chunk","created":2,"model":"m","system_fingerprint":null,"choices":[';
    expect(enc.encode(3, { type: "tool-call-error", kind: "empty_payload", raw: "<tool_call></tool_call>", message: "the tool call is empty", closed: true })).toBe(
      `data: ${head}{"index":3,"delta":{},"logprobs":null,"finish_reason":null,` +
        `"tool_call_errors":[{"kind":"empty_payload","message":"the tool call is empty","raw":"<tool_call></tool_call>","closed":true}]}]}\n\n`,
    );
  });

  it("a whole completion carries them on the choice, the raw text in content, finish_reason stop; absent when none", () => {
    const body = toChatCompletion({ id: "c", created: 1, model: "m" }, [
      { content: `On it.\n${raw}`, toolCalls: [], finishReason: "stop", usage, toolCallError: { kind: error.kind, raw }, toolCallErrors: [error] },
      { content: "fine", toolCalls: [], finishReason: "stop", usage },
    ]);
    expect(body.choices[0]).toMatchObject({ message: { content: `On it.\n${raw}` }, finish_reason: "stop", tool_call_errors: [error] });
    expect(body.choices[0]!.message.tool_calls).toBeUndefined();
    expect(body.choices[1]).not.toHaveProperty("tool_call_errors");
  });
});


describe("warnings and usage", () => {
  const warning = { type: "warning" as const, code: "jump-forward-unavailable" as const, message: "the mock engine does not implement jump-forward decoding" };

  it("a stream sends no chunk for a warning (OpenAI has no field for it)", () => {
    const enc = new ChatChunkEncoder({ id: "x", created: 1, model: "m", includeUsage: true });
    expect(enc.encode(0, warning)).toBe("");
  });

  it("a whole completion lists each distinct warning of its choices once; no field when there are none", () => {
    const { type: _type, ...w } = warning;
    const other = { code: "sampling-ignored" as const, message: "min_p was ignored" };
    const base = { content: "ok", toolCalls: [], finishReason: "stop" as const, usage };
    const body = toChatCompletion({ id: "c", created: 1, model: "m" }, [
      { ...base, warnings: [w] },
      { ...base, warnings: [w, other] },
    ]);
    expect(body.warnings).toEqual([w, other]);
    expect(Object.keys(body).at(-1)).toBe("warnings");
    expect(toChatCompletion({ id: "c", created: 1, model: "m" }, [base])).not.toHaveProperty("warnings");
  });

  it("end() sends the usage chunk over every finished choice (prompt once, completions summed)", () => {
    const enc = new ChatChunkEncoder({ id: "x", created: 1, model: "m", includeUsage: true });
    enc.encode(0, { type: "finish", reason: "stop", engineReason: "stop", usage: { promptTokens: 10, completionTokens: 3, cachedPromptTokens: 4 } });
    enc.encode(1, { type: "finish", reason: "length", engineReason: "length", usage: { promptTokens: 10, completionTokens: 5, cachedPromptTokens: 4 } });
    const [chunk] = parse(enc.end()) as Array<Record<string, any>>;
    expect(chunk!.choices).toEqual([]);
    expect(chunk!.usage).toEqual({ prompt_tokens: 10, completion_tokens: 8, total_tokens: 18, prompt_tokens_details: { cached_tokens: 4 } });
    expect(new ChatChunkEncoder({ id: "x", created: 1, model: "m", includeUsage: false }).end()).toBe("");
  });

  it("non-content chunks are byte-exact too (role, finish with validation errors, usage)", () => {
    const enc = new ChatChunkEncoder({ id: "i", created: 2, model: "m", includeUsage: true });
    const head = '{"id":"i","object":"chat.completion.chunk","created":2,"model":"m","system_fingerprint":null,"choices":[';
    expect(enc.encode(0, { type: "generation-start" })).toBe(
      `data: ${head}{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}\n\n`,
    );
    enc.encode(0, { type: "validation-error", target: "response", message: "not JSON", issues: [] });
    expect(enc.encode(0, { type: "finish", reason: "stop", engineReason: "stop", usage })).toBe(
      `data: ${head}{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop",` +
        `"validation_errors":[{"target":"response","message":"not JSON","issues":[]}]}],"usage":null}\n\n`,
    );
    expect(enc.encodeUsage(usage)).toBe(
      `data: ${head}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":4}}}\n\n`,
    );
  });
});
