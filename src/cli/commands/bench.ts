/**
 * `talaria bench serve` (load generator for any OpenAI-compatible server, vLLM's metrics) and
 * `talaria bench engine` (llama-bench-style engine throughput, grammar, streams, loglik; optionally the
 * same engine through an in-process Talaria server). Each run writes a JSON report and SVG charts.
 */
import { execFileSync } from "node:child_process";
import { formatRouterBench, runRouterBench } from "../../bench/router-bench.js";
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { formatSoakReport, runSoak, spawnServer } from "../../bench/soak.js";
import path from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import {
  engineCharts,
  formatEngineReport,
  formatServeReport,
  parseGoodput,
  requiredContextSize,
  runEngineBenches,
  runServeBench,
  serveCharts,
  defaultOutputDir,
  writeReport,
  GoodputParseError,
  type BackendDecodeRequest,
  type EngineBenchEntry,
  type EngineBenchOptions,
  type EngineBenchReport,
  type GoodputSlos,
  type ServeBenchOptions,
  type ServeBenchReport,
} from "../../bench/index.js";
import { startServer } from "../../server/server.js";
import { createServeBackend } from "./serve.js";
import { addBackendOptions, addModelOptions, backendFlagsOf, engineKind, loadBackendEngine, loadModelEngine, type BackendFlags, type EngineKind, type ModelFlags } from "../engine-loader.js";
import { ManagedLlamaServerEngine } from "../../engine/remote/index.js";
import type { Engine } from "../../engine/types.js";
import { parseNumber, parsePositiveInt, parseInteger } from "../option-parsers.js";

