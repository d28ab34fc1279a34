/**
 * Benchmark (not a test): raw engine tokens/s vs the same generation through `talaria serve` (single
 * stream), and aggregate tokens/s at 1/2/4/8 concurrent streams, on generated random models.
 *
 * Build and run (Node 20 has no TypeScript loader):
 *   npx tsc -p tsconfig.json --noEmit false --outDir out/build &&
 *   TALARIA_SHARED_DIR=../shared node out/build/bench/server-vs-engine.js
 * Environment: BENCH_THREADS (default 2), BENCH_TOKENS (default 128), BENCH_GPU (auto|off, default auto),
 *   BENCH_MODELS (comma list of tiny, mid, mock; default tiny,mid), BENCH_CONCURRENCY (default 1,2,4,8).
 * `mock` is the scripted mock engine with no delay: it isolates the server's own per-token cost (HTTP,
 * chat service, tool-call parser, SSE encoding) from the model's.
 */
import { createParser } from "eventsource-parser";
import { createLlamaCppEngine } from "../src/engine/llama-cpp/index.js";
import type { Engine } from "../src/engine/types.js";
import { ensureTestModel } from "../src/testmodels/index.js";
import { createServeBackend } from "../src/cli/commands/serve.js";
import { startServer } from "../src/server/server.js";
import { createMockEngine } from "../src/engine/mock/mock-engine.js";

const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 128);
const GPU = process.env.BENCH_GPU === "off" ? false : "auto";
const MODELS = (process.env.BENCH_MODELS ?? "tiny,mid").split(",");
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? "1,2,4,8").split(",").map(Number);
const MAX_PARALLEL = Math.max(...CONCURRENCY);

const MODEL_SPECS = {
  tiny: { kind: "random" as const },
  mid: { kind: "random" as const, hidden: 1024, layers: 8, heads: 16, kvHeads: 4, ffn: 2816 },
};

const PROMPT = (i: number): string => `<|im_start|>user\nTell me a long story, number ${i}.<|im_end|>\n<|im_start|>assistant\n`;

/** Tokens/s of one raw engine generation of TOKENS tokens. */
async function engineRun(engine: Engine, i: number): Promise<{ tokens: number; seconds: number }> {
  const start = performance.now();
  let tokens = 0;
  for await (const e of engine.generate({ prompt: PROMPT(i), maxTokens: TOKENS, sampling: { temperature: 1, seed: i, topK: 0 } })) {
    if (e.type === "finish") tokens = e.usage.completionTokens;
  }
  return { tokens, seconds: (performance.now() - start) / 1000 };
}

/** One streamed /v1/completions request (same prompt text, no chat template) → completion tokens and time. */
async function serverRun(url: string, i: number, chat: boolean): Promise<{ tokens: number; seconds: number; ttft: number }> {
  const start = performance.now();
  const body = chat
    ? { model: "m", stream: true, stream_options: { include_usage: true }, max_tokens: TOKENS, seed: i, messages: [{ role: "user", content: `Tell me a long story, number ${i}.` }] }
    : { model: "m", stream: true, stream_options: { include_usage: true }, max_tokens: TOKENS, seed: i, prompt: PROMPT(i) };
  const response = await fetch(`${url}/v1/${chat ? "chat/completions" : "completions"}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  let tokens = 0;
  let ttft = -1;
  const parser = createParser({
    onEvent: (e) => {
      if (e.data === "[DONE]") return;
      const chunk = JSON.parse(e.data) as { choices: unknown[]; usage?: { completion_tokens: number } | null };
      if (ttft < 0 && chunk.choices.length > 0) ttft = (performance.now() - start) / 1000;
      if (chunk.usage) tokens = chunk.usage.completion_tokens;
    },
  });
  const decoder = new TextDecoder();
  for await (const piece of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(piece, { stream: true }));
  return { tokens, seconds: (performance.now() - start) / 1000, ttft };
}

async function aggregate<T extends { tokens: number }>(n: number, run: (i: number) => Promise<T>): Promise<{ tokPerSec: number; results: T[] }> {
  const start = performance.now();
  const results = await Promise.all(Array.from({ length: n }, (_, i) => run(i)));
  const seconds = (performance.now() - start) / 1000;
  return { tokPerSec: results.reduce((a, r) => a + r.tokens, 0) / seconds, results };
}

const fmt = (x: number): string => x.toFixed(1);

async function main(): Promise<void> {
  console.log(`threads ${THREADS}, gpu ${String(GPU)}, ${TOKENS} tokens per stream, node ${process.version}`);
  for (const name of MODELS) {
    let engine: Engine;
    let modelPath: string;
    if (name === "mock") {
      modelPath = "mock";
      engine = createMockEngine({ script: () => "ab".repeat(TOKENS), sequences: MAX_PARALLEL, contextSize: 4096 });
    } else {
      const spec = MODEL_SPECS[name as keyof typeof MODEL_SPECS];
      if (spec === undefined) throw new Error(`unknown model ${name}`);
      modelPath = await ensureTestModel(spec);
      engine = await createLlamaCppEngine({ model: modelPath, threads: THREADS, gpu: GPU, sequences: MAX_PARALLEL, contextSize: 1024 });
    }
    const server = await startServer({
      backend: createServeBackend(engine, { profile: "hermes-3", style: "card" }),
      modelId: "m",
      port: 0,
      parallel: MAX_PARALLEL,
      maxQueue: 64,
      log: () => undefined,
    });
    try {
      await engineRun(engine, 99); // warm-up
      await serverRun(server.url, 99, false);
      const reps = 3;
      let eTok = 0, eSec = 0, sTok = 0, sSec = 0, cTok = 0, cSec = 0, ttft = 0;
      for (let r = 0; r < reps; r++) {
        const e = await engineRun(engine, r);
        eTok += e.tokens; eSec += e.seconds;
        const s = await serverRun(server.url, r, false);
        sTok += s.tokens; sSec += s.seconds; ttft += s.ttft;
        const c = await serverRun(server.url, r, true);
        cTok += c.tokens; cSec += c.seconds;
      }
      console.log(`\n## ${name === "mock" ? "mock engine (no model)" : `${name} random model (${modelPath.split("/").pop()})`}`);
      console.log(`single stream: engine ${fmt(eTok / eSec)} tok/s | server /v1/completions ${fmt(sTok / sSec)} tok/s ` +
        `(${fmt((100 * (sTok / sSec)) / (eTok / eSec))}% of engine, TTFT ${fmt((1000 * ttft) / reps)} ms) | server /v1/chat/completions ${fmt(cTok / cSec)} tok/s`);
      console.log("| concurrent streams | engine aggregate tok/s | server aggregate tok/s (chat, SSE) |");
      console.log("|---|---|---|");
      for (const n of CONCURRENCY) {
        const e = await aggregate(n, (i) => engineRun(engine, i));
        const s = await aggregate(n, (i) => serverRun(server.url, i, true));
        console.log(`| ${n} | ${fmt(e.tokPerSec)} | ${fmt(s.tokPerSec)} |`);
      }
    } finally {
      await server.close();
      await engine.dispose();
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
