import { describe, expect, it } from "vitest";
import { createParser } from "eventsource-parser";
import type { CompletionEvent } from "../../chat/completion.js";
import { CompletionChunkEncoder, encodeCompletionUsageChunk, toCompletionUsage, toTextCompletion } from "./completions.js";

const meta = { id: "cmpl-1", created: 42, model: "m" };

function parse(text: string): Array<Record<string, any>> {
  const out: Array<Record<string, any>> = [];
  createParser({ onEvent: (e) => out.push(JSON.parse(e.data) as Record<string, any>) }).feed(text);
  return out;
}

describe("completion usage", () => {
  it("toCompletionUsage maps the engine's counts (no token details)", () => {
    expect(toCompletionUsage({ promptTokens: 27, completionTokens: 14, cachedPromptTokens: 5 })).toEqual({
      prompt_tokens: 27,
      completion_tokens: 14,
      total_tokens: 41,
    });
  });

  it("encodeCompletionUsageChunk is the last stream chunk: no choices, the given usage, byte-exact", () => {
    expect(encodeCompletionUsageChunk(meta, { promptTokens: 7, completionTokens: 3, cachedPromptTokens: 0 })).toBe(
      'data: {"id":"cmpl-1","object":"text_completion","created":42,"model":"m","choices":[],' +
        '"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}\n\n',
    );
  });
});

describe("CompletionChunkEncoder", () => {
  const finish = (completionTokens: number, reason: "stop" | "length" = "stop"): CompletionEvent => ({
    type: "finish",
    reason,
    usage: { promptTokens: 9, completionTokens, cachedPromptTokens: 2 },
  });

  it("streams echo, text and a finish chunk per choice, then usage summed over the choices (the prompt once)", () => {
    const enc = new CompletionChunkEncoder({ ...meta, includeUsage: true, logprobs: false, echo: "Q: " });
    const text = [
      enc.encode(0, { type: "generation-start" }),
      enc.encode(1, { type: "generation-start" }),
      enc.encode(0, { type: "text-delta", text: "A", tokens: [{ id: 65, text: "A" }] }),
      enc.encode(1, { type: "text-delta", text: "", tokens: [] }), // nothing to send
      enc.encode(1, { type: "text-delta", text: "BC", tokens: [{ id: 66, text: "B" }, { id: 67, text: "C" }] }),
      enc.encode(0, finish(4)),
      enc.encode(1, finish(6, "length")),
      enc.end(),
    ].join("");
    const chunks = parse(text);
    expect(chunks.map((c) => c.choices.map((x: Record<string, unknown>) => [x.index, x.text, x.finish_reason]))).toEqual([
      [[0, "Q: ", null]],
      [[1, "Q: ", null]],
      [[0, "A", null]],
      [[1, "BC", null]],
      [[0, "", "stop"]],
      [[1, "", "length"]],
      [],
    ]);
    for (const c of chunks.slice(0, -1)) expect(c.usage).toBeNull();
    expect(chunks.at(-1)).toEqual({ ...meta, object: "text_completion", choices: [], usage: { prompt_tokens: 9, completion_tokens: 10, total_tokens: 19 } });
  });

  it("without include_usage: no usage fields and no usage chunk", () => {
    const enc = new CompletionChunkEncoder({ ...meta, includeUsage: false, logprobs: false, echo: "" });
    expect(enc.encode(0, { type: "generation-start" })).toBe("");
    const [chunk] = parse(enc.encode(0, { type: "text-delta", text: "x", tokens: [] }));
    expect(chunk).not.toHaveProperty("usage");
    enc.encode(0, finish(1));
    expect(enc.end()).toBe("");
    expect(enc.encodeUsage({ promptTokens: 1, completionTokens: 1, cachedPromptTokens: 0 })).toBe("");
  });

  it("with logprobs: token-only deltas are sent and carry the legacy logprobs object", () => {
    const enc = new CompletionChunkEncoder({ ...meta, includeUsage: false, logprobs: true, echo: "" });
    const [chunk] = parse(enc.encode(0, { type: "text-delta", text: "", tokens: [{ id: 1, text: "\u00e9", logprob: -0.5, top: [{ token: 1, text: "\u00e9", logprob: -0.5 }] }] }));
    expect(chunk!.choices[0].logprobs).toEqual({ tokens: ["\u00e9"], token_logprobs: [-0.5], top_logprobs: [{ "\u00e9": -0.5 }], text_offset: [0] });
  });
});

describe("toTextCompletion", () => {
  it("sums usage over choices and keeps each choice's text and finish reason", () => {
    const usage = { promptTokens: 5, completionTokens: 3, cachedPromptTokens: 0 };
    const body = toTextCompletion(
      meta,
      [
        { text: "abc", tokens: [], finishReason: "length", usage, aborted: false },
        { text: "d", tokens: [], finishReason: "stop", usage: { ...usage, completionTokens: 1 }, aborted: false },
      ],
      false,
    );
    expect(body).toEqual({
      ...meta,
      object: "text_completion",
      system_fingerprint: null,
      choices: [
        { index: 0, text: "abc", logprobs: null, finish_reason: "length" },
        { index: 1, text: "d", logprobs: null, finish_reason: "stop" },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 },
    });
  });
});
