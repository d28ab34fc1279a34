/**
 * `talaria bench engine`: llama-bench-style throughput of the engine port — prefill (pp) and decode (tg)
 * tokens/s over random-token prompts, mean ± sd over repetitions — plus decode under a JSON-schema
 * grammar, aggregate decode of N concurrent streams, and log-likelihood requests/s. Works on any
 * {@link Engine}; see docs/bench.md and docs/decisions/0162-engine-bench-method.md.
 */
import type { Engine, GenerateRequest, GrammarConstraint, TokenId } from "../engine/types.js";
import { jsonSchemaConstraint } from "../grammar/index.js";
import { environmentSnapshot, type EnvironmentSnapshot } from "./environment.js";
import { randomTokens } from "./prompts.js";
import { meanSd, type MeanSd } from "./stats.js";

/** A JSON-mode schema with open-ended arrays and strings (at least one object, ≥ ~15 tokens), so that a constrained generation can run long. */
export const DEFAULT_BENCH_SCHEMA = {
  type: "array",
  minItems: 1,
  items: {
    type: "object",
    properties: {
      name: { type: "string" },
      age: { type: "integer" },
      tags: { type: "array", items: { type: "string" } },
    },
    required: ["name", "age", "tags"],
    additionalProperties: false,
  },
} as const;

export interface EngineBenchOptions {
  /** Prompt lengths of the prefill tests (llama-bench `-p`). Default [512]. Empty = none. */
  readonly promptLengths?: readonly number[];
  /** Generation lengths of the decode tests (llama-bench `-n`). Default [128]. Empty = none. */
  readonly genLengths?: readonly number[];
  /** Repetitions of each test (llama-bench `-r`). Default 5. */
  readonly repetitions?: number;
  /** Concurrent stream counts for the aggregate decode test (each ≤ the engine's sequences). Default [1]. */
  readonly streams?: readonly number[];
  /** Also run the decode tests under a JSON-schema grammar. Default true. */
  readonly grammar?: boolean;
  /**
   * Also run the grammar tests with jump-forward decoding (`GenerateRequest.jumpForward`: forced grammar
   * text appended without sampling); the plain grammar tests then pass `jumpForward: false`. Default true.
   */
  readonly jumpForward?: boolean;
  /** Schema of the grammar tests. Default {@link DEFAULT_BENCH_SCHEMA}. */
  readonly jsonSchema?: unknown;
  /** Log-likelihood test: requests per call, context and continuation lengths. Default {requests: 32, context: 64, continuation: 4}; null = skip. */
  readonly loglik?: { readonly requests: number; readonly context: number; readonly continuation: number } | null;
  /** Ban end-of-generation tokens in free decode tests (llama-bench never stops early). Default true. */
  readonly ignoreEos?: boolean;
  /** Seed of the random prompts. Default 1. */
  readonly seed?: number;
  /** One short untimed generation first (llama-bench warms up too). Default true. */
  readonly warmup?: boolean;
  readonly signal?: AbortSignal;
  /** A line per finished test. Default none. */
  readonly log?: (line: string) => void;
}

export type EngineTestKind = "pp" | "tg" | "tg-grammar" | "tg-grammar-jf" | "streams" | "loglik";

export interface EngineTestResult {
  /** llama-bench style name: `pp512`, `tg128`, `tg128+json`, `tg128+json+jf` (jump-forward), `tg128 x4`, `loglik 32x(64+4)`. */
  readonly name: string;
  readonly kind: EngineTestKind;
  readonly promptTokens: number;
  /** Tokens asked for per generation (0 for pp and loglik). */
  readonly genTokens: number;
  readonly streams: number;
  /** Tokens/s per repetition (pp: prompt tokens / time to the first token; tg: generated / total time; streams: Σ generated / wall time; loglik: scored tokens / time). */
  readonly tokensPerSecond: MeanSd;
  /** tg, tg-grammar and streams: decode rate excluding the first token, (generated − 1) / (t_last − t_first), summed over streams. */
  readonly decodeTokensPerSecond?: MeanSd;
  /** pp and tg: time to the first token in ms. */
  readonly ttftMs?: MeanSd;
  /** loglik: requests/s. */
  readonly requestsPerSecond?: MeanSd;
  /** tg: the backend's own decode ms per token for the same requests (llama-server's `timings.predicted_per_token_ms`), when measured. */
  readonly backendMsPerToken?: MeanSd;
  /** Mean tokens actually generated per stream and repetition (grammar tests may stop early). */
  readonly meanGeneratedTokens?: number;
  readonly loadAverageAfter: readonly number[];
}

