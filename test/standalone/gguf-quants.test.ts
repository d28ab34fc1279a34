import { describe, expect, it } from "vitest";
import {
  decodeBlocks,
  encodeQ4_0,
  encodeQ8_0,
  f16BitsToF32,
  f32ToF16Bits,
  randomKQuantBlocks,
} from "../../src/gguf/index.js";

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

describe("f16 conversion", () => {
  it("matches IEEE half precision on known values", () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff],
      [65520, 0x7c00], // rounds up to infinity
      [1e6, 0x7c00],
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -14, 0x0400], // smallest normal
      [1 / 3, 0x3555],
      [1 + 2 ** -11, 0x3c00], // tie: rounds to even (down)
      [1 + 3 * 2 ** -11, 0x3c02], // tie: rounds to even (up)
      [Number.POSITIVE_INFINITY, 0x7c00],
    ];
    for (const [v, bits] of cases) expect(f32ToF16Bits(v), String(v)).toBe(bits);
    expect(Number.isNaN(f16BitsToF32(f32ToF16Bits(Number.NaN)))).toBe(true);
  });

  it("round-trips every finite half value", () => {
    const bad: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue;
      if (f32ToF16Bits(f16BitsToF32(h)) !== h) bad.push(h);
    }
    expect(bad).toEqual([]);
  });
});

describe("Q8_0 / Q4_0 encoders", () => {
  const next = lcg(7);
  const values = Float32Array.from({ length: 32 * 64 }, () => (next() / 2 ** 32 - 0.5) * 3);

  it("Q8_0 dequantises within half a step of each block's scale", () => {
    const data = encodeQ8_0(values);
    expect(data.length).toBe(64 * 34);
    const back = decodeBlocks("Q8_0", data);
    for (let b = 0; b < 64; b++) {
      const block = values.subarray(b * 32, b * 32 + 32);
      const step = Math.max(...block.map(Math.abs)) / 127;
      for (let j = 0; j < 32; j++) expect(Math.abs(back[b * 32 + j]! - block[j]!)).toBeLessThanOrEqual(step * 0.51 + 1e-3 * step * 127);
    }
  });

  it("Q4_0 follows ggml's reference: max-magnitude value maps to -8·d exactly", () => {
    const data = encodeQ4_0(values);
    expect(data.length).toBe(64 * 18);
    const back = decodeBlocks("Q4_0", data);
    for (let b = 0; b < 64; b++) {
      const block = values.subarray(b * 32, b * 32 + 32);
      let maxAt = 0;
      for (let j = 1; j < 32; j++) if (Math.abs(block[j]!) > Math.abs(block[maxAt]!)) maxAt = j;
      const step = Math.abs(block[maxAt]!) / 8;
      expect(back[b * 32 + maxAt]!).toBeCloseTo(block[maxAt]!, 2);
      for (let j = 0; j < 32; j++) {
        // Same sign as the max: rounding error ≤ half a step. Opposite sign: the top level is +7·|d|, so values
        // beyond it clip (ggml behaviour), error ≤ one step.
        const sameSign = Math.sign(block[j]!) === Math.sign(block[maxAt]!);
        expect(Math.abs(back[b * 32 + j]! - block[j]!)).toBeLessThanOrEqual(step * (sameSign ? 0.5 : 1) + 2e-3);
      }
    }
  });

  it("encodes an all-zero block as zeros", () => {
    // (ggml writes d = 0/-8 = -0 for Q4_0, so compare with ==, not Object.is)
    expect(decodeBlocks("Q4_0", encodeQ4_0(new Float32Array(32))).every((v) => v === 0)).toBe(true);
    expect(decodeBlocks("Q8_0", encodeQ8_0(new Float32Array(32))).every((v) => v === 0)).toBe(true);
  });

  it("rejects lengths that are not whole blocks", () => {
    expect(() => encodeQ4_0(new Float32Array(33))).toThrow();
    expect(() => encodeQ8_0(new Float32Array(31))).toThrow();
  });
});

