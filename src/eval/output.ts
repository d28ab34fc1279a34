/**
 * Writing an eval run: `DIR/results.json` (per task: metrics, stderr, n; the suite averages; the card's
 * values) and `DIR/samples.jsonl` (one line per request). The I/O edge of the eval core.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ModelInfo } from "../engine/types.js";
import { cardAverage, cardValue, type ModelCard } from "./report.js";
import type { EvalRun, EvalSample } from "./runner.js";
import { SUITE_TITLES, type MetricName } from "./types.js";

/** A samples.jsonl line (snake_case, as lm-eval writes them). */
export function sampleToJson(sample: EvalSample): Record<string, unknown> {
  if (sample.kind === "loglikelihood") {
    return {
      kind: sample.kind,
      task: sample.task,
      doc_index: sample.docIndex,
      request_index: sample.requestIndex,
      context: sample.context,
      continuation: sample.continuation,
      loglik: sample.loglik,
      is_greedy: sample.isGreedy,
      context_tokens: sample.contextTokens,
      continuation_tokens: sample.continuationTokens,
    };
  }
  return {
    kind: sample.kind,
    task: sample.task,
    doc_index: sample.docIndex,
    context: sample.context,
    output: sample.output,
    postprocessed: sample.postprocessed,
    target: sample.target,
  };
}

/** Streams samples to `DIR/samples.jsonl`, honouring back-pressure. */
export class SampleWriter {
  readonly path: string;
  readonly #stream: WriteStream;

  private constructor(file: string, stream: WriteStream) {
    this.path = file;
    this.#stream = stream;
  }

  static async open(dir: string): Promise<SampleWriter> {
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, "samples.jsonl");
    return new SampleWriter(file, createWriteStream(file, { encoding: "utf8" }));
  }

  async write(sample: EvalSample): Promise<void> {
    if (!this.#stream.write(`${JSON.stringify(sampleToJson(sample))}\n`)) {
      await new Promise<void>((resolve) => this.#stream.once("drain", resolve));
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.#stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
}

export interface ResultsMetadata {
  readonly model: ModelInfo;
  readonly card?: ModelCard | undefined;
  readonly profile?: string | undefined;
  readonly config: Readonly<Record<string, unknown>>;
}

/** The results.json document. */
export function resultsToJson(run: EvalRun, meta: ResultsMetadata): Record<string, unknown> {
  const results: Record<string, unknown> = {};
  for (const r of run.results) {
    const metrics: Record<string, number> = {};
    const stderr: Record<string, number | null> = {};
    const card: Record<string, number> = {};
    for (const [metric, s] of Object.entries(r.metrics) as Array<[MetricName, NonNullable<(typeof r.metrics)[MetricName]>]>) {
      metrics[metric] = s.value;
      stderr[metric] = s.stderr;
      const expected = meta.card === undefined ? undefined : cardValue(meta.card, r.task, metric);
      if (expected !== undefined) card[metric] = expected;
    }
    results[r.task] = {
      suite: r.suite,
      version: r.version,
      n: r.n,
      metrics,
      stderr,
      ...(meta.card !== undefined ? { card } : {}),
      ...(r.reconstructed === true ? { reconstructed: true } : {}),
    };
  }
  const averages: Record<string, unknown> = {};
  for (const a of run.averages) {
    const expected = meta.card === undefined ? undefined : cardAverage(meta.card, a.suite);
    averages[SUITE_TITLES[a.suite]] = {
      value: a.value,
      tasks: a.tasks,
      expected_tasks: a.expectedTasks,
      complete: a.complete,
      ...(expected !== undefined ? { card: expected } : {}),
    };
  }
  const m = meta.model;
  return {
    created_at: new Date().toISOString(),
    model: {
      source: m.source,
      ...(m.path !== undefined ? { path: m.path } : {}),
      ...(m.name !== undefined ? { name: m.name } : {}),
      ...(m.sizeLabel !== undefined ? { size_label: m.sizeLabel } : {}),
      ...(m.fileType !== undefined ? { file_type: m.fileType } : {}),
      parameter_count: m.parameterCount,
      context_size: m.contextSize,
    },
    profile: meta.profile ?? null,
    card: meta.card === undefined ? null : { key: meta.card.key, title: meta.card.title, hf_model: meta.card.hfModel },
    config: meta.config,
    results,
    averages,
    timing: {
      seconds: run.seconds,
      loglikelihood_requests: run.requests,
      generations: run.generations,
      requests_per_second: run.requestsPerSecond,
    },
  };
}

export async function writeResults(dir: string, json: Record<string, unknown>): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, "results.json");
  await writeFile(file, `${JSON.stringify(json, null, 2)}\n`, "utf8");
  return file;
}
