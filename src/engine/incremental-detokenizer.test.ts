import { describe, expect, it } from "vitest";
import { decodeUtf8Bytes, IncrementalDetokenizer } from "./incremental-detokenizer.js";

// A byte-level "vocabulary": token id = byte value.
const byteDecoder = (tokens: readonly number[]): string => decodeUtf8Bytes(tokens);
const bytesOf = (s: string): number[] => [...new TextEncoder().encode(s)];

function stream(text: string, options?: { maxPendingTokens?: number }): string[] {
  const d = new IncrementalDetokenizer(byteDecoder, options);
  const out = bytesOf(text).map((b) => d.push(b));
  out.push(d.flush());
  return out;
}

describe("IncrementalDetokenizer", () => {
  it("emits ASCII token by token", () => {
    expect(stream("hi!")).toEqual(["h", "i", "!", ""]);
  });

  it("holds back an emoji split over four byte tokens and never emits U+FFFD", () => {
    const out = stream("a👋b");
    expect(out.join("")).toBe("a👋b");
    expect(out.some((p) => p.includes("\uFFFD"))).toBe(false);
    expect(out).toEqual(["a", "", "", "", "👋", "b", ""]);
  });

  it("handles 2- and 3-byte characters", () => {
    const out = stream("é—ü");
    expect(out.join("")).toBe("é—ü");
    expect(out.some((p) => p.includes("\uFFFD"))).toBe(false);
  });

  it("gives up after maxPendingTokens on an invalid sequence", () => {
    const d = new IncrementalDetokenizer(byteDecoder, { maxPendingTokens: 2 });
    expect(d.push(0xf0)).toBe("");
    expect(d.push(0x9f)).toBe("\uFFFD"); // still incomplete, but the limit is reached
    expect(d.pending).toEqual([]);
    expect(d.push(0x41)).toBe("A");
  });

  it("flushes an incomplete character at the end", () => {
    const d = new IncrementalDetokenizer(byteDecoder);
    expect(d.push(0xf0)).toBe("");
    expect(d.push(0x9f)).toBe("");
    expect(d.flush()).toBe("\uFFFD");
  });

  it("passes the committed tokens as context to the decoder", () => {
    const seen: Array<[number[], number[]]> = [];
    const d = new IncrementalDetokenizer(
      (tokens, previous) => {
        seen.push([[...tokens], [...previous]]);
        return tokens.map(String).join(",");
      },
      { previous: [1, 2, 3], contextTokens: 2 },
    );
    d.push(7);
    d.push(8);
    expect(seen).toEqual([
      [[7], [2, 3]],
      [[8], [3, 7]],
    ]);
  });
});
