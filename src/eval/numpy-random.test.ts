import { describe, expect, it } from "vitest";
import { Mt19937, numpyPermutation } from "./numpy-random.js";

describe("numpy RandomState(42)", () => {
  it("produces numpy's raw MT19937 stream (values taken from numpy 2.4)", () => {
    const rng = new Mt19937(42);
    const out = Array.from({ length: 700 }, () => rng.nextUint32());
    expect(out.slice(0, 3)).toEqual([1608637542, 3421126067, 4083286876]);
    // Across the first state regeneration.
    expect([out[623], out[624], out[699]]).toEqual([1077437785, 108880612, 4009078418]);
  });

  it("permutation(n) matches SCORING.md's table and numpy for other sizes", () => {
    const table: Record<number, number[]> = {
      2: [1, 0],
      3: [0, 1, 2],
      4: [1, 3, 0, 2],
      5: [1, 4, 2, 0, 3],
      6: [0, 1, 5, 2, 4, 3],
      7: [0, 1, 5, 2, 4, 3, 6],
      8: [1, 5, 0, 7, 2, 4, 3, 6],
      9: [7, 1, 5, 0, 8, 2, 4, 3, 6],
      10: [8, 1, 5, 0, 7, 2, 9, 4, 3, 6],
      11: [5, 0, 9, 10, 2, 1, 8, 4, 7, 3, 6],
      12: [10, 9, 0, 8, 5, 2, 1, 11, 4, 7, 3, 6],
      20: [0, 17, 15, 1, 8, 5, 11, 3, 18, 16, 13, 2, 9, 19, 4, 12, 7, 10, 14, 6],
    };
    for (const [n, perm] of Object.entries(table)) expect(numpyPermutation(Number(n), 42)).toEqual(perm);
    expect(numpyPermutation(1, 42)).toEqual([0]);
    expect(numpyPermutation(0, 42)).toEqual([]);
  });

  it("rejects seeds numpy rejects", () => {
    expect(() => new Mt19937(-1)).toThrow(RangeError);
    expect(() => new Mt19937(2 ** 32)).toThrow(RangeError);
  });
});
