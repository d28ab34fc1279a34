import { describe, expect, it } from "vitest";
import { aggregate, argmaxFirst, bigbenchArgmax, bigbenchPostprocess, mean, meanStderr, scoreDocument } from "./metrics.js";

describe("metrics", () => {
  it("argmax is numpy's: first maximum, NaN wins", () => {
    expect(argmaxFirst([-2, -1, -1])).toBe(1);
    expect(argmaxFirst([-2, Number.NaN, -1])).toBe(1);
    expect(argmaxFirst([])).toBe(-1);
  });

  it("acc_norm divides by lengths", () => {
    const out = scoreDocument({ kind: "multiple-choice", gold: 1, choiceLengths: [1, 10] }, [-1, -5]);
    expect(out).toEqual({ acc: 0, acc_norm: 1 });
  });

  it("BigBench tie-break is deterministic and depends on request order", () => {
    expect(bigbenchArgmax([-3, -1])).toBe(1);
    const picks = new Set<number>();
    for (let k = 0; k < 30; k++) picks.add(bigbenchArgmax([-1, -1, -1, -k - 2]));
    // Different hashes pick different tied indices, never the non-tied one.
    expect(picks.size).toBeGreaterThan(1);
    expect(picks.has(3)).toBe(false);
  });

  it("exact_str_match postprocessing keeps the first sentence-like span of the first 128 characters", () => {
    expect(bigbenchPostprocess(" hexagon. More text", 128)).toBe(" hexagon");
    expect(bigbenchPostprocess("...", 128)).toBe("");
    expect(bigbenchPostprocess("a".repeat(200), 128)).toHaveLength(128);
    const doc = scoreDocument({ kind: "bigbench", targetScores: [0, 1] }, [-2, -1], { text: "kite\n", target: "kite", maxChars: 128 });
    expect(doc).toEqual({ multiple_choice_grade: 1, exact_str_match: 1 });
  });

  it("aggregates mean and sample stderr; stderr is null below two documents", () => {
    expect(mean([1, 0, 1, 1])).toBe(0.75);
    expect(meanStderr([1])).toBeNull();
    expect(meanStderr([1, 0])).toBeCloseTo(0.5, 15);
    const agg = aggregate([{ acc: 1, acc_norm: 0 }, { acc: 0, acc_norm: 0 }, { acc: 1, acc_norm: 1 }], ["acc", "acc_norm", "mc2"]);
    expect(agg.acc?.value).toBeCloseTo(2 / 3, 15);
    expect(agg.acc?.stderr).toBeCloseTo(Math.sqrt(((2 / 3) * (1 / 3)) / 2), 15);
    expect(agg.acc?.n).toBe(3);
    expect(agg.mc2).toBeUndefined();
  });

  it("rejects a wrong number of log-likelihoods", () => {
    expect(() => scoreDocument({ kind: "boolq", label: 1 }, [-1])).toThrow(RangeError);
  });
});
