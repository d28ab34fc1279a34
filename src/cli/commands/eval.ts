/**
 * `talaria eval`: reproduce the model cards' benchmark tables (GPT4All, AGIEval, BigBench, TruthfulQA,
 * scored as the old lm-evaluation-harness did), and run the function-calling / JSON-mode evals.
 * See docs/eval.md.
 */
import { addBackendOptions, backendFlagsOf, type BackendFlags } from "../engine-loader.js";
import { readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Option, type Command } from "commander";
import cliProgress from "cli-progress";
import type { Engine } from "../../engine/types.js";
import { loadTaskDocuments, defaultDataDir, packageRoot } from "../../eval/data.js";
import { runFunctionCallingEval, runJsonModeEval, type FunctionCallingReport, type JsonModeReport } from "../../eval/generation-evals.js";
import { parseFunctionCallingCases } from "../../eval/function-calling/cases.js";
import { parseJsonModeCases } from "../../eval/json-mode/cases.js";
import { resultsToJson, SampleWriter, writeResults } from "../../eval/output.js";
import { matchCard, parseCardScores, type ModelCard } from "../../eval/report.js";
import { runTasks, type TaskInput } from "../../eval/runner.js";
import { formatReport } from "../../eval/table.js";
import { isSuiteName, selectTasks } from "../../eval/tasks/index.js";
import { isProfileId, type HermesProfileId } from "../../hermes/profiles.js";
import { resolveHermesChatSetup } from "../../chat/hermes-chat.js";

export const EVAL_SUITES = ["gpt4all", "agieval", "bigbench", "truthfulqa", "all", "function-calling", "json-mode"] as const;
export type EvalSuiteOption = (typeof EVAL_SUITES)[number];

export interface EvalCommandOptions {
  /** The embedded GGUF; or `backend` servers instead. */
  readonly model?: string;
  /** `--backend` servers (llama-server or vLLM) and their settings, instead of `model`. */
  readonly backendFlags?: BackendFlags;
  /** Default `all` (the four benchmark suites). */
  readonly suite: EvalSuiteOption;
  readonly tasks?: readonly string[];
  readonly limit?: number;
  readonly output?: string;
  /** Engine sequences. Default 4. */
  readonly parallel: number;
  readonly dataDir?: string;
  /** A Hermes profile id or a card key of card-scores.json. Default: detected from the GGUF. */
  readonly profile?: string;
  /** Case file for function-calling / json-mode. Default: the starter set under eval/. */
  readonly cases?: string;
  /** Run BigBench's greedy generations (geometric_shapes exact_str_match). Default true. */
  readonly generate: boolean;
  /** Requests per loglikelihood call. Default 64. */
  readonly batch: number;
  readonly maxTokens: number;
  readonly threads?: number;
  readonly contextSize?: number;
  readonly gpu?: "auto" | false | "cuda" | "vulkan" | "metal";
  /** Show the progress bar (stderr). Default: when stderr is a TTY. */
  readonly progress?: boolean;
}

export interface EngineFactoryOptions {
  readonly model?: string;
  readonly backendFlags?: BackendFlags;
  readonly sequences: number;
  readonly threads?: number;
  readonly contextSize?: number;
  readonly gpu?: "auto" | false | "cuda" | "vulkan" | "metal";
}

export interface EvalCommandDeps {
  readonly createEngine: (options: EngineFactoryOptions) => Promise<Engine>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly signal?: AbortSignal;
}

export class EvalUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EvalUsageError";
  }
}

/** The profile (or card key) to report: `--profile` as given, else the composition root's detection. */
function profileOf(engine: Engine, requested: string | undefined): { profile: string; reason: string } {
  if (requested !== undefined) return { profile: requested, reason: "--profile" };
  const setup = resolveHermesChatSetup(engine.info, { profile: "auto" });
  return { profile: setup.profile, reason: setup.profileReason };
}

function loadCard(dataDir: string | undefined, engine: Engine, profile: string): ModelCard | undefined {
  if (dataDir === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path.join(dataDir, "card-scores.json"), "utf8"));
  } catch {
    return undefined;
  }
  const info = engine.info;
  const names = [info.name, info.basename, info.finetune, info.path === undefined ? undefined : path.basename(info.path), info.source].filter(
    (x): x is string => x !== undefined,
  );
  return matchCard(parseCardScores(json), { profile, sizeLabel: info.sizeLabel, names });
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