export interface EngineBenchReport {
  readonly kind: "engine";
  readonly startedAt: string;
  readonly environment: EnvironmentSnapshot;
  readonly model: {
    readonly source: string;
    readonly architecture: string;
    readonly parameterCount: number;
    readonly fileType?: string;
    readonly contextSize: number;
    readonly sequences: number;
    readonly vocabularySize: number;
  };
  /** Backend facts the caller knows (gpu, threads), recorded as given. */
  readonly backend: Readonly<Record<string, unknown>>;
  readonly config: {
    readonly promptLengths: readonly number[];
    readonly genLengths: readonly number[];
    readonly repetitions: number;
    readonly streams: readonly number[];
    readonly grammar: boolean;
    readonly jumpForward: boolean;
    readonly ignoreEos: boolean;
    readonly seed: number;
    readonly loglik: { readonly requests: number; readonly context: number; readonly continuation: number } | null;
  };
  readonly tests: readonly EngineTestResult[];
  /** Ratios derived from the tests (see {@link engineRatios}). */
  readonly ratios: Readonly<Record<string, number>>;
}

export class EngineBenchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EngineBenchError";
  }
}

interface RunResult {
  readonly generated: number;
  readonly totalS: number;
  readonly firstS: number;
  readonly lastS: number;
}

/** Times one generation: clock at the call, at the first and last generated token, at the finish. */
async function timedGenerate(engine: Engine, request: GenerateRequest): Promise<RunResult> {
  const t0 = performance.now();
  let first = -1;
  let last = -1;
  let generated = 0;
  for await (const event of engine.generate(request)) {
    switch (event.type) {
      case "text-delta":
        if (event.tokens.length > 0) {
          const now = performance.now();
          if (first < 0) first = now;
          last = now;
        }
        break;
      case "finish":
        generated = event.usage.completionTokens;
        break;
      case "warning":
        break;
      default:
        event satisfies never;
    }
  }
  const end = performance.now();
  if (first < 0) first = end;
  if (last < 0) last = end;
  return { generated, totalS: (end - t0) / 1000, firstS: (first - t0) / 1000, lastS: (last - t0) / 1000 };
}

function specialTokenIds(engine: Engine): Set<TokenId> {
  const s = engine.info.specialTokens;
  const ids = new Set<TokenId>(s.endOfGeneration);
  for (const t of [s.bos, s.eos, s.eot]) if (t !== undefined) ids.add(t.id);
  for (const id of Object.values(s.markers)) ids.add(id);
  // Llama 3 reserves ids ≥ 128000 for special tokens; keep prompts to ordinary text tokens there.
  if (engine.info.vocabularySize > 128_000) for (let id = 128_000; id < engine.info.vocabularySize; id++) ids.add(id);
  return ids;
}

/** Ratios: constrained/free decode (first token excluded), N-stream/single-stream aggregate tokens/s. */
export function engineRatios(tests: readonly EngineTestResult[]): Record<string, number> {
  const ratios: Record<string, number> = {};
  // Decode rates (first token excluded): a grammar may end the JSON before genTokens, so whole-run rates
  // would weigh the first token differently.
  const decode = (t: EngineTestResult | undefined): number => t?.decodeTokensPerSecond?.mean ?? 0;
  for (const t of tests) {
    if (t.kind !== "tg-grammar" && t.kind !== "tg-grammar-jf") continue;
    const free = tests.find((f) => f.kind === "tg" && f.genTokens === t.genTokens);
    if (decode(t) > 0 && decode(free) > 0) ratios[`${t.name} / tg${t.genTokens} (decode)`] = decode(t) / decode(free);
    if (t.kind === "tg-grammar-jf") {
      const plain = tests.find((f) => f.kind === "tg-grammar" && f.genTokens === t.genTokens);
      if (decode(t) > 0 && decode(plain) > 0) ratios[`${t.name} / tg${t.genTokens}+json (decode)`] = decode(t) / decode(plain);
    }
  }
  const streams = tests.filter((t) => t.kind === "streams");
  const single = streams.find((t) => t.streams === 1);
  if (single !== undefined && single.tokensPerSecond.mean > 0) {
    for (const t of streams) if (t.streams > 1) ratios[`streams ${t.streams} / streams 1`] = t.tokensPerSecond.mean / single.tokensPerSecond.mean;
  }
  return ratios;
}

