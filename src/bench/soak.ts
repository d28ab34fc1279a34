/**
 * `talaria bench soak`: a long mixed load against a Talaria server with the server's resident memory
 * sampled at a fixed interval. The mix: streamed and plain chats, forced tool calls, JSON mode with a
 * schema that is new on every request (so every grammar and validator cache sees distinct keys),
 * and streams the client abandons after their first chunk. The verdict is memory growth after the
 * warm-up: (last sample − sample at the end of warm-up) / sample at the end of warm-up.
 *
 * The server is a child process (`talaria serve`) so that its RSS is its own, read from
 * `/proc/<pid>/status` (Linux); see docs/reliability.md.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { mulberry32 } from "../util/random.js";

/** Kinds of request in the mix. */
export type SoakKind = "chat" | "chat-stream" | "tool-call" | "json-schema" | "disconnect";

export const SOAK_KINDS: readonly SoakKind[] = ["chat", "chat-stream", "tool-call", "json-schema", "disconnect"];

export interface SoakOptions {
  /** Base URL of the server (no `/v1`). */
  readonly url: string;
  /** Process id of the server, for RSS sampling from /proc. */
  readonly pid: number;
  /** Total run time in ms. Default 600000 (10 min). */
  readonly durationMs?: number;
  /** Warm-up in ms: growth is measured from the first sample at or after it. Default 60000. */
  readonly warmupMs?: number;
  /** RSS sampling interval in ms. Default 30000. */
  readonly sampleEveryMs?: number;
  /** Clients sending requests at once. Default 4. */
  readonly concurrency?: number;
  /** `max_tokens` of every request. Default 24. */
  readonly maxTokens?: number;
  /** Seed of the request mix. Default 1. */
  readonly seed?: number;
  /** Per-request deadline in ms. Default 120000. */
  readonly requestTimeoutMs?: number;
  /** Called with each RSS sample. */
  readonly onSample?: (sample: RssSample) => void;
  readonly signal?: AbortSignal;
}

export interface RssSample {
  /** ms since the start. */
  readonly atMs: number;
  readonly rssBytes: number;
  /** Requests completed so far. */
  readonly requests: number;
}

export interface SoakReport {
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly concurrency: number;
  readonly samples: readonly RssSample[];
  /** Requests per kind and HTTP status (`"aborted"` for deliberate disconnects, `"error"` for transport failures). */
  readonly outcomes: Readonly<Record<SoakKind, Readonly<Record<string, number>>>>;
  readonly requests: number;
  /** Responses with status ≥ 500 or transport errors. */
  readonly failures: number;
  /** RSS at the first sample at or after the warm-up. */
  readonly rssAfterWarmupBytes: number;
  readonly rssLastBytes: number;
  /** (last − after warm-up) / after warm-up. */
  readonly growthAfterWarmup: number;
  readonly loadAverage: readonly number[];
}

/** Resident set size of a process in bytes (`VmRSS` of /proc/<pid>/status). */
export async function readRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (m === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

const WEATHER_TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" }, unit: { type: "string", enum: ["c", "f"] } }, required: ["city"] },
  },
};

/** A request body of one kind; `n` makes JSON-mode schemas distinct. */
export function soakBody(kind: SoakKind, n: number, maxTokens: number): Record<string, unknown> {
  const messages = [{ role: "user", content: `Request ${n}: tell me something.` }];
  const base = { model: "soak", messages, max_tokens: maxTokens, temperature: 0.8, seed: n };
  switch (kind) {
    case "chat":
      return base;
    case "chat-stream":
    case "disconnect":
      return { ...base, stream: true, stream_options: { include_usage: true } };
    case "tool-call":
      return { ...base, tools: [WEATHER_TOOL], tool_choice: "required" };
    case "json-schema": {
      const properties = Object.fromEntries(
        Array.from({ length: 4 }, (_, i) => [`field_${n}_${i}`, i % 2 === 0 ? { type: "string", maxLength: 12 } : { type: "integer" }]),
      );
      const schema = { type: "object", properties, required: Object.keys(properties), additionalProperties: false };
      return { ...base, response_format: { type: "json_schema", json_schema: { name: `s${n}`, schema, strict: true } } };
    }
    default:
      return kind satisfies never;
  }
}

async function sendOne(url: string, kind: SoakKind, n: number, maxTokens: number, timeoutMs: number, outer: AbortSignal | undefined): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const onOuter = (): void => controller.abort();
  outer?.addEventListener("abort", onOuter, { once: true });
  try {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(soakBody(kind, n, maxTokens)),
      signal: controller.signal,
    });
    if (kind === "disconnect" && response.ok && response.body !== null) {
      const reader = response.body.getReader();
      await reader.read();
      controller.abort();
      await reader.cancel().catch(() => {});
      return "aborted";
    }
    await response.arrayBuffer();
    return String(response.status);
  } catch {
    return controller.signal.aborted && outer?.aborted !== true ? "timeout" : "error";
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener("abort", onOuter);
  }
}

