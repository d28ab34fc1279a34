/** `--engine` parsing and the comparison ratios of `bench engine --engine embedded,llama-server` (no model). */
import { describe, expect, it } from "vitest";
import { comparisonRatios, parseEngineList } from "../../src/cli/commands/bench.js";
import { engineKind } from "../../src/cli/engine-loader.js";
import { managedLlamaServerArgs } from "../../src/engine/remote/index.js";
import { meanSd, type EngineBenchReport, type EngineTestResult } from "../../src/bench/index.js";

const tg = (rate: number, backendMs?: number): EngineTestResult => ({
  name: "tg128", kind: "tg", promptTokens: 1, genTokens: 128, streams: 1, tokensPerSecond: meanSd([rate]), loadAverageAfter: [],
  ...(backendMs === undefined ? {} : { backendMsPerToken: meanSd([backendMs]) }),
});
const report = (t: EngineTestResult): EngineBenchReport => ({ tests: [t] }) as unknown as EngineBenchReport;

describe("--engine", () => {
  it("takes embedded (the default) or llama-server", () => {
    expect(engineKind(undefined)).toBe("embedded");
    expect(engineKind("llama-server")).toBe("llama-server");
    expect(() => engineKind("vllm")).toThrow(/--engine must be embedded or llama-server/);
    expect(parseEngineList("embedded, llama-server")).toEqual(["embedded", "llama-server"]);
    expect(() => parseEngineList("embedded,embedded")).toThrow(/twice/);
  });

  it("maps Talaria's flags to llama-server's", () => {
    const args = managedLlamaServerArgs({ model: "m.gguf", contextSize: 1024, parallel: 4, threads: 2, gpu: false }, { noUi: "--no-ui", contBatching: true, metrics: true });
    expect(args).toEqual(["-m", "m.gguf", "-c", "4096", "-np", "4", "-t", "2", "-ngl", "0", "--cont-batching", "--metrics", "--no-ui"]);
    expect(managedLlamaServerArgs({ model: "m.gguf", contextSize: 512, parallel: 1, threads: 1 }, { contBatching: false, metrics: false })).toContain("999");
  });

  it("reports each engine ÷ the first and ÷ llama-server's own decode rate", () => {
    const ratios = comparisonRatios([
      { engine: "embedded", report: report(tg(500)) },
      { engine: "llama-server", report: report(tg(900, 1)) },
    ]);
    expect(ratios["llama-server / embedded tg128 (decode)"]).toBeCloseTo(1.8);
    expect(ratios["embedded / llama-server's own tg128 (decode)"]).toBeCloseTo(0.5);
    expect(ratios["llama-server / llama-server's own tg128 (decode)"]).toBeCloseTo(0.9);
  });
});
