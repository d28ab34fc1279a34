/**
 * Benchmark (not a test): the cost of per-token log-probabilities, side by side with plain decoding in
 * one process, variants interleaved (issue 15). Prints the median ms/token of each variant and the load
 * average.
 *   plain T=1 / logprobs T=1 / top5 T=1   sampling at temperature 1, no truncation: llama.cpp samples
 *                                          and returns the selected and top logits with the total weight
 *   plain greedy / logprobs greedy         temperature 0
 *   logprobs T=0.7                         any other sampling: the full logit vector per token (slow path)
 *
 * Build and run (Node 20 has no TypeScript loader):
 *   npx tsc -p tsconfig.json --noEmit false --outDir out/build && node out/build/bench/logprobs.js MODEL.gguf
 * Environment: BENCH_THREADS (default 2), BENCH_REPS (default 5), BENCH_TOKENS (default 64).
 */
import os from "node:os";
import { createLlamaCppEngine, type GenerateRequest } from "../src/index.js";

const model = process.argv[2];
if (model === undefined) throw new Error("usage: node out/build/bench/logprobs.js MODEL.gguf");
const threads = Number(process.env["BENCH_THREADS"] ?? 2);
const reps = Number(process.env["BENCH_REPS"] ?? 5);
const maxTokens = Number(process.env["BENCH_TOKENS"] ?? 64);
const engine = await createLlamaCppEngine({ model, threads, contextSize: 1024 });
const prompt = "<|im_start|>user\nTell me a story.<|im_end|>\n<|im_start|>assistant\n";

async function msPerToken(request: Omit<GenerateRequest, "prompt">): Promise<number> {
  const started = performance.now();
  let n = 0;
  for await (const e of engine.generate({ prompt, maxTokens, ...request })) if (e.type === "text-delta") n += e.tokens.length;
  return (performance.now() - started) / Math.max(n, 1);
}

const variants: Record<string, Omit<GenerateRequest, "prompt">> = {
  "plain T=1": { sampling: { temperature: 1, topK: 0, seed: 1 } },
  "logprobs T=1": { sampling: { temperature: 1, topK: 0, seed: 1 }, logprobs: true },
  "top5 T=1": { sampling: { temperature: 1, topK: 0, seed: 1 }, topLogprobs: 5 },
  "plain greedy": { sampling: { temperature: 0 } },
  "logprobs greedy": { sampling: { temperature: 0 }, logprobs: true },
  "logprobs T=0.7 (full logits)": { sampling: { temperature: 0.7, topK: 0, seed: 1 }, logprobs: true },
};
const results = new Map<string, number[]>(Object.keys(variants).map((k) => [k, []]));
const loadBefore = os.loadavg();
for (let r = 0; r < reps; r++) for (const [name, v] of Object.entries(variants)) results.get(name)?.push(await msPerToken(v));
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] as number;
const m = Object.fromEntries([...results].map(([k, a]) => [k, median(a)]));
console.log(`model ${model}, ${threads} threads, ${reps} reps × ${maxTokens} tokens; load average before ${loadBefore.map((x) => x.toFixed(2)).join(" ")}, after ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
for (const [k, v] of Object.entries(m)) console.log(`${k.padEnd(30)} ${v.toFixed(2)} ms/token`);
console.log(`logprobs ÷ plain: T=1 ${((m["logprobs T=1"] as number) / (m["plain T=1"] as number)).toFixed(2)}, top5 T=1 ${((m["top5 T=1"] as number) / (m["plain T=1"] as number)).toFixed(2)}, greedy ${((m["logprobs greedy"] as number) / (m["plain greedy"] as number)).toFixed(2)}, T=0.7 full-logit path ${((m["logprobs T=0.7 (full logits)"] as number) / (m["plain T=1"] as number)).toFixed(2)} (vs plain T=1)`);
await engine.dispose();
