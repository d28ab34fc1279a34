import { describe, expect, it } from "vitest";
import { encodeRequest, splitTrailingWhitespace, truncateToLength } from "./requests.js";

/** A toy tokenizer: each run of non-spaces with its leading spaces is one token (like a BPE pre-tokenizer). */
const vocab = new Map<string, number>();
const tokenize = async (text: string): Promise<number[]> =>
  (text.match(/\s*\S+|\s+$/g) ?? []).map((piece) => {
    let id = vocab.get(piece);
    if (id === undefined) {
      id = vocab.size + 1;
      vocab.set(piece, id);
    }
    return id;
  });

describe("request encoding", () => {
  it("moves trailing whitespace to the continuation", () => {
    expect(splitTrailingWhitespace({ context: "Q\nA: ", continuation: "Yes" })).toEqual({ context: "Q\nA:", continuation: " Yes", moved: " " });
    expect(splitTrailingWhitespace({ context: "x", continuation: " y" })).toEqual({ context: "x", continuation: " y", moved: "" });
  });

  it("takes the continuation from the whole string's tokens after the context's", async () => {
    const enc = await encodeRequest({ context: "Question: why\nA: ", continuation: "because so" }, tokenize);
    const ctx = await tokenize("Question: why\nA:");
    const whole = await tokenize("Question: why\nA: because so");
    expect(enc.context).toEqual(ctx);
    expect(enc.continuation).toEqual(whole.slice(ctx.length));
    expect(enc.continuation).toEqual(await tokenize(" because so"));
  });

  it("left-truncates like the harness", () => {
    const req = { context: [1, 2, 3, 4, 5], continuation: [6, 7] };
    expect(truncateToLength(req, 6)).toBe(req);
    // Model input = last 5 + 1 tokens minus the last one: context keeps 4 tokens.
    expect(truncateToLength(req, 5)).toEqual({ context: [2, 3, 4, 5], continuation: [6, 7] });
    expect(truncateToLength(req, 2)).toEqual({ context: [5], continuation: [6, 7] });
    expect(() => truncateToLength(req, 1)).toThrow(RangeError);
  });
});
