/** The fuzz report: aggregates, grouped findings with example cases, and its text rendering. */
import type { FuzzCategory } from "./types.js";

export type FindingKind = "server-error" | "shape" | "leak" | "over-limit" | "transport" | "rejected-valid";

/** One example of a finding: enough to replay it (`talaria fuzz --seed S --replay ID`). */
export interface FindingExample {
  readonly id: number;
  readonly category: FuzzCategory;
  readonly label: string;
  readonly method: string;
  readonly path: string;
  readonly upload: "none" | "length" | "chunked";
  readonly requestBytes: number;
  /** The first bytes of the request body (as text). */
  readonly requestExcerpt: string;
  readonly status?: number;
  readonly ms: number;
  readonly message: string;
  /** The first bytes of the response body. */
  readonly responseExcerpt?: string;
}

/** Findings with the same kind, status, method, path, category and message (digits folded). */
export interface FindingGroup {
  readonly signature: string;
  readonly kind: FindingKind;
  count: number;
  /** The first case ids (at most 20). */
  readonly caseIds: number[];
  readonly example: FindingExample;
}

export interface FindingSummary {
  /** Requests with this finding. */
  count: number;
  readonly groups: FindingGroup[];
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export interface FuzzReport {
  readonly tool: "talaria fuzz";
  readonly startedAt: string;
  readonly seed: number;
  readonly target: { readonly url: string; readonly mode: string };
  readonly options: {
    readonly requests: number;
    readonly concurrency: number;
    readonly maxTokens: number;
    readonly requestTimeoutMs: number;
    readonly maxDurationS: number;
    readonly hugeMaxBytes: number;
    readonly replay?: readonly number[];
  };
  readonly routes: { readonly responses: boolean; readonly messages: boolean };
  readonly modelId: string;
  readonly requests: {
    readonly planned: number;
    sent: number;
    /** A complete response arrived (any status). */
    answered: number;
    /** The client walked away on purpose. */
    disconnected: number;
    timedOut: number;
    transportErrors: number;
    /** Answered after one retry on a fresh connection (a reused keep-alive socket was reset first). */
    staleSocketRetries: number;
  };
  durationS: number;
  stoppedByDuration: boolean;
  /** Status → requests; `disconnected`, `timeout`, `transport-error` for the rest. */
  readonly statusHistogram: Record<string, number>;
  readonly categories: Record<string, { sent: number; readonly statuses: Record<string, number> }>;
  /** Latency of answered requests, ms. */
  latencyMs: LatencySummary;
  /** The slowest answered requests (what to look at when /health was slow). */
  slowest: { readonly id: number; readonly category: FuzzCategory; readonly label: string; readonly status: number; readonly ms: number; readonly startS: number }[];
  readonly findings: Record<FindingKind, FindingSummary>;
  health: {
    probes: number;
    /** Probes that did not answer 200 in time. */
    failures: number;
    latencyMs: LatencySummary;
    /** The slowest probes: seconds into the run and latency. */
    slowest: { readonly atS: number; readonly ms: number; readonly status?: number }[];
    readonly limitMs: number;
    /**
     * The longest the fuzzer's own event loop was blocked (`perf_hooks.monitorEventLoopDelay`), in ms. A probe
     * only sees a block while it is in flight; this sees every one. For an in-process target (`--mock`,
     * `--model`) the server shares this loop, so a block here stalls the server too and fails the run.
     */
    loopMaxDelayMs?: number;
  };
  rss: {
    readonly source: string;
    beforeBytes?: number;
    afterBytes?: number;
    peakBytes?: number;
    deltaBytes?: number;
  };
  /**
   * 5xx the server counted itself during the run (`talaria:http_requests_total`), when it exports it. More
   * than the client saw means failures nobody was answered about (e.g. disconnects counted as 500s).
   */
  serverCounted5xx?: number;
  settle: { checked: boolean; settled: boolean; waitedMs: number; running?: number; waiting?: number; sequencesBusy?: number };
  pass: boolean;
  failures: string[];
  /** What an in-process server logged during the run (filled by the caller that started it). */
  serverLog?: { readonly lines: number; readonly examples: readonly string[] };
}

export function summarizeLatency(values: readonly number[]): LatencySummary {
  if (values.length === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
  return { count: sorted.length, p50: at(50), p90: at(90), p99: at(99), max: sorted[sorted.length - 1] as number };
}

const KIND_TITLES: Readonly<Record<FindingKind, string>> = {
  "server-error": "5xx answers",
  shape: "error-shape / response-shape violations",
  leak: "leaked paths, stack traces or internal errors",
  "over-limit": "requests past their limit (no answer in time)",
  transport: "requests unanswered (connection errors)",
  "rejected-valid": "valid corpus requests answered 4xx (informational)",
};

const KIND_ORDER: readonly FindingKind[] = ["server-error", "shape", "leak", "over-limit", "transport", "rejected-valid"];

function mb(bytes: number | undefined): string {
  return bytes === undefined ? "?" : `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function ms(v: number): string {
  return v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}

/** The report as text (what `talaria fuzz` prints). */
export function formatFuzzReport(r: FuzzReport, options: { readonly examples?: number } = {}): string {
  const examples = options.examples ?? 5;
  const lines: string[] = [];
  const q = r.requests;
  lines.push(`talaria fuzz: seed ${r.seed}, ${q.sent}/${q.planned} requests in ${r.durationS.toFixed(1)} s against ${r.target.url} (${r.target.mode}), concurrency ${r.options.concurrency}${r.stoppedByDuration ? " — stopped by --duration" : ""}`);
  lines.push(`  answered ${q.answered}${q.staleSocketRetries > 0 ? ` (${q.staleSocketRetries} after a retry on a fresh connection: stale keep-alive socket)` : ""}, disconnected on purpose ${q.disconnected}, timed out ${q.timedOut}, connection errors ${q.transportErrors}; model ${r.modelId}`);
  lines.push(`  routes: chat, completions, tokenize, detokenize, apply-template, models, health, metrics; /v1/responses ${r.routes.responses ? "yes" : "absent"}, /v1/messages ${r.routes.messages ? "yes" : "absent"}`);
  lines.push(`  latency of answered requests: p50 ${ms(r.latencyMs.p50)}, p99 ${ms(r.latencyMs.p99)}, max ${ms(r.latencyMs.max)}`);
  if (r.slowest.length > 0 && r.slowest[0] !== undefined && r.slowest[0].ms >= 500) {
    lines.push("  slowest requests:");
    for (const x of r.slowest.slice(0, 5)) lines.push(`    ${ms(x.ms)} from ${x.startS.toFixed(1)} s: case ${x.id} [${x.category}] ${x.status} ${x.label.length > 120 ? `${x.label.slice(0, 120)}…` : x.label}`);
  }
  lines.push("");
  lines.push("status histogram:");
  for (const [status, n] of Object.entries(r.statusHistogram).sort(([a], [b]) => a.localeCompare(b))) lines.push(`  ${pad(status, 16)} ${n}`);
  lines.push("");
  lines.push(`${pad("category", 20)} ${pad("sent", 6)} statuses`);
  for (const [category, c] of Object.entries(r.categories)) {
    const statuses = Object.entries(c.statuses)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([s, n]) => `${s}×${n}`)
      .join(" ");
    lines.push(`${pad(category, 20)} ${pad(String(c.sent), 6)} ${statuses}`);
  }
  for (const kind of KIND_ORDER) {
    const f = r.findings[kind];
    lines.push("");
    lines.push(`${KIND_TITLES[kind]}: ${f.count}${f.count > 0 ? ` (${f.groups.length} distinct)` : ""}`);
    const groups = [...f.groups].sort((a, b) => b.count - a.count).slice(0, kind === "rejected-valid" ? 3 : 50);
    for (const g of groups) {
      const e = g.example;
      lines.push(`  ×${g.count} ${e.status ?? "-"} ${e.method} ${e.path.length > 60 ? `${e.path.slice(0, 60)}…` : e.path} [${e.category}${e.upload === "chunked" && e.category !== "chunked" ? ", chunked" : ""}] ${e.message}`);
      lines.push(`      e.g. case ${e.id}: ${e.label.length > 160 ? `${e.label.slice(0, 160)}…` : e.label}`);
      if (examples > 0 && e.responseExcerpt !== undefined && e.responseExcerpt !== "") lines.push(`      answer: ${JSON.stringify(e.responseExcerpt.slice(0, 200))}`);
      if (g.caseIds.length > 1) lines.push(`      cases: ${g.caseIds.slice(0, examples * 2).join(", ")}${g.count > g.caseIds.slice(0, examples * 2).length ? ", …" : ""}`);
    }
    if (f.groups.length > groups.length) lines.push(`  … ${f.groups.length - groups.length} more groups in the JSON report`);
  }
  lines.push("");
  const h = r.health;
  lines.push(`/health during the run: ${h.probes} probes, p50 ${ms(h.latencyMs.p50)}, p99 ${ms(h.latencyMs.p99)}, max ${ms(h.latencyMs.max)} (limit ${h.limitMs} ms), ${h.failures} failed`);
  if (h.loopMaxDelayMs !== undefined) lines.push(`event loop (this process${r.target.mode === "external" ? "" : ", the server's too"}): longest block ${ms(h.loopMaxDelayMs)}`);
  if (h.slowest.length > 0 && h.latencyMs.max >= 100) lines.push(`  slowest: ${h.slowest.slice(0, 5).map((s) => `${ms(s.ms)} at ${s.atS.toFixed(1)} s`).join(", ")}`);
  const rss = r.rss;
  lines.push(
    rss.beforeBytes === undefined && rss.afterBytes === undefined
      ? `RSS: unavailable (${rss.source})`
      : `RSS (${rss.source}): ${mb(rss.beforeBytes)} before → ${mb(rss.afterBytes)} after (${rss.deltaBytes === undefined ? "?" : `${rss.deltaBytes >= 0 ? "+" : ""}${mb(rss.deltaBytes)}`}), peak ${mb(rss.peakBytes)}`,
  );
  if (r.serverCounted5xx !== undefined) {
    const seen = r.findings["server-error"].count;
    lines.push(`5xx counted by the server (/metrics): ${r.serverCounted5xx}${r.serverCounted5xx > seen ? ` — ${r.serverCounted5xx - seen} more than the client saw (failures after the client left, e.g. disconnects counted as 500)` : ""}`);
  }
  const s = r.settle;
  lines.push(
    !s.checked
      ? "settle: not checked (no talaria: metrics)"
      : s.settled
        ? `settle: idle after the run (${Math.round(s.waitedMs)} ms)`
        : `settle: NOT idle ${Math.round(s.waitedMs)} ms after the run (running ${s.running}, waiting ${s.waiting}, sequences busy ${s.sequencesBusy})`,
  );
  if (r.serverLog !== undefined) {
    lines.push(`server log: ${r.serverLog.lines} line(s)${r.serverLog.lines > 0 ? " (server-side failures are logged with their cause; the first:)" : ""}`);
    for (const line of r.serverLog.examples.slice(0, 5)) lines.push(`  ${line.split("\n")[0]?.slice(0, 200)}`);
  }
  lines.push("");
  lines.push(r.pass ? "result: PASS" : `result: FAIL — ${r.failures.join("; ")}`);
  if (!r.pass) lines.push(`replay one case: talaria fuzz … --seed ${r.seed} --replay <case id>`);
  return lines.join("\n");
}
