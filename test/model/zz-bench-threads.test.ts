import { test } from "vitest";
import os from "node:os";
import { getLlama } from "node-llama-cpp";
import { createLlamaCppEngine } from "../../src/engine/llama-cpp/index.js";
import { ensureTestModel } from "../../src/testmodels/index.js";
import type { Engine } from "../../src/engine/types.js";

async function gen(engine: Engine, n: number): Promise<number> {
  let c = 0;
  for await (const e of engine.generate({ prompt: "<|begin_of_text|>Once upon a time", sampling: { doSample: false }, maxTokens: n })) {
    if (e.type === "finish") c = e.usage.completionTokens;
  }
  return c;
}
async function measure(engine: Engine, label: string, n: number) {
  await gen(engine, 8); // warm
  let t = performance.now();
  const c1 = await gen(engine, n);
  const single = (c1 / (performance.now() - t)) * 1000;
  t = performance.now();
  const [a, b] = await Promise.all([gen(engine, n), gen(engine, n)]);
  const dual = ((a + b) / (performance.now() - t)) * 1000;
  console.log(`RESULT ${label}: single ${single.toFixed(1)} tok/s, 2 concurrent ${dual.toFixed(1)} tok/s aggregate (load ${os.loadavg()[0].toFixed(1)})`);
}
test("bench", async () => {
  for (const [kind, opts, n] of [["tiny", { kind: "random" }, 128], ["mid", { kind: "random", hidden: 1024, layers: 8, heads: 16, kvHeads: 4, ffn: 2816 }, 48]] as const) {
    const p = await ensureTestModel(opts as never);
    for (const threads of [1, 2]) {
      const engine = await createLlamaCppEngine({ model: p, threads, sequences: 2, contextSize: 512 });
      await measure(engine, `${kind} threads=${threads}`, n);
      await engine.dispose();
    }
    // library default thread count (no maxThreads): measured through node-llama-cpp directly
    const llama = await getLlama({ gpu: "auto", build: "never" });
    const model = await llama.loadModel({ modelPath: p });
    const ctx = await model.createContext({ contextSize: 512, sequences: 1 });
    const seq = ctx.getSequence();
    const toks = model.tokenize("<|begin_of_text|>Once upon a time", true);
    let i = 0; for await (const _ of seq.evaluate(toks, { temperature: 0 })) { if (++i >= 8) break; }
    await seq.clearHistory();
    const t = performance.now(); i = 0;
    for await (const _ of seq.evaluate(toks, { temperature: 0 })) { if (++i >= n) break; }
    console.log(`RESULT ${kind} library default (${ctx.currentThreads}/${llama.maxThreads} threads): single ${(i / (performance.now() - t) * 1000).toFixed(1)} tok/s (load ${os.loadavg()[0].toFixed(1)})`);
    await ctx.dispose(); await model.dispose();
  }
}, 600_000);
