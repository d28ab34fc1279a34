import { mkdtemp, readFile, rm, readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  encodeF16,
  encodeF32,
  encodeGgufHeader,
  encodeQ4_0,
  encodeQ8_0,
  GgufWriteError,
  randomKQuantBlocks,
  writeGguf,
  type GgufKeyValue,
  type GgufTensorSpec,
} from "../../src/gguf/index.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "talaria-gguf-writer-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const METADATA: GgufKeyValue[] = [
  { key: "general.architecture", value: { type: "string", value: "llama" } },
  { key: "general.alignment", value: { type: "uint32", value: 32 } },
  { key: "test.u8", value: { type: "uint8", value: 250 } },
  { key: "test.i8", value: { type: "int8", value: -120 } },
  { key: "test.u16", value: { type: "uint16", value: 65000 } },
  { key: "test.i16", value: { type: "int16", value: -32000 } },
  { key: "test.u32", value: { type: "uint32", value: 4_000_000_000 } },
  { key: "test.i32", value: { type: "int32", value: -2_000_000_000 } },
  { key: "test.f32", value: { type: "float32", value: 0.5 } },
  { key: "test.f64", value: { type: "float64", value: 0.1 } },
  { key: "test.bool_true", value: { type: "bool", value: true } },
  { key: "test.bool_false", value: { type: "bool", value: false } },
  { key: "test.string", value: { type: "string", value: "héllo 👋 你好\n" } },
  { key: "test.empty_string", value: { type: "string", value: "" } },
  { key: "test.u64", value: { type: "uint64", value: 18_000_000_000_000_000_000n } },
  { key: "test.i64", value: { type: "int64", value: -9_000_000_000_000_000_000n } },
  { key: "test.arr_u8", value: { type: "array", itemType: "uint8", values: [0, 1, 255] } },
  { key: "test.arr_i8", value: { type: "array", itemType: "int8", values: [-128, 0, 127] } },
  { key: "test.arr_u16", value: { type: "array", itemType: "uint16", values: [1, 65535] } },
  { key: "test.arr_i16", value: { type: "array", itemType: "int16", values: [-1, 2] } },
  { key: "test.arr_u32", value: { type: "array", itemType: "uint32", values: [7, 4_294_967_295] } },
  { key: "test.arr_i32", value: { type: "array", itemType: "int32", values: new Int32Array([1, -1, 3]) } },
  { key: "test.arr_f32", value: { type: "array", itemType: "float32", values: [0.25, -1.5] } },
  { key: "test.arr_f64", value: { type: "array", itemType: "float64", values: [Math.PI] } },
  { key: "test.arr_bool", value: { type: "array", itemType: "bool", values: [true, false, true] } },
  { key: "test.arr_string", value: { type: "array", itemType: "string", values: ["a", "", "Ġthe", "<|im_end|>"] } },
  { key: "test.arr_u64", value: { type: "array", itemType: "uint64", values: [1n, 2n ** 63n] } },
  { key: "test.arr_i64", value: { type: "array", itemType: "int64", values: [-(2n ** 63n), 5n] } },
  { key: "test.arr_empty", value: { type: "array", itemType: "int32", values: [] } },
  {
    key: "test.arr_nested",
    value: {
      type: "array",
      itemType: "array",
      values: [
        { type: "array", itemType: "int8", values: [1, -2] },
        { type: "array", itemType: "string", values: ["x", "y"] },
      ],
    },
  },
];

/** Expected JS value of each key as node-llama-cpp reads it. */
const EXPECTED: Record<string, unknown> = {
  "general.architecture": "llama",
  "general.alignment": 32,
  "test.u8": 250,
  "test.i8": -120,
  "test.u16": 65000,
  "test.i16": -32000,
  "test.u32": 4_000_000_000,
  "test.i32": -2_000_000_000,
  "test.f32": 0.5,
  "test.f64": 0.1,
  "test.bool_true": true,
  "test.bool_false": false,
  "test.string": "héllo 👋 你好\n",
  "test.empty_string": "",
  "test.u64": 18_000_000_000_000_000_000n,
  "test.i64": -9_000_000_000_000_000_000n,
  "test.arr_u8": [0, 1, 255],
  "test.arr_i8": [-128, 0, 127],
  "test.arr_u16": [1, 65535],
  "test.arr_i16": [-1, 2],
  "test.arr_u32": [7, 4_294_967_295],
  "test.arr_i32": [1, -1, 3],
  "test.arr_f32": [0.25, -1.5],
  "test.arr_f64": [Math.PI],
  "test.arr_bool": [true, false, true],
  "test.arr_string": ["a", "", "Ġthe", "<|im_end|>"],
  "test.arr_u64": [1n, 2n ** 63n],
  "test.arr_i64": [-(2n ** 63n), 5n],
  "test.arr_empty": [],
  "test.arr_nested": [[1, -2], ["x", "y"]],
};

function lookup(metadata: unknown, key: string): unknown {
  let node = metadata;
  for (const part of key.split(".")) node = (node as Record<string, unknown>)[part];
  return node;
}

