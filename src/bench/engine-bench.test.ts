import { describe, expect, it } from "vitest";
import { createHermesMockEngine } from "../../test/support/hermes-mock.js";
import { EngineBenchError, engineRatios, requiredContextSize, runEngineBench, type EngineTestResult } from "./engine-bench.js";
import { meanSd } from "./stats.js";

function result(name: string, kind: EngineTestResult["kind"], extra: Partial<EngineTestResult>): EngineTestResult {
  return { name, kind, promptTokens: 1, genTokens: 8, streams: 1, tokensPerSecond: meanSd([1]), loadAverageAfter: [0, 0, 0], ...extra };
}

describe("runEngineBench on the mock engine", () => {
  it("runs every test kind with the requested repetitions and lengths", async () => {
    const engine = createHermesMockEngine({ script: [], defaultReply: "abcdefghijklmnopqrstuvwxyz".repeat(4), sequences: 2, contextSize: 256, tokenDelayMs: 1 });
    const lines: string[] = [];
    const report = await runEngineBench(
      engine,
      { promptLengths: [8, 16], genLengths: [5], repetitions: 3, streams: [1, 2, 2], loglik: { requests: 4, context: 6, continuation: 2 }, log: (l) => lines.push(l) },
      { gpu: "mock" },
    );
    expect(report.tests.map((t) => t.name)).toEqual(["pp8", "pp16", "tg5", "tg5+json", "tg5+json+jf", "tg5 x1", "tg5 x2", "loglik 4x(6+2)"]);
    for (const t of report.tests) expect(t.tokensPerSecond.samples, t.name).toHaveLength(3);
    expect(report.tests.find((t) => t.name === "tg5")?.meanGeneratedTokens).toBe(5);
    expect(report.tests.find((t) => t.name === "tg5 x2")?.meanGeneratedTokens).toBe(5);
    expect(report.tests.find((t) => t.name === "pp8")?.ttftMs?.samples).toHaveLength(3);
    expect(report.tests.find((t) => t.kind === "loglik")?.requestsPerSecond?.mean).toBeGreaterThan(0);
    expect(report.config.streams).toEqual([1, 2]); // duplicates dropped
    expect(report.backend).toEqual({ gpu: "mock" });
    expect(report.model.sequences).toBe(2);
    expect(Object.keys(report.ratios)).toEqual(expect.arrayContaining(["streams 2 / streams 1"]));
    expect(lines).toHaveLength(8);
    await engine.dispose();
  });

  it("refuses more streams than sequences and lengths beyond the context", async () => {
    const engine = createHermesMockEngine({ script: [], sequences: 1, contextSize: 64 });
    await expect(runEngineBench(engine, { streams: [2], promptLengths: [8], genLengths: [4] })).rejects.toThrow(EngineBenchError);
    await expect(runEngineBench(engine, { promptLengths: [100], genLengths: [4], loglik: null })).rejects.toThrow(/need 102 tokens/);
    await expect(runEngineBench(engine, { repetitions: 0, promptLengths: [8], genLengths: [4] })).rejects.toThrow(/repetitions/);
    await engine.dispose();
  });
});

describe("engineRatios", () => {
  it("compares decode rates for grammar tests and aggregate rates for streams", () => {
    const tests = [
      result("tg8", "tg", { decodeTokensPerSecond: meanSd([100]) }),
      result("tg8+json", "tg-grammar", { decodeTokensPerSecond: meanSd([25]) }),
      result("tg8+json+jf", "tg-grammar-jf", { decodeTokensPerSecond: meanSd([50]) }),
      result("tg8 x1", "streams", { tokensPerSecond: meanSd([80]) }),
      result("tg8 x4", "streams", { streams: 4, tokensPerSecond: meanSd([200]) }),
    ];
    expect(engineRatios(tests)).toEqual({
      "tg8+json / tg8 (decode)": 0.25,
      "tg8+json+jf / tg8 (decode)": 0.5,
      "tg8+json+jf / tg8+json (decode)": 2,
      "streams 4 / streams 1": 2.5,
    });
  });

  it("computes the context a run needs", () => {
    expect(requiredContextSize({ promptLengths: [512], genLengths: [128] })).toBe(514);
    expect(requiredContextSize({ promptLengths: [8], genLengths: [300], loglik: null })).toBe(302);
    expect(requiredContextSize({ promptLengths: [8], genLengths: [4], loglik: { requests: 1, context: 100, continuation: 20 } })).toBe(121);
  });
});
