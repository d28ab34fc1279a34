/**
 * `talaria bench serve`: a closed-loop load generator for any OpenAI-compatible server (Talaria, vLLM,
 * llama.cpp `llama-server`). For each concurrency level it keeps at most C streamed chat completions in
 * flight until N requests were sent or the time limit passed, then computes vLLM's metrics.
 */
import { assertLoopbackTarget } from "./loopback.js";
import { calibratedPrompt } from "./prompts.js";
import { computeServeMetrics, type GoodputSlos, type RequestRecord, type ServeMetrics } from "./serve-metrics.js";
import { streamChatCompletion, type StreamedCompletion } from "./sse-client.js";
import { environmentSnapshot, type EnvironmentSnapshot } from "./environment.js";

export interface ServeBenchOptions {
  /** Server base URL, e.g. `http://127.0.0.1:8080` (a trailing `/v1` is accepted). Required. */
  readonly url: string;
  /** Bearer token. Default none. */
  readonly apiKey?: string;
  /** Model name sent in requests. Default: the first id of `GET /v1/models`. */
  readonly model?: string;
  /** Concurrency levels, run one after another. Default [1]. */
  readonly concurrency?: readonly number[];
  /** Requests per level. Default 16. */
  readonly requests?: number;
  /** Prompt length in tokens (user content; the chat template adds its own). Default 128. */
  readonly inputLen?: number;
  /** `max_tokens` / `max_completion_tokens`. Default 128. */
  readonly outputLen?: number;
  /** OpenAI `tools` array sent with every request. Default none. */
  readonly tools?: readonly unknown[];
  /** OpenAI `tool_choice`. Default: not sent (server default). */
  readonly toolChoice?: unknown;
  /** JSON Schema sent as `response_format: {type: "json_schema", json_schema: {name: "bench", schema, strict: true}}`. Default none. */
  readonly jsonSchema?: unknown;
  /** Seed of the prompts (request i uses seed + i) and the `seed` field of requests. Default 0. */
  readonly seed?: number;
  /** Send `ignore_eos: true` (vLLM, llama.cpp; ignored by servers without it). Default true. */
  readonly ignoreEos?: boolean;
  /** `temperature` sent with requests. Default: not sent (server default). */
  readonly temperature?: number;
  /** Seconds per level; after that no request is started and those in flight are aborted (and count as failed). Default 300. */
  readonly maxDurationS?: number;
  /** Goodput SLOs in ms. Default none. */
  readonly goodput?: GoodputSlos;
  /** Percentiles to report. Default [50, 90, 99] (vLLM's default is [99]; mean and median are always reported). */
  readonly percentiles?: readonly number[];
  /** Allow non-loopback targets. Default false. */
  readonly allowRemote?: boolean;
  /** Requests sent (one at a time) before measuring, not recorded. Default 1. */
  readonly warmupRequests?: number;
  /** Calibrate prompt lengths with the server's `/tokenize`. Default true (skipped when the route is missing). */
  readonly useTokenize?: boolean;
  readonly signal?: AbortSignal;
  /** Progress lines (one per finished level). Default none. */
  readonly log?: (line: string) => void;
}

/** One request as written to the JSON report (times in ms). */
export interface RequestSummary {
  readonly success: boolean;
  readonly error?: string;
  readonly ttftMs: number;
  readonly strictTtftMs?: number;
  readonly e2elMs: number;
  readonly chunks: number;
  readonly outputTokens: number;
  readonly outputTokensSource: RequestRecord["outputTokensSource"];
  readonly promptTokens: number;
  readonly finishReason?: string;
  readonly toolCallChunks: number;
}

export interface ServeLevelResult {
  readonly concurrency: number;
  /** Requests started (≤ requests when the time limit stopped the level). */
  readonly requestsSent: number;
  readonly durationS: number;
  readonly stoppedByTimeLimit: boolean;
  readonly loadAverageBefore: readonly number[];
  readonly loadAverageAfter: readonly number[];
  readonly metrics: ServeMetrics;
  readonly requests: readonly RequestSummary[];
}

