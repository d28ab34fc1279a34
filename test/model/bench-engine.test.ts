/**
 * `talaria bench engine` on the random tiny model with tiny lengths: every test kind runs on the real
 * llama.cpp engine, the in-process server comparison works, and the report files are written.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { runBenchEngineCommand, type BenchEngineFlags } from "../../src/cli/commands/bench.js";
import { ensureTestModel } from "../../src/testmodels/index.js";

describe("talaria bench engine (random tiny model)", () => {
  it("measures pp, tg, tg+json with and without jump-forward, streams, loglik and the server path, and writes JSON + SVG", async () => {
    const model = await ensureTestModel({ kind: "random" });
    const dir = await mkdtemp(path.join(os.tmpdir(), "talaria-bench-engine-"));
    try {
      const flags: BenchEngineFlags = {
        model,
        threads: 1,
        gpu: "off",
        promptLengths: [16],
        genLengths: [8],
        repetitions: 2,
        streams: [1, 2],
        grammar: true,
        jumpForward: true,
        loglik: true,
        loglikRequests: 4,
        loglikContext: 8,
        loglikContinuation: 2,
        ignoreEos: true,
        seed: 3,
        server: true,
        serverRequests: 2,
        serverInputLen: 16,
        output: dir,
      };
      const lines: string[] = [];
      const { report, files } = await runBenchEngineCommand(flags, (l) => lines.push(l));
      expect(report.tests.map((t) => t.name)).toEqual(["pp16", "tg8", "tg8+json", "tg8+json+jf", "tg8 x1", "tg8 x2", "loglik 4x(8+2)"]);
      for (const t of report.tests) {
        expect(t.tokensPerSecond.samples, t.name).toHaveLength(2);
        expect(t.tokensPerSecond.mean, t.name).toBeGreaterThan(0);
      }
      const tg = report.tests.find((t) => t.name === "tg8");
      expect(tg?.meanGeneratedTokens).toBe(8); // end-of-generation banned: always the full length
      expect(report.tests.find((t) => t.name === "tg8 x2")?.meanGeneratedTokens).toBe(8);
      expect(report.tests.find((t) => t.kind === "loglik")?.requestsPerSecond?.mean).toBeGreaterThan(0);
      expect(report.model.sequences).toBe(2);
      expect(report.backend).toMatchObject({ gpu: "cpu", threads: 1 });
      expect(Object.keys(report.ratios)).toEqual(expect.arrayContaining(["tg8+json / tg8 (decode)", "tg8+json+jf / tg8+json (decode)", "streams 2 / streams 1", "server 1 / engine streams 1 (output tok/s)", "server 2 / engine streams 2 (output tok/s)", "server 1 / engine streams 1 (decode, 1/TPOT)"]));
      expect(report.config.jumpForward).toBe(true);
      const server = report.server;
      expect(server?.levels.map((l) => l.concurrency)).toEqual([1, 2]);
      for (const level of server?.levels ?? []) {
        expect(level.metrics.completed).toBe(2);
        expect(level.metrics.totalOutput).toBeGreaterThan(0);
        expect(level.requests.every((r) => r.outputTokensSource === "usage")).toBe(true);
      }
      expect(server?.prompts.calibratedWithTokenize).toBe(true);
      expect((await readdir(dir)).sort()).toEqual(["engine-tests.svg", "engine.json", "streams.svg"]);
      expect(files).toHaveLength(3);
      for (const svg of ["engine-tests.svg", "streams.svg"]) expect(XMLValidator.validate(await readFile(path.join(dir, svg), "utf8"))).toBe(true);
      expect(lines.some((l) => l.startsWith("pp16"))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