/** `1,2,4` → [1, 2, 4] (positive integers). */
export function parseIntList(value: string): number[] {
  const parts = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (parts.length === 0) throw new InvalidArgumentError("expected a comma-separated list of positive integers");
  return parts.map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected positive integers (got ${p})`);
    return n;
  });
}

function parsePercentiles(value: string): number[] {
  return value.split(",").map((s) => {
    const n = Number(s.trim());
    if (!Number.isFinite(n) || n < 0 || n > 100) throw new InvalidArgumentError(`percentiles must be in [0, 100] (got ${s})`);
    return n;
  });
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

async function readJsonFile(file: string, what: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as unknown;
  } catch (error) {
    throw new InvalidArgumentError(`cannot read ${what} from ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A tools file: an OpenAI `tools` array, or `{tools: [...], tool_choice?}`. */
export async function readToolsFile(file: string): Promise<{ tools: unknown[]; toolChoice?: unknown }> {
  const value = await readJsonFile(file, "tools");
  if (Array.isArray(value)) return { tools: value };
  if (typeof value === "object" && value !== null && Array.isArray((value as { tools?: unknown }).tools)) {
    const v = value as { tools: unknown[]; tool_choice?: unknown };
    return { tools: v.tools, ...(v.tool_choice !== undefined ? { toolChoice: v.tool_choice } : {}) };
  }
  throw new InvalidArgumentError(`${file}: expected an OpenAI tools array or {"tools": [...]}`);
}

export interface BenchServeFlags {
  url: string;
  apiKey?: string;
  model?: string;
  concurrency: number[];
  requests: number;
  inputLen: number;
  outputLen: number;
  tools?: string;
  toolChoice?: string;
  jsonSchema?: string;
  seed: number;
  temperature?: number;
  ignoreEos: boolean;
  goodput?: string[];
  percentiles: number[];
  maxDuration: number;
  allowRemote?: boolean;
  warmup: number;
  tokenize: boolean;
  output?: string;
  json?: boolean;
}

/** Runs `bench serve` and writes its report; returns the report and the files written. */
export async function runBenchServeCommand(
  flags: BenchServeFlags,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  signal?: AbortSignal,
): Promise<{ report: ServeBenchReport; files: string[] }> {
  let goodput: GoodputSlos | undefined;
  try {
    goodput = flags.goodput !== undefined && flags.goodput.length > 0 ? parseGoodput(flags.goodput) : undefined;
  } catch (error) {
    if (error instanceof GoodputParseError) throw new InvalidArgumentError(error.message);
    throw error;
  }
  const tools = flags.tools !== undefined ? await readToolsFile(flags.tools) : undefined;
  let toolChoice: unknown = tools?.toolChoice;
  if (flags.toolChoice !== undefined) {
    toolChoice = ["auto", "none", "required"].includes(flags.toolChoice) ? flags.toolChoice : { type: "function", function: { name: flags.toolChoice } };
  }
  const jsonSchema = flags.jsonSchema !== undefined ? await readJsonFile(flags.jsonSchema, "a JSON schema") : undefined;
  const apiKey = flags.apiKey ?? process.env.OPENAI_API_KEY ?? process.env.TALARIA_API_KEY;
  const options: ServeBenchOptions = {
    url: flags.url,
    ...(apiKey !== undefined && apiKey !== "" ? { apiKey } : {}),
    ...(flags.model !== undefined ? { model: flags.model } : {}),
    concurrency: flags.concurrency,
    requests: flags.requests,
    inputLen: flags.inputLen,
    outputLen: flags.outputLen,
    ...(tools !== undefined ? { tools: tools.tools } : {}),
    ...(toolChoice !== undefined ? { toolChoice } : {}),
    ...(jsonSchema !== undefined ? { jsonSchema } : {}),
    seed: flags.seed,
    ...(flags.temperature !== undefined ? { temperature: flags.temperature } : {}),
    ignoreEos: flags.ignoreEos,
    ...(goodput !== undefined ? { goodput } : {}),
    percentiles: flags.percentiles,
    maxDurationS: flags.maxDuration,
    allowRemote: flags.allowRemote === true,
    warmupRequests: flags.warmup,
    useTokenize: flags.tokenize,
    ...(signal !== undefined ? { signal } : {}),
    log,
  };
  const report = await runServeBench(options);
  const dir = flags.output ?? defaultOutputDir();
  const files = await writeReport(dir, "serve", report, serveCharts(report));
  return { report, files };
}

export interface BenchEngineFlags extends ModelFlags, BackendFlags {
  promptLengths: number[];
  genLengths: number[];
  repetitions: number;
  streams: number[];
  grammar: boolean;
  jumpForward: boolean;
  jsonSchema?: string;
  loglik: boolean;
  loglikRequests: number;
  loglikContext: number;
  loglikContinuation: number;
  ignoreEos: boolean;
  seed: number;
  server?: boolean;
  serverRequests?: number;
  serverInputLen: number;
  output?: string;
  json?: boolean;
}

/** Runs `bench engine` (and the in-process server comparison with `--server`) and writes the report. */
export async function runBenchEngineCommand(
  flags: BenchEngineFlags,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  signal?: AbortSignal,
): Promise<{ report: EngineBenchReport & { server?: ServeBenchReport; engines?: readonly EngineComparisonEntry[] }; files: string[] }> {
  const jsonSchema = flags.jsonSchema !== undefined ? await readJsonFile(flags.jsonSchema, "a JSON schema") : undefined;
  const benchOptions: EngineBenchOptions = {
    promptLengths: flags.promptLengths,
    genLengths: flags.genLengths,
    repetitions: flags.repetitions,
    streams: flags.streams,
    grammar: flags.grammar,
    jumpForward: flags.jumpForward,
    ...(jsonSchema !== undefined ? { jsonSchema } : {}),
    loglik: flags.loglik ? { requests: flags.loglikRequests, context: flags.loglikContext, continuation: flags.loglikContinuation } : null,
    ignoreEos: flags.ignoreEos,
    seed: flags.seed,
    ...(signal !== undefined ? { signal } : {}),
    log,
  };
  const sequences = Math.max(...flags.streams);
  const maxGen = Math.max(0, ...flags.genLengths);
  // The Hermes chat template adds a few dozen tokens around the server prompt.
  const serverNeed = flags.server === true ? flags.serverInputLen + maxGen + 96 : 0;
  const contextSize = flags.contextSize ?? Math.ceil(Math.max(requiredContextSize(benchOptions), serverNeed) / 256) * 256;
  const remote = (flags.backend ?? []).length > 0;
  if (remote === (flags.model !== undefined)) throw new InvalidArgumentError("give --model <gguf> or --backend <url> (one of them)");
  if (remote && flags.engine !== undefined) throw new InvalidArgumentError("--engine picks the engine of --model; with --backend, use --backend-kind");
  const kinds = parseEngineList(flags.engine);
  if (kinds.length > 1 && flags.server === true) throw new InvalidArgumentError("--server runs one engine; give one --engine");
  log(`talaria bench engine: ${remote ? `backend ${(flags.backend ?? []).join(", ")}` : `loading ${flags.model} on ${kinds.join(", ")}`} (${sequences} sequence(s) × ${contextSize} tokens)…`);
  const engines: { kind: EngineKind | "backend"; engine: Engine }[] = [];
  try {
    if (remote) engines.push({ kind: "backend", engine: await loadBackendEngine({ ...backendFlagsOf(flags), log }) });
    else for (const kind of kinds) engines.push({ kind, engine: await loadModelEngine({ ...flags, engine: kind, sequences, contextSize, log }) });
  } catch (error) {
    await Promise.allSettled(engines.map((e) => e.engine.dispose()));
    throw error;
  }
  const engine = (engines[0] as { engine: Engine }).engine;
  try {
    const entries: EngineBenchEntry[] = engines.map(({ kind, engine: e }) => {
      const backend = benchBackendFacts(kind, e, flags);
      log(`${kind}: ${String(backend["gpu"])}, ${String(backend["threads"])} thread(s)`);
      return { engine: e, backend, ...(e instanceof ManagedLlamaServerEngine ? { backendDecodeMs: (r: BackendDecodeRequest) => llamaServerOwnDecodeMs(e, r) } : {}) };
    });
    const reports = await runEngineBenches(entries, benchOptions);
    const report: EngineBenchReport & { server?: ServeBenchReport; engines?: readonly EngineComparisonEntry[] } = { ...(reports[0] as EngineBenchReport) };
    if (engines.length > 1 || engines.some((e) => e.engine instanceof ManagedLlamaServerEngine)) {
      Object.assign(report, { engines: engines.map((e, i) => ({ engine: e.kind, report: reports[i] as EngineBenchReport })) });
      Object.assign(report, { ratios: { ...report.ratios, ...comparisonRatios(report.engines ?? []) } });
    }
    let server: ServeBenchReport | undefined;
    if (flags.server === true) {
      log("through an in-process Talaria server (same engine, /v1/chat/completions, loopback):");
      const running = await startServer({
        backend: createServeBackend(engine, { profile: "auto", style: "card" }, log),
        modelId: "bench",
        host: "127.0.0.1",
        port: 0,
        parallel: sequences,
        maxQueue: 4096,
        webUi: false,
        log,
      });
      try {
        server = await runServeBench({
          url: running.url,
          concurrency: flags.streams,
          requests: flags.serverRequests ?? Math.max(...flags.streams) * flags.repetitions,
          inputLen: flags.serverInputLen,
          outputLen: flags.genLengths[0] ?? 128,
          seed: flags.seed,
          temperature: 0,
          ignoreEos: flags.ignoreEos,
          percentiles: [50, 90, 99],
          ...(signal !== undefined ? { signal } : {}),
          log,
        });
      } finally {
        await running.close();
      }
      const ratios: Record<string, number> = { ...report.ratios };
      for (const level of server.levels) {
        const t = report.tests.find((x) => x.kind === "streams" && x.streams === level.concurrency);
        if (t === undefined) continue;
        const c = level.concurrency;
        // End to end: the server's output tok/s (its prompts are prefilled too, through HTTP and the chat template).
        if (t.tokensPerSecond.mean > 0) ratios[`server ${c} / engine streams ${c} (output tok/s)`] = level.metrics.outputThroughput / t.tokensPerSecond.mean;
        // Decode only, single stream: 1 / mean TPOT through the server vs the engine's decode rate (first token excluded).
        const engineDecode = t.decodeTokensPerSecond?.mean ?? 0;
        if (c === 1 && engineDecode > 0 && level.metrics.tpotMs.mean > 0) ratios["server 1 / engine streams 1 (decode, 1/TPOT)"] = 1000 / level.metrics.tpotMs.mean / engineDecode;
      }
      Object.assign(report, { ratios, server });
    }
    const dir = flags.output ?? defaultOutputDir();
    const files = await writeReport(dir, "engine", report, engineCharts(report, server));
    return { report, files };
  } finally {
    await Promise.allSettled(engines.map((e) => e.engine.dispose()));
  }
}

/** The tables of a comparison run, one per engine, then decode ms/token side by side and the ratios. */
export function formatComparison(entries: readonly EngineComparisonEntry[], ratios: Readonly<Record<string, number>>): string {
  const out: string[] = [];
  for (const e of entries) out.push(`engine ${e.engine}:`, formatEngineReport(e.report), "");
  out.push("decode ms/token (whole request ÷ generated tokens; mean):", "", "| test | " + entries.map((e) => e.engine).join(" | ") + " | llama-server's own |", "| --- |" + entries.map(() => " ---: |").join("") + " ---: |");
  const first = entries[0];
  for (const t of first?.report.tests.filter((x) => x.kind === "tg") ?? []) {
    const ms = entries.map((e) => e.report.tests.find((x) => x.kind === "tg" && x.name === t.name)?.tokensPerSecond.mean ?? 0).map((r) => (r > 0 ? (1000 / r).toFixed(3) : "–"));
    const own = entries.flatMap((e) => e.report.tests).find((x) => x.kind === "tg" && x.name === t.name && x.backendMsPerToken !== undefined)?.backendMsPerToken;
    out.push(`| ${t.name} | ${ms.join(" | ")} | ${own === undefined ? "–" : `${own.mean.toFixed(3)} ± ${own.sd.toFixed(3)}`} |`);
  }
  out.push("", ...Object.entries(ratios).map(([k, v]) => `${k}: ${v.toFixed(3)}`));
  return out.join("\n");
}

/** `--engine embedded,llama-server`: the engines to run side by side (default embedded). */
export function parseEngineList(value: string | undefined): EngineKind[] {
  const kinds = (value ?? "embedded").split(",").map((k) => k.trim()).filter((k) => k !== "").map(engineKind);
  if (kinds.length === 0) throw new InvalidArgumentError("--engine: expected embedded, llama-server or both, comma-separated");
  if (new Set(kinds).size !== kinds.length) throw new InvalidArgumentError(`--engine names an engine twice (${value ?? ""})`);
  return kinds;
}

/** One engine's report in a comparison run (`--engine embedded,llama-server`). */
export interface EngineComparisonEntry {
  readonly engine: EngineKind | "backend";
  readonly report: EngineBenchReport;
}

function benchBackendFacts(kind: EngineKind | "backend", engine: Engine, flags: BenchEngineFlags): Record<string, unknown> {
  if (engine instanceof ManagedLlamaServerEngine) {
    return { engine: kind, gpu: flags.gpu === "off" ? "cpu (-ngl 0)" : "-ngl 999 (a CPU build ignores it)", threads: flags.threads ?? "default", binary: engine.info.metadata["talaria.backend.binary"], url: engine.server?.url };
  }
  if ("gpu" in engine && "threads" in engine) {
    const e = engine as Engine & { gpu: string | false; threads: number };
    return { engine: kind, gpu: e.gpu === false ? "cpu" : e.gpu, threads: e.threads };
  }
  return { engine: kind, gpu: `remote (${(flags.backend ?? []).join(", ")})`, threads: 0 };
}

/**
 * Decode ratios between the engines of a comparison run, per free decode test: each engine ÷ the first
 * (whole-run tok/s: generated ÷ wall time of the request, its one prompt token included), and each
 * engine ÷ llama-server's own decode rate (1000 ÷ its `timings.predicted_per_token_ms` for the same
 * requests) where a managed llama-server measured it. Whole-run, not "first token excluded": llama-server
 * holds back the text of tokens that end inside a UTF-8 character (random models emit many), so its
 * stream arrives in bursts and per-token arrival times mean little.
 */
export function comparisonRatios(entries: readonly EngineComparisonEntry[]): Record<string, number> {
  const ratios: Record<string, number> = {};
  const first = entries[0];
  if (first === undefined) return ratios;
  const own = entries.flatMap((e) => e.report.tests.filter((t) => t.kind === "tg" && t.backendMsPerToken !== undefined));
  for (const t of first.report.tests.filter((x) => x.kind === "tg")) {
    for (const e of entries) {
      const mine = e.report.tests.find((x) => x.kind === "tg" && x.name === t.name)?.tokensPerSecond.mean ?? 0;
      const base = t.tokensPerSecond.mean;
      if (e !== first && mine > 0 && base > 0) ratios[`${e.engine} / ${first.engine} ${t.name} (decode)`] = mine / base;
      const ownMs = own.find((x) => x.name === t.name)?.backendMsPerToken?.mean ?? 0;
      if (mine > 0 && ownMs > 0) ratios[`${e.engine} / llama-server's own ${t.name} (decode)`] = mine / (1000 / ownMs);
    }
  }
  return ratios;
}

/** llama-server's own decode ms/token for the request: a direct `/completion` with the bench's sampling (greedy: top-k 1). */
async function llamaServerOwnDecodeMs(engine: ManagedLlamaServerEngine, r: BackendDecodeRequest): Promise<number> {
  const url = engine.server?.url;
  if (url === undefined) throw new Error("the managed llama-server is not running");
  const response = await fetch(`${url}/completion`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    // The remote engine's greedy body (src/engine/remote/llama-server.ts), not streamed.
    body: JSON.stringify({
      prompt: r.prompt, n_predict: r.maxTokens, stream: false, cache_prompt: true, samplers: ["top_k"], top_k: 1, temperature: 0,
      repeat_penalty: 1, frequency_penalty: 0, presence_penalty: 0, dry_multiplier: 0, xtc_probability: 0, mirostat: 0, n_probs: 0,
      logit_bias: Object.entries(r.logitBias).map(([t, b]) => [Number(t), b]),
    }),
  });
  const body = (await response.json()) as { timings?: { predicted_per_token_ms?: number } };
  const ms = body.timings?.predicted_per_token_ms;
  if (typeof ms !== "number") throw new Error(`${url}/completion answered without timings.predicted_per_token_ms (HTTP ${response.status})`);
  return ms;
}

