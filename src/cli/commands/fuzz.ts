/**
 * `talaria fuzz`: a seeded, bounded fuzzer of request bodies for every route (src/bench/fuzz/), against a
 * loopback server given by `--url`, or one started in-process over the mock engine (`--mock`) or a GGUF
 * (`--model`). Not a test: CI runs a short seeded slice (test/standalone/fuzz-slice.test.ts); longer runs
 * and their results are in docs/reliability.md.
 */
import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import { InvalidArgumentError, type Command } from "commander";
import { createHermesChat } from "../../chat/hermes-chat.js";
import { createMockEngine, type MockEngine } from "../../engine/mock/mock-engine.js";
import { HERMES_DIALECT } from "../../hermes/dialect.js";
import { startServer, type RunningServer } from "../../server/server.js";
import { describeCase, formatFuzzReport, runFuzz, type FuzzOptions, type FuzzReport, type RssSampler } from "../../bench/fuzz/index.js";
import { assertLoopbackTarget, RemoteTargetError } from "../../bench/loopback.js";
import { parseInteger, parsePositiveInt, parseNumber } from "../option-parsers.js";
import { withSigintAbort } from "../sigint.js";
import { runServe } from "./serve.js";

/** Largest body the fuzzer sends (the issue bounds it at ~3 MB). */
export const FUZZ_MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface MockFuzzServer extends RunningServer {
  readonly engine: MockEngine;
  /** What the server logged (5xx causes, warnings). */
  readonly logs: string[];
}

/**
 * The mock-engine server `talaria fuzz --mock` fuzzes: Hermes markers, a reply of ~40 bytes (longer than
 * any fuzz `max_tokens`, so generations end by length) at 1 ms per token, a tool call when the prompt
 * offers tools (on every other prompt length), 2 sequences, a 2 MiB body limit (the fuzzer's huge
 * bodies reach both sides of it) and no web UI.
 */
export async function startMockFuzzServer(options: { readonly tokenDelayMs?: number; readonly bodyLimitBytes?: number; readonly log?: (line: string) => void } = {}): Promise<MockFuzzServer> {
  const logs: string[] = [];
  const engine = createMockEngine({
    specialTokens: HERMES_DIALECT.markers,
    endOfTurn: HERMES_DIALECT.turn.end,
    sequences: 2,
    tokenDelayMs: options.tokenDelayMs ?? 1,
    script: (prompt) => {
      const tools = prompt.indexOf(HERMES_DIALECT.tools.open);
      if (tools >= 0 && prompt.length % 2 === 0) {
        const name = /"name":\s*"([^"]+)"/.exec(prompt.slice(tools))?.[1] ?? "get_weather";
        return `${HERMES_DIALECT.toolCall.open}\n{"name": ${JSON.stringify(name)}, "arguments": {"city": "Paris"}}\n${HERMES_DIALECT.toolCall.close}`;
      }
      return undefined;
    },
    defaultReply: "The weather in Paris is sunny, 21 degrees. {\"ok\": true}",
  });
  const { service } = createHermesChat(engine, { profile: "hermes-3" });
  const server = await startServer({
    backend: { engine, chat: service },
    modelId: "talaria-mock",
    host: "127.0.0.1",
    port: 0,
    parallel: engine.stats().sequencesTotal,
    maxQueue: 64,
    timeoutMs: 60_000,
    bodyLimitBytes: options.bodyLimitBytes ?? 2 * 1024 * 1024,
    webUi: false,
    log: (line) => {
      if (logs.length < 1000) logs.push(line);
      options.log?.(line);
    },
  });
  return { ...server, engine, logs };
}

/** The in-process server's RSS (the fuzzer shares the process: client buffers count too). */
export const PROCESS_RSS: RssSampler = { source: "process.memoryUsage().rss (in-process server and fuzzer)", sample: async () => process.memoryUsage().rss };

/** RSS of another local process from /proc/<pid>/status (Linux). */
export function procRss(pid: number): RssSampler {
  return {
    source: `/proc/${pid}/status VmRSS`,
    sample: async () => {
      try {
        const m = /VmRSS:\s+(\d+)\s+kB/.exec(await readFile(`/proc/${pid}/status`, "utf8"));
        return m === null ? undefined : Number(m[1]) * 1024;
      } catch {
        return undefined;
      }
    },
  };
}

