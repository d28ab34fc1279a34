#!/usr/bin/env node
// Dump what `talaria make-test-model --kind 3b` writes, minus the tensor bytes, for bench/gpu/gen_gguf.py:
// the GGUF metadata in order (Talaria's own llamaMetadata(): vocabulary, merges, token types, chat
// templates, names), the resolved 3b shape, and the 3b tensor list (name, ggml dims, type). Reads the
// built dist/ (npm run build). Usage: node bench/gpu/testmodel-meta.mjs [--dist DIR] --out FILE
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dist = path.resolve(opt("--dist", path.join(repo, "dist")));
const out = opt("--out");
if (out === undefined) {
  process.stderr.write("usage: testmodel-meta.mjs [--dist DIR] --out FILE\n");
  process.exit(2);
}
const load = (p) => import(pathToFileURL(path.join(dist, p)).href);
const { resolveTestModelOptions } = await load("testmodels/options.js");
const { buildRandomModelSpec } = await load("testmodels/random-model.js");
const { readToolUseTemplate } = await load("testmodels/templates.js");
const { GENERATOR_VERSION } = await load("testmodels/llama-gguf.js");

const o = resolveTestModelOptions({ kind: "3b" });
const spec = buildRandomModelSpec(o, readToolUseTemplate());
const value = (v) => (v.type === "array" ? { type: "array", itemType: v.itemType, values: Array.from(v.values, (x) => (typeof x === "bigint" ? Number(x) : x)) } : { type: v.type, value: typeof v.value === "bigint" ? Number(v.value) : v.value });
const meta = {
  generator: "bench/gpu/testmodel-meta.mjs",
  generatorVersion: GENERATOR_VERSION,
  shape: { hidden: o.hidden, layers: o.layers, heads: o.heads, kvHeads: o.kvHeads, ffn: o.ffn, contextLength: o.contextLength, seed: o.seed },
  metadata: spec.metadata.map((kv) => ({ key: kv.key, value: value(kv.value) })),
  tensors3b: spec.tensors.map((t) => ({ name: t.name, dims: [...t.dims], type: t.type })),
};
writeFileSync(out, JSON.stringify(meta));
process.stderr.write(`testmodel-meta.mjs: ${meta.metadata.length} keys, ${meta.tensors3b.length} tensors → ${out}\n`);
