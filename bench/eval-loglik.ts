/**
 * Benchmark (not a test): log-likelihood requests/s of `talaria eval` (the runner over the llama.cpp
 * engine) on generated random models: the tiny default and a mid-size one.
 *
 * Build and run (Node 20 has no TypeScript loader):
 *   npx tsc -p tsconfig.json --noEmit false --outDir out/build &&
 *   TALARIA_SHARED_DIR=../shared node out/build/bench/eval-loglik.js
 * Environment: BENCH_THREADS (default 2), BENCH_GPU (auto|off, default auto), BENCH_MODELS (tiny,mid),
 *   BENCH_PARALLEL (engine sequences to try, default 1,2,4), BENCH_TASKS (default arc_easy,hellaswag),
 *   BENCH_DOCS (documents per task, default 64), BENCH_BATCH (requests per call, default 64).
 */
import path from "node:path";
import { createLlamaCppEngine } from "../src/engine/llama-cpp/index.js";
import { defaultDataDir, loadTaskDocuments } from "../src/eval/data.js";
import { runTasks, type TaskInput } from "../src/eval/runner.js";
import { selectTasks } from "../src/eval/tasks/index.js";
import { ensureTestModel } from "../src/testmodels/index.js";

const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const GPU = process.env.BENCH_GPU === "off" ? false : "auto";
const MODELS = (process.env.BENCH_MODELS ?? "tiny,mid").split(",");
const PARALLEL = (process.env.BENCH_PARALLEL ?? "1,2,4").split(",").map(Number);
const TASKS = (process.env.BENCH_TASKS ?? "arc_easy,hellaswag").split(",");
const DOCS = Number(process.env.BENCH_DOCS ?? 64);
const BATCH = Number(process.env.BENCH_BATCH ?? 64);

const MODEL_SPECS = {
  tiny: { kind: "random" as const },
  mid: { kind: "random" as const, hidden: 1024, layers: 8, heads: 16, kvHeads: 4, ffn: 2816 },
};

async function main(): Promise<void> {
  const dataDir = process.env.TALARIA_SHARED_DIR !== undefined ? path.join(process.env.TALARIA_SHARED_DIR, "eval-data") : defaultDataDir();
  if (dataDir === undefined) throw new Error("no eval data directory (set TALARIA_SHARED_DIR)");
  const inputs: TaskInput[] = [];
  for (const task of selectTasks("all", TASKS)) inputs.push({ task, docs: await loadTaskDocuments(dataDir, task, DOCS) });
  const nRequests = inputs.reduce((n, i) => n + i.docs.reduce((m, d) => m + d.requests.length, 0), 0);
  console.log(`tasks ${TASKS.join(",")}: ${DOCS} docs each, ${nRequests} requests; threads ${THREADS}, gpu ${String(GPU)}, batch ${BATCH}`);
  for (const name of MODELS) {
    const spec = MODEL_SPECS[name as keyof typeof MODEL_SPECS];
    if (spec === undefined) throw new Error(`unknown model ${name}`);
    const modelPath = await ensureTestModel(spec);
    for (const sequences of PARALLEL) {
      const engine = await createLlamaCppEngine({ model: modelPath, sequences, threads: THREADS, gpu: GPU, contextSize: 2048 });
      try {
        // Warm-up (first decode allocates buffers).
        await runTasks(engine, [{ task: inputs[0]!.task, docs: inputs[0]!.docs.slice(0, 2) }], { generate: false });
        const run = await runTasks(engine, inputs, { generate: false, requestsPerCall: BATCH, callsInFlight: 2 });
        console.log(
          `${name.padEnd(4)} sequences=${sequences}: ${run.requests} requests in ${run.seconds.toFixed(2)} s = ${run.requestsPerSecond.toFixed(1)} req/s`,
        );
      } finally {
        await engine.dispose();
      }
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
