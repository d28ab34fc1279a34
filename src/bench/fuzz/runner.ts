/**
 * The fuzz run: probe the target (model id, sequences, which routes exist), then keep `concurrency`
 * generated cases in flight until `requests` were sent or the duration cap passed, probing `/health`
 * every 250 ms meanwhile; then wait for the server to go idle and sample its RSS again.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import http from "node:http";
import https from "node:https";
import { assertLoopbackTarget } from "../loopback.js";
import { checkOutcome, requestText } from "./checks.js";
import { generateCase, type GeneratorOptions } from "./generator.js";
import { executeCase } from "./http.js";
import { summarizeLatency, type FindingExample, type FindingKind, type FindingSummary, type FuzzReport } from "./report.js";
import type { FuzzCase, FuzzCategory, FuzzOutcome } from "./types.js";

/** How to read the server's resident memory. */
export interface RssSampler {
  /** Where the number comes from (`process.memoryUsage().rss`, `/metrics`, `/proc/<pid>/status`). */
  readonly source: string;
  readonly sample: () => Promise<number | undefined>;
}

export interface FuzzOptions {
  /** Server base URL (`http://127.0.0.1:8080`; a trailing `/v1` is dropped). Loopback only. */
  readonly url: string;
  /** How the target was started, for the report (`mock`, `model <file>`, `external`). Default `external`. */
  readonly mode?: string;
  readonly apiKey?: string;
  readonly seed?: number;
  /** Default 1000. */
  readonly requests?: number;
  /** Default 4. */
  readonly concurrency?: number;
  /** Largest `max_tokens` of generation bodies. Default 8. */
  readonly maxTokens?: number;
  /** Per-request limit. Default 15000 ms. */
  readonly requestTimeoutMs?: number;
  /** No request is started after this. Default 600 s. */
  readonly maxDurationS?: number;
  /** Largest body of the `huge` category. Default 2.5 MiB. */
  readonly hugeMaxBytes?: number;
  readonly weights?: GeneratorOptions["weights"];
  /** Run only these case ids (replay). */
  readonly only?: readonly number[];
  /** Interval of the `/health` probe. Default 250 ms. */
  readonly healthIntervalMs?: number;
  /** A `/health` answer slower than this fails the run. Default 1000 ms. */
  readonly healthLimitMs?: number;
  /** Default: `process_resident_memory_bytes` from the target's `/metrics`, when it has it. */
  readonly rss?: RssSampler;
  /** Texts that must never appear in answers (the in-process server's cwd, home). Default none. */
  readonly leakLiterals?: readonly string[];
  /** Override the route probe. */
  readonly routes?: { readonly responses: boolean; readonly messages: boolean };
  /** How long to wait for the server to go idle after the run. Default 5000 ms. */
  readonly settleMs?: number;
  /** Case ids kept per finding group. Default 20. */
  readonly keepIds?: number;
  readonly signal?: AbortSignal;
  /** Progress lines. Default none. */
  readonly log?: (line: string) => void;
  /** Called with each finished case (replay prints it). */
  readonly onCase?: (c: FuzzCase, outcome: FuzzOutcome) => void;
}

const utf8 = new TextDecoder("utf-8", { fatal: false });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function normalizeBase(url: string): URL {
  const u = new URL(url);
  u.pathname = u.pathname.replace(/\/+$/, "").replace(/\/v1$/, "") || "/";
  return u;
}

/** A plain GET/POST against the target (probe, metrics, settle): status and text, or undefined. */
async function simple(base: URL, agent: http.Agent, method: string, path: string, apiKey: string | undefined, body?: string): Promise<{ status: number; text: string } | undefined> {
  const outcome = await executeCase(
    {
      id: -1,
      category: "valid",
      label: "probe",
      route: "unknown",
      method,
      path,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: new TextEncoder().encode(body) }),
      upload: body === undefined ? { kind: "none" } : { kind: "length" },
      expect: "any",
      stream: false,
    },
    { base, agent, limitMs: 10_000, ...(apiKey === undefined ? {} : { apiKey }) },
  );
  return outcome.kind === "response" ? { status: outcome.status, text: utf8.decode(outcome.body) } : undefined;
}

