/**
 * Runs benchmark tasks through the {@link Engine} port: encodes each document's requests (SCORING.md §1),
 * sends many documents' requests per `loglikelihood` call (the engine spreads them over its sequences,
 * and the choices of one document, kept together in one call, share their evaluated context prefix),
 * runs BigBench's greedy generations, and aggregates the metrics. Needs only the port; no
 * node-llama-cpp import.
 */
import { EngineError, type Engine, type TokenId } from "../engine/types.js";
import { aggregate, bigbenchPostprocess, scoreDocument } from "./metrics.js";
import { mapConcurrent } from "./pool.js";
import { suiteAverages, type SuiteAverage, type TaskResult } from "./report.js";
import { splitTrailingWhitespace, truncateToLength, type EncodedRequest } from "./requests.js";
import type { DocMetrics, EvalDocument, TaskDefinition } from "./types.js";

/** One scored log-likelihood request (a line of samples.jsonl). */
export interface LoglikelihoodSample {
  readonly kind: "loglikelihood";
  readonly task: string;
  readonly docIndex: number;
  readonly requestIndex: number;
  /** Harness-level strings (before the trailing whitespace moves), as in golden-requests.json. */
  readonly context: string;
  readonly continuation: string;
  readonly loglik: number;
  readonly isGreedy: boolean;
  readonly contextTokens: number;
  readonly continuationTokens: number;
}

/** One greedy generation (BigBench exact_str_match). */
export interface GenerationSample {
  readonly kind: "generation";
  readonly task: string;
  readonly docIndex: number;
  readonly context: string;
  readonly output: string;
  readonly postprocessed: string;
  readonly target: string;
}

export type EvalSample = LoglikelihoodSample | GenerationSample;

export interface EvalProgress {
  readonly task: string;
  /** Requests (log-likelihood and generation) finished over all tasks of the run. */
  readonly done: number;
  readonly total: number;
}

export interface RunTasksOptions {
  /** Aborts between and inside engine calls. */
  readonly signal?: AbortSignal;
  /** Target number of requests per `loglikelihood` call; a document's requests are never split. Default 64. */
  readonly requestsPerCall?: number;
  /** `loglikelihood` calls in flight at once (tokenisation of the next overlaps evaluation). Default 2. */
  readonly callsInFlight?: number;
  /** Run the generation requests (BigBench geometric_shapes exact_str_match). Default true. */
  readonly generate?: boolean;
  /** Concurrent generations. Default: the engine's sequence count. */
  readonly generationConcurrency?: number;
  /** Called after every finished batch. Default none. */
  readonly onProgress?: (progress: EvalProgress) => void;
  /** Receives every sample, in document and request order within each task. Awaited. Default none. */
  readonly onSample?: (sample: EvalSample) => void | Promise<void>;
}

export interface TaskInput {
  readonly task: TaskDefinition;
  readonly docs: readonly EvalDocument[];
}

export interface EvalRun {
  readonly results: TaskResult[];
  readonly averages: SuiteAverage[];
  readonly requests: number;
  readonly generations: number;
  readonly seconds: number;
  /** Log-likelihood requests per second (generation time excluded). */
  readonly requestsPerSecond: number;
}

/** Encodes a document's requests; the shared context of its choices is tokenised once. */
async function encodeDocument(engine: Engine, doc: EvalDocument, maxTotal: number): Promise<EncodedRequest[]> {
  const contextCache = new Map<string, readonly TokenId[]>();
  const out: EncodedRequest[] = [];
  for (const request of doc.requests) {
    const split = splitTrailingWhitespace(request);
    let context = contextCache.get(split.context);
    if (context === undefined) {
      context = await engine.tokenize(split.context);
      contextCache.set(split.context, context);
    }
    const whole = await engine.tokenize(split.context + split.continuation);
    let encoded: EncodedRequest = { context, continuation: whole.slice(context.length) };
    if (encoded.context.length === 0) {
      // The harness scores an empty context after its EOT token; use BOS (else EOS) likewise.
      const prefix = engine.info.specialTokens.bos?.id ?? engine.info.specialTokens.eos?.id;
      if (prefix === undefined) throw new EngineError(`${doc.task} document ${doc.docIndex}: empty context and no BOS/EOS token`, "invalid_request");
      encoded = { context: [prefix], continuation: encoded.continuation };
    }
    out.push(truncateToLength(encoded, maxTotal - 1));
  }
  return out;
}

/** The greedy generation of a BigBench document: its context tokens (no BOS), up to maxTokens, no stop strings. */
async function generateText(engine: Engine, context: string, maxTokens: number, signal: AbortSignal | undefined): Promise<string> {
  const prompt = await engine.tokenize(context);
  let text = "";
  for await (const event of engine.generate({ prompt, maxTokens, sampling: { doSample: false, temperature: 0 }, ...(signal !== undefined ? { signal } : {}) })) {
    if (event.type === "text-delta") text += event.text;
  }
  return text;
}

