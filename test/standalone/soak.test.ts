/** The soak runner (`talaria bench soak`), briefly, against an in-process mock-engine server (its RSS is this process's). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatSoakReport, readRss, runSoak, soakBody, SOAK_KINDS } from "../../src/bench/soak.js";
import { startMockServer, type MockServer } from "./server-helpers.js";

describe("bench soak", () => {
  let server: MockServer;
  beforeAll(async () => {
    server = await startMockServer({ engine: { script: () => "Hello there, this is the mock.", contextSize: 1024 }, server: { maxQueue: 16 } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("builds a distinct JSON schema per request", () => {
    const a = JSON.stringify(soakBody("json-schema", 1, 8));
    const b = JSON.stringify(soakBody("json-schema", 2, 8));
    expect(a).not.toBe(b);
    expect(a).toContain("field_1_0");
  });

  it("runs every kind of request, samples RSS and computes growth after the warm-up", async () => {
    const samples: number[] = [];
    const report = await runSoak({
      url: server.url,
      pid: process.pid,
      durationMs: 2500,
      warmupMs: 500,
      sampleEveryMs: 400,
      concurrency: 3,
      maxTokens: 8,
      seed: 3,
      onSample: (s) => samples.push(s.rssBytes),
    });
    expect(report.failures).toBe(0);
    expect(report.requests).toBeGreaterThan(10);
    for (const kind of SOAK_KINDS) expect(Object.values(report.outcomes[kind]).reduce((a, b) => a + b, 0), kind).toBeGreaterThan(0);
    expect(report.outcomes.disconnect.aborted).toBeGreaterThan(0);
    expect(Object.keys(report.outcomes["json-schema"])).toEqual(["200"]);
    expect(report.samples.length).toBeGreaterThanOrEqual(3);
    expect(samples.length).toBe(report.samples.length);
    expect(report.growthAfterWarmup).toBeCloseTo((report.rssLastBytes - report.rssAfterWarmupBytes) / report.rssAfterWarmupBytes, 10);
    expect(await readRss(process.pid)).toBeGreaterThan(10 * 2 ** 20);
    expect(formatSoakReport(report)).toMatch(/^soak: \d+ requests in \d+ s at concurrency 3; 0 failures/);
  });
});