export interface ServeBenchReport {
  readonly kind: "serve";
  readonly startedAt: string;
  readonly environment: EnvironmentSnapshot;
  readonly config: {
    readonly url: string;
    readonly endpoint: string;
    readonly model: string;
    readonly concurrency: readonly number[];
    readonly requests: number;
    readonly inputLen: number;
    readonly outputLen: number;
    readonly seed: number;
    readonly ignoreEos: boolean;
    readonly temperature?: number;
    readonly tools: number;
    readonly jsonSchema: boolean;
    readonly maxDurationS: number;
    readonly goodput?: GoodputSlos;
    readonly percentiles: readonly number[];
    readonly warmupRequests: number;
  };
  /** Prompt calibration: through `/tokenize`, or approximated as one token per word. */
  readonly prompts: { readonly calibratedWithTokenize: boolean; readonly meanTokens: number };
  readonly levels: readonly ServeLevelResult[];
}

export class ServeBenchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ServeBenchError";
  }
}

/** `http://h:p/v1/` → `http://h:p`. */
export function baseUrlOf(url: string): string {
  return url.replace(/\/+$/, "").replace(/\/v1$/, "");
}

function authHeaders(apiKey: string | undefined): Record<string, string> {
  return apiKey !== undefined && apiKey !== "" ? { authorization: `Bearer ${apiKey}` } : {};
}

/** First model id of `GET /v1/models`. */
export async function firstModelId(base: string, apiKey?: string, signal?: AbortSignal): Promise<string> {
  const response = await fetch(`${base}/v1/models`, { headers: authHeaders(apiKey), ...(signal !== undefined ? { signal } : {}) });
  if (!response.ok) throw new ServeBenchError(`GET ${base}/v1/models answered HTTP ${response.status}`);
  const body = (await response.json()) as { data?: { id?: unknown }[] };
  const id = body.data?.[0]?.id;
  if (typeof id !== "string") throw new ServeBenchError(`GET ${base}/v1/models listed no model`);
  return id;
}

/**
 * A token counter over the server's `/tokenize` (Talaria and llama.cpp read `content`, vLLM `prompt`),
 * or undefined when the route does not answer with a `tokens` array.
 */
export async function tokenizeCounter(base: string, model: string, apiKey?: string): Promise<((text: string) => Promise<number>) | undefined> {
  const count = async (text: string): Promise<number> => {
    const response = await fetch(`${base}/tokenize`, {
      method: "POST",
      headers: { "content-type": "application/json", ...authHeaders(apiKey) },
      body: JSON.stringify({ model, prompt: text, content: text, add_special: false, add_special_tokens: false }),
    });
    if (!response.ok) throw new ServeBenchError(`POST /tokenize answered HTTP ${response.status}`);
    const body = (await response.json()) as { tokens?: unknown; count?: unknown };
    if (!Array.isArray(body.tokens)) throw new ServeBenchError("POST /tokenize returned no tokens array");
    return body.tokens.length;
  };
  try {
    await count("hello world");
    return count;
  } catch {
    return undefined;
  }
}

/** The chat request body of one benchmark request. */
export function buildChatBody(
  prompt: string,
  options: { model: string; outputLen: number; seed: number; ignoreEos: boolean; temperature?: number; tools?: readonly unknown[]; toolChoice?: unknown; jsonSchema?: unknown },
): Record<string, unknown> {
  return {
    model: options.model,
    messages: [{ role: "user", content: prompt }],
    max_completion_tokens: options.outputLen,
    max_tokens: options.outputLen,
    seed: options.seed,
    ...(options.ignoreEos ? { ignore_eos: true } : {}),
    ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
    ...(options.tools !== undefined && options.tools.length > 0 ? { tools: options.tools } : {}),
    ...(options.toolChoice !== undefined ? { tool_choice: options.toolChoice } : {}),
    ...(options.jsonSchema !== undefined
      ? { response_format: { type: "json_schema", json_schema: { name: "bench", schema: options.jsonSchema, strict: true } } }
      : {}),
  };
}

