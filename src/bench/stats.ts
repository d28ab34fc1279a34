/**
 * Summary statistics as numpy computes them (vLLM's benchmark uses `np.mean`, `np.std` — population,
 * ddof 0 —, `np.median` and `np.percentile` with linear interpolation), plus the sample standard
 * deviation that llama-bench prints as `± sd`. Empty inputs give 0, as vLLM's `np.mean(x or 0)` does.
 */

export function mean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Population standard deviation (numpy `np.std`, ddof 0). 0 for an empty input. */
export function populationStd(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const m = mean(values);
  let sq = 0;
  for (const v of values) sq += (v - m) ** 2;
  return Math.sqrt(sq / values.length);
}

/** Sample standard deviation (n − 1), as llama-bench reports `avg ± stdev`. 0 with fewer than 2 values. */
export function sampleStd(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  let sq = 0;
  for (const v of values) sq += (v - m) ** 2;
  return Math.sqrt(sq / (values.length - 1));
}

/**
 * The p-th percentile (0..100) with numpy's default linear interpolation: the sorted values are at
 * ranks 0..n−1 and rank (n−1)·p/100 is interpolated. 0 for an empty input.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100] (got ${p})`);
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (rank - lo);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** One latency metric as vLLM reports it: mean, population std, median and selected percentiles. */
export interface Distribution {
  readonly mean: number;
  readonly std: number;
  readonly median: number;
  /** `{"99": value}`; keys are the percentiles as written by {@link formatPercentileKey}. */
  readonly percentiles: Readonly<Record<string, number>>;
  /** Number of samples. */
  readonly count: number;
}

/** `99` → "99", `99.9` → "99.9". */
export function formatPercentileKey(p: number): string {
  return String(p);
}

/** Summarise values (scaled by `scale`, e.g. 1000 for seconds → ms) as vLLM does. */
export function distribution(values: readonly number[], percentiles: readonly number[], scale = 1): Distribution {
  const scaled = scale === 1 ? values : values.map((v) => v * scale);
  const ps: Record<string, number> = {};
  for (const p of percentiles) ps[formatPercentileKey(p)] = percentile(scaled, p);
  return { mean: mean(scaled), std: populationStd(scaled), median: median(scaled), percentiles: ps, count: values.length };
}

/** Mean ± sample sd, as llama-bench prints a test's tokens/s over its repetitions. */
export interface MeanSd {
  readonly mean: number;
  readonly sd: number;
  readonly samples: readonly number[];
}

export function meanSd(samples: readonly number[]): MeanSd {
  return { mean: mean(samples), sd: sampleStd(samples), samples: [...samples] };
}