function onSigint(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handler = (): void => controller.abort();
  process.once("SIGINT", handler);
  return { signal: controller.signal, dispose: () => process.off("SIGINT", handler) };
}

interface SoakFlags {
  model: string;
  duration: number;
  warmup: number;
  sampleEvery: number;
  concurrency: number;
  parallel: number;
  maxTokens: number;
  threads: number;
  seed: number;
  output?: string;
}

export function register(program: Command): void {
  const bench = program.command("bench").description("Benchmarks: serving load (vLLM's metrics) and engine throughput (llama-bench style); JSON + SVG reports");

  bench
    .command("serve")
    .description("Load-test an OpenAI-compatible server (Talaria, vLLM, llama.cpp) with streamed chat completions; TTFT, TPOT, ITL, E2EL, throughput, goodput")
    .requiredOption("--url <url>", "server base URL, e.g. http://127.0.0.1:8080 (loopback only unless --allow-remote)")
    .option("--api-key <key>", "bearer token (default: $OPENAI_API_KEY, then $TALARIA_API_KEY)")
    .option("--model <id>", "model name in requests (default: the first of GET /v1/models)")
    .option("--concurrency <list>", "concurrency levels, run in turn", parseIntList, [1])
    .option("--requests <n>", "requests per concurrency level", parsePositiveInt, 16)
    .option("--input-len <n>", "prompt tokens (seeded random words, calibrated with /tokenize when the server has it)", parsePositiveInt, 128)
    .option("--output-len <n>", "max_tokens of each request", parsePositiveInt, 128)
    .option("--tools <file>", "JSON file: OpenAI tools array (or {tools, tool_choice}) sent with every request")
    .option("--tool-choice <choice>", "auto, none, required or a function name (default: the file's, else the server default)")
    .option("--json-schema <file>", "JSON Schema sent as response_format json_schema (strict)")
    .option("--seed <n>", "seed of the prompts and of the requests", parseInteger, 0)
    .option("--temperature <t>", "temperature sent with requests (default: server default)", parseNumber)
    .option("--no-ignore-eos", "do not send ignore_eos: true (vLLM and llama.cpp honour it; Talaria ignores it)")
    .option("--goodput <slo...>", "SLOs for goodput, e.g. ttft:500 tpot:50 e2el:5000 (ms)", collect)
    .option("--percentiles <list>", "latency percentiles to report", parsePercentiles, [50, 90, 99])
    .option("--max-duration <seconds>", "time limit per concurrency level; requests in flight then are aborted and count as failed", parseNumber, 300)
    .option("--allow-remote", "allow a non-loopback target")
    .option("--warmup <n>", "untimed requests before measuring", (v) => parseInteger(v), 1)
    .option("--no-tokenize", "do not call the server's /tokenize (approximate prompt length: one word ≈ one token)")
    .option("--output <dir>", "report directory (default bench/results/<timestamp>/)")
    .option("--json", "print the JSON report to stdout instead of the summary")
    .action(async (flags: BenchServeFlags) => {
      const sig = onSigint();
      try {
        const { report, files } = await runBenchServeCommand(flags, undefined, sig.signal);
        process.stdout.write(flags.json === true ? `${JSON.stringify(report, null, 2)}\n` : `${formatServeReport(report)}\n`);
        process.stderr.write(`wrote ${files.map((f) => path.relative(process.cwd(), f)).join(", ")}\n`);
      } finally {
        sig.dispose();
      }
    });

  bench
    .command("soak")
    .description("Long mixed load (streams, plain chats, tool calls, distinct JSON schemas, disconnects) against a child `talaria serve`, its RSS sampled; reports growth after the warm-up")
    .requiredOption("--model <gguf>", "model for the child server (e.g. a generated test model)")
    .option("--duration <seconds>", "run time", parsePositiveInt, 600)
    .option("--warmup <seconds>", "growth is measured from the first sample after this", parsePositiveInt, 60)
    .option("--sample-every <seconds>", "RSS sampling interval", parsePositiveInt, 30)
    .option("--concurrency <n>", "clients at once", parsePositiveInt, 4)
    .option("--parallel <n>", "sequences of the child server", parsePositiveInt, 2)
    .option("--max-tokens <n>", "max_tokens of every request", parsePositiveInt, 24)
    .option("--threads <n>", "threads of the child server", parsePositiveInt, 1)
    .option("--seed <n>", "seed of the request mix", parseInteger, 1)
    .option("--output <file>", "also write the JSON report here")
    .action(async (flags: SoakFlags) => {
      const sig = onSigint();
      const cli = fileURLToPath(new URL("../../../bin/talaria.js", import.meta.url));
      const server = await spawnServer(cli, [
        "--model", flags.model, "--parallel", String(flags.parallel), "--threads", String(flags.threads),
        "--max-queue", String(flags.concurrency * 4), "--context-size", "1024",
      ]);
      try {
        process.stderr.write(`soak: server pid ${server.pid} at ${server.url}; ${flags.duration} s\n`);
        const report = await runSoak({
          url: server.url,
          pid: server.pid,
          durationMs: flags.duration * 1000,
          warmupMs: flags.warmup * 1000,
          sampleEveryMs: flags.sampleEvery * 1000,
          concurrency: flags.concurrency,
          maxTokens: flags.maxTokens,
          seed: flags.seed,
          signal: sig.signal,
          onSample: (s) => process.stderr.write(`  ${(s.atMs / 1000).toFixed(0)} s: RSS ${(s.rssBytes / 2 ** 20).toFixed(1)} MB after ${s.requests} requests\n`),
        });
        if (flags.output !== undefined) await writeFile(flags.output, `${JSON.stringify(report, null, 2)}\n`);
        process.stdout.write(`${formatSoakReport(report)}\n`);
      } finally {
        sig.dispose();
        await server.stop();
      }
    });

  bench
    .command("router")
    .description("Talaria in front of two real llama-server replicas: decode through the router ÷ direct, two replicas ÷ one, failover with a replica killed")
    .requiredOption("--model <gguf>", "model both replicas load (e.g. a generated random test model)")
    .option("--llama-server <path>", "llama-server binary (default: bash scripts/llama-server.sh)")
    .option("--output-tokens <n>", "tokens per request", parsePositiveInt, 96)
    .option("--rounds <n>", "interleaved rounds per comparison", parsePositiveInt, 3)
    .option("--concurrency <n>", "streams at once (aggregate and failover)", parsePositiveInt, 4)
    .option("--aggregate-seconds <n>", "seconds per aggregate measurement", parsePositiveInt, 20)
    .option("--threads <n>", "threads per llama-server", parsePositiveInt, 1)
    .option("--output <file>", "also write the JSON report here")
    .action(async (flags: { model: string; llamaServer?: string; outputTokens: number; rounds: number; concurrency: number; aggregateSeconds: number; threads: number; output?: string }) => {
      const sig = onSigint();
      try {
        const root = fileURLToPath(new URL("../../../", import.meta.url));
        const binary = flags.llamaServer ?? execFileSync("bash", [path.join(root, "scripts/llama-server.sh")], { encoding: "utf8" }).trim();
        const report = await runRouterBench({
          llamaServer: binary,
          model: flags.model,
          cli: path.join(root, "bin/talaria.js"),
          outputTokens: flags.outputTokens,
          rounds: flags.rounds,
          concurrency: flags.concurrency,
          aggregateSeconds: flags.aggregateSeconds,
          threads: flags.threads,
          log: (l) => process.stderr.write(`${l}\n`),
          signal: sig.signal,
        });
        if (flags.output !== undefined) await writeFile(flags.output, `${JSON.stringify(report, null, 2)}\n`);
        process.stdout.write(`${formatRouterBench(report)}\n`);
      } finally {
        sig.dispose();
      }
    });

  const engine = bench
    .command("engine")
    .description("Engine throughput like llama-bench: prefill (pp) and decode (tg) tok/s, JSON-schema grammar with and without jump-forward, N concurrent streams, loglik req/s");
  addBackendOptions(addModelOptions(engine, true))
    .addHelpText("after", "\n--engine embedded,llama-server runs the same tests on both engines in one interleaved run (the same prompts) and reports\ndecode ms/token side by side with llama-server's own timings (timings.predicted_per_token_ms) and their ratios.")
    .option("-p, --prompt-lengths <list>", "prefill test prompt lengths", parseIntList, [512])
    .option("-n, --gen-lengths <list>", "decode test generation lengths", parseIntList, [128])
    .option("-r, --repetitions <n>", "repetitions per test (mean ± sd)", parsePositiveInt, 5)
    .option("--streams <list>", "concurrent streams for aggregate decode tok/s (the context gets max(streams) sequences)", parseIntList, [1])
    .option("--no-grammar", "skip the JSON-schema grammar decode tests")
    .option("--no-jump-forward", "skip the grammar tests with jump-forward decoding (tg+json+jf)")
    .option("--json-schema <file>", "schema of the grammar tests (default: an array of {name, age, tags} objects)")
    .option("--no-loglik", "skip the log-likelihood test")
    .option("--loglik-requests <n>", "loglik requests per call", parsePositiveInt, 32)
    .option("--loglik-context <n>", "loglik context tokens", parsePositiveInt, 64)
    .option("--loglik-continuation <n>", "loglik continuation tokens", parsePositiveInt, 4)
    .option("--no-ignore-eos", "let free decode tests stop at end-of-generation tokens (default: banned, as llama-bench never stops)")
    .option("--seed <n>", "seed of the random prompts", parseInteger, 1)
    .option("--server", "also run the same engine through an in-process Talaria server on loopback (bench serve at --streams concurrency) and report server/engine ratios")
    .option("--server-requests <n>", "requests per concurrency level through the server (default max(streams) × repetitions)", parsePositiveInt)
    .option("--server-input-len <n>", "prompt tokens of the server requests", parsePositiveInt, 64)
    .option("--output <dir>", "report directory (default bench/results/<timestamp>/)")
    .option("--json", "print the JSON report to stdout instead of the table")
    .action(async (flags: BenchEngineFlags) => {
      const sig = onSigint();
      try {
        const { report, files } = await runBenchEngineCommand(flags, undefined, sig.signal);
        let text = report.engines === undefined ? formatEngineReport(report) : formatComparison(report.engines, report.ratios);
        if (report.server !== undefined) text += `\n\nthrough the server:\n${formatServeReport(report.server)}`;
        process.stdout.write(flags.json === true ? `${JSON.stringify(report, null, 2)}\n` : `${text}\n`);
        process.stderr.write(`wrote ${files.map((f) => path.relative(process.cwd(), f)).join(", ")}\n`);
      } finally {
        sig.dispose();
      }
    });
}