/** Output tokens: usage, else the server's tokenizer on the generated text, else one per chunk. */
async function resolveRecord(
  s: StreamedCompletion,
  promptTokens: number,
  count: ((text: string) => Promise<number>) | undefined,
): Promise<RequestRecord> {
  let outputTokens: number;
  let source: RequestRecord["outputTokensSource"];
  if (s.usage?.completionTokens !== undefined) {
    outputTokens = s.usage.completionTokens;
    source = "usage";
  } else if (count !== undefined && s.success) {
    outputTokens = await count(s.generatedText).catch(() => s.itl.length + 1);
    source = "tokenize";
  } else {
    outputTokens = s.success ? s.itl.length + 1 : 0;
    source = "chunks";
  }
  return {
    success: s.success,
    ...(s.error !== undefined ? { error: s.error } : {}),
    startTime: s.startTime,
    ttft: s.ttft,
    ...(s.strictTtft !== undefined ? { strictTtft: s.strictTtft } : {}),
    itl: s.itl,
    latency: s.latency,
    outputTokens,
    outputTokensSource: source,
    promptTokens: s.usage?.promptTokens ?? promptTokens,
    generatedText: s.generatedText,
    toolCallChunks: s.toolCallChunks,
    ...(s.finishReason !== undefined ? { finishReason: s.finishReason } : {}),
  };
}

function summarize(r: RequestRecord): RequestSummary {
  return {
    success: r.success,
    ...(r.error !== undefined ? { error: r.error } : {}),
    ttftMs: r.ttft * 1000,
    ...(r.strictTtft !== undefined ? { strictTtftMs: r.strictTtft * 1000 } : {}),
    e2elMs: r.latency * 1000,
    chunks: r.success ? r.itl.length + 1 : 0,
    outputTokens: r.outputTokens,
    outputTokensSource: r.outputTokensSource,
    promptTokens: r.promptTokens,
    ...(r.finishReason !== undefined ? { finishReason: r.finishReason } : {}),
    toolCallChunks: r.toolCallChunks,
  };
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new ServeBenchError(`${name} must be an integer >= 1 (got ${value})`);
  return value;
}