export function formatFunctionCallingReport(r: FunctionCallingReport): string {
  const lines = ["Function calling", "| Category | N | Passed | Rate |", "|---|--:|--:|--:|"];
  for (const [cat, v] of Object.entries(r.byCategory)) lines.push(`| ${cat} | ${v.n} | ${v.passed} | ${pct(v.rate)} |`);
  lines.push(`| **all** | ${r.total.n} | ${r.total.passed} | ${pct(r.total.rate)} |`);
  const kinds = Object.entries(r.errorKinds).sort((a, b) => b[1] - a[1]);
  if (kinds.length > 0) lines.push(`Errors: ${kinds.map(([k, n]) => `${k} ${n}`).join(", ")}`);
  return lines.join("\n");
}

export function formatJsonModeReport(r: JsonModeReport): string {
  return [
    "JSON mode",
    "| Measure | N | Count | Rate |",
    "|---|--:|--:|--:|",
    `| parses as JSON | ${r.total} | ${r.parsed.passed} | ${pct(r.parsed.rate)} |`,
    `| schema-valid (ajv) | ${r.total} | ${r.schemaValid.passed} | ${pct(r.schemaValid.rate)} |`,
    `| matches gold | ${r.total} | ${r.passed.passed} | ${pct(r.passed.rate)} |`,
    `Field accuracy: ${pct(r.fieldAccuracy)}`,
  ].join("\n");
}