function positiveInts(name: string, values: readonly number[]): number[] {
  for (const v of values) if (!Number.isInteger(v) || v < 1) throw new EngineBenchError(`${name} must be integers >= 1 (got ${v})`);
  return [...values];
}

/** Context tokens per sequence the options need (prompts, generations and loglik requests, plus slack). */
export function requiredContextSize(options: EngineBenchOptions): number {
  const p = Math.max(0, ...(options.promptLengths ?? [512]));
  const n = Math.max(0, ...(options.genLengths ?? [128]));
  const l = options.loglik === null ? 0 : (options.loglik?.context ?? 64) + (options.loglik?.continuation ?? 4);
  return Math.max(p + 2, n + 2, l + 1, 16);
}

/** Runs the tests on a loaded engine. `backend` (gpu, threads…) is copied into the report. */
export async function runEngineBench(engine: Engine, options: EngineBenchOptions = {}, backend: Record<string, unknown> = {}): Promise<EngineBenchReport> {
  const [report] = await runEngineBenches([{ engine, backend }], options);
  return report as EngineBenchReport;
}

/** One engine of {@link runEngineBenches}. */
export interface EngineBenchEntry {
  readonly engine: Engine;
  /** Backend facts (gpu, threads…) copied into its report. Default none. */
  readonly backend?: Record<string, unknown>;
  /**
   * The backend's own decode time per token (ms) for a free decode request, when it measures one
   * (llama-server: `timings.predicted_per_token_ms` of `/completion`). Called once per tg repetition,
   * right after the engine's own run, with the same prompt; recorded as the tg test's
   * `backendMsPerToken`. Default none.
   */
  readonly backendDecodeMs?: (request: BackendDecodeRequest) => Promise<number>;
}

/** A free decode request as {@link EngineBenchEntry.backendDecodeMs} gets it: greedy, end-of-generation banned when `ignoreEos`. */
export interface BackendDecodeRequest {
  readonly prompt: readonly TokenId[];
  readonly maxTokens: number;
  /** Token → bias (-100 bans) of the end-of-generation tokens, when they are banned. */
  readonly logitBias: Readonly<Record<number, number>>;
}

/**
 * Runs the same tests on several engines in one run, interleaved (repetition r of test i on every
 * engine, then test i + 1, …): load drift on a shared machine spreads evenly over the engines, so
 * their ratios are fair. One report per engine, in order. Prompts are the same for every engine (the
 * same seed). The loglik test is skipped on an engine without `loglikelihood`.
 */
export async function runEngineBenches(entries: readonly EngineBenchEntry[], options: EngineBenchOptions = {}): Promise<EngineBenchReport[]> {
  if (entries.length === 0) throw new EngineBenchError("no engine to benchmark");
  const plans = entries.map((entry) => planEngineBench(entry, options));
  if (options.warmup ?? true) for (const plan of plans) await plan.warmup();
  const repetitions = options.repetitions ?? 5;
  const longest = Math.max(...plans.map((p) => p.specs.length));
  for (let r = 0; r < repetitions; r++) {
    for (let i = 0; i < longest; i++) {
      for (const plan of plans) if (i < plan.specs.length) await plan.run(i);
    }
  }
  return plans.map((plan) => plan.report());
}

interface EngineBenchPlan {
  readonly specs: readonly unknown[];
  warmup(): Promise<void>;
  /** One repetition of spec i. */
  run(i: number): Promise<void>;
  report(): EngineBenchReport;
}

