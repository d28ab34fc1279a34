/**
 * Tensor-data encoders: F32, F16, Q8_0 and Q4_0 from float values (bit-exact with ggml's reference
 * `quantize_row_*_ref`), and random-bit K-quant blocks (Q4_K, Q5_K, Q6_K) with small, valid scales for
 * benchmark-shaped models whose weights do not matter.
 */
import { GgufWriteError } from "./types.js";

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE half-precision bits of `v`, rounded to nearest even (as `ggml_fp32_to_fp16`). */
export function f32ToF16Bits(v: number): number {
  f32Scratch[0] = v;
  const x = u32Scratch[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

/** The float value of half-precision bits `h`. */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant !== 0 ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Rounds `v` through half precision. */
export function roundToF16(v: number): number {
  return f16BitsToF32(f32ToF16Bits(v));
}

function checkBlocks(n: number, block: number, what: string): void {
  if (n % block !== 0) throw new GgufWriteError(`${what}: ${n} values is not a multiple of ${block}`);
}

export function encodeF32(values: ArrayLike<number>): Uint8Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]!;
  return new Uint8Array(out.buffer);
}

export function encodeF16(values: ArrayLike<number>): Uint8Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32ToF16Bits(values[i]!);
  return new Uint8Array(out.buffer);
}

/** Q8_0: blocks of 32 = fp16 scale `d = amax/127` + 32 × int8 `round(x/d)` (34 bytes). */
export function encodeQ8_0(values: ArrayLike<number>): Uint8Array {
  checkBlocks(values.length, 32, "Q8_0");
  const nb = values.length / 32;
  const out = new Uint8Array(nb * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < nb; b++) {
    const base = b * 32;
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(values[base + j]!));
    const d = amax / 127;
    const id = d !== 0 ? 1 / d : 0;
    const o = b * 34;
    view.setUint16(o, f32ToF16Bits(d), true);
    for (let j = 0; j < 32; j++) {
      // C roundf: half away from zero. Math.fround mimics the float32 product.
      const x = Math.fround(values[base + j]! * id);
      const q = Math.sign(x) * Math.floor(Math.abs(x) + 0.5);
      view.setInt8(o + 2 + j, q);
    }
  }
  return out;
}