/** Groups documents into batches of about `target` requests, never splitting a document. */
export function batchDocuments(docs: readonly EvalDocument[], target: number): EvalDocument[][] {
  const batches: EvalDocument[][] = [];
  let current: EvalDocument[] = [];
  let count = 0;
  for (const doc of docs) {
    if (current.length > 0 && count + doc.requests.length > target) {
      batches.push(current);
      current = [];
      count = 0;
    }
    current.push(doc);
    count += doc.requests.length;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Runs the tasks one after another and returns their results and the suite averages. */
export async function runTasks(engine: Engine, inputs: readonly TaskInput[], options: RunTasksOptions = {}): Promise<EvalRun> {
  const requestsPerCall = options.requestsPerCall ?? 64;
  const callsInFlight = options.callsInFlight ?? 2;
  const generate = options.generate ?? true;
  const generationConcurrency = options.generationConcurrency ?? Math.max(1, engine.stats().sequencesTotal);
  const signal = options.signal;
  // The engine holds context + continuation <= contextSize - 1 tokens.
  const maxTotal = engine.info.contextSize - 1;

  const total = inputs.reduce((n, { docs }) => n + docs.reduce((m, d) => m + d.requests.length + (generate && d.generation ? 1 : 0), 0), 0);
  let done = 0;
  let requests = 0;
  let generations = 0;
  let loglikSeconds = 0;
  const started = performance.now();
  const results: TaskResult[] = [];

  for (const { task, docs } of inputs) {
    signal?.throwIfAborted();
    const lls: number[][] = new Array(docs.length);
    const batches = batchDocuments(docs, requestsPerCall);
    const docPosition = new Map(docs.map((d, i) => [d, i]));

    // Samples leave in batch order, whatever order the batches finish in.
    const finished = new Map<number, EvalSample[]>();
    let nextToEmit = 0;
    let emitting = Promise.resolve();
    const emit = (batchIndex: number, samples: EvalSample[]): Promise<void> => {
      finished.set(batchIndex, samples);
      emitting = emitting.then(async () => {
        for (;;) {
          const ready = finished.get(nextToEmit);
          if (ready === undefined) return;
          finished.delete(nextToEmit);
          nextToEmit++;
          if (options.onSample !== undefined) for (const s of ready) await options.onSample(s);
        }
      });
      return emitting;
    };

    const t0 = performance.now();
    await mapConcurrent(batches, callsInFlight, async (batch, batchIndex) => {
      signal?.throwIfAborted();
      const encoded: EncodedRequest[][] = [];
      for (const doc of batch) encoded.push(await encodeDocument(engine, doc, maxTotal));
      // Requests with an empty continuation score 0 (an empty sum) without an engine call.
      const flat = encoded.flat().filter((r) => r.continuation.length > 0);
      const scored = flat.length === 0 ? [] : await engine.loglikelihood(flat, signal !== undefined ? { signal } : {});
      let k = 0;
      const samples: EvalSample[] = [];
      batch.forEach((doc, j) => {
        const docEncoded = encoded[j] as EncodedRequest[];
        const docLls: number[] = [];
        docEncoded.forEach((enc, requestIndex) => {
          const result = enc.continuation.length === 0 ? { loglik: 0, isGreedy: true } : scored[k++];
          if (result === undefined) throw new EngineError("loglikelihood returned fewer results than requests", "internal");
          docLls.push(result.loglik);
          const request = doc.requests[requestIndex] as EvalDocument["requests"][number];
          samples.push({
            kind: "loglikelihood",
            task: doc.task,
            docIndex: doc.docIndex,
            requestIndex,
            context: request.context,
            continuation: request.continuation,
            loglik: result.loglik,
            isGreedy: result.isGreedy,
            contextTokens: enc.context.length,
            continuationTokens: enc.continuation.length,
          });
        });
        lls[docPosition.get(doc) as number] = docLls;
      });
      requests += samples.length;
      done += samples.length;
      options.onProgress?.({ task: task.name, done, total });
      await emit(batchIndex, samples);
    });
    await emitting;
    loglikSeconds += (performance.now() - t0) / 1000;

    const outputs = new Map<number, string>();
    const withGeneration = generate ? docs.filter((d) => d.generation !== undefined) : [];
    const generated = await mapConcurrent(withGeneration, generationConcurrency, async (doc) => {
      signal?.throwIfAborted();
      const g = doc.generation as NonNullable<EvalDocument["generation"]>;
      const text = await generateText(engine, g.context, g.maxTokens, signal);
      done++;
      generations++;
      options.onProgress?.({ task: task.name, done, total });
      return text;
    });
    for (let i = 0; i < withGeneration.length; i++) {
      const doc = withGeneration[i] as EvalDocument;
      const text = generated[i] as string;
      outputs.set(doc.docIndex, text);
      const g = doc.generation as NonNullable<EvalDocument["generation"]>;
      await options.onSample?.({
        kind: "generation",
        task: doc.task,
        docIndex: doc.docIndex,
        context: g.context,
        output: text,
        postprocessed: bigbenchPostprocess(text, g.maxChars),
        target: g.target,
      });
    }

    const docMetrics: DocMetrics[] = docs.map((doc, i) => {
      const text = outputs.get(doc.docIndex);
      const g = doc.generation;
      return scoreDocument(doc.scoring, lls[i] as number[], text !== undefined && g !== undefined ? { text, target: g.target, maxChars: g.maxChars } : undefined);
    });
    results.push({
      task: task.name,
      suite: task.suite,
      version: task.version,
      n: docs.length,
      metrics: aggregate(docMetrics, task.metrics),
      ...(task.reconstructed === true ? { reconstructed: true } : {}),
    });
  }

  const seconds = (performance.now() - started) / 1000;
  return {
    results,
    averages: suiteAverages(results),
    requests,
    generations,
    seconds,
    requestsPerSecond: loglikSeconds > 0 ? requests / loglikSeconds : 0,
  };
}