/** `name value` lines of Prometheus text → value of the first sample of `name` (labels ignored). */
export function prometheusValue(text: string, name: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) {
      const v = Number(line.slice(line.lastIndexOf(" ") + 1));
      if (Number.isFinite(v)) return v;
    }
  }
  return undefined;
}

async function routeExists(base: URL, agent: http.Agent, path: string, apiKey: string | undefined): Promise<boolean> {
  const r = await simple(base, agent, "POST", path, apiKey, "{}");
  return r !== undefined && r.status !== 404 && r.status !== 405;
}

function emptyFindings(): Record<FindingKind, FindingSummary> {
  return {
    "server-error": { count: 0, groups: [] },
    shape: { count: 0, groups: [] },
    leak: { count: 0, groups: [] },
    "over-limit": { count: 0, groups: [] },
    transport: { count: 0, groups: [] },
    "rejected-valid": { count: 0, groups: [] },
  };
}

const MAX_GROUPS = 200;

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  await assertLoopbackTarget(options.url);
  const base = normalizeBase(options.url);
  const seed = options.seed ?? 1;
  const requests = options.only?.length ?? options.requests ?? 1000;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const maxTokens = Math.max(1, options.maxTokens ?? 8);
  const limitMs = options.requestTimeoutMs ?? 15_000;
  const maxDurationS = options.maxDurationS ?? 600;
  const hugeMaxBytes = options.hugeMaxBytes ?? Math.floor(2.5 * 1024 * 1024);
  const healthIntervalMs = options.healthIntervalMs ?? 250;
  const healthLimitMs = options.healthLimitMs ?? 1000;
  const keepIds = options.keepIds ?? 20;
  const log = options.log ?? (() => undefined);
  const apiKey = options.apiKey;
  const Agent = base.protocol === "https:" ? https.Agent : http.Agent;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency + 1 });
  const probeAgent = new Agent({ keepAlive: true, maxSockets: 2 });
  const healthAgent = new Agent({ keepAlive: true, maxSockets: 1 });

  try {
    // ---- probe ----
    const models = await simple(base, probeAgent, "GET", "/v1/models", apiKey);
    let modelId = "talaria";
    try {
      const id = (JSON.parse(models?.text ?? "{}") as { data?: { id?: unknown }[] }).data?.[0]?.id;
      if (typeof id === "string") modelId = id;
    } catch {
      // keep the default
    }
    const metricsText = async (): Promise<string | undefined> => {
      const r = await simple(base, probeAgent, "GET", "/metrics", apiKey);
      return r?.status === 200 ? r.text : undefined;
    };
    const firstMetrics = await metricsText();
    const maxN = Math.max(1, Math.min(4, prometheusValue(firstMetrics ?? "", "talaria:num_sequences_total") ?? 1));
    const routes = options.routes ?? {
      responses: await routeExists(base, probeAgent, "/v1/responses", apiKey),
      messages: await routeExists(base, probeAgent, "/v1/messages", apiKey),
    };
    const rss: RssSampler =
      options.rss ??
      (prometheusValue(firstMetrics ?? "", "process_resident_memory_bytes") !== undefined
        ? { source: "process_resident_memory_bytes from /metrics", sample: async () => prometheusValue((await metricsText()) ?? "", "process_resident_memory_bytes") }
        : { source: "unavailable: the server's /metrics has no process_resident_memory_bytes (pass --server-pid)", sample: async () => undefined });
    const generator: GeneratorOptions = {
      seed,
      maxTokens,
      modelId,
      maxN,
      routes,
      hugeMaxBytes,
      ...(options.weights === undefined ? {} : { weights: options.weights }),
    };
    log(`fuzz: ${base.origin} model ${modelId}, ${maxN} sequence(s), /v1/responses ${routes.responses ? "yes" : "absent"}, /v1/messages ${routes.messages ? "yes" : "absent"}`);

    const report: FuzzReport = {
      tool: "talaria fuzz",
      startedAt: new Date().toISOString(),
      seed,
      target: { url: base.origin, mode: options.mode ?? "external" },
      options: { requests, concurrency, maxTokens, requestTimeoutMs: limitMs, maxDurationS, hugeMaxBytes, ...(options.only === undefined ? {} : { replay: [...options.only] }) },
      routes,
      modelId,
      requests: { planned: requests, sent: 0, answered: 0, disconnected: 0, timedOut: 0, transportErrors: 0, staleSocketRetries: 0 },
      durationS: 0,
      stoppedByDuration: false,
      statusHistogram: {},
      categories: {},
      latencyMs: summarizeLatency([]),
      slowest: [],
      findings: emptyFindings(),
      health: { probes: 0, failures: 0, latencyMs: summarizeLatency([]), slowest: [], limitMs: healthLimitMs },
      rss: { source: rss.source },
      settle: { checked: false, settled: false, waitedMs: 0 },
      pass: false,
      failures: [],
    };

    const before = await rss.sample().catch(() => undefined);
    if (before !== undefined) {
      report.rss.beforeBytes = before;
      report.rss.peakBytes = before;
    }
    const notePeak = (v: number | undefined): void => {
      if (v !== undefined && (report.rss.peakBytes === undefined || v > report.rss.peakBytes)) report.rss.peakBytes = v;
    };

    // ---- health probe, and the loop's own delay ----
    const loopDelay = monitorEventLoopDelay({ resolution: 20 });
    loopDelay.enable();
    const t0 = performance.now();
    let running = true;
    const healthMs: number[] = [];
    const healthSamples: { atS: number; ms: number; status?: number }[] = [];
    const healthCase: FuzzCase = { id: -1, category: "valid", label: "health probe", route: "health", method: "GET", path: "/health", headers: {}, upload: { kind: "none" }, expect: "ok", stream: false };
    const healthLoop = (async () => {
      let tick = 0;
      while (running) {
        const started = performance.now();
        const outcome = await executeCase(healthCase, { base, agent: healthAgent, limitMs: Math.max(5000, healthLimitMs * 2) });
        const took = outcome.kind === "timeout" ? Math.max(5000, healthLimitMs * 2) : outcome.ms;
        const status = outcome.kind === "response" ? outcome.status : undefined;
        healthMs.push(took);
        healthSamples.push({ atS: (started - t0) / 1000, ms: took, ...(status === undefined ? {} : { status }) });
        report.health.probes++;
        if (status !== 200 || took >= healthLimitMs) report.health.failures++;
        if (++tick % 4 === 0) notePeak(await rss.sample().catch(() => undefined));
        const wait = healthIntervalMs - (performance.now() - started);
        if (wait > 0 && running) await sleep(wait);
      }
    })();

    // ---- the cases ----
    const latencies: number[] = [];
    const groupIndex = new Map<string, number>();
    const record = (kind: FindingKind, c: FuzzCase, outcome: FuzzOutcome, message: string): void => {
      const summary = report.findings[kind];
      summary.count++;
      const status = outcome.kind === "response" ? outcome.status : outcome.status;
      const signature = `${kind}|${status ?? "-"}|${c.method} ${c.route === "unknown" ? c.path.slice(0, 40) : c.path}|${c.category}|${c.upload.kind}|${message.replace(/\d+/g, "#").slice(0, 160)}`;
      const at = groupIndex.get(signature);
      if (at !== undefined) {
        const g = summary.groups[at];
        if (g !== undefined) {
          g.count++;
          if (g.caseIds.length < keepIds) g.caseIds.push(c.id);
        }
        return;
      }
      if (summary.groups.length >= MAX_GROUPS) return;
      const body = c.body === undefined ? "" : utf8.decode(c.body.subarray(0, 300));
      const example: FindingExample = {
        id: c.id,
        category: c.category,
        label: c.label,
        method: c.method,
        path: c.path,
        upload: c.upload.kind,
        requestBytes: c.body?.length ?? 0,
        requestExcerpt: body,
        ...(status === undefined ? {} : { status }),
        ms: Math.round(outcome.ms),
        message,
        ...(outcome.kind === "response" ? { responseExcerpt: utf8.decode(outcome.body.subarray(0, 400)) } : {}),
      };
      groupIndex.set(signature, summary.groups.length);
      summary.groups.push({ signature, kind, count: 1, caseIds: [c.id], example });
    };
    const countStatus = (category: FuzzCategory, key: string): void => {
      report.statusHistogram[key] = (report.statusHistogram[key] ?? 0) + 1;
      const cat = (report.categories[category] ??= { sent: 0, statuses: {} });
      cat.sent++;
      cat.statuses[key] = (cat.statuses[key] ?? 0) + 1;
    };

    const noteSlow = (x: FuzzReport["slowest"][number]): void => {
      const list = report.slowest;
      if (list.length >= 10 && (list[list.length - 1] as { ms: number }).ms >= x.ms) return;
      list.push(x);
      list.sort((a, b) => b.ms - a.ms);
      if (list.length > 10) list.pop();
    };
    const leakLiterals = options.leakLiterals ?? [];
    const deadline = t0 + maxDurationS * 1000;
    let next = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        if (options.signal?.aborted === true) return;
        if (performance.now() >= deadline) {
          if (next < requests) report.stoppedByDuration = true;
          return;
        }
        const index = next++;
        if (index >= requests) return;
        const id = options.only === undefined ? index : (options.only[index] as number);
        const c = generateCase(id, generator);
        report.requests.sent++;
        const startedAt = performance.now();
        const outcome = await executeCase(c, { base, agent, limitMs, ...(apiKey === undefined ? {} : { apiKey }) });
        options.onCase?.(c, outcome);
        switch (outcome.kind) {
          case "response": {
            report.requests.answered++;
            if (outcome.staleSocketRetry === true) report.requests.staleSocketRetries++;
            latencies.push(outcome.ms);
            noteSlow({ id: c.id, category: c.category, label: c.label, status: outcome.status, ms: outcome.ms, startS: (startedAt - t0) / 1000 });
            countStatus(c.category, String(outcome.status));
            if (outcome.status >= 500) record("server-error", c, outcome, `${outcome.status}: ${errorText(outcome)}`);
            for (const check of checkOutcome(c, outcome, { leakLiterals })) {
              record(check.kind === "shape" ? "shape" : check.kind === "leak" ? "leak" : "rejected-valid", c, outcome, check.message);
            }
            break;
          }
          case "disconnected":
            report.requests.disconnected++;
            countStatus(c.category, "disconnected");
            break;
          case "timeout":
            report.requests.timedOut++;
            countStatus(c.category, "timeout");
            record("over-limit", c, outcome, `no complete answer within ${limitMs} ms${outcome.status === undefined ? "" : ` (status ${outcome.status} arrived)`}`);
            break;
          case "transport-error":
            report.requests.transportErrors++;
            countStatus(c.category, "transport-error");
            record("transport", c, outcome, outcome.message);
            break;
          default:
            outcome satisfies never;
        }
        if (report.requests.sent % 500 === 0) log(`fuzz: ${report.requests.sent}/${requests} sent, ${report.findings["server-error"].count} 5xx, ${report.findings.shape.count} shape, ${report.findings.leak.count} leaks`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, requests) }, () => worker()));
    report.durationS = (performance.now() - t0) / 1000;

    // ---- settle: the server should go idle (no request running or waiting, no sequence held) ----
    const settleStart = performance.now();
    const settleMs = options.settleMs ?? 5000;
    let lastMetrics: string | undefined;
    for (;;) {
      const text = await metricsText();
      lastMetrics = text;
      const runningNow = text === undefined ? undefined : prometheusValue(text, "talaria:num_requests_running");
      if (text === undefined || runningNow === undefined) break;
      const waiting = prometheusValue(text, "talaria:num_requests_waiting") ?? 0;
      const busy = prometheusValue(text, "talaria:num_sequences_busy") ?? 0;
      Object.assign(report.settle, { checked: true, running: runningNow, waiting, sequencesBusy: busy, waitedMs: performance.now() - settleStart });
      if (runningNow === 0 && waiting === 0 && busy === 0) {
        report.settle.settled = true;
        break;
      }
      if (performance.now() - settleStart > settleMs) break;
      await sleep(100);
    }
    running = false;
    loopDelay.disable();
    report.health.loopMaxDelayMs = Math.round(loopDelay.max / 1e6);
    await healthLoop;
    const before5xx = count5xx(firstMetrics);
    const after5xx = count5xx(lastMetrics);
    if (before5xx !== undefined && after5xx !== undefined) report.serverCounted5xx = after5xx - before5xx;

    const after = await rss.sample().catch(() => undefined);
    if (after !== undefined) {
      report.rss.afterBytes = after;
      notePeak(after);
      if (report.rss.beforeBytes !== undefined) report.rss.deltaBytes = after - report.rss.beforeBytes;
    }
    report.latencyMs = summarizeLatency(latencies);
    report.health.latencyMs = summarizeLatency(healthMs);
    report.health.slowest = [...healthSamples].sort((a, b) => b.ms - a.ms).slice(0, 10);

    const f = report.findings;
    const failures = report.failures;
    if (f["server-error"].count > 0) failures.push(`${f["server-error"].count} 5xx`);
    if (f.shape.count > 0) failures.push(`${f.shape.count} shape violations`);
    if (f.leak.count > 0) failures.push(`${f.leak.count} leaks`);
    if (f["over-limit"].count > 0) failures.push(`${f["over-limit"].count} requests past the ${limitMs} ms limit`);
    if (f.transport.count > 0) failures.push(`${f.transport.count} requests unanswered (connection errors)`);
    const inProcess = (options.mode ?? "external") !== "external";
    if (inProcess && (report.health.loopMaxDelayMs ?? 0) >= healthLimitMs) failures.push(`the event loop (shared with the in-process server) was blocked for ${report.health.loopMaxDelayMs} ms, over ${healthLimitMs} ms`);
    if (report.health.failures > 0) failures.push(`${report.health.failures} /health probes failed or slower than ${healthLimitMs} ms (max ${Math.round(report.health.latencyMs.max)} ms)`);
    if (report.settle.checked && !report.settle.settled) failures.push("the server was not idle after the run (requests or sequences still held)");
    report.pass = failures.length === 0;
    return report;
  } finally {
    agent.destroy();
    probeAgent.destroy();
    healthAgent.destroy();
  }
}

