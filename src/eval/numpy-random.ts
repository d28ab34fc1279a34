/**
 * numpy's legacy `RandomState` (MT19937) as far as the BigBench task needs it:
 * `np.random.RandomState(seed).permutation(n)`. The harness orders a document's appended choices as
 * `sorted(keys)` permuted this way, with a fresh generator seeded 42 for every document. See
 * docs/decisions/0071. Pure; no dependencies.
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** MT19937 with numpy's legacy integer seeding (`mt19937_seed`, i.e. Matsumoto–Nishimura `init_genrand`). */
export class Mt19937 {
  private readonly mt = new Uint32Array(N);
  private index = N;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError("seed must be an integer between 0 and 2**32 - 1");
    }
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = this.mt[i - 1] as number;
      const x = (prev ^ (prev >>> 30)) >>> 0;
      // 1812433253 * x + i, modulo 2^32, without losing precision.
      this.mt[i] = (Math.imul(1812433253, x) + i) >>> 0;
    }
  }

  /** The next 32-bit output (`genrand_int32`). */
  nextUint32(): number {
    const mt = this.mt;
    if (this.index >= N) {
      for (let k = 0; k < N; k++) {
        const y = ((mt[k] as number) & UPPER_MASK) | ((mt[(k + 1) % N] as number) & LOWER_MASK);
        mt[k] = ((mt[(k + M) % N] as number) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0)) >>> 0;
      }
      this.index = 0;
    }
    let y = mt[this.index++] as number;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** numpy `random_interval(max)`: a uniform integer in [0, max] by masked rejection (max < 2^32). */
  interval(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    for (;;) {
      const value = (this.nextUint32() & mask) >>> 0;
      if (value <= max) return value;
    }
  }
}

/** `np.random.RandomState(seed).permutation(n)` as a list of indices. */
export function numpyPermutation(n: number, seed: number): number[] {
  const rng = new Mt19937(seed);
  const out = Array.from({ length: n }, (_, i) => i);
  // RandomState.shuffle: for i in reversed(range(1, n)): j = random_interval(i); swap(i, j).
  for (let i = n - 1; i >= 1; i--) {
    const j = rng.interval(i);
    const t = out[i] as number;
    out[i] = out[j] as number;
    out[j] = t;
  }
  return out;
}