function progressBar(enabled: boolean, unit: string): { start(total: number): void; update(done: number, task: string): void; stop(): void } {
  if (!enabled) return { start() {}, update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `{task} [{bar}] {percentage}% | {value}/{total} ${unit} | {speed} ${unit}/s | ETA {eta_formatted}`,
      etaBuffer: 200,
      hideCursor: true,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  let t0 = 0;
  return {
    start(total) {
      t0 = performance.now();
      bar.start(total, 0, { task: "", speed: "0.0" });
    },
    update(done, task) {
      const seconds = (performance.now() - t0) / 1000;
      bar.update(done, { task, speed: seconds > 0 ? (done / seconds).toFixed(1) : "0.0" });
    },
    stop() {
      bar.stop();
    },
  };
}

/** The command's work, with its dependencies injected (tests pass a mock engine). */
export async function runEvalCommand(options: EvalCommandOptions, deps: EvalCommandDeps): Promise<void> {
  const generationSuite = options.suite === "function-calling" || options.suite === "json-mode";
  if (!generationSuite && options.suite !== "all" && !isSuiteName(options.suite)) throw new EvalUsageError(`unknown suite ${options.suite}`);
  if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 1)) throw new EvalUsageError("--limit must be an integer >= 1");
  if (!Number.isInteger(options.parallel) || options.parallel < 1) throw new EvalUsageError("--parallel must be an integer >= 1");
  const progress = options.progress ?? process.stderr.isTTY === true;

  if (generationSuite) {
    const file =
      options.cases ?? path.join(packageRoot(), "eval", options.suite === "function-calling" ? "function-calling" : "json-mode", "starter.jsonl");
    const text = await readFile(file, "utf8");
    const engine = await deps.createEngine(engineOptions(options));
    try {
      const { profile } = profileOf(engine, options.profile);
      const hermesProfile: HermesProfileId = isProfileId(profile) ? profile : profile.startsWith("hermes-2-pro") ? "hermes-2-pro" : "hermes-3";
      const setup = resolveHermesChatSetup(engine.info, { profile: hermesProfile });
      const bar = progressBar(progress, "cases");
      const common = {
        profile: setup.profile,
        style: setup.style,
        ...(setup.templateText === undefined ? {} : { template: setup.templateText }),
        maxTokens: options.maxTokens,
        concurrency: options.parallel,
        onCase: (done: number) => bar.update(done, options.suite),
        ...(deps.signal !== undefined ? { signal: deps.signal } : {}),
      };
      let report: FunctionCallingReport | JsonModeReport;
      if (options.suite === "function-calling") {
        const all = parseFunctionCallingCases(text, file);
        const cases = options.limit === undefined ? all : all.slice(0, options.limit);
        bar.start(cases.length);
        report = await runFunctionCallingEval(engine, cases, common).finally(() => bar.stop());
        deps.stdout(`${formatFunctionCallingReport(report)}\n`);
      } else {
        const all = parseJsonModeCases(text, file);
        const cases = options.limit === undefined ? all : all.slice(0, options.limit);
        bar.start(cases.length);
        report = await runJsonModeEval(engine, cases, common).finally(() => bar.stop());
        deps.stdout(`${formatJsonModeReport(report)}\n`);
      }
      if (options.output !== undefined) {
        await mkdir(options.output, { recursive: true });
        const out = path.join(options.output, `${options.suite}.json`);
        await writeFile(out, `${JSON.stringify({ suite: options.suite, cases_file: file, profile: hermesProfile, report }, null, 2)}\n`, "utf8");
        deps.stderr(`wrote ${out}\n`);
      }
    } finally {
      await engine.dispose();
    }
    return;
  }

  const dataDir = options.dataDir ?? defaultDataDir();
  if (dataDir === undefined) throw new EvalUsageError("no data directory: pass --data-dir (see docs/eval.md for where to get the benchmark files)");
  const tasks = selectTasks(options.suite as Parameters<typeof selectTasks>[0], options.tasks);
  const inputs: TaskInput[] = [];
  for (const task of tasks) inputs.push({ task, docs: await loadTaskDocuments(dataDir, task, options.limit) });

  const engine = await deps.createEngine(engineOptions(options));
  let writer: SampleWriter | undefined;
  try {
    const { profile, reason } = profileOf(engine, options.profile);
    const card = loadCard(dataDir, engine, profile);
    deps.stderr(`profile: ${profile} (${reason}); card: ${card === undefined ? "none" : card.key}\n`);
    if (options.output !== undefined) writer = await SampleWriter.open(options.output);
    const bar = progressBar(progress, "req");
    const total = inputs.reduce((n, i) => n + i.docs.reduce((m, d) => m + d.requests.length + (options.generate && d.generation ? 1 : 0), 0), 0);
    bar.start(total);
    const w = writer;
    const run = await runTasks(engine, inputs, {
      requestsPerCall: options.batch,
      generate: options.generate,
      generationConcurrency: options.parallel,
      onProgress: (p) => bar.update(p.done, p.task),
      ...(w !== undefined ? { onSample: (s) => w.write(s) } : {}),
      ...(deps.signal !== undefined ? { signal: deps.signal } : {}),
    }).finally(() => bar.stop());
    deps.stdout(`${formatReport(run.results, run.averages, { card })}\n`);
    deps.stdout(`${run.requests} loglikelihood requests in ${run.seconds.toFixed(1)} s (${run.requestsPerSecond.toFixed(1)} req/s)\n`);
    if (options.output !== undefined) {
      const file = await writeResults(
        options.output,
        resultsToJson(run, {
          model: engine.info,
          card,
          profile,
          config: {
            suite: options.suite,
            tasks: tasks.map((t) => t.name),
            limit: options.limit ?? null,
            data_dir: dataDir,
            parallel: options.parallel,
            batch: options.batch,
            generate: options.generate,
          },
        }),
      );
      deps.stderr(`wrote ${file} and ${writer?.path ?? ""}\n`);
    }
  } finally {
    await writer?.close();
    await engine.dispose();
  }
}

function engineOptions(o: EvalCommandOptions): EngineFactoryOptions {
  return {
    ...(o.model === undefined ? {} : { model: o.model }),
    ...(o.backendFlags === undefined ? {} : { backendFlags: o.backendFlags }),
    sequences: o.parallel,
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    ...(o.contextSize !== undefined ? { contextSize: o.contextSize } : {}),
    ...(o.gpu !== undefined ? { gpu: o.gpu } : {}),
  };
}

const positiveInt = (name: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new EvalUsageError(`${name} must be an integer >= 1`);
  return n;
};