/** Sum of `talaria:http_requests_total{…,status="5xx"}` (undefined when the server does not export it). */
export function count5xx(text: string | undefined): number | undefined {
  if (text === undefined || !text.includes("talaria:http_requests_total")) return undefined;
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith("talaria:http_requests_total{") || !/status="5\d\d"/.test(line)) continue;
    const v = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

function errorText(outcome: Extract<FuzzOutcome, { kind: "response" }>): string {
  const text = utf8.decode(outcome.body.subarray(0, 2000));
  try {
    const v = JSON.parse(text) as { error?: { message?: unknown; code?: unknown } };
    if (typeof v.error?.message === "string") return `${v.error.message}${typeof v.error.code === "string" ? ` (${v.error.code})` : ""}`;
  } catch {
    // not JSON
  }
  return text.slice(0, 120);
}

/** For replay output: the request of a case as text (the first `max` characters of the body). */
export function describeCase(c: FuzzCase, max = 2000): string {
  const body = requestText(c).slice(c.path.length + 1);
  const headers = Object.entries(c.headers)
    .map(([k, v]) => `${k}: ${v.length > 100 ? `${v.slice(0, 100)}…` : v}`)
    .join("\n");
  const upload = c.upload.kind === "chunked" ? `\n(chunked upload: ${c.upload.chunks.length + 1} writes, ${c.upload.delayMs} ms apart)` : "";
  const disconnect = c.disconnect === undefined ? "" : `\n(client disconnects: ${JSON.stringify(c.disconnect)})`;
  return `case ${c.id} [${c.category}] ${c.label}\n${c.method} ${c.path}\n${headers}${upload}${disconnect}\n\n${body.length > max ? `${body.slice(0, max)}… (${c.body?.length ?? 0} bytes)` : body}`;
}
