/**
 * `talaria bench serve` against a tiny in-process OpenAI-compatible server (node:http) that streams
 * chat chunks with known delays: SSE parsing and vLLM's per-request timing, the load generator, the
 * loopback guard, and the report files.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RemoteTargetError, runServeBench, streamChatCompletion } from "../../src/bench/index.js";
import { runBenchServeCommand } from "../../src/cli/commands/bench.js";

type Mode = "content" | "tools" | "fail" | "slow" | "no-usage";

interface FakeServer {
  url: string;
  bodies: Record<string, unknown>[];
  headers: http.IncomingHttpHeaders[];
  mode: Mode;
  /** Delay of the first content chunk after the role-only chunk (ms). */
  firstContentDelayMs: number;
  /** Delay of the usage chunk after the last choices chunk (ms). */
  usageDelayMs: number;
  tokenizeCalls: number;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function startFakeServer(): Promise<FakeServer> {
  const state = { bodies: [] as Record<string, unknown>[], headers: [] as http.IncomingHttpHeaders[], mode: "content" as Mode, firstContentDelayMs: 60, usageDelayMs: 120, tokenizeCalls: 0 };
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (d: Buffer) => (raw += d.toString("utf8")));
    req.on("end", () => {
      void (async () => {
        if (req.method === "GET" && req.url === "/v1/models") {
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: [{ id: "fake-model", object: "model" }] }));
          return;
        }
        if (req.method === "POST" && req.url === "/tokenize") {
          state.tokenizeCalls++;
          const body = JSON.parse(raw) as { content?: string };
          // 1.25 tokens per word, so calibration has work to do
          const n = Math.round((body.content ?? "").split(" ").filter(Boolean).length * 1.25);
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ tokens: Array.from({ length: n }, (_, i) => i) }));
          return;
        }
        if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
          res.writeHead(404).end();
          return;
        }
        const body = JSON.parse(raw) as Record<string, unknown> & { max_tokens: number };
        state.bodies.push(body);
        state.headers.push(req.headers);
        if (state.mode === "fail") {
          res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "boom" } }));
          return;
        }
        res.writeHead(200, { "content-type": "text/event-stream" });
        const chunk = (delta: Record<string, unknown>, finish: string | null = null): string =>
          `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "fake-model", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
        res.write(": keep-alive ping\n\n");
        res.write(chunk({ role: "assistant", content: "" }));
        await sleep(state.firstContentDelayMs);
        const n = state.mode === "slow" ? 1000 : body.max_tokens;
        for (let i = 0; i < n; i++) {
          if (res.destroyed) return;
          const delta = state.mode === "tools"
            ? { tool_calls: [{ index: 0, ...(i === 0 ? { id: "call_1", type: "function", function: { name: "f", arguments: "" } } : { function: { arguments: "x" } }) }] }
            : { content: `w${i} ` };
          const text = chunk(delta, i === n - 1 ? (state.mode === "tools" ? "tool_calls" : "length") : null);
          // split one message across two writes, mid-JSON
          const cut = Math.floor(text.length / 2);
          res.write(text.slice(0, cut));
          await sleep(state.mode === "slow" ? 50 : 2);
          res.write(text.slice(cut));
        }
        await sleep(state.usageDelayMs);
        if (state.mode !== "no-usage") {
          res.write(`data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", choices: [], usage: { prompt_tokens: 42, completion_tokens: n, total_tokens: 42 + n } })}\n\n`);
        }
        res.end("data: [DONE]\n\n");
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

let fake: FakeServer;
beforeAll(async () => {
  fake = await startFakeServer();
});
afterAll(async () => {
  await fake.close();
});

