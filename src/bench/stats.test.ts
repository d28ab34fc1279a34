import { describe, expect, it } from "vitest";
import { distribution, mean, meanSd, median, percentile, populationStd, sampleStd } from "./stats.js";

describe("numpy-compatible statistics", () => {
  it("interpolates percentiles linearly between ranks (np.percentile default)", () => {
    expect(percentile([4, 1, 3, 2], 50)).toBeCloseTo(2.5, 12);
    expect(percentile([1, 2, 3, 4], 99)).toBeCloseTo(3.97, 12); // rank 2.97
    expect(percentile([1, 2, 3, 4], 0)).toBe(1);
    expect(percentile([1, 2, 3, 4], 100)).toBe(4);
    expect(percentile([10, 20, 30, 40, 50], 90)).toBeCloseTo(46, 12); // rank 3.6
    expect(percentile([7], 99)).toBe(7);
    expect(median([3, 1, 2])).toBe(2);
  });

  it("returns 0 for empty inputs like vLLM's np.mean(x or 0)", () => {
    expect(mean([])).toBe(0);
    expect(percentile([], 99)).toBe(0);
    expect(populationStd([])).toBe(0);
  });

  it("uses the population sd for vLLM and the sample sd for llama-bench", () => {
    expect(populationStd([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(1.25), 12);
    expect(sampleStd([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(sampleStd([5])).toBe(0);
    expect(meanSd([2, 4])).toEqual({ mean: 3, sd: Math.SQRT2, samples: [2, 4] });
  });

  it("rejects percentiles outside [0, 100]", () => {
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });

  it("scales distributions (s → ms)", () => {
    const d = distribution([0.1, 0.2, 0.3], [50, 99], 1000);
    expect(d.mean).toBeCloseTo(200, 9);
    expect(d.median).toBeCloseTo(200, 9);
    expect(d.percentiles["99"]).toBeCloseTo(298, 9);
    expect(d.count).toBe(3);
  });
});
