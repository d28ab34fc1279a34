import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, chatCompletionRequestSchema, completionRequestSchema, jsonDeeperThan, toChatRequest, toSampling } from "./schemas.js";

describe("chat request schema → ChatRequest", () => {
  it("maps messages: developer → system, text parts joined, tool calls with string or object arguments", () => {
    const body = chatCompletionRequestSchema.parse({
      model: "m",
      messages: [
        { role: "developer", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "Hello " }, { type: "text", text: "there" }] },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "f", arguments: '{"a": 1}' } },
            { id: "call_2", type: "function", function: { name: "g", arguments: { b: 2 } } },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: "ok" },
      ],
      unknown_field: "ignored",
    });
    expect(toChatRequest(body).messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hello there" },
      {
        role: "assistant",
        content: null,
        toolCalls: [
          { id: "call_1", name: "f", arguments: '{"a": 1}' },
          { id: "call_2", name: "g", arguments: '{"b":2}' },
        ],
      },
      { role: "tool", content: "ok", toolCallId: "call_1" },
    ]);
  });

  it("maps tools, tool_choice, response_format, limits and logprobs", () => {
    const r = toChatRequest(
      chatCompletionRequestSchema.parse({
        messages: [{ role: "user", content: "x" }],
        tools: [{ type: "function", function: { name: "f", parameters: { type: "object" }, strict: true } }],
        tool_choice: { type: "function", function: { name: "f" } },
        parallel_tool_calls: false,
        response_format: { type: "json_schema", json_schema: { name: "s", schema: { type: "object" }, strict: true } },
        max_tokens: 10,
        max_completion_tokens: 20,
        stop: "END",
        logprobs: true,
        top_logprobs: 3,
      }),
    );
    expect(r).toMatchObject({
      tools: [{ name: "f", parameters: { type: "object" }, strict: true }],
      toolChoice: { type: "function", name: "f" },
      parallelToolCalls: false,
      responseFormat: { type: "json_schema", name: "s", schema: { type: "object" }, strict: true },
      maxTokens: 20,
      stop: ["END"],
      logprobs: true,
      topLogprobs: 3,
    });
  });

  it("rejects images, bad roles and out-of-range values with the field path", () => {
    const image = chatCompletionRequestSchema.safeParse({
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "file:///etc/passwd" } }] }],
    });
    expect(image.success).toBe(false);
    expect(image.error?.issues[0]?.path.slice(0, 2)).toEqual(["messages", 0]);
    expect(chatCompletionRequestSchema.safeParse({ messages: [{ role: "user", content: "x" }], top_logprobs: 50 }).error?.issues[0]?.path).toEqual([
      "top_logprobs",
    ]);
    expect(chatCompletionRequestSchema.safeParse({ messages: [{ role: "user", content: "x" }], logit_bias: { abc: 1 } }).success).toBe(false);
    expect(
      chatCompletionRequestSchema.safeParse({ messages: [{ role: "user", content: "x" }], tools: [{ type: "function", function: { name: "bad name!" } }] })
        .error?.issues[0]?.path,
    ).toEqual(["tools", 0, "function", "name"]);
  });
});

describe("toSampling", () => {
  it("uses OpenAI defaults: top_k off, temperature 1, and greedy at temperature 0", () => {
    expect(toSampling({})).toEqual({
      doSample: true,
      temperature: 1,
      topP: 1,
      topK: 0,
      minP: 0,
      repetitionPenalty: 1,
      frequencyPenalty: 0,
      presencePenalty: 0,
    });
    expect(toSampling({ temperature: 0, top_k: -1, seed: 5, logit_bias: { "42": -100 } })).toMatchObject({
      doSample: false,
      temperature: 0,
      topK: 0,
      seed: 5,
      logitBias: { 42: -100 },
    });
    expect(toSampling({ top_k: 40, min_p: 0.05, repetition_penalty: 1.1 })).toMatchObject({ topK: 40, minP: 0.05, repetitionPenalty: 1.1 });
  });
});

describe("completion request schema", () => {
  it("accepts a string, a one-string array or token ids; refuses suffix and best_of > 1", () => {
    expect(completionRequestSchema.safeParse({ prompt: "x" }).success).toBe(true);
    expect(completionRequestSchema.safeParse({ prompt: ["x"] }).success).toBe(true);
    expect(completionRequestSchema.safeParse({ prompt: [1, 2, 3] }).success).toBe(true);
    expect(completionRequestSchema.safeParse({ prompt: ["x", "y"] }).success).toBe(false);
    expect(completionRequestSchema.safeParse({ prompt: "x", suffix: "y" }).success).toBe(false);
    expect(completionRequestSchema.safeParse({ prompt: "x", best_of: 2 }).success).toBe(false);
  });
});

describe("JSON-valued fields have a depth limit", () => {
  const nested = (depth: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = i % 2 === 0 ? { a: v } : [v];
    return v;
  };

  it("jsonDeeperThan counts objects and arrays, iteratively (no stack overflow at any depth)", () => {
    expect(jsonDeeperThan(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(jsonDeeperThan(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    expect(jsonDeeperThan(nested(200_000), MAX_JSON_DEPTH)).toBe(true);
    expect(jsonDeeperThan({ a: [1, 2, { b: "x" }], c: null }, 3)).toBe(false);
    expect(jsonDeeperThan({ a: [1, 2, { b: "x" }], c: null }, 2)).toBe(true);
  });

  it("arguments objects at the limit pass; one level deeper is an error naming the field", () => {
    const message = (args: unknown): unknown => ({
      messages: [{ role: "assistant", content: null, tool_calls: [{ id: "c", function: { name: "f", arguments: args } }] }],
    });
    const ok = chatCompletionRequestSchema.parse(message({ x: nested(MAX_JSON_DEPTH - 1) }));
    expect(toChatRequest(ok).messages[0]).toMatchObject({ role: "assistant" });
    const bad = chatCompletionRequestSchema.safeParse(message({ x: nested(MAX_JSON_DEPTH) }));
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(["messages", 0, "tool_calls", 0, "function", "arguments"]);
    const badTool = chatCompletionRequestSchema.safeParse({
      messages: [{ role: "user", content: "x" }],
      tools: [{ type: "function", function: { name: "f", parameters: { x: nested(10_000) } } }],
    });
    expect(badTool.error?.issues[0]?.path).toEqual(["tools", 0, "function", "parameters"]);
  });
});
