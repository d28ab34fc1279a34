/** Seeded deterministic PRNG (xoshiro128**), seeded from a string through SHA-256. */
import { createHash } from "node:crypto";

export type Rng = () => number;

/** A uint32 generator seeded by `material` (e.g. `"${seed}:${tensorName}"`). */
export function seededUint32(material: string): Rng {
  const h = createHash("sha256").update(material).digest();
  let a = h.readUInt32LE(0), b = h.readUInt32LE(4), c = h.readUInt32LE(8), d = h.readUInt32LE(12);
  if ((a | b | c | d) === 0) a = 1;
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Uniform floats in [-amplitude, amplitude). */
export function fillUniform(out: Float32Array, amplitude: number, next: Rng): Float32Array {
  const scale = (2 * amplitude) / 4294967296;
  for (let i = 0; i < out.length; i++) out[i] = next() * scale - amplitude;
  return out;
}
