import { describe, expect, it } from "vitest";
import {
  applyRepetitionPenalty,
  argmax,
  frequencyPresenceBias,
  logSoftmax,
  mulberry32,
  processLogits,
  sampleFromLogits,
  topEntries,
} from "./logits.js";
import { resolveSampling } from "./sampling-options.js";

describe("logSoftmax", () => {
  it("normalises and is shift invariant", () => {
    const lp = logSoftmax([1, 2, 3]);
    const sum = [...lp].reduce((a, v) => a + Math.exp(v), 0);
    expect(sum).toBeCloseTo(1, 12);
    expect(lp[2]! - lp[1]!).toBeCloseTo(1, 12);
    const shifted = logSoftmax([1001, 1002, 1003]);
    expect(shifted[0]).toBeCloseTo(lp[0]!, 10);
  });
  it("matches a hand-computed value", () => {
    // log(e^0 / (e^0 + e^ln3)) = -ln 4
    expect(logSoftmax([0, Math.log(3)])[0]).toBeCloseTo(-Math.log(4), 12);
  });
});

describe("applyRepetitionPenalty (HF semantics)", () => {
  it("divides positive logits and multiplies negative ones, once per distinct token", () => {
    const out = applyRepetitionPenalty([2, -2, 3, 0.5], [0, 1, 1, 1], 2);
    expect([...out]).toEqual([1, -4, 3, 0.5]);
  });
  it("is the identity at penalty 1 and does not modify the input", () => {
    const input = [1, -1];
    expect([...applyRepetitionPenalty(input, [0, 1], 1)]).toEqual([1, -1]);
    applyRepetitionPenalty(input, [0, 1], 3);
    expect(input).toEqual([1, -1]);
  });
  it("penalty < 1 encourages repetition", () => {
    expect([...applyRepetitionPenalty([2, -2], [0, 1], 0.5)]).toEqual([4, -1]);
  });
});

describe("frequencyPresenceBias", () => {
  it("subtracts count × frequency + presence", () => {
    const b = frequencyPresenceBias([5, 5, 7], 0.5, 0.25);
    expect(b.get(5)).toBeCloseTo(-1.25);
    expect(b.get(7)).toBeCloseTo(-0.75);
    expect(b.has(1)).toBe(false);
  });
});

describe("topEntries / argmax", () => {
  it("returns the largest entries in order", () => {
    expect(topEntries([0.1, 5, 3, 5, -1], 3)).toEqual([
      [1, 5],
      [3, 5],
      [2, 3],
    ]);
    expect(topEntries([1, 2], 5)).toEqual([
      [1, 2],
      [0, 1],
    ]);
    expect(argmax([1, 9, 9, 2])).toBe(1);
  });
});

describe("sampleFromLogits", () => {
  const history = { all: [], generated: [] };
  it("greedy picks the argmax after bias and penalties", () => {
    const s = resolveSampling({ doSample: false, logitBias: { 0: 10 } });
    expect(sampleFromLogits([1, 5, 2], s, history, () => 0.5)).toBe(0);
    const p = resolveSampling({ temperature: 0, repetitionPenalty: 10 });
    expect(sampleFromLogits([4, 3, 0], p, { all: [0], generated: [] }, () => 0.5)).toBe(1);
  });
  it("-100 bans a token", () => {
    const s = resolveSampling({ doSample: false, logitBias: { 1: -100 } });
    expect(sampleFromLogits([1, 5, 2], s, history, () => 0.5)).toBe(2);
    expect(processLogits([1, 5, 2], s, history)[1]).toBe(-Infinity);
  });
  it("top-k 1 is greedy whatever the draw", () => {
    const s = resolveSampling({ temperature: 1, topK: 1 });
    for (const r of [0, 0.5, 0.999]) expect(sampleFromLogits([1, 5, 2], s, history, () => r)).toBe(1);
  });
  it("top-p and min-p truncate the distribution", () => {
    // probs ≈ [0.665, 0.245, 0.090]
    const topP = resolveSampling({ temperature: 1, topK: 0, topP: 0.6 });
    expect(sampleFromLogits([2, 1, 0], topP, history, () => 0.99)).toBe(0);
    const minP = resolveSampling({ temperature: 1, topK: 0, minP: 0.3 });
    expect(sampleFromLogits([2, 1, 0], minP, history, () => 0.99)).toBe(1);
  });
  it("samples in proportion to the probabilities", () => {
    const s = resolveSampling({ temperature: 1, topK: 0 });
    const rng = mulberry32(42);
    const counts = [0, 0];
    for (let i = 0; i < 4000; i++) counts[sampleFromLogits([0, Math.log(3)], s, history, rng)]!++;
    expect(counts[1]! / 4000).toBeGreaterThan(0.72);
    expect(counts[1]! / 4000).toBeLessThan(0.78);
  });
  it("mulberry32 is deterministic per seed", () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
    expect(mulberry32(8)()).not.toBe(mulberry32(7)());
  });
});
