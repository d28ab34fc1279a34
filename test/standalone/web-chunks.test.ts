/** The web UI's stream accumulator and timing (web/src/lib/chunks.ts), under Node. */
import { describe, expect, it } from "vitest";
import { StreamChunkError, applyChunk, chunkHasOutput, emptyStreamState, replyTiming, type StreamState } from "../../web/src/lib/chunks.js";

function chunk(delta: Record<string, unknown>, finish: string | null = null): Record<string, unknown> {
  return { id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] };
}

function run(chunks: readonly unknown[]): StreamState {
  return chunks.reduce<StreamState>((s, c) => applyChunk(s, c), emptyStreamState());
}

describe("applyChunk", () => {
  it("accumulates role, content deltas, finish_reason and the usage chunk", () => {
    const state = run([
      chunk({ role: "assistant", content: "" }),
      chunk({ content: "Hel" }),
      chunk({ content: "lo 👋" }),
      chunk({}, "stop"),
      { id: "chatcmpl-1", object: "chat.completion.chunk", model: "m", choices: [], usage: { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 } },
    ]);
    expect(state).toEqual({
      role: "assistant",
      content: "Hello 👋",
      toolCalls: [],
      finishReason: "stop",
      usage: { promptTokens: 12, completionTokens: 4, totalTokens: 16 },
      model: "m",
    });
  });

  it("assembles tool calls from index-keyed deltas: id, type and name once, then argument fragments", () => {
    const state = run([
      chunk({ role: "assistant", content: null }),
      chunk({ tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "get_weather", arguments: "" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city": ' } }] }),
      chunk({ tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "get_time", arguments: "{}" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chunk({}, "tool_calls"),
    ]);
    expect(state.content).toBe("");
    expect(state.finishReason).toBe("tool_calls");
    expect(state.toolCalls).toEqual([
      { id: "call_a", type: "function", function: { name: "get_weather", arguments: '{"city": "Paris"}' } },
      { id: "call_b", type: "function", function: { name: "get_time", arguments: "{}" } },
    ]);
  });

  it("does not mutate the previous state", () => {
    const before = applyChunk(emptyStreamState(), chunk({ tool_calls: [{ index: 0, id: "c", function: { name: "f", arguments: "{" } }] }));
    const after = applyChunk(before, chunk({ tool_calls: [{ index: 0, function: { arguments: "}" } }] }));
    expect(before.toolCalls[0]?.function.arguments).toBe("{");
    expect(after.toolCalls[0]?.function.arguments).toBe("{}");
  });

  it("throws StreamChunkError on an error event with its message and code", () => {
    expect(() => applyChunk(emptyStreamState(), { error: { message: "boom", type: "server_error", code: "internal_error" } })).toThrowError(
      expect.objectContaining({ name: "StreamChunkError", message: "boom", code: "internal_error" }) as Error,
    );
    expect(() => applyChunk(emptyStreamState(), { error: {} })).toThrow(StreamChunkError);
  });

  it("ignores non-objects and choices other than 0", () => {
    const state = run([null, 3, "x", { choices: [{ index: 1, delta: { content: "other" } }] }, chunk({ content: "mine" })]);
    expect(state.content).toBe("mine");
  });
});

describe("chunkHasOutput", () => {
  it("is true for content or tool-call deltas, false for role-only, empty, finish and usage chunks", () => {
    expect(chunkHasOutput(chunk({ content: "a" }))).toBe(true);
    expect(chunkHasOutput(chunk({ tool_calls: [{ index: 0, id: "c" }] }))).toBe(true);
    expect(chunkHasOutput(chunk({ role: "assistant", content: "" }))).toBe(false);
    expect(chunkHasOutput(chunk({}, "stop"))).toBe(false);
    expect(chunkHasOutput({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } })).toBe(false);
  });
});

describe("replyTiming", () => {
  it("uses the decode span when output streamed token by token", () => {
    const t = replyTiming({ start: 1000, firstOutput: 1200, lastOutput: 2200, end: 2250, outputChunks: 11 }, 11);
    expect(t.ttftMs).toBe(200);
    expect(t.tokensPerSecond).toBeCloseTo(10, 6); // 10 tokens after the first in 1 s
    expect(t.totalMs).toBe(1250);
  });

  it("falls back to tokens over time-to-last-output when output arrived in one burst", () => {
    const t = replyTiming({ start: 0, firstOutput: 500, lastOutput: 501, end: 510, outputChunks: 2 }, 40);
    expect(t.tokensPerSecond).toBeCloseTo((40 * 1000) / 501, 6);
  });

  it("is null without usage or output", () => {
    expect(replyTiming({ start: 0, firstOutput: null, lastOutput: null, end: 100, outputChunks: 0 }, null)).toEqual({
      ttftMs: null,
      tokensPerSecond: null,
      totalMs: 100,
    });
  });
});
