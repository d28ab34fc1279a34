/**
 * Per-document metrics and aggregation, exactly as the old lm-evaluation-harness computes them
 * (SCORING.md §3–§4). Pure (node:crypto for SHA-256 only).
 */
import { createHash } from "node:crypto";
import type { DocMetrics, DocScoring, MetricName } from "./types.js";

/** numpy `argmax`: the first maximum wins; a NaN counts as the maximum (first NaN). -1 for an empty list. */
export function argmaxFirst(values: readonly number[]): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) return i;
    if (best === -1 || v > bestValue) {
      best = i;
      bestValue = v;
    }
  }
  return best;
}

/** `acc_norm`'s argmax over ll[i] / len(choice[i]) (code points, no leading space). */
export function argmaxNormalized(lls: readonly number[], lengths: readonly number[]): number {
  if (lls.length !== lengths.length) throw new RangeError("acc_norm: one length per log-likelihood is needed");
  return argmaxFirst(lls.map((ll, i) => ll / (lengths[i] as number)));
}

/** The little-endian IEEE-754 binary64 bytes of the values (numpy `asarray(list).tobytes()` on x86). */
export function float64LeBytes(values: readonly number[]): Buffer {
  const buf = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => buf.writeDoubleLE(v, i * 8));
  return buf;
}

/**
 * BigBench `_argmax`: the maxima's indices in ascending order, one picked by
 * `int(sha256(float64 LE bytes).hexdigest(), 16) % len(ties)`.
 */
export function bigbenchArgmax(lls: readonly number[]): number {
  if (lls.length === 0) throw new RangeError("bigbench argmax of an empty list");
  // numpy: `array == np.max(array)`; np.max propagates NaN and nothing equals NaN.
  let max = -Infinity;
  for (const v of lls) {
    if (Number.isNaN(v)) throw new RangeError("bigbench argmax: NaN log-likelihood");
    if (v > max) max = v;
  }
  const ties: number[] = [];
  lls.forEach((v, i) => {
    if (v === max) ties.push(i);
  });
  const hex = createHash("sha256").update(float64LeBytes(lls)).digest("hex");
  const pick = Number(BigInt(`0x${hex}`) % BigInt(ties.length));
  return ties[pick] as number;
}

/** Old TruthfulQA mc2: split at the first 0 label; sum(p[:split]) / sum(p), p = exp(ll). */
export function truthfulqaMc2Old(llsMc2: readonly number[], labels: readonly number[]): number {
  if (llsMc2.length !== labels.length) throw new RangeError("mc2: one label per log-likelihood is needed");
  const split = labels.indexOf(0);
  const p = llsMc2.map((ll) => Math.exp(ll));
  const end = split < 0 ? p.length : split;
  let num = 0;
  for (let i = 0; i < end; i++) num += p[i] as number;
  let den = 0;
  for (const x of p) den += x;
  return num / den;
}

/**
 * BigBench exact_str_match postprocessing: keep the first 128 characters (code points), then the first
 * match of `[^\.\?\!\;\n]+` (or "").
 */
export function bigbenchPostprocess(text: string, maxChars: number): string {
  const truncated = Array.from(text).slice(0, maxChars).join("");
  const m = /[^.?!;\n]+/u.exec(truncated);
  return m === null ? "" : m[0];
}

function expectCount(lls: readonly number[], n: number, what: string): void {
  if (lls.length !== n) throw new RangeError(`${what}: expected ${n} log-likelihoods, got ${lls.length}`);
}

/**
 * Scores one document from its requests' log-likelihoods (in request order) and, for BigBench
 * exact_str_match, the generated text when there is one.
 */
export function scoreDocument(scoring: DocScoring, lls: readonly number[], generation?: { text: string; target: string; maxChars: number }): DocMetrics {
  switch (scoring.kind) {
    case "multiple-choice": {
      expectCount(lls, scoring.choiceLengths.length, "multiple-choice");
      return {
        acc: argmaxFirst(lls) === scoring.gold ? 1 : 0,
        acc_norm: argmaxNormalized(lls, scoring.choiceLengths) === scoring.gold ? 1 : 0,
      };
    }
    case "agieval": {
      expectCount(lls, scoring.choiceLengths.length, "agieval");
      return {
        acc: scoring.gold.includes(argmaxFirst(lls)) ? 1 : 0,
        acc_norm: scoring.gold.includes(argmaxNormalized(lls, scoring.choiceLengths)) ? 1 : 0,
      };
    }
    case "boolq": {
      expectCount(lls, 2, "boolq");
      const saysYes = (lls[0] as number) > (lls[1] as number);
      return { acc: saysYes === (scoring.label === 1) ? 1 : 0 };
    }
    case "winogrande": {
      expectCount(lls, 2, "winogrande");
      return { acc: argmaxFirst(lls) === scoring.gold ? 1 : 0 };
    }
    case "truthfulqa-mc": {
      expectCount(lls, scoring.mc1Count + scoring.mc2Labels.length, "truthfulqa_mc");
      const mc1 = lls.slice(0, scoring.mc1Count);
      const mc2 = lls.slice(scoring.mc1Count);
      return { mc1: argmaxFirst(mc1) === 0 ? 1 : 0, mc2: truthfulqaMc2Old(mc2, scoring.mc2Labels) };
    }
    case "bigbench": {
      expectCount(lls, scoring.targetScores.length, "bigbench");
      const out: DocMetrics = { multiple_choice_grade: scoring.targetScores[bigbenchArgmax(lls)] as number };
      if (generation !== undefined) {
        out.exact_str_match = bigbenchPostprocess(generation.text, generation.maxChars) === generation.target ? 1 : 0;
      }
      return out;
    }
    default:
      return scoring satisfies never;
  }
}

/** Python `sum(arr) / len(arr)` (left-to-right float addition). */
export function mean(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/**
 * The harness' `mean_stderr`: sample standard deviation (n − 1) over sqrt(n). For 0/1 scores this is
 * sqrt(p(1−p)/(n−1)). Undefined (null) for fewer than two values.
 */
export function meanStderr(values: readonly number[]): number | null {
  const n = values.length;
  if (n < 2) return null;
  const mu = mean(values);
  let ss = 0;
  for (const v of values) ss += (v - mu) ** 2;
  return Math.sqrt(ss / (n - 1)) / Math.sqrt(n);
}

export interface MetricSummary {
  readonly value: number;
  /** null when n < 2. */
  readonly stderr: number | null;
  readonly n: number;
}

/** Aggregates per-document metrics into mean ± stderr per metric, in the given metric order. */
export function aggregate(docMetrics: readonly DocMetrics[], metrics: readonly MetricName[]): Partial<Record<MetricName, MetricSummary>> {
  const out: Partial<Record<MetricName, MetricSummary>> = {};
  for (const metric of metrics) {
    const values: number[] = [];
    for (const d of docMetrics) {
      const v = d[metric];
      if (v !== undefined) values.push(v);
    }
    if (values.length === 0) continue;
    out[metric] = { value: mean(values), stderr: meanStderr(values), n: values.length };
  }
  return out;
}
