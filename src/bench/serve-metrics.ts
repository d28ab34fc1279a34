/**
 * Per-run serving metrics, defined exactly as vLLM's `vllm bench serve` (`vllm/benchmarks/serve.py`
 * `calculate_metrics`, commit 009e6d4a; per-request timing in `lib/endpoint_request_func.py`, commit
 * 02cfb534). See docs/bench.md and docs/decisions/0161-vllm-metric-definitions.md. Pure: no I/O.
 */
import { distribution, type Distribution } from "./stats.js";

/** Where a request's output token count came from. */
export type OutputTokensSource =
  /** `usage.completion_tokens` of the final streamed chunk (vLLM's primary source). */
  | "usage"
  /** The generated text re-tokenized through the server's `/tokenize` (vLLM re-tokenizes locally). */
  | "tokenize"
  /** Neither was available: one token per `choices` chunk (an approximation; vLLM would count 1). */
  | "chunks";

/** What one streamed request produced; times in seconds on one monotonic clock. */
export interface RequestRecord {
  /** HTTP 200 and at least one SSE message with a non-empty `choices`. */
  readonly success: boolean;
  /** Why the request failed (HTTP status and body, network error, abort). */
  readonly error?: string;
  /** Clock just before the POST (vLLM's `st`). */
  readonly startTime: number;
  /** First message with a non-empty `choices` − start (vLLM TTFT; a role-only chunk counts). 0 when none. */
  readonly ttft: number;
  /** Stricter TTFT: first chunk whose delta carries non-empty `content` or any `tool_calls`. Absent when none did. */
  readonly strictTtft?: number;
  /** Gaps between consecutive `choices` messages (per chunk, not per token). */
  readonly itl: readonly number[];
  /** Last `choices` message − start (E2EL; the trailing usage chunk does not extend it). */
  readonly latency: number;
  /** Output tokens (see {@link outputTokensSource}). */
  readonly outputTokens: number;
  readonly outputTokensSource: OutputTokensSource;
  /** Prompt tokens: `usage.prompt_tokens` when sent, else the client's own count of the prompt. */
  readonly promptTokens: number;
  /** Concatenated `delta.content`. */
  readonly generatedText: string;
  /** Number of `choices` messages that carried `delta.tool_calls`. */
  readonly toolCallChunks: number;
  /** The last non-null `finish_reason`. */
  readonly finishReason?: string;
}

/** Service-level objectives for goodput, in milliseconds (`--goodput ttft:MS tpot:MS e2el:MS`). */
export interface GoodputSlos {
  readonly ttft?: number;
  readonly tpot?: number;
  readonly e2el?: number;
}

export interface ServeMetrics {
  readonly completed: number;
  readonly failed: number;
  /** Σ prompt tokens of successful requests. */
  readonly totalInput: number;
  /** Σ output tokens of successful requests. */
  readonly totalOutput: number;
  /** completed / duration (req/s). */
  readonly requestThroughput: number;
  /** Requests meeting every given SLO / duration (req/s); absent when no SLO was given. */
  readonly requestGoodput?: number;
  /** Σ output tokens / duration (tok/s). */
  readonly outputThroughput: number;
  /** (Σ input + Σ output) / duration (tok/s). */
  readonly totalTokenThroughput: number;
  /** TTFT in ms over successful requests. */
  readonly ttftMs: Distribution;
  /** Stricter TTFT (first content or tool-call delta) in ms, over successful requests that had one. */
  readonly strictTtftMs: Distribution;
  /** TPOT = (E2EL − TTFT) / (output tokens − 1) in ms, only for requests with more than 1 output token. */
  readonly tpotMs: Distribution;
  /** ITL in ms, pooled over every chunk gap of every successful request. */
  readonly itlMs: Distribution;
  /** End-to-end latency in ms. */
  readonly e2elMs: Distribution;
  /** Most `choices` chunks received in one 1-s bucket from the first request start (vLLM's "peak output tokens/s"). */
  readonly maxOutputTokensPerS: number;
  /** Most requests in flight at once (half-open [start, start + E2EL) sweep). */
  readonly maxConcurrentRequests: number;
}

/**
 * vLLM's `calculate_metrics` for a run of `durationS` seconds (wall clock from the first request to the
 * last completion). `percentiles` are the selected percentiles (vLLM default `[99]`).
 */
