import { getLlama, readGgufFileInfo } from "node-llama-cpp";
const p = "/tmp/tmw/3b.gguf";
const info = await readGgufFileInfo(p, { readTensorInfo: true });
const counts = {};
for (const t of info.fullTensorInfo) counts[t.ggmlType] = (counts[t.ggmlType] ?? 0) + 1;
console.log("tensor types", counts, "n", info.fullTensorInfo.length);
const llama = await getLlama({ gpu: "auto", build: "never", maxThreads: 2 });
let t0 = Date.now();
const model = await llama.loadModel({ modelPath: p });
console.log("load ms", Date.now() - t0, "params", model.fileInsights.totalLayers, model.size);
const ctx = await model.createContext({ contextSize: 512, threads: 2 });
const seq = ctx.getSequence();
const toks = [128000, ...model.tokenize("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", true)];
t0 = Date.now();
const out = [];
for await (const t of seq.evaluateWithMetadata(toks, { confidence: true }, { temperature: 0.8, seed: 1 })) { out.push([t.token, t.confidence]); console.log(Date.now() - t0, t.token, t.confidence); if (out.length >= 4) break; }
console.log(JSON.stringify(model.detokenize(out.map(x => x[0]), true)));