/** Runs every concurrency level and returns the report (written to disk by the caller). */
export async function runServeBench(options: ServeBenchOptions): Promise<ServeBenchReport> {
  const startedAt = new Date().toISOString();
  const base = baseUrlOf(options.url);
  await assertLoopbackTarget(base, { allowRemote: options.allowRemote ?? false });
  const concurrency = (options.concurrency ?? [1]).map((c) => positiveInt("concurrency", c));
  if (concurrency.length === 0) throw new ServeBenchError("no concurrency level given");
  const requests = positiveInt("requests", options.requests ?? 16);
  const inputLen = positiveInt("input length", options.inputLen ?? 128);
  const outputLen = positiveInt("output length", options.outputLen ?? 128);
  const seed = options.seed ?? 0;
  const ignoreEos = options.ignoreEos ?? true;
  const maxDurationS = options.maxDurationS ?? 300;
  if (!(maxDurationS > 0)) throw new ServeBenchError(`max duration must be > 0 s (got ${maxDurationS})`);
  const percentiles = options.percentiles ?? [50, 90, 99];
  const warmupRequests = options.warmupRequests ?? 1;
  const log = options.log ?? (() => {});
  const endpoint = `${base}/v1/chat/completions`;

  let model: string;
  try {
    model = options.model ?? (await firstModelId(base, options.apiKey, options.signal));
  } catch (error) {
    throw error instanceof ServeBenchError ? error : new ServeBenchError(`cannot reach ${base}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const count = options.useTokenize === false ? undefined : await tokenizeCounter(base, model, options.apiKey);

  const body = (prompt: string, requestSeed: number): Record<string, unknown> =>
    buildChatBody(prompt, {
      model,
      outputLen,
      seed: requestSeed,
      ignoreEos,
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      ...(options.tools !== undefined ? { tools: options.tools } : {}),
      ...(options.toolChoice !== undefined ? { toolChoice: options.toolChoice } : {}),
      ...(options.jsonSchema !== undefined ? { jsonSchema: options.jsonSchema } : {}),
    });
  const stream = (prompt: string, requestSeed: number, signal?: AbortSignal): Promise<StreamedCompletion> =>
    streamChatCompletion({ endpoint, body: body(prompt, requestSeed), ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}), ...(signal !== undefined ? { signal } : {}) });

  // Prompts: unique per request across the whole run (no prefix-cache hits between levels).
  let promptTokenSum = 0;
  let promptCount = 0;
  const makePrompt = async (index: number): Promise<{ text: string; tokens: number }> => {
    const p = await calibratedPrompt(seed * 1_000_003 + index, inputLen, count);
    promptTokenSum += p.tokens;
    promptCount++;
    return p;
  };

  for (let i = 0; i < warmupRequests; i++) {
    const p = await calibratedPrompt(seed * 1_000_003 - 1 - i, inputLen, count);
    const w = await stream(p.text, seed - 1 - i, options.signal);
    if (!w.success) throw new ServeBenchError(`the warm-up request failed: ${w.error ?? "unknown error"}`);
  }

  const levels: ServeLevelResult[] = [];
  let promptIndex = 0;
  for (const c of concurrency) {
    if (isAborted(options.signal)) throw new ServeBenchError("aborted");
    const prompts: { text: string; tokens: number }[] = [];
    for (let i = 0; i < requests; i++) prompts.push(await makePrompt(promptIndex++));
    const loadAverageBefore = environmentSnapshot().loadAverage;
    const controller = new AbortController();
    const onOuterAbort = (): void => controller.abort();
    options.signal?.addEventListener("abort", onOuterAbort, { once: true });
    let stoppedByTimeLimit = false;
    const timer = setTimeout(() => {
      stoppedByTimeLimit = true;
      controller.abort();
    }, maxDurationS * 1000);
    const records: RequestRecord[] = new Array<RequestRecord>();
    let next = 0;
    const t0 = performance.now() / 1000;
    const worker = async (): Promise<void> => {
      while (next < requests && !controller.signal.aborted) {
        const i = next++;
        const prompt = prompts[i] as { text: string; tokens: number };
        const s = await stream(prompt.text, seed + i, controller.signal);
        records.push(await resolveRecord(s, prompt.tokens, count));
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(c, requests) }, () => worker()));
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onOuterAbort);
    }
    const durationS = performance.now() / 1000 - t0;
    if (isAborted(options.signal)) throw new ServeBenchError("aborted");
    const metrics = computeServeMetrics(records, durationS, {
      percentiles,
      ...(options.goodput !== undefined ? { goodput: options.goodput } : {}),
    });
    const level: ServeLevelResult = {
      concurrency: c,
      requestsSent: records.length,
      durationS,
      stoppedByTimeLimit,
      loadAverageBefore,
      loadAverageAfter: environmentSnapshot().loadAverage,
      metrics,
      requests: records.map(summarize),
    };
    levels.push(level);
    log(
      `concurrency ${c}: ${metrics.completed}/${records.length} ok in ${durationS.toFixed(2)} s; ` +
        `${metrics.outputThroughput.toFixed(1)} output tok/s, ${metrics.requestThroughput.toFixed(2)} req/s; ` +
        `TTFT median ${metrics.ttftMs.median.toFixed(1)} ms, TPOT median ${metrics.tpotMs.median.toFixed(2)} ms` +
        (stoppedByTimeLimit ? " (stopped by --max-duration)" : ""),
    );
    const failure = records.find((r) => !r.success);
    if (failure !== undefined) log(`  first failure: ${failure.error ?? "unknown"}`);
  }

  return {
    kind: "serve",
    startedAt,
    environment: environmentSnapshot(),
    config: {
      url: base,
      endpoint,
      model,
      concurrency,
      requests,
      inputLen,
      outputLen,
      seed,
      ignoreEos,
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      tools: options.tools?.length ?? 0,
      jsonSchema: options.jsonSchema !== undefined,
      maxDurationS,
      ...(options.goodput !== undefined ? { goodput: options.goodput } : {}),
      percentiles,
      warmupRequests,
    },
    prompts: { calibratedWithTokenize: count !== undefined, meanTokens: promptCount > 0 ? promptTokenSum / promptCount : 0 },
    levels,
  };
}
