/**
 * Pure logit arithmetic: log-softmax, the HF repetition penalty, OpenAI frequency/presence
 * penalties, and a reference sampler that applies Talaria's sampling order to a full logit vector.
 *
 * Sampling order (the same as the llama.cpp sampler chain the engine configures, see
 * docs/decisions/0013-sampling-order.md): logit bias and frequency/presence penalties →
 * repetition penalty → (greedy: argmax) | top-k → top-p → min-p → temperature → draw.
 */
import type { ResolvedSampling } from "./sampling-options.js";
import type { TokenLogprob } from "./types.js";

/** Full-vocabulary log-softmax (float64 accumulation). */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i] as number;
    if (v > max) max = v;
  }
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp((logits[i] as number) - max);
  const logZ = max + Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = (logits[i] as number) - logZ;
  return out;
}

/** Index of the largest value (first one on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/** The `k` largest entries as `[token, value]`, largest first (ties: lower token id first). */
export function topEntries(values: ArrayLike<number>, k: number): Array<[number, number]> {
  if (k <= 0) return [];
  const heap: Array<[number, number]> = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (heap.length < k) {
      heap.push([i, v]);
      if (heap.length === k) heap.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      continue;
    }
    const last = heap[k - 1] as [number, number];
    if (v > last[1]) {
      // insert in order (k is small: top_logprobs <= 20)
      let j = k - 1;
      while (j > 0 && (heap[j - 1] as [number, number])[1] < v) {
        heap[j] = heap[j - 1] as [number, number];
        j--;
      }
      heap[j] = [i, v];
    }
  }
  if (heap.length < k) heap.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return heap;
}

/**
 * HF `RepetitionPenaltyLogitsProcessor`: for every distinct token in `tokens`, a positive logit is
 * divided by `penalty` and a negative one multiplied by it. Returns a new array.
 */
export function applyRepetitionPenalty(logits: ArrayLike<number>, tokens: Iterable<number>, penalty: number): Float32Array {
  const out = Float32Array.from(logits as ArrayLike<number>);
  if (penalty === 1) return out;
  for (const t of new Set(tokens)) {
    if (t < 0 || t >= out.length) continue;
    const v = out[t] as number;
    out[t] = v < 0 ? v * penalty : v / penalty;
  }
  return out;
}

/** OpenAI frequency/presence penalties over `generated` as per-token additive biases. */
export function frequencyPresenceBias(generated: readonly number[], frequency: number, presence: number): Map<number, number> {
  const out = new Map<number, number>();
  if (frequency === 0 && presence === 0) return out;
  const counts = new Map<number, number>();
  for (const t of generated) counts.set(t, (counts.get(t) ?? 0) + 1);
  for (const [t, c] of counts) {
    const v = -(c * frequency + presence);
    if (v !== 0) out.set(t, v);
  }
  return out;
}

/** Sum of additive biases (missing entries are 0). */
export function addBiases(...maps: ReadonlyArray<ReadonlyMap<number, number>>): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of maps) for (const [t, v] of m) out.set(t, (out.get(t) ?? 0) + v);
  return out;
}

/** OpenAI's -100 bans a token; other values are added to the logit as is. */
export function biasToLogitDelta(value: number): number {
  return value <= -100 ? -Infinity : value;
}

export { mulberry32 } from "../util/random.js";

export interface TokenHistory {
  /** Prompt + generated tokens (repetition penalty, HF semantics). */
  readonly all: readonly number[];
  /** Generated tokens only (frequency/presence penalties, OpenAI semantics). */
  readonly generated: readonly number[];
}

/** Logits after bias and penalties (before truncation and temperature). */
export function processLogits(raw: ArrayLike<number>, s: ResolvedSampling, history: TokenHistory): Float32Array {
  const biased = Float32Array.from(raw as ArrayLike<number>);
  const bias = addBiases(
    new Map([...s.logitBias].map(([t, v]) => [t, biasToLogitDelta(v)] as [number, number])),
    frequencyPresenceBias(history.generated, s.frequencyPenalty, s.presencePenalty),
  );
  for (const [t, v] of bias) if (t >= 0 && t < biased.length) biased[t] = (biased[t] as number) + v;
  return applyRepetitionPenalty(biased, history.all, s.repetitionPenalty);
}

/**
 * Reference sampler over a full logit vector in Talaria's sampling order. `random` returns floats
 * in [0, 1); it is not called when greedy.
 */
export function sampleFromLogits(raw: ArrayLike<number>, s: ResolvedSampling, history: TokenHistory, random: () => number): number {
  const logits = processLogits(raw, s, history);
  if (s.greedy) return argmax(logits);
  // candidates sorted by logit, descending
  let candidates = Array.from({ length: logits.length }, (_, i) => i).filter((i) => (logits[i] as number) > -Infinity);
  if (candidates.length === 0) return argmax(raw);
  candidates.sort((a, b) => (logits[b] as number) - (logits[a] as number) || a - b);
  if (s.topK > 0 && s.topK < candidates.length) candidates = candidates.slice(0, s.topK);
  if (s.topP < 1) {
    const probs = softmaxOf(candidates.map((i) => logits[i] as number));
    let cum = 0;
    let keep = candidates.length;
    for (let j = 0; j < probs.length; j++) {
      cum += probs[j] as number;
      if (cum >= s.topP) {
        keep = j + 1;
        break;
      }
    }
    candidates = candidates.slice(0, Math.max(1, keep));
  }
  if (s.minP > 0) {
    const maxLogit = logits[candidates[0] as number] as number;
    const threshold = maxLogit + Math.log(s.minP);
    const kept = candidates.filter((i) => (logits[i] as number) >= threshold);
    candidates = kept.length > 0 ? kept : candidates.slice(0, 1);
  }
  const probs = softmaxOf(candidates.map((i) => (logits[i] as number) / s.temperature));
  let r = random();
  for (let j = 0; j < candidates.length; j++) {
    r -= probs[j] as number;
    if (r < 0) return candidates[j] as number;
  }
  return candidates[candidates.length - 1] as number;
}

function softmaxOf(values: readonly number[]): number[] {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  const exps = values.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Top-k log-probabilities from a full log-softmax vector, rendered with `text`. */
export function topLogprobsOf(logprobs: ArrayLike<number>, k: number, text: (token: number) => string): TokenLogprob[] {
  return topEntries(logprobs, k).map(([token, logprob]) => ({ token, text: text(token), logprob }));
}
