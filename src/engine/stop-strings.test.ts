import { describe, expect, it } from "vitest";
import { longestStopPrefixSuffix, StopStringMatcher } from "./stop-strings.js";

function run(stops: string[], pieces: string[]): { out: string; stop?: string; emitted: string[] } {
  const m = new StopStringMatcher(stops);
  const emitted: string[] = [];
  let stop: string | undefined;
  for (const p of pieces) {
    const r = m.push(p);
    emitted.push(r.text);
    if (r.stop !== undefined) {
      stop = r.stop;
      break;
    }
  }
  const rest = m.flush();
  if (rest) emitted.push(rest);
  return stop === undefined ? { out: emitted.join(""), emitted } : { out: emitted.join(""), stop, emitted };
}

describe("StopStringMatcher", () => {
  it("passes text through without stop strings", () => {
    expect(run([], ["a", "b", "c"])).toEqual({ out: "abc", emitted: ["a", "b", "c"] });
  });

  it("matches a stop string spanning several pieces, with spaces", () => {
    const r = run(["brown fox"], ["The quick", " bro", "wn", " f", "ox jumps"]);
    expect(r.out).toBe("The quick ");
    expect(r.stop).toBe("brown fox");
  });

  it("holds back a possible stop prefix and releases it when it fails", () => {
    const m = new StopStringMatcher(["</tool_call>"]);
    expect(m.push("abc</to").text).toBe("abc");
    expect(m.held).toBe("</to");
    expect(m.push("ol").text).toBe("");
    expect(m.push("bar").text).toBe("</toolbar");
    expect(m.held).toBe("");
  });

  it("releases held text on flush", () => {
    const m = new StopStringMatcher(["END"]);
    expect(m.push("xxE").text).toBe("xx");
    expect(m.push("N").text).toBe("");
    expect(m.flush()).toBe("EN");
  });

  it("picks the earliest match, and the longest at the same index", () => {
    expect(run(["b", "ab"], ["xab"]).stop).toBe("ab");
    expect(run(["c", "ab"], ["xabc"]).out).toBe("x");
    expect(run(["ab", "abc"], ["zabcd"])).toMatchObject({ out: "z", stop: "abc" });
  });

  it("matches when the stop string is at the very start", () => {
    expect(run(["\n\n"], ["\n", "\nrest"])).toMatchObject({ out: "", stop: "\n\n" });
  });

  it("ignores input after a stop", () => {
    const m = new StopStringMatcher(["x"]);
    expect(m.push("axb")).toEqual({ text: "a", stop: "x" });
    expect(m.stopped).toBe(true);
    expect(m.push("more")).toEqual({ text: "" });
    expect(m.flush()).toBe("");
  });

  it("handles multi-code-unit characters in stop strings", () => {
    expect(run(["👋 bye"], ["hi ", "👋", " b", "ye!"])).toMatchObject({ out: "hi ", stop: "👋 bye" });
  });

  it("rejects empty stop strings", () => {
    expect(() => new StopStringMatcher([""])).toThrow(RangeError);
  });

  it("computes the held suffix length", () => {
    expect(longestStopPrefixSuffix("hello wor", ["world"])).toBe(3);
    expect(longestStopPrefixSuffix("hello", ["world"])).toBe(0);
    expect(longestStopPrefixSuffix("aaa", ["aaab"])).toBe(3);
    expect(longestStopPrefixSuffix("world", ["world"])).toBe(0); // a full match is not a proper prefix
  });
});