describe("random K-quant blocks", () => {
  /** Reference Q6_K dequantisation (ggml `dequantize_row_q6_K`). */
  function dequantQ6K(block: Uint8Array): number[] {
    const view = new DataView(block.buffer, block.byteOffset, 210);
    const d = f16BitsToF32(view.getUint16(208, true));
    const out = new Array<number>(256);
    for (let half = 0; half < 2; half++) {
      const ql = 64 * half, qh = 128 + 32 * half, sc = 192 + 8 * half, y = 128 * half;
      for (let l = 0; l < 32; l++) {
        const is = Math.floor(l / 16);
        const q1 = ((block[ql + l]! & 0xf) | (((block[qh + l]! >> 0) & 3) << 4)) - 32;
        const q2 = ((block[ql + l + 32]! & 0xf) | (((block[qh + l]! >> 2) & 3) << 4)) - 32;
        const q3 = ((block[ql + l]! >> 4) | (((block[qh + l]! >> 4) & 3) << 4)) - 32;
        const q4 = ((block[ql + l + 32]! >> 4) | (((block[qh + l]! >> 6) & 3) << 4)) - 32;
        const s = (i: number): number => view.getInt8(sc + is + i);
        out[y + l] = d * s(0) * q1;
        out[y + l + 32] = d * s(2) * q2;
        out[y + l + 64] = d * s(4) * q3;
        out[y + l + 96] = d * s(6) * q4;
      }
    }
    return out;
  }

  /** Reference Q4_K dequantisation (ggml `dequantize_row_q4_K` with `get_scale_min_k4`). */
  function dequantQ4K(block: Uint8Array): number[] {
    const view = new DataView(block.buffer, block.byteOffset, 144);
    const d = f16BitsToF32(view.getUint16(0, true));
    const dmin = f16BitsToF32(view.getUint16(2, true));
    const q = block.subarray(4, 16);
    const scaleMin = (j: number): [number, number] =>
      j < 4
        ? [q[j]! & 63, q[j + 4]! & 63]
        : [(q[j + 4]! & 0xf) | ((q[j - 4]! >> 6) << 4), (q[j + 4]! >> 4) | ((q[j]! >> 6) << 4)];
    const out: number[] = [];
    for (let j = 0; j < 4; j++) {
      const [s1, m1] = scaleMin(2 * j);
      const [s2, m2] = scaleMin(2 * j + 1);
      const qs = block.subarray(16 + 32 * j, 16 + 32 * j + 32);
      for (let l = 0; l < 32; l++) out.push(d * s1 * (qs[l]! & 0xf) - dmin * m1);
      for (let l = 0; l < 32; l++) out.push(d * s2 * (qs[l]! >> 4) - dmin * m2);
    }
    return out;
  }

  it("Q6_K blocks decode to finite weights within ±amplitude, mean near 0", () => {
    const blocks = randomKQuantBlocks("Q6_K", 50, 0.05, lcg(1));
    expect(blocks.length).toBe(50 * 210);
    const all = Array.from({ length: 50 }, (_, b) => dequantQ6K(blocks.subarray(b * 210, b * 210 + 210))).flat();
    expect(all.every((v) => Number.isFinite(v) && Math.abs(v) <= 0.0501)).toBe(true);
    expect(Math.abs(all.reduce((a, b) => a + b, 0) / all.length)).toBeLessThan(0.002);
    expect(new Set(all).size).toBeGreaterThan(100);
  });

  it("Q4_K blocks decode to finite, small, roughly zero-mean weights", () => {
    const blocks = randomKQuantBlocks("Q4_K", 50, 0.05, lcg(2));
    expect(blocks.length).toBe(50 * 144);
    const all = Array.from({ length: 50 }, (_, b) => dequantQ4K(blocks.subarray(b * 144, b * 144 + 144))).flat();
    expect(all.every((v) => Number.isFinite(v) && Math.abs(v) <= 0.06)).toBe(true);
    expect(Math.abs(all.reduce((a, b) => a + b, 0) / all.length)).toBeLessThan(0.005);
    expect(Math.max(...all.map(Math.abs))).toBeGreaterThan(0.01);
    // Each 32-value sub-block is centred (mins equal scales): no large per-sub-block offsets.
    for (let i = 0; i < all.length; i += 32) {
      const sub = all.slice(i, i + 32);
      const offset = (Math.max(...sub) + Math.min(...sub)) / 2;
      const range = Math.max(...sub) - Math.min(...sub);
      expect(Math.abs(offset)).toBeLessThan(range / 2 + 1e-9);
      expect(Math.abs(offset)).toBeLessThan(0.03);
    }
  });

  it("is deterministic for a given generator", () => {
    expect(randomKQuantBlocks("Q5_K", 3, 0.1, lcg(3))).toEqual(randomKQuantBlocks("Q5_K", 3, 0.1, lcg(3)));
    expect(randomKQuantBlocks("Q5_K", 3, 0.1, lcg(3)).length).toBe(3 * 176);
  });
});