function planEngineBench(entry: EngineBenchEntry, options: EngineBenchOptions): EngineBenchPlan {
  const { engine } = entry;
  const backend = entry.backend ?? {};
  const startedAt = new Date().toISOString();
  const promptLengths = positiveInts("prompt lengths", options.promptLengths ?? [512]);
  const genLengths = positiveInts("generation lengths", options.genLengths ?? [128]);
  const repetitions = options.repetitions ?? 5;
  if (!Number.isInteger(repetitions) || repetitions < 1) throw new EngineBenchError(`repetitions must be an integer >= 1 (got ${repetitions})`);
  const streams = [...new Set(positiveInts("streams", options.streams ?? [1]))];
  const sequences = engine.stats().sequencesTotal;
  const tooMany = streams.find((s) => s > sequences);
  if (tooMany !== undefined) throw new EngineBenchError(`${tooMany} streams need ${tooMany} sequences; the engine has ${sequences}`);
  const grammarOn = options.grammar ?? true;
  const jumpForwardOn = options.jumpForward ?? true;
  const ignoreEos = options.ignoreEos ?? true;
  const seed = options.seed ?? 1;
  const loglikAsked = options.loglik === null ? null : (options.loglik ?? { requests: 32, context: 64, continuation: 4 });
  const loglik = engine.capabilities.loglikelihood ? loglikAsked : null;
  const contextSize = engine.info.contextSize;
  const needed = requiredContextSize({ ...options, loglik });
  if (needed > contextSize) throw new EngineBenchError(`the tests need ${needed} tokens per sequence; the engine's context holds ${contextSize}`);
  const log = options.log ?? (() => {});
  if (loglikAsked !== null && loglik === null) log("loglik: skipped (the engine has no loglikelihood)");
  const signal = options.signal;
  const vocab = engine.info.vocabularySize;
  const exclude = specialTokenIds(engine);
  const eogBias: Record<number, number> = {};
  for (const id of engine.info.specialTokens.endOfGeneration) eogBias[id] = -100;
  const sampling = { doSample: false, ...(ignoreEos ? { logitBias: eogBias } : {}) };
  let seedCounter = seed * 7919;
  const prompt = (length: number): TokenId[] => randomTokens(seedCounter++, length, vocab, exclude);
  const base = (p: number, maxTokens: number): GenerateRequest => ({ prompt: prompt(p), maxTokens, sampling, ...(signal !== undefined ? { signal } : {}) });
  const tests: EngineTestResult[] = [];
  const checkAbort = (): void => {
    if (signal?.aborted === true) throw new EngineBenchError("aborted");
  };
  const push = (t: EngineTestResult): void => {
    tests.push(t);
    const sd = t.tokensPerSecond.sd;
    log(`${t.name.padEnd(22)} ${t.tokensPerSecond.mean.toFixed(2).padStart(10)} ± ${sd.toFixed(2)} tok/s` +
      (t.requestsPerSecond !== undefined ? `  (${t.requestsPerSecond.mean.toFixed(2)} req/s)` : "") +
      (t.meanGeneratedTokens !== undefined ? `  (${t.meanGeneratedTokens.toFixed(1)} tokens generated)` : ""));
  };

  // Each test is a sampler producing one repetition's measurements; repetitions are interleaved
  // (rep 1 of every test, then rep 2, …) so that load drift on a shared machine spreads over all tests
  // instead of biasing the ratios between them.
  interface Sample {
    rate: number;
    decode?: number;
    backendMs?: number;
    ttftMs?: number;
    requestsPerSecond?: number;
    generated?: number;
  }
  interface Spec {
    name: string;
    kind: EngineTestKind;
    promptTokens: number;
    genTokens: number;
    streams: number;
    sample: () => Promise<Sample>;
  }
  const specs: Spec[] = [];
  for (const p of promptLengths) {
    specs.push({
      name: `pp${p}`, kind: "pp", promptTokens: p, genTokens: 0, streams: 1,
      sample: async () => {
        const run = await timedGenerate(engine, base(p, 1));
        return { rate: p / run.firstS, ttftMs: run.firstS * 1000 };
      },
    });
  }
  const decodeSpec = (n: number, grammar: GrammarConstraint | undefined, jumpForward: boolean): Spec => ({
    name: grammar === undefined ? `tg${n}` : `tg${n}+json${jumpForward ? "+jf" : ""}`,
    kind: grammar === undefined ? "tg" : jumpForward ? "tg-grammar-jf" : "tg-grammar",
    promptTokens: 1,
    genTokens: n,
    streams: 1,
    sample: async () => {
      // Under a grammar end-of-generation stays allowed: the grammar needs it once the JSON is complete.
      const request: GenerateRequest =
        grammar === undefined ? base(1, n) : { ...base(1, n), sampling: { doSample: false }, grammar, jumpForward };
      const run = await timedGenerate(engine, request);
      const backendMs = grammar === undefined && entry.backendDecodeMs !== undefined
        ? await entry.backendDecodeMs({ prompt: request.prompt as readonly TokenId[], maxTokens: n, logitBias: ignoreEos ? eogBias : {} })
        : undefined;
      return {
        ...(backendMs === undefined ? {} : { backendMs }),
        rate: run.generated / run.totalS,
        ttftMs: run.firstS * 1000,
        generated: run.generated,
        ...(run.generated > 1 && run.lastS > run.firstS ? { decode: (run.generated - 1) / (run.lastS - run.firstS) } : {}),
      };
    },
  });
  for (const n of genLengths) specs.push(decodeSpec(n, undefined, false));
  if (grammarOn) {
    const constraint = jsonSchemaConstraint(options.jsonSchema ?? DEFAULT_BENCH_SCHEMA);
    for (const n of genLengths) specs.push(decodeSpec(n, constraint, false));
    if (jumpForwardOn) for (const n of genLengths) specs.push(decodeSpec(n, constraint, true));
  }
  const streamTokens = genLengths[0] ?? 128;
  for (const s of streams) {
    specs.push({
      name: `tg${streamTokens} x${s}`, kind: "streams", promptTokens: 1, genTokens: streamTokens, streams: s,
      sample: async () => {
        const t0 = performance.now();
        const runs = await Promise.all(Array.from({ length: s }, () => timedGenerate(engine, base(1, streamTokens))));
        const wall = (performance.now() - t0) / 1000;
        const total = runs.reduce((a, x) => a + x.generated, 0);
        const decode = runs.reduce((a, x) => a + (x.generated > 1 && x.lastS > x.firstS ? (x.generated - 1) / (x.lastS - x.firstS) : 0), 0);
        return { rate: total / wall, decode, generated: total / s };
      },
    });
  }
  if (loglik !== null) {
    const { requests, context, continuation } = loglik;
    specs.push({
      name: `loglik ${requests}x(${context}+${continuation})`, kind: "loglik", promptTokens: context + continuation, genTokens: 0,
      streams: Math.min(sequences, requests),
      sample: async () => {
        const batch = Array.from({ length: requests }, () => ({ context: prompt(context), continuation: prompt(continuation) }));
        const t0 = performance.now();
        await engine.loglikelihood(batch, signal !== undefined ? { signal } : {});
        const seconds = (performance.now() - t0) / 1000;
        return { rate: (requests * (context + continuation)) / seconds, requestsPerSecond: requests / seconds };
      },
    });
  }

  const samples: Sample[][] = specs.map(() => []);
  const loads: (readonly number[])[] = specs.map(() => []);
  const run = async (i: number): Promise<void> => {
    checkAbort();
    (samples[i] as Sample[]).push(await (specs[i] as Spec).sample());
    loads[i] = environmentSnapshot().loadAverage;
  };
  const warmup = async (): Promise<void> => {
    await timedGenerate(engine, base(Math.min(8, contextSize - 2), 4));
  };
  const report = (): EngineBenchReport => {
    for (const [i, spec] of specs.entries()) {
      const ss = samples[i] as Sample[];
      const pick = (f: (x: Sample) => number | undefined): number[] => ss.flatMap((x) => (f(x) === undefined ? [] : [f(x) as number]));
      const generated = pick((x) => x.generated);
      const decode = pick((x) => x.decode);
      const ttft = pick((x) => x.ttftMs);
      const rps = pick((x) => x.requestsPerSecond);
      const backendMs = pick((x) => x.backendMs);
      push({
        name: spec.name,
        kind: spec.kind,
        promptTokens: spec.promptTokens,
        genTokens: spec.genTokens,
        streams: spec.streams,
        tokensPerSecond: meanSd(ss.map((x) => x.rate)),
        ...(spec.kind === "tg" || spec.kind === "tg-grammar" || spec.kind === "tg-grammar-jf" || spec.kind === "streams" ? { decodeTokensPerSecond: meanSd(decode) } : {}),
        ...(ttft.length > 0 ? { ttftMs: meanSd(ttft) } : {}),
        ...(rps.length > 0 ? { requestsPerSecond: meanSd(rps) } : {}),
        ...(backendMs.length > 0 ? { backendMsPerToken: meanSd(backendMs) } : {}),
        ...(generated.length > 0 ? { meanGeneratedTokens: generated.reduce((a, b) => a + b, 0) / generated.length } : {}),
        loadAverageAfter: loads[i] as readonly number[],
      });
    }

    const info = engine.info;
    return {
      kind: "engine",
      startedAt,
      environment: environmentSnapshot(),
      model: {
        source: info.source,
        architecture: info.architecture,
        parameterCount: info.parameterCount,
        ...(info.fileType !== undefined ? { fileType: info.fileType } : {}),
        contextSize: info.contextSize,
        sequences,
        vocabularySize: info.vocabularySize,
      },
      backend,
      config: { promptLengths, genLengths, repetitions, streams, grammar: grammarOn, jumpForward: grammarOn && jumpForwardOn, ignoreEos, seed, loglik },
      tests,
      ratios: engineRatios(tests),
    };
  };
  return { specs, warmup, run, report };
}
