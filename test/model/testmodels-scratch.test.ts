import { test } from "vitest";
import { writeGguf, encodeF32 } from "../../src/gguf/index.js";
import { getLlama, readGgufFileInfo } from "node-llama-cpp";
test("scratch", async () => {
  await writeGguf("/tmp/tmw/a.gguf", { metadata: [
    { key: "general.architecture", value: { type: "string", value: "llama" } },
    { key: "t.u64", value: { type: "uint64", value: 12345678901234567n } },
    { key: "t.i64", value: { type: "int64", value: -5n } },
    { key: "t.f64", value: { type: "float64", value: 0.1 } },
    { key: "t.f32", value: { type: "float32", value: 0.1 } },
    { key: "t.b", value: { type: "bool", value: true } },
    { key: "t.arr", value: { type: "array", itemType: "array", values: [{ type: "array", itemType: "int8", values: [1, -2] }, { type: "array", itemType: "string", values: ["x"] }] } },
    { key: "t.au64", value: { type: "array", itemType: "uint64", values: [1n, 2n] } },
  ], tensors: [{ name: "w", dims: [4, 2], type: "F32", data: function* () { yield encodeF32([1,2,3,4,5,6,7,8]); } }] });
  const info = await readGgufFileInfo("/tmp/tmw/a.gguf", { readTensorInfo: true });
  console.log(info.metadata, info.fullTensorInfo, info.tensorInfoStartOffset, info.version);
  const t0 = Date.now();
  const llama = await getLlama({ gpu: "auto", build: "never", maxThreads: 2 });
  console.log("getLlama", Date.now() - t0);
  const t1 = Date.now();
  const model = await llama.loadModel({ modelPath: "/tmp/s.gguf" });
  console.log("load", Date.now() - t1);
});
