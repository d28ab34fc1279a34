import { describe, expect, it } from "vitest";
import { defaultThreads, MAX_DEFAULT_THREADS } from "./llama.js";

describe("defaultThreads", () => {
  it("uses the idle CPUs, at least 1 and at most 8", () => {
    expect(defaultThreads(2, 0.1)).toBe(2);
    expect(defaultThreads(2, 1.2)).toBe(1);
    expect(defaultThreads(2, 12)).toBe(1);
    expect(defaultThreads(16, 0)).toBe(MAX_DEFAULT_THREADS);
    expect(defaultThreads(16, 10)).toBe(6);
    expect(defaultThreads(1, 0)).toBe(1);
  });
  it("reads the machine by default", () => {
    const n = defaultThreads();
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(MAX_DEFAULT_THREADS);
  });
});
