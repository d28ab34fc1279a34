/**
 * A short seeded slice of `talaria fuzz` (src/bench/fuzz/) against the in-process mock-engine server of
 * `talaria fuzz --mock`: ~300 requests at concurrency 4 over every route (mutated and malformed bodies,
 * adversarial schemas and tools, odd headers and methods, huge and chunked bodies, disconnects). Fails on
 * any 5xx, error-shape violation, leaked path or stack trace, or /health answer slower than 1 s.
 */
import process from "node:process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockFuzzServer, serverLogSummary, PROCESS_RSS, type MockFuzzServer } from "../../src/cli/commands/fuzz.js";
import { formatFuzzReport, runFuzz, type FindingKind, type FuzzReport } from "../../src/bench/fuzz/index.js";

const SEED = 16;
const REQUESTS = 300;

let server: MockFuzzServer;
let report: FuzzReport;

/** One line per distinct finding: status, method, path, category, message, an example case. */
function findings(kind: FindingKind): string[] {
  return report.findings[kind].groups.map((g) => `${g.example.status ?? "-"} ${g.example.method} ${g.example.path} [${g.example.category}] ${g.example.message} ×${g.count} (e.g. case ${g.example.id}: ${g.example.label.slice(0, 120)})`);
}

describe("fuzz slice (mock engine, seeded)", () => {
  beforeAll(async () => {
    server = await startMockFuzzServer();
    report = await runFuzz({
      url: server.url,
      mode: "mock (in-process)",
      seed: SEED,
      requests: REQUESTS,
      concurrency: 4,
      maxTokens: 8,
      requestTimeoutMs: 15_000,
      maxDurationS: 240,
      rss: PROCESS_RSS,
      leakLiterals: [process.cwd()],
    });
    report.serverLog = serverLogSummary(server.logs);
    if (!report.pass) process.stderr.write(`${formatFuzzReport(report)}\n`);
  }, 300_000);

  afterAll(async () => {
    await server?.close();
  });

  it("sent the whole slice and covered every category", () => {
    expect(report.requests.sent).toBe(REQUESTS);
    expect(Object.keys(report.categories).length).toBeGreaterThanOrEqual(10);
    expect(report.health.probes).toBeGreaterThan(0);
  });

  it("no 5xx", () => {
    expect(findings("server-error")).toEqual([]);
  });

  it("every error has OpenAI's shape and every 2xx its route's shape", () => {
    expect(findings("shape")).toEqual([]);
  });

  it("no leaked paths, stack traces or internal error texts", () => {
    expect(findings("leak")).toEqual([]);
  });

  it("every request answered within its limit", () => {
    expect([...findings("over-limit"), ...findings("transport")]).toEqual([]);
  });

  it("/health answered within 1 s throughout", () => {
    expect(report.health.failures).toBe(0);
    expect(report.health.latencyMs.max).toBeLessThan(1000);
  });

  it("the server is idle afterwards (no request or sequence leaked by disconnects)", () => {
    expect(report.settle).toMatchObject({ checked: true, settled: true });
  });
});