/** Run the soak against a server whose process id is known. */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const durationMs = options.durationMs ?? 600_000;
  const warmupMs = options.warmupMs ?? 60_000;
  const sampleEveryMs = options.sampleEveryMs ?? 30_000;
  const concurrency = options.concurrency ?? 4;
  const maxTokens = options.maxTokens ?? 24;
  const timeoutMs = options.requestTimeoutMs ?? 120_000;
  const random = mulberry32(options.seed ?? 1);
  const outcomes = Object.fromEntries(SOAK_KINDS.map((k) => [k, {} as Record<string, number>])) as Record<SoakKind, Record<string, number>>;
  const start = performance.now();
  const elapsed = (): number => performance.now() - start;
  let requests = 0;
  let failures = 0;
  let next = 0;
  const samples: RssSample[] = [];
  const sample = async (): Promise<void> => {
    const s = { atMs: Math.round(elapsed()), rssBytes: await readRss(options.pid), requests };
    samples.push(s);
    options.onSample?.(s);
  };
  await sample();
  const sampler = setInterval(() => void sample().catch(() => {}), sampleEveryMs);
  const worker = async (): Promise<void> => {
    while (elapsed() < durationMs && options.signal?.aborted !== true) {
      const kind = SOAK_KINDS[Math.floor(random() * SOAK_KINDS.length)] as SoakKind;
      const n = next++;
      const outcome = await sendOne(options.url, kind, n, maxTokens, timeoutMs, options.signal);
      const row = outcomes[kind];
      row[outcome] = (row[outcome] ?? 0) + 1;
      requests++;
      if (outcome === "error" || outcome === "timeout" || Number(outcome) >= 500) failures++;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, () => worker()));
  } finally {
    clearInterval(sampler);
  }
  await sample();
  const afterWarmup = samples.find((s) => s.atMs >= warmupMs) ?? (samples[samples.length - 1] as RssSample);
  const last = samples[samples.length - 1] as RssSample;
  const os = await import("node:os");
  return {
    durationMs: Math.round(elapsed()),
    warmupMs,
    concurrency,
    samples,
    outcomes,
    requests,
    failures,
    rssAfterWarmupBytes: afterWarmup.rssBytes,
    rssLastBytes: last.rssBytes,
    growthAfterWarmup: (last.rssBytes - afterWarmup.rssBytes) / afterWarmup.rssBytes,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export interface SpawnedServer {
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Start `talaria serve` (`node <cli> serve … --port 0`) as a child process and wait until the model
 * is loaded. `cli` is the path of bin/talaria.js.
 */
export async function spawnServer(cli: string, args: readonly string[], readyTimeoutMs = 300_000): Promise<SpawnedServer> {
  // MALLOC_ARENA_MAX=2 as `talaria serve` sets it for itself (bin/talaria.js); set here, the CLI runs in
  // this child directly, so `pid` is the server's own.
  const child = spawn(process.execPath, [cli, "serve", "--port", "0", ...args], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? "2" } });
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not start talaria serve");
  const url = await new Promise<string>((resolve, reject) => {
    let text = "";
    let listening: string | undefined;
    const timer = setTimeout(() => reject(new Error(`talaria serve was not ready after ${readyTimeoutMs} ms:\n${text}`)), readyTimeoutMs);
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      text += chunk;
      listening ??= /listening on (http:\/\/\S+) /.exec(text)?.[1];
      if (listening !== undefined && /model ready/.test(text)) {
        clearTimeout(timer);
        resolve(listening);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`talaria serve exited (${String(code)}):\n${text}`));
    });
  });
  return {
    url,
    pid,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** The report as text. */
export function formatSoakReport(report: SoakReport): string {
  const mb = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MB`;
  const lines = [
    `soak: ${report.requests} requests in ${(report.durationMs / 1000).toFixed(0)} s at concurrency ${report.concurrency}; ${report.failures} failures; load average ${report.loadAverage.join(", ")}`,
    `RSS after ${(report.warmupMs / 1000).toFixed(0)} s warm-up ${mb(report.rssAfterWarmupBytes)}, last ${mb(report.rssLastBytes)}: growth ${(report.growthAfterWarmup * 100).toFixed(1)} %`,
    "samples (s: RSS, requests):",
    ...report.samples.map((s) => `  ${(s.atMs / 1000).toFixed(0).padStart(5)}: ${mb(s.rssBytes).padStart(9)}, ${s.requests}`),
    "outcomes (kind: status × count):",
    ...Object.entries(report.outcomes).map(([kind, row]) => `  ${kind}: ${Object.entries(row).map(([k, v]) => `${k} × ${v}`).join(", ") || "-"}`),
  ];
  return lines.join("\n");
}