describe("streamChatCompletion (vLLM per-request timing)", () => {
  it("times TTFT at the role chunk, strict TTFT at the first content, and ends E2EL at the last choices chunk", async () => {
    fake.mode = "content";
    const s = await streamChatCompletion({ endpoint: `${fake.url}/v1/chat/completions`, body: { model: "m", messages: [], max_tokens: 5 } });
    const resolvedAt = performance.now() / 1000;
    expect(s.success).toBe(true);
    expect(s.generatedText).toBe("w0 w1 w2 w3 w4 ");
    expect(s.usage).toEqual({ promptTokens: 42, completionTokens: 5 });
    expect(s.itl).toHaveLength(5); // 6 choices messages (role + 5 content) → 5 gaps; comment, usage and [DONE] skipped
    expect(s.strictTtft).toBeDefined();
    expect(s.strictTtft as number).toBeGreaterThanOrEqual(0.058); // the first content is sent 60 ms after the role chunk
    expect(s.strictTtft as number).toBeGreaterThan(s.ttft);
    expect(s.itl[0]).toBeCloseTo((s.strictTtft as number) - s.ttft, 9);
    expect(s.latency).toBeCloseTo(s.ttft + s.itl.reduce((a, b) => a + b, 0), 9);
    expect(resolvedAt - s.startTime - s.latency).toBeGreaterThanOrEqual(0.09); // the usage chunk 120 ms later does not count
    expect(s.finishReason).toBe("length");
    // stream and include_usage are forced
    expect(fake.bodies.at(-1)).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("counts tool-call deltas for the strict TTFT", async () => {
    fake.mode = "tools";
    const s = await streamChatCompletion({ endpoint: `${fake.url}/v1/chat/completions`, body: { model: "m", messages: [], max_tokens: 3 } });
    expect(s.success).toBe(true);
    expect(s.toolCallChunks).toBe(3);
    expect(s.generatedText).toBe("");
    expect(s.strictTtft).toBeGreaterThan(s.ttft);
    expect(s.finishReason).toBe("tool_calls");
  });

  it("reports HTTP errors, refused connections and aborts as failures", async () => {
    fake.mode = "fail";
    const s = await streamChatCompletion({ endpoint: `${fake.url}/v1/chat/completions`, body: { messages: [] } });
    expect(s).toMatchObject({ success: false, status: 500 });
    expect(s.error).toMatch(/HTTP 500.*boom/);
    const refused = await streamChatCompletion({ endpoint: "http://127.0.0.1:1/v1/chat/completions", body: {} });
    expect(refused.success).toBe(false);
    fake.mode = "slow";
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const aborted = await streamChatCompletion({ endpoint: `${fake.url}/v1/chat/completions`, body: { max_tokens: 5 }, signal: controller.signal });
    expect(aborted.success).toBe(false);
    expect(aborted.error).toMatch(/abort/i);
  });
});

describe("runServeBench", () => {
  it("runs each concurrency level with vLLM's metrics, calibrated prompts and ignore_eos", async () => {
    fake.mode = "content";
    fake.bodies.length = 0;
    fake.headers.length = 0;
    const lines: string[] = [];
    const report = await runServeBench({
      url: `${fake.url}/v1`,
      apiKey: "sk-test",
      concurrency: [1, 3],
      requests: 4,
      inputLen: 40,
      outputLen: 6,
      seed: 7,
      goodput: { ttft: 60_000 },
      log: (l) => lines.push(l),
    });
    expect(report.config.model).toBe("fake-model");
    expect(report.prompts.calibratedWithTokenize).toBe(true);
    expect(report.prompts.meanTokens).toBeGreaterThanOrEqual(39);
    expect(report.prompts.meanTokens).toBeLessThanOrEqual(41);
    expect(report.levels.map((l) => l.concurrency)).toEqual([1, 3]);
    for (const level of report.levels) {
      const m = level.metrics;
      expect(m.completed).toBe(4);
      expect(m.failed).toBe(0);
      expect(m.totalOutput).toBe(24); // usage.completion_tokens
      expect(m.totalInput).toBe(4 * 42); // usage.prompt_tokens overrides the client's count
      expect(m.tpotMs.count).toBe(4);
      expect(m.itlMs.count).toBe(4 * 6); // role chunk + 6 content chunks per request
      expect(m.strictTtftMs.median).toBeGreaterThan(m.ttftMs.median);
      expect(m.requestGoodput).toBeCloseTo(m.requestThroughput, 9);
      expect(m.outputThroughput).toBeCloseTo(24 / level.durationS, 9);
      expect(level.loadAverageBefore).toHaveLength(3);
      expect(level.requests.every((r) => r.outputTokensSource === "usage")).toBe(true);
    }
    expect(report.levels[1]?.metrics.maxConcurrentRequests).toBeGreaterThanOrEqual(2);
    expect(report.levels[0]?.metrics.maxConcurrentRequests).toBe(1);
    // warm-up + 2 × 4 requests, each with the benchmark fields
    expect(fake.bodies).toHaveLength(9);
    for (const b of fake.bodies) expect(b).toMatchObject({ model: "fake-model", max_tokens: 6, max_completion_tokens: 6, ignore_eos: true });
    expect(new Set(fake.bodies.map((b) => JSON.stringify(b.messages))).size).toBe(9); // unique prompts
    expect(fake.headers.every((h) => h.authorization === "Bearer sk-test")).toBe(true);
    expect(lines).toHaveLength(2);
  });

  it("counts output tokens by /tokenize when the server sends no usage", async () => {
    fake.mode = "no-usage";
    const report = await runServeBench({ url: fake.url, concurrency: [2], requests: 2, inputLen: 8, outputLen: 4, warmupRequests: 0 });
    const level = report.levels[0];
    expect(level?.requests.every((r) => r.outputTokensSource === "tokenize")).toBe(true);
    // "w0 w1 w2 w3 " → 4 words × 1.25 = 5 tokens from the fake tokenizer
    expect(level?.metrics.totalOutput).toBe(10);
  });

  it("stops a level at --max-duration and counts aborted requests as failed", async () => {
    fake.mode = "slow";
    const started = performance.now();
    const report = await runServeBench({ url: fake.url, concurrency: [2], requests: 10, inputLen: 8, outputLen: 4, warmupRequests: 0, maxDurationS: 0.4 });
    expect(performance.now() - started).toBeLessThan(10_000);
    const level = report.levels[0];
    expect(level?.stoppedByTimeLimit).toBe(true);
    expect(level?.requestsSent).toBe(2);
    expect(level?.metrics.failed).toBe(2);
    expect(level?.metrics.completed).toBe(0);
  });

  it("fails fast when the warm-up request fails", async () => {
    fake.mode = "fail";
    await expect(runServeBench({ url: fake.url, requests: 1, inputLen: 4, outputLen: 2 })).rejects.toThrow(/warm-up request failed: HTTP 500/);
  });

  it("refuses a non-loopback target before sending anything", async () => {
    const before = fake.bodies.length;
    await expect(runServeBench({ url: "http://10.11.12.13:8000", requests: 1 })).rejects.toThrow(RemoteTargetError);
    await expect(runServeBench({ url: "http://10.11.12.13:8000", requests: 1 })).rejects.toThrow(/--allow-remote/);
    expect(fake.bodies.length).toBe(before);
  });
});

describe("bench serve command", () => {
  it("writes the JSON report and well-formed SVG charts; sends tools and response_format from files", async () => {
    fake.mode = "content";
    fake.bodies.length = 0;
    const dir = await mkdtemp(path.join(os.tmpdir(), "talaria-bench-serve-"));
    try {
      const tools = path.join(dir, "tools.json");
      const schema = path.join(dir, "schema.json");
      await (await import("node:fs/promises")).writeFile(tools, JSON.stringify([{ type: "function", function: { name: "f", parameters: { type: "object" } } }]));
      await (await import("node:fs/promises")).writeFile(schema, JSON.stringify({ type: "object", properties: { a: { type: "string" } } }));
      const out = path.join(dir, "out");
      const { report, files } = await runBenchServeCommand(
        {
          url: fake.url,
          concurrency: [1, 2, 4],
          requests: 4,
          inputLen: 16,
          outputLen: 3,
          seed: 1,
          ignoreEos: false,
          percentiles: [50, 99],
          maxDuration: 60,
          warmup: 0,
          tokenize: false,
          tools,
          toolChoice: "f",
          jsonSchema: schema,
          goodput: ["ttft:10000", "tpot:5000"],
          output: out,
        },
        () => {},
      );
      expect(report.prompts.calibratedWithTokenize).toBe(false);
      expect(report.config.goodput).toEqual({ ttft: 10000, tpot: 5000 });
      const names = (await readdir(out)).sort();
      expect(names).toEqual(["e2el.svg", "requests.svg", "serve.json", "throughput.svg", "tpot-itl.svg", "ttft.svg"]);
      expect(files).toHaveLength(6);
      const json = JSON.parse(await readFile(path.join(out, "serve.json"), "utf8")) as typeof report;
      expect(json.levels.map((l) => l.concurrency)).toEqual([1, 2, 4]);
      for (const name of names.filter((n) => n.endsWith(".svg"))) {
        const svg = await readFile(path.join(out, name), "utf8");
        expect(XMLValidator.validate(svg), name).toBe(true);
        expect(svg).toContain("concurrency (log₂ scale)");
      }
      const body = fake.bodies[0] as Record<string, unknown>;
      expect(body.ignore_eos).toBeUndefined();
      expect(body.tools).toHaveLength(1);
      expect(body.tool_choice).toEqual({ type: "function", function: { name: "f" } });
      expect(body.response_format).toEqual({ type: "json_schema", json_schema: { name: "bench", schema: { type: "object", properties: { a: { type: "string" } } }, strict: true } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