export function register(program: Command): void {
  const command = program
    .command("eval")
    .description("Reproduce the model cards' benchmark tables (GPT4All, AGIEval, BigBench, TruthfulQA) or run the function-calling / JSON-mode evals")
    .option("-m, --model <path>", "GGUF model (path, hf: URI or URL), or --backend <url>")
    .addOption(new Option("-s, --suite <suite>", "suite to run").choices([...EVAL_SUITES]).default("all"))
    .option("-t, --tasks <list>", "comma-separated task names within the suite (e.g. arc_easy,boolq)")
    .option("-l, --limit <n>", "first N documents of each task (BigBench: after de-duplication) or first N cases", positiveInt("--limit"))
    .option("-o, --output <dir>", "write DIR/results.json and DIR/samples.jsonl (function-calling/json-mode: DIR/<suite>.json)")
    .option("-p, --parallel <n>", "engine sequences evaluated in parallel", positiveInt("--parallel"), 4)
    .option("--data-dir <dir>", "benchmark data directory (default: ../shared/eval-data when present)")
    .option("--profile <name>", "Hermes profile id or card key (default: detected from the GGUF metadata)")
    .option("--cases <file>", "function-calling / json-mode case file (JSON Lines; default: the starter set in eval/)")
    .option("--no-generate", "skip BigBench's greedy generations (geometric_shapes exact_str_match)")
    .option("--batch <n>", "loglikelihood requests per engine call", positiveInt("--batch"), 64)
    .option("--max-tokens <n>", "token budget per function-calling / json-mode answer", positiveInt("--max-tokens"), 512)
    .option("--threads <n>", "llama.cpp threads (default: available CPUs, at most 8)", positiveInt("--threads"))
    .option("--context-size <n>", "tokens per sequence (default: min(training context, 4096))", positiveInt("--context-size"))
    .addOption(new Option("--gpu <backend>", "GPU backend").choices(["auto", "off", "cuda", "vulkan", "metal"]).default("auto"))
    .option("--no-progress", "hide the progress bar");
  addBackendOptions(command)
    .action(async (raw: Record<string, unknown>) => {
      const gpu = raw.gpu === "off" ? false : (raw.gpu as EvalCommandOptions["gpu"]);
      const options: EvalCommandOptions = {
        ...(typeof raw.model === "string" ? { model: raw.model } : {}),
        backendFlags: backendFlagsOf(raw as BackendFlags),
        suite: raw.suite as EvalSuiteOption,
        parallel: raw.parallel as number,
        generate: raw.generate as boolean,
        batch: raw.batch as number,
        maxTokens: raw.maxTokens as number,
        progress: raw.progress === false ? false : process.stderr.isTTY === true,
        ...(typeof raw.tasks === "string" ? { tasks: raw.tasks.split(",").map((s) => s.trim()).filter((s) => s !== "") } : {}),
        ...(typeof raw.limit === "number" ? { limit: raw.limit } : {}),
        ...(typeof raw.output === "string" ? { output: raw.output } : {}),
        ...(typeof raw.dataDir === "string" ? { dataDir: raw.dataDir } : {}),
        ...(typeof raw.profile === "string" ? { profile: raw.profile } : {}),
        ...(typeof raw.cases === "string" ? { cases: raw.cases } : {}),
        ...(typeof raw.threads === "number" ? { threads: raw.threads } : {}),
        ...(typeof raw.contextSize === "number" ? { contextSize: raw.contextSize } : {}),
        ...(gpu !== undefined ? { gpu } : {}),
      };
      const controller = new AbortController();
      const onSigint = (): void => controller.abort();
      process.once("SIGINT", onSigint);
      try {
        await runEvalCommand(options, {
          createEngine: async (o) => {
            const { loadAnyEngine } = await import("../engine-loader.js");
            return loadAnyEngine(
              {
                ...(o.model === undefined ? {} : { model: o.model }),
                ...(o.backendFlags ?? {}),
                sequences: o.sequences,
                ...(o.threads !== undefined ? { threads: o.threads } : {}),
                ...(o.contextSize !== undefined ? { contextSize: o.contextSize } : {}),
              },
              o.gpu !== undefined ? { gpu: o.gpu } : {},
            );
          },
          stdout: (t) => process.stdout.write(t),
          stderr: (t) => process.stderr.write(t),
          signal: controller.signal,
        });
      } finally {
        process.off("SIGINT", onSigint);
      }
    });
}
