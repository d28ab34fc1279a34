import { describe, expect, it } from "vitest";
import { calibratedPrompt, PROMPT_WORDS, randomTokens, randomWords } from "./prompts.js";

describe("synthetic prompts", () => {
  it("are deterministic per seed and differ between seeds", () => {
    expect(randomWords(3, 50)).toBe(randomWords(3, 50));
    expect(randomWords(3, 50)).not.toBe(randomWords(4, 50));
    expect(randomWords(3, 50).split(" ")).toHaveLength(50);
    expect(randomWords(3, 50).split(" ").every((w) => PROMPT_WORDS.includes(w))).toBe(true);
    // a longer prompt with the same seed extends the shorter one (calibration only trims or extends)
    expect(randomWords(9, 80).startsWith(randomWords(9, 40))).toBe(true);
  });

  it("calibrates the word count to the tokenizer's count", async () => {
    let calls = 0;
    const count = async (text: string): Promise<number> => {
      calls++;
      return Math.round(text.split(" ").length * 1.3); // 1.3 tokens per word
    };
    const p = await calibratedPrompt(1, 200, count);
    expect(p.calibrated).toBe(true);
    expect(Math.abs(p.tokens - 200)).toBeLessThanOrEqual(1);
    expect(await count(p.text)).toBe(p.tokens);
    expect(calls).toBeLessThanOrEqual(5);
  });

  it("approximates one token per word without a tokenizer", async () => {
    const p = await calibratedPrompt(1, 32);
    expect(p).toEqual({ text: randomWords(1, 32), tokens: 32, calibrated: false });
    await expect(calibratedPrompt(1, 0)).rejects.toThrow(RangeError);
  });

  it("draws random token ids inside the vocabulary, skipping excluded ids", () => {
    const exclude = new Set([0, 1, 2, 3, 4]);
    const t = randomTokens(5, 500, 10, exclude);
    expect(t).toHaveLength(500);
    expect(t.every((x) => x >= 5 && x < 10 && Number.isInteger(x))).toBe(true);
    expect(new Set(t).size).toBe(5);
    expect(randomTokens(5, 20, 1000)).toEqual(randomTokens(5, 20, 1000));
  });
});