/** The report's view of what the in-process server logged. */
export function serverLogSummary(logs: readonly string[]): NonNullable<FuzzReport["serverLog"]> {
  return { lines: logs.length, examples: logs.slice(0, 10).map((l) => l.split("\n")[0] ?? "") };
}

export interface FuzzFlags {
  url?: string;
  mock?: boolean;
  model?: string;
  apiKey?: string;
  requests: number;
  seed: number;
  concurrency: number;
  duration: number;
  maxTokens: number;
  requestTimeout: number;
  maxBodyKb: number;
  parallel: number;
  contextSize?: number;
  gpu?: string;
  threads?: number;
  serverPid?: number;
  replay?: number[];
  output?: string;
  json?: boolean;
  serverLog?: boolean;
}

function parseMaxTokens(value: string): number {
  const n = parsePositiveInt(value);
  if (n > 64) throw new InvalidArgumentError("at most 64 (keep generations short: the run must stay bounded)");
  return n;
}

function parseMaxBodyKb(value: string): number {
  const n = parsePositiveInt(value);
  if (n * 1024 > FUZZ_MAX_BODY_BYTES) throw new InvalidArgumentError(`at most ${FUZZ_MAX_BODY_BYTES / 1024} kB`);
  return n;
}

function parseIdList(value: string): number[] {
  const ids: number[] = [];
  for (const part of value.split(",")) {
    const range = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(part);
    if (range !== null) {
      const from = Number(range[1]);
      const to = Number(range[2]);
      if (to < from || to - from > 1_000_000) throw new InvalidArgumentError(`bad case-id range ${part.trim()}`);
      for (let id = from; id <= to; id++) ids.push(id);
      continue;
    }
    const n = Number(part.trim());
    if (part.trim() === "" || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected case ids, e.g. 17, 17,42 or 100-200");
    ids.push(n);
  }
  return ids;
}

/** Run `talaria fuzz` (exported for tests): start the target if asked, fuzz it, stop it. */
export async function runFuzzCommand(flags: FuzzFlags, signal?: AbortSignal, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<FuzzReport> {
  const targets = [flags.url !== undefined, flags.mock === true, flags.model !== undefined].filter(Boolean).length;
  if (targets !== 1) throw new InvalidArgumentError("give exactly one target: --url <loopback url>, --mock (in-process mock engine) or --model <gguf> (in-process)");
  const common: Omit<FuzzOptions, "url"> = {
    seed: flags.seed,
    requests: flags.requests,
    concurrency: flags.concurrency,
    maxTokens: flags.maxTokens,
    requestTimeoutMs: flags.requestTimeout * 1000,
    maxDurationS: flags.duration,
    hugeMaxBytes: flags.maxBodyKb * 1024,
    ...(flags.apiKey === undefined ? {} : { apiKey: flags.apiKey }),
    ...(flags.replay === undefined ? {} : { only: flags.replay }),
    ...(signal === undefined ? {} : { signal }),
    log,
    ...(flags.replay === undefined
      ? {}
      : {
          onCase: (c, outcome) => {
            const lines = [describeCase(c), "", `→ ${outcome.kind}${"status" in outcome && outcome.status !== undefined ? ` ${outcome.status}` : ""} after ${Math.round(outcome.ms)} ms`];
            if (outcome.kind === "response") lines.push(new TextDecoder().decode(outcome.body.subarray(0, 4000)));
            if (outcome.kind === "transport-error") lines.push(outcome.message);
            process.stdout.write(`${lines.join("\n")}\n\n`);
          },
        }),
  };
  const leakLiterals = [process.cwd(), os.homedir()].filter((p) => p.length >= 4);
  if (flags.url !== undefined) {
    try {
      await assertLoopbackTarget(flags.url);
    } catch (error) {
      if (error instanceof RemoteTargetError) throw new InvalidArgumentError(`--url must be a loopback server (the fuzzer sends malformed, huge and abandoned requests): ${error.message.replace(/; pass --allow-remote.*$/, "")}`);
      throw error;
    }
    return runFuzz({ ...common, url: flags.url, mode: "external", ...(flags.serverPid === undefined ? {} : { rss: procRss(flags.serverPid) }) });
  }
  if (flags.mock === true) {
    const server = await startMockFuzzServer(flags.serverLog === true ? { log } : {});
    try {
      const report = await runFuzz({ ...common, url: server.url, mode: "mock (in-process)", rss: PROCESS_RSS, leakLiterals });
      report.serverLog = serverLogSummary(server.logs);
      return report;
    } finally {
      await server.close();
    }
  }
  const model = flags.model as string;
  const logs: string[] = [];
  const running = await runServe(
    {
      model,
      host: "127.0.0.1",
      port: 0,
      parallel: flags.parallel,
      maxQueue: 64,
      timeout: Math.max(60, flags.requestTimeout * 2),
      profile: "auto",
      style: "card",
      ...(flags.contextSize === undefined ? {} : { contextSize: flags.contextSize }),
      ...(flags.gpu === undefined ? {} : { gpu: flags.gpu }),
      ...(flags.threads === undefined ? {} : { threads: flags.threads }),
      ...(flags.apiKey === undefined ? {} : { apiKey: flags.apiKey }),
    },
    (line) => {
      if (logs.length < 1000) logs.push(line);
      if (flags.serverLog === true) log(line);
    },
  );
  try {
    await running.engine;
    logs.length = 0; // the start-up lines
    const report = await runFuzz({ ...common, url: running.server.url, mode: `model ${model} (in-process)`, rss: PROCESS_RSS, leakLiterals });
    report.serverLog = serverLogSummary(logs);
    return report;
  } finally {
    await running.stop();
  }
}

export function register(program: Command): void {
  program
    .command("fuzz")
    .description("Seeded, bounded fuzzer of every route (mutated bodies, adversarial schemas and tools, chunked uploads, disconnects); reports 5xx, shape violations, leaks, /health latency and RSS")
    .option("--url <url>", "fuzz a running server (loopback only), e.g. http://127.0.0.1:8080")
    .option("--mock", "start an in-process server over the mock engine and fuzz it")
    .option("--model <path|uri>", "start an in-process server over this GGUF and fuzz it")
    .option("--api-key <key>", "bearer token (default: $TALARIA_API_KEY)")
    .option("--requests <n>", "requests to send", parsePositiveInt, 1000)
    .option("--seed <n>", "seed: case N of a seed is always the same request", parseInteger, 1)
    .option("--concurrency <n>", "requests in flight", parsePositiveInt, 4)
    .option("--duration <seconds>", "cap: no request starts after this", parseNumber, 600)
    .option("--max-tokens <n>", "largest max_tokens of generation requests (≤ 64)", parseMaxTokens, 8)
    .option("--request-timeout <seconds>", "per-request limit: a request not answered by then is reported", parseNumber, 15)
    .option("--max-body-kb <n>", "largest body of the huge-body cases, in kB (≤ 3072)", parseMaxBodyKb, 2560)
    .option("--parallel <n>", "--model: sequences generating at once", parsePositiveInt, 2)
    .option("--context-size <n>", "--model: context size per sequence", parsePositiveInt)
    .option("--threads <n>", "--model: evaluation threads", parsePositiveInt)
    .option("--gpu <backend>", "--model: auto, cuda, vulkan, metal or off")
    .option("--server-pid <pid>", "--url: read the server's RSS from /proc/<pid>/status (else its /metrics, if it exports process_resident_memory_bytes)", parsePositiveInt)
    .option("--replay <ids>", "run only these case ids (comma-separated, ranges as 100-200) and print each request and answer")
    .option("--output <file>", "also write the JSON report here")
    .option("--json", "print the JSON report instead of the text")
    .option("--server-log", "print the in-process server's log lines")
    .action(async (raw: FuzzFlags & { replay?: string }) => {
      const flags: FuzzFlags = {
        ...raw,
        ...(raw.replay === undefined ? {} : { replay: parseIdList(raw.replay) }),
        ...(raw.apiKey === undefined && process.env.TALARIA_API_KEY !== undefined && process.env.TALARIA_API_KEY !== "" ? { apiKey: process.env.TALARIA_API_KEY } : {}),
      } as FuzzFlags;
      const report = await withSigintAbort((signal) => runFuzzCommand(flags, signal));
      if (flags.output !== undefined) await writeFile(flags.output, `${JSON.stringify(report, null, 2)}\n`);
      process.stdout.write(flags.json === true ? `${JSON.stringify(report, null, 2)}\n` : `${formatFuzzReport(report)}\n`);
      if (flags.output !== undefined) process.stderr.write(`wrote ${flags.output}\n`);
      if (!report.pass) process.exitCode = 1;
    });
}
