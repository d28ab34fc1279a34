import { describe, expect, it } from "vitest";
import { hasLogitProcessors, resolveSampling } from "./sampling-options.js";
import { EngineError } from "./types.js";

describe("resolveSampling", () => {
  it("applies HF defaults", () => {
    const s = resolveSampling();
    expect(s).toMatchObject({ greedy: false, temperature: 1, topK: 50, topP: 1, minP: 0, repetitionPenalty: 1, seed: undefined });
    expect(hasLogitProcessors(s)).toBe(false);
  });

  it("doSample=false and temperature 0 are greedy", () => {
    expect(resolveSampling({ doSample: false, temperature: 0.7 })).toMatchObject({ greedy: true, temperature: 0 });
    expect(resolveSampling({ temperature: 0 }).greedy).toBe(true);
    expect(resolveSampling({ doSample: true, temperature: 0.7 })).toMatchObject({ greedy: false, temperature: 0.7 });
  });

  it("maps seeds to unsigned 32-bit", () => {
    expect(resolveSampling({ seed: 5 }).seed).toBe(5);
    expect(resolveSampling({ seed: -1 }).seed).toBe(2 ** 32 - 1);
    expect(resolveSampling({ seed: 2 ** 32 + 3 }).seed).toBe(3);
  });

  it("keeps non-zero logit biases", () => {
    const s = resolveSampling({ logitBias: { 3: 5, 4: 0, 9: -100 } }, 10);
    expect([...s.logitBias]).toEqual([
      [3, 5],
      [9, -100],
    ]);
    expect(hasLogitProcessors(s)).toBe(true);
  });

  const bad: Array<[string, Parameters<typeof resolveSampling>[0], RegExp]> = [
    ["negative temperature", { temperature: -0.1 }, /temperature must be in \[0, ∞\) \(got -0.1\)/],
    ["NaN temperature", { temperature: Number.NaN }, /temperature must be a finite number/],
    ["topP above 1", { topP: 1.5 }, /topP must be in \[0, 1\]/],
    ["fractional topK", { topK: 2.5 }, /topK must be an integer >= 0/],
    ["negative topK", { topK: -1 }, /topK must be an integer >= 0/],
    ["minP above 1", { minP: 2 }, /minP must be in \[0, 1\]/],
    ["zero repetition penalty", { repetitionPenalty: 0 }, /repetitionPenalty must be in \(0, ∞\)/],
    ["frequency penalty out of range", { frequencyPenalty: 3 }, /frequencyPenalty must be in \[-2, 2\]/],
    ["presence penalty out of range", { presencePenalty: -3 }, /presencePenalty must be in \[-2, 2\]/],
    ["fractional seed", { seed: 1.5 }, /seed must be an integer/],
    ["bias out of range", { logitBias: { 1: 101 } }, /logitBias value for token 1 must be in \[-100, 100\]/],
  ];
  for (const [name, options, message] of bad) {
    it(`rejects ${name}`, () => {
      let error: unknown;
      try {
        resolveSampling(options);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).code).toBe("invalid_request");
      expect((error as EngineError).message).toMatch(message);
    });
  }

  it("rejects logit-bias tokens outside the vocabulary", () => {
    expect(() => resolveSampling({ logitBias: { 10: 1 } }, 10)).toThrow(/outside the vocabulary \(size 10\)/);
    expect(() => resolveSampling({ logitBias: { [-1]: 1 } as Record<number, number> })).toThrow(/must be a token id/);
  });
});
