import { describe, expect, it } from "vitest";
import { computeServeMetrics, GoodputParseError, parseGoodput, peakOutputAndConcurrency, type RequestRecord } from "./serve-metrics.js";

function record(r: Partial<RequestRecord> & Pick<RequestRecord, "startTime" | "ttft" | "itl" | "latency" | "outputTokens" | "promptTokens">): RequestRecord {
  return { success: true, generatedText: "", toolCallChunks: 0, outputTokensSource: "usage", ...r };
}

// Hand-computed example (times in seconds):
//   A: start 0,    TTFT 0.1, ITL 20/30/50 ms, E2EL 0.2, 4 output tokens  → TPOT (0.2−0.1)/3 = 33.33 ms
//   B: start 0.05, TTFT 0.3, no ITL,          E2EL 0.3, 1 output token   → no TPOT (0 for goodput)
//   C: failed
//   D: start 0.1,  TTFT 0.2, ITL 100/100 ms,  E2EL 0.4, 5 output tokens  → TPOT 0.2/4 = 50 ms (chunks ≠ tokens)
const A = record({ startTime: 0, ttft: 0.1, strictTtft: 0.15, itl: [0.02, 0.03, 0.05], latency: 0.2, outputTokens: 4, promptTokens: 10 });
const B = record({ startTime: 0.05, ttft: 0.3, strictTtft: 0.3, itl: [], latency: 0.3, outputTokens: 1, promptTokens: 20 });
const C: RequestRecord = { ...record({ startTime: 0.07, ttft: 0, itl: [], latency: 0, outputTokens: 0, promptTokens: 99 }), success: false, error: "HTTP 500" };
const D = record({ startTime: 0.1, ttft: 0.2, itl: [0.1, 0.1], latency: 0.4, outputTokens: 5, promptTokens: 30 });

describe("computeServeMetrics (vLLM calculate_metrics)", () => {
  const m = computeServeMetrics([A, B, C, D], 2.0, { percentiles: [50, 99] });

  it("counts successes, tokens and throughputs over the run duration", () => {
    expect(m.completed).toBe(3);
    expect(m.failed).toBe(1);
    expect(m.totalInput).toBe(60); // the failed request's prompt does not count
    expect(m.totalOutput).toBe(10);
    expect(m.requestThroughput).toBeCloseTo(1.5, 12);
    expect(m.outputThroughput).toBeCloseTo(5, 12);
    expect(m.totalTokenThroughput).toBeCloseTo(35, 12);
    expect(m.requestGoodput).toBeUndefined();
  });

  it("TTFT and E2EL over successful requests", () => {
    expect(m.ttftMs.mean).toBeCloseTo(200, 9);
    expect(m.ttftMs.median).toBeCloseTo(200, 9);
    expect(m.ttftMs.percentiles["99"]).toBeCloseTo(298, 9);
    expect(m.e2elMs.mean).toBeCloseTo(300, 9);
    expect(m.e2elMs.percentiles["99"]).toBeCloseTo(398, 9);
    expect(m.ttftMs.std).toBeCloseTo(Math.sqrt(20000 / 3), 6); // population sd of 100, 200, 300
  });

  it("TPOT only for requests with more than one output token", () => {
    expect(m.tpotMs.count).toBe(2);
    expect(m.tpotMs.mean).toBeCloseTo((100 / 3 + 50) / 2, 9);
    expect(m.tpotMs.percentiles["99"]).toBeCloseTo(100 / 3 + 0.99 * (50 - 100 / 3), 9);
  });

  it("ITL pooled per chunk across requests", () => {
    expect(m.itlMs.count).toBe(5);
    expect(m.itlMs.mean).toBeCloseTo(60, 9);
    expect(m.itlMs.median).toBeCloseTo(50, 9);
    expect(m.itlMs.percentiles["99"]).toBeCloseTo(100, 9);
  });

  it("strict TTFT over requests that had a content or tool delta", () => {
    expect(m.strictTtftMs.count).toBe(2);
    expect(m.strictTtftMs.mean).toBeCloseTo(225, 9);
  });

  it("peak chunks per 1-s bucket and peak concurrency", () => {
    expect(m.maxOutputTokensPerS).toBe(8); // 4 + 1 + 3 chunks, all in the first second
    expect(m.maxConcurrentRequests).toBe(3);
  });

  it("goodput: a request is good only if it meets every SLO (≤), TPOT counting 0 for ≤ 1 token", () => {
    expect(computeServeMetrics([A, B, C, D], 2.0, { goodput: { ttft: 250, tpot: 40 } }).requestGoodput).toBeCloseTo(0.5, 12); // only A
    expect(computeServeMetrics([A, B, C, D], 2.0, { goodput: { tpot: 40 } }).requestGoodput).toBeCloseTo(1.0, 12); // A and B
    expect(computeServeMetrics([A, B, C, D], 2.0, { goodput: { ttft: 200 } }).requestGoodput).toBeCloseTo(1.0, 12); // A and D (200 ≤ 200)
    expect(computeServeMetrics([A, B, C, D], 2.0, { goodput: { e2el: 250 } }).requestGoodput).toBeCloseTo(0.5, 12); // A
  });

  it("is all zeros when every request failed", () => {
    const z = computeServeMetrics([C], 1);
    expect(z.completed).toBe(0);
    expect(z.ttftMs.mean).toBe(0);
    expect(z.maxOutputTokensPerS).toBe(0);
    expect(() => computeServeMetrics([C], 0)).toThrow(RangeError);
  });

  it("splits peak buckets by second from the earliest start", () => {
    const late = record({ startTime: 1.5, ttft: 0.1, itl: [0.5, 0.5], latency: 1.1, outputTokens: 3, promptTokens: 1 });
    // chunk times 1.6 (bucket 1), 2.1 and 2.6 (bucket 2) relative to min start 0 (request A)
    expect(peakOutputAndConcurrency([A, late])).toEqual({ maxOutputTokensPerS: 4, maxConcurrentRequests: 1 });
  });
});

describe("parseGoodput", () => {
  it("parses space-, comma- and array-separated SLOs", () => {
    expect(parseGoodput("ttft:500 tpot:50")).toEqual({ ttft: 500, tpot: 50 });
    expect(parseGoodput(["ttft:500,e2el:3000.5"])).toEqual({ ttft: 500, e2el: 3000.5 });
    expect(parseGoodput(["tpot:1", "e2el:2"])).toEqual({ tpot: 1, e2el: 2 });
  });

  it("rejects unknown metrics, bad values and duplicates", () => {
    expect(() => parseGoodput("itl:5")).toThrow(GoodputParseError);
    expect(() => parseGoodput("ttft:-1")).toThrow(GoodputParseError);
    expect(() => parseGoodput("ttft:abc")).toThrow(GoodputParseError);
    expect(() => parseGoodput("ttft:1 ttft:2")).toThrow(/twice/);
  });
});