function seq(n: number, f: (i: number) => number): number[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

function bytesTensor(name: string, dims: number[], type: GgufTensorSpec["type"], data: Uint8Array, chunk = 7): GgufTensorSpec {
  return {
    name,
    dims,
    type,
    // Odd-sized chunks exercise the writer's buffering.
    data: function* () {
      for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
    },
  };
}

describe("GGUF writer", () => {
  it("writes every metadata value type and tensor type so node-llama-cpp reads them back intact", async () => {
    let state = 12345;
    const next = (): number => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0);
    const tensorData: Record<string, Uint8Array> = {
      "f32.weight": encodeF32(seq(3, (i) => i + 0.5)),
      "f16.weight": encodeF16(seq(64, (i) => i / 7)),
      "q8_0.weight": encodeQ8_0(seq(64, (i) => Math.sin(i))),
      "q4_0.weight": encodeQ4_0(seq(96, (i) => Math.cos(i))),
      "q4_k.weight": randomKQuantBlocks("Q4_K", 2, 0.1, next),
      "q5_k.weight": randomKQuantBlocks("Q5_K", 1, 0.1, next),
      "q6_k.weight": randomKQuantBlocks("Q6_K", 3, 0.1, next),
    };
    const tensors: GgufTensorSpec[] = [
      bytesTensor("f32.weight", [3], "F32", tensorData["f32.weight"]!),
      bytesTensor("f16.weight", [32, 2], "F16", tensorData["f16.weight"]!),
      bytesTensor("q8_0.weight", [64, 1], "Q8_0", tensorData["q8_0.weight"]!),
      bytesTensor("q4_0.weight", [32, 3], "Q4_0", tensorData["q4_0.weight"]!),
      bytesTensor("q4_k.weight", [256, 2], "Q4_K", tensorData["q4_k.weight"]!, 100),
      bytesTensor("q5_k.weight", [256, 1, 1], "Q5_K", tensorData["q5_k.weight"]!),
      bytesTensor("q6_k.weight", [256, 3], "Q6_K", tensorData["q6_k.weight"]!, 1000),
    ];
    const file = path.join(dir, "all-types.gguf");
    await writeGguf(file, { metadata: METADATA, tensors }, { chunkBytes: 64 });

    const info = await readGgufFileInfo(file, { readTensorInfo: true });
    expect(info.version).toBe(3);
    for (const [key, value] of Object.entries(EXPECTED)) {
      expect(lookup(info.metadata, key), key).toEqual(value);
    }
    const expectedTypes = [0, 1, 8, 2, 12, 13, 14];
    const infos = info.fullTensorInfo ?? [];
    expect(infos.map((t) => t.name)).toEqual(tensors.map((t) => t.name));
    expect(infos.map((t) => t.ggmlType)).toEqual(expectedTypes);
    expect(infos.map((t) => t.dimensions.map(Number))).toEqual(tensors.map((t) => [...t.dims]));

    // Tensor data sits at aligned offsets and matches what was supplied.
    const bytes = await readFile(file);
    const { header } = encodeGgufHeader({ metadata: METADATA, tensors });
    const dataStart = Math.ceil(header.length / 32) * 32;
    for (const t of infos) {
      const offset = Number(t.offset);
      expect(offset % 32).toBe(0);
      const want = tensorData[t.name]!;
      expect(Buffer.compare(bytes.subarray(dataStart + offset, dataStart + offset + want.length), Buffer.from(want)), t.name).toBe(0);
    }
    const last = infos[infos.length - 1]!;
    expect(bytes.length).toBe(dataStart + Number(last.offset) + tensorData[last.name]!.length);
  });

  it("honours a non-default general.alignment", async () => {
    const file = path.join(dir, "align64.gguf");
    const tensors = [
      bytesTensor("a", [3], "F32", encodeF32([1, 2, 3])),
      bytesTensor("b", [5], "F32", encodeF32([4, 5, 6, 7, 8])),
    ];
    await writeGguf(file, { metadata: [{ key: "general.alignment", value: { type: "uint32", value: 64 } }], tensors });
    const info = await readGgufFileInfo(file, { readTensorInfo: true });
    expect(info.fullTensorInfo?.map((t) => Number(t.offset))).toEqual([0, 64]);
  });

  it("rejects bad input and leaves no partial file behind", async () => {
    const sub = await mkdtemp(path.join(dir, "bad-"));
    const out = path.join(sub, "bad.gguf");
    await expect(
      writeGguf(out, { metadata: [], tensors: [bytesTensor("short", [4], "F32", encodeF32([1, 2, 3]))] }),
    ).rejects.toThrow(/expected 16/);
    await expect(
      writeGguf(out, { metadata: [], tensors: [bytesTensor("misaligned", [48], "Q4_0", new Uint8Array(27))] }),
    ).rejects.toThrow(GgufWriteError);
    await expect(
      writeGguf(out, {
        metadata: [
          { key: "a", value: { type: "bool", value: true } },
          { key: "a", value: { type: "bool", value: false } },
        ],
        tensors: [],
      }),
    ).rejects.toThrow(/duplicate metadata key/);
    const ac = new AbortController();
    ac.abort();
    await expect(
      writeGguf(out, { metadata: [], tensors: [bytesTensor("big", [4096], "F32", new Uint8Array(16384))] }, { signal: ac.signal, chunkBytes: 1024 }),
    ).rejects.toThrow();
    expect(await readdir(sub)).toEqual([]);
  });
});