export function computeServeMetrics(
  records: readonly RequestRecord[],
  durationS: number,
  options: { readonly percentiles?: readonly number[]; readonly goodput?: GoodputSlos } = {},
): ServeMetrics {
  if (!(durationS > 0)) throw new RangeError(`duration must be > 0 (got ${durationS})`);
  const percentiles = options.percentiles ?? [99];
  let totalInput = 0;
  let totalOutput = 0;
  let completed = 0;
  const ttfts: number[] = [];
  const strict: number[] = [];
  const tpots: number[] = [];
  const allTpots: number[] = [];
  const itls: number[] = [];
  const e2els: number[] = [];
  for (const r of records) {
    if (!r.success) continue;
    const outputLen = r.outputTokens;
    totalOutput += outputLen;
    totalInput += r.promptTokens;
    let tpot = 0;
    if (outputLen > 1) {
      tpot = (r.latency - r.ttft) / (outputLen - 1);
      tpots.push(tpot);
    }
    allTpots.push(tpot); // ≤ 1 output token counts as TPOT 0 for goodput
    for (const gap of r.itl) itls.push(gap);
    ttfts.push(r.ttft);
    if (r.strictTtft !== undefined) strict.push(r.strictTtft);
    e2els.push(r.latency);
    completed++;
  }

  let requestGoodput: number | undefined;
  const slos = options.goodput;
  if (slos !== undefined && (slos.ttft !== undefined || slos.tpot !== undefined || slos.e2el !== undefined)) {
    let good = 0;
    for (let i = 0; i < completed; i++) {
      const ok =
        (slos.ttft === undefined || (ttfts[i] as number) <= slos.ttft / 1000) &&
        (slos.tpot === undefined || (allTpots[i] as number) <= slos.tpot / 1000) &&
        (slos.e2el === undefined || (e2els[i] as number) <= slos.e2el / 1000);
      if (ok) good++;
    }
    requestGoodput = good / durationS;
  }

  const peak = peakOutputAndConcurrency(records.filter((r) => r.success));
  return {
    completed,
    failed: records.length - completed,
    totalInput,
    totalOutput,
    requestThroughput: completed / durationS,
    ...(requestGoodput !== undefined ? { requestGoodput } : {}),
    outputThroughput: totalOutput / durationS,
    totalTokenThroughput: (totalInput + totalOutput) / durationS,
    ttftMs: distribution(ttfts, percentiles, 1000),
    strictTtftMs: distribution(strict, percentiles, 1000),
    tpotMs: distribution(tpots, percentiles, 1000),
    itlMs: distribution(itls, percentiles, 1000),
    e2elMs: distribution(e2els, percentiles, 1000),
    maxOutputTokensPerS: peak.maxOutputTokensPerS,
    maxConcurrentRequests: peak.maxConcurrentRequests,
  };
}

/**
 * vLLM's peak metrics: chunk arrival times (start + TTFT, then + each ITL) counted in 1-s buckets from
 * the earliest start, and the peak number of overlapping [start, start + E2EL) intervals.
 */
export function peakOutputAndConcurrency(successful: readonly RequestRecord[]): { maxOutputTokensPerS: number; maxConcurrentRequests: number } {
  if (successful.length === 0) return { maxOutputTokensPerS: 0, maxConcurrentRequests: 0 };
  const minStart = Math.min(...successful.map((r) => r.startTime));
  const maxEnd = Math.max(...successful.map((r) => r.startTime + r.latency));
  const buckets = new Array<number>(Math.ceil(maxEnd - minStart) + 1).fill(0);
  for (const r of successful) {
    let t = r.startTime + r.ttft;
    const times = [t];
    for (const gap of r.itl) {
      t += gap;
      times.push(t);
    }
    for (const time of times) {
      const bucket = Math.trunc(time - minStart);
      if (bucket >= 0 && bucket < buckets.length) buckets[bucket] = (buckets[bucket] as number) + 1;
    }
  }
  const events: [number, number][] = [];
  for (const r of successful) events.push([r.startTime, 1], [r.startTime + r.latency, -1]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let peak = 0;
  for (const [, delta] of events) {
    current += delta;
    if (current > peak) peak = current;
  }
  return { maxOutputTokensPerS: Math.max(...buckets), maxConcurrentRequests: peak };
}

/** Thrown for a malformed `--goodput` value. */
export class GoodputParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GoodputParseError";
  }
}

/** Parses `ttft:500 tpot:50 e2el:3000` (space- or comma-separated, or several strings). */
export function parseGoodput(values: string | readonly string[]): GoodputSlos {
  const parts = (typeof values === "string" ? [values] : values).flatMap((v) => v.split(/[\s,]+/)).filter((p) => p !== "");
  const out: { ttft?: number; tpot?: number; e2el?: number } = {};
  for (const part of parts) {
    const match = /^(ttft|tpot|e2el):(.+)$/.exec(part);
    if (match === null) throw new GoodputParseError(`invalid goodput SLO '${part}': expected ttft:MS, tpot:MS or e2el:MS`);
    const key = match[1] as "ttft" | "tpot" | "e2el";
    const ms = Number(match[2]);
    if (!Number.isFinite(ms) || ms < 0) throw new GoodputParseError(`invalid goodput SLO '${part}': the value must be a number of milliseconds >= 0`);
    if (out[key] !== undefined) throw new GoodputParseError(`goodput SLO '${key}' given twice`);
    out[key] = ms;
  }
  return out;
}