/** Q4_0: blocks of 32 = fp16 scale `d = max/-8` + 16 bytes of nibbles `x/d + 8` (18 bytes). */
export function encodeQ4_0(values: ArrayLike<number>): Uint8Array {
  checkBlocks(values.length, 32, "Q4_0");
  const nb = values.length / 32;
  const out = new Uint8Array(nb * 18);
  const view = new DataView(out.buffer);
  for (let b = 0; b < nb; b++) {
    const base = b * 32;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = values[base + j]!;
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = Math.fround(max / -8);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    const o = b * 18;
    view.setUint16(o, f32ToF16Bits(d), true);
    for (let j = 0; j < 16; j++) {
      const x0 = Math.fround(values[base + j]! * id);
      const x1 = Math.fround(values[base + 16 + j]! * id);
      const q0 = Math.min(15, Math.trunc(Math.fround(x0 + 8.5)));
      const q1 = Math.min(15, Math.trunc(Math.fround(x1 + 8.5)));
      out[o + 2 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}

/** Dequantises Q4_0 or Q8_0 data (used by tests to check round trips). */
export function decodeBlocks(type: "Q4_0" | "Q8_0", data: Uint8Array): Float32Array {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const bytes = type === "Q4_0" ? 18 : 34;
  const nb = data.length / bytes;
  const out = new Float32Array(nb * 32);
  for (let b = 0; b < nb; b++) {
    const o = b * bytes;
    const d = f16BitsToF32(view.getUint16(o, true));
    for (let j = 0; j < (type === "Q4_0" ? 16 : 32); j++) {
      if (type === "Q4_0") {
        const q = data[o + 2 + j]!;
        out[b * 32 + j] = ((q & 0x0f) - 8) * d;
        out[b * 32 + 16 + j] = ((q >> 4) - 8) * d;
      } else {
        out[b * 32 + j] = view.getInt8(o + 2 + j) * d;
      }
    }
  }
  return out;
}

/** A uint32 source, e.g. a seeded PRNG. */
export type Uint32Source = () => number;

function fillRandom(out: Uint8Array, next: Uint32Source): void {
  const words = Math.floor(out.length / 4);
  const u32 = new Uint32Array(out.buffer, out.byteOffset, words);
  for (let i = 0; i < words; i++) u32[i] = next();
  for (let i = words * 4; i < out.length; i++) out[i] = next() & 0xff;
}

export type KQuantTypeName = "Q4_K" | "Q5_K" | "Q6_K";

/**
 * `blocks` random K-quant super-blocks of 256 values with random quants and sub-block scales, and super-block
 * scales chosen so that weights stay within about ±`amplitude` (roughly zero-mean). Layouts as in ggml-common.h:
 * - Q4_K (144 B): fp16 d, fp16 dmin, scales[12] (6-bit scale/min pairs), qs[128]; w = d·sc·q − dmin·m, q ∈ 0..15;
 *   mins equal scales and dmin = d·15/2, so each 32-value sub-block is centred on 0.
 * - Q5_K (176 B): fp16 d, fp16 dmin, scales[12], qh[32], qs[128]; q ∈ 0..31.
 * - Q6_K (210 B): ql[128], qh[64], int8 scales[16], fp16 d; w = d·sc·(q − 32), q ∈ 0..63.
 */
export function randomKQuantBlocks(type: KQuantTypeName, blocks: number, amplitude: number, next: Uint32Source): Uint8Array {
  switch (type) {
    case "Q4_K":
    case "Q5_K": {
      const size = type === "Q4_K" ? 144 : 176;
      const qmax = type === "Q4_K" ? 15 : 31;
      const out = new Uint8Array(blocks * size);
      fillRandom(out, next);
      const view = new DataView(out.buffer);
      // w = d·sc·q − dmin·m with dmin = d·qmax/2 and m = sc per sub-block: every 32-value sub-block is
      // centred on 0 (independent random mins would give each sub-block a large offset).
      const d = amplitude / (63 * qmax);
      const dBits = f32ToF16Bits(d);
      const dminBits = f32ToF16Bits((d * qmax) / 2);
      const sc = new Uint8Array(8);
      for (let b = 0; b < blocks; b++) {
        const o = b * size;
        view.setUint16(o, dBits, true);
        view.setUint16(o + 2, dminBits, true);
        for (let j = 0; j < 8; j++) sc[j] = 1 + (out[o + 4 + j]! % 63); // 1..63, from the random fill
        // Packing of get_scale_min_k4: j < 4 in the low 6 bits of bytes j (scale) and j+4 (min); j ≥ 4 split
        // between the nibbles of bytes j+4 and the top 2 bits of bytes j-4 / j.
        for (let j = 0; j < 4; j++) {
          const hi = (sc[j + 4]! >> 4) << 6;
          out[o + 4 + j] = sc[j]! | hi;
          out[o + 8 + j] = sc[j]! | hi;
          out[o + 12 + j] = (sc[j + 4]! & 0xf) | ((sc[j + 4]! & 0xf) << 4);
        }
      }
      return out;
    }
    case "Q6_K": {
      const out = new Uint8Array(blocks * 210);
      fillRandom(out, next);
      const view = new DataView(out.buffer);
      const dBits = f32ToF16Bits(amplitude / (32 * 32));
      for (let b = 0; b < blocks; b++) {
        const o = b * 210;
        // int8 scales ±(1..32), random sign so sub-block offsets cancel; |d·sc·(q−32)| ≤ amplitude.
        for (let s = 0; s < 16; s++) {
          const r = out[o + 192 + s]!;
          const mag = 1 + (r & 31);
          out[o + 192 + s] = (r & 0x80) !== 0 ? 256 - mag : mag;
        }
        view.setUint16(o + 208, dBits, true);
      }
      return out;
    }
    default:
      return type satisfies never;
  }
}
