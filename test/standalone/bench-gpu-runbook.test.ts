/**
 * The GPU runbook's scripts (bench/gpu/README.md), checked as far as a machine without a GPU can: shell
 * syntax; a reduced pack, the dry run and the size check of the two device calls (and the check failing on an
 * oversized payload); gen_gguf.py writing, from the packed gguf-py and testmodel-meta.json, a small-shaped
 * model whose header is byte for byte make-test-model's, which Talaria loads, tokenizes like
 * make-test-model's and generates from; hf_peer.py's dry run; compare.py's tables. (A whole call rehearsed on
 * the CPU — `device.sh 1 --cpu --small` after a full pack and a CPU build — is a manual step: README.)
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_BENCH_SCHEMA } from "../../src/bench/engine-bench.js";
import { createLlamaCppEngine } from "../../src/engine/llama-cpp/index.js";
import { writeTestModel } from "../../src/testmodels/index.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const gpu = path.join(repo, "bench", "gpu");
const hasPython = spawnSync("python3", ["--version"]).status === 0;
const hasNumpy = hasPython && spawnSync("python3", ["-c", "import numpy, yaml"]).status === 0;
const hasXz = spawnSync("xz", ["--version"]).status === 0;
const hasDist = existsSync(path.join(repo, "dist", "testmodels", "random-model.js"));
const hasBundle = existsSync(path.join(repo, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle"));
const canPack = hasPython && hasXz && hasDist && hasBundle;
const MiB64 = 64 * 1024 * 1024;

interface PlannedCall {
  call: number;
  carry: string[];
  timeout_s: number;
  command: string;
  treeBytes: number;
  carriedBytes: number;
  totalBytes: number;
  limitBytes: number;
  ok: boolean;
}

let tmp: string;
let payload: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "talaria-gpu-runbook-"));
  payload = path.join(tmp, "payload");
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Offset of the tensor data in a GGUF v3 file: after the header, the key/values and the tensor infos, aligned. */
function ggufDataOffset(buf: Buffer): number {
  let o = 0;
  const u32 = (): number => { const v = buf.readUInt32LE(o); o += 4; return v; };
  const u64 = (): number => { const v = Number(buf.readBigUInt64LE(o)); o += 8; return v; };
  const str = (): string => { const n = u64(); const s = buf.toString("utf8", o, o + n); o += n; return s; };
  const scalarBytes: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  let alignment = 32;
  const skip = (type: number, key: string): void => {
    if (type === 8) str();
    else if (type === 9) {
      const item = u32();
      const n = u64();
      for (let i = 0; i < n; i++) skip(item, "");
    } else {
      if (key === "general.alignment") alignment = buf.readUInt32LE(o);
      o += scalarBytes[type] ?? Number.NaN;
    }
  };
  expect(buf.toString("latin1", 0, 4)).toBe("GGUF");
  o = 4;
  expect(u32()).toBe(3);
  const tensors = u64();
  const kvs = u64();
  for (let i = 0; i < kvs; i++) {
    const key = str();
    skip(u32(), key);
  }
  for (let i = 0; i < tensors; i++) {
    str();
    const dims = u32();
    o += 8 * dims + 4 + 8;
  }
  return Math.ceil(o / alignment) * alignment;
}

function plan(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync("bash", [path.join(gpu, "plan.sh"), ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("bench/gpu runbook", () => {
  it("has the documented files, the old bundle scripts are gone, and the shell scripts parse", () => {
    for (const f of ["README.md", "plan.sh", "device.sh", "build-llama-cpp.sh", "gen_gguf.py", "testmodel-meta.mjs", "hf_peer.py", "compare.py", "bench-schema.json", "vllm_contract.py"]) {
      expect(existsSync(path.join(gpu, f)), f).toBe(true);
    }
    for (const f of ["pack.sh", "unpack.sh", "run-talaria.sh"]) expect(existsSync(path.join(gpu, f)), f).toBe(false);
    for (const f of ["plan.sh", "device.sh", "build-llama-cpp.sh"]) execFileSync("bash", ["-n", path.join(gpu, f)]);
    expect(spawnSync("bash", [path.join(gpu, "device.sh")]).status).toBe(2); // no call number
  });

  it("bench-schema.json is bench engine's DEFAULT_BENCH_SCHEMA (the constrained tests of every peer use it)", () => {
    expect(JSON.parse(readFileSync(path.join(gpu, "bench-schema.json"), "utf8"))).toEqual(DEFAULT_BENCH_SCHEMA);
  });

  it.skipIf(!canPack)("packs a reduced payload; the dry run plans two calls within the device limits and the size check passes", () => {
    const packed = plan("pack", "--reduced", "--payload", payload);
    expect(packed.status, packed.stderr).toBe(0);
    expect(existsSync(path.join(payload, "call1", "talaria-gpu.tar.xz"))).toBe(true);
    expect(packed.stdout).toMatch(/size check: OK/);

    const dry = plan("dry-run", "--payload", payload);
    expect(dry.status, dry.stdout + dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/size check: OK/);
    const line = dry.stdout.split("\n").find((l) => l.startsWith("plan: "));
    const calls = JSON.parse((line as string).slice("plan: ".length)) as PlannedCall[];
    expect(calls.map((c) => c.call)).toEqual([1, 2]);
    for (const c of calls) {
      expect(c.ok).toBe(true);
      expect(c.limitBytes).toBe(MiB64);
      expect(c.totalBytes).toBe(c.treeBytes + c.carriedBytes);
      expect(c.totalBytes).toBeLessThanOrEqual(MiB64);
      expect(c.treeBytes).toBeGreaterThan(0); // the working tree travels with every call and is counted
      expect(c.command.length).toBeLessThanOrEqual(2000);
      expect(c.timeout_s).toBeLessThanOrEqual(600);
      expect(c.carry).toEqual([`out/gpu-payload/call${c.call}`]);
      expect(c.command).toBe(`bash bench/gpu/device.sh ${c.call}`);
    }
    expect(calls[0]?.carriedBytes).toBeGreaterThan(0);
    expect(plan("--dry-run", "--payload", payload).status).toBe(0);
    expect(plan("check", "--payload", payload).status).toBe(0);
  });

  it.skipIf(!hasPython)("the size check fails when a call would carry more than 64 MiB, or more than --limit", async () => {
    const big = path.join(tmp, "oversized");
    await mkdir(path.join(big, "call1"), { recursive: true });
    await mkdir(path.join(big, "call2"), { recursive: true });
    const f = await open(path.join(big, "call1", "filler.bin"), "w");
    await f.truncate(MiB64); // sparse: 64 MiB on top of the working tree
    await f.close();
    const r = plan("check", "--payload", big);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/call 1: .* OVER by/);
    expect(r.stdout).toMatch(/call 2: .* OK/);
    expect(r.stdout).toMatch(/size check: FAILED/);
    expect(plan("dry-run", "--payload", big).status).toBe(1);

    await writeFile(path.join(big, "call1", "filler.bin"), "x");
    expect(plan("check", "--payload", big).status).toBe(0);
    expect(plan("check", "--payload", big, "--limit", "1000").status).toBe(1); // the tree alone is over 1000 bytes
  });

  it.skipIf(!canPack || !hasNumpy)(
    "gen_gguf.py (packed gguf-py + testmodel-meta.json) writes make-test-model's header for the same shape; Talaria loads, tokenizes and runs it",
    async () => {
      if (!existsSync(path.join(payload, "call1", "talaria-gpu.tar.xz"))) expect(plan("pack", "--reduced", "--payload", payload).status).toBe(0);
      const unpacked = path.join(tmp, "unpacked");
      await mkdir(unpacked, { recursive: true });
      execFileSync("tar", ["-xJf", path.join(payload, "call1", "talaria-gpu.tar.xz"), "-C", unpacked]);
      const root = path.join(unpacked, "talaria-gpu");
      const ggufPy = path.join(root, "talaria", "node_modules", "node-llama-cpp", "llama", "llama.cpp", "gguf-py");
      expect(existsSync(path.join(ggufPy, "gguf", "gguf_writer.py"))).toBe(true);

      const shape = { hidden: 256, layers: 2, heads: 4, kvHeads: 2, ffn: 512 };
      const py = path.join(tmp, "py-3b-small.gguf");
      const ts = path.join(tmp, "ts-3b-small.gguf");
      const out = execFileSync("python3", [path.join(gpu, "gen_gguf.py"), "--meta", path.join(root, "testmodel-meta.json"), "--gguf-py", ggufPy, "--out", py, "--quiet",
        "--hidden", String(shape.hidden), "--layers", String(shape.layers), "--heads", String(shape.heads), "--kv-heads", String(shape.kvHeads), "--ffn", String(shape.ffn)], { encoding: "utf8" });
      expect(JSON.parse(out)).toMatchObject({ tensors: 2 + 9 * shape.layers + 1 });
      await writeTestModel({ kind: "3b", ...shape }, ts);
      // the 3b tensor list recorded from Talaria's generator is the one gen_gguf.py computes (no tensor data written)
      execFileSync("python3", ["-c", `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("g", sys.argv[1]); g = importlib.util.module_from_spec(spec); spec.loader.exec_module(g)
meta = json.load(open(sys.argv[2]))
mine = [(t["name"], t["dims"], t["type"]) for t in g.tensor_list(meta["shape"])]
assert mine == [(t["name"], t["dims"], t["type"]) for t in meta["tensors3b"]], "3b tensor list differs"
`, path.join(gpu, "gen_gguf.py"), path.join(root, "testmodel-meta.json")]);

      // byte-identical header: metadata, tensor infos (names, dims, types, offsets) and padding up to the data
      const [a, b] = [await readFile(py), await readFile(ts)];
      const offset = ggufDataOffset(b);
      expect(offset).toBeGreaterThan(1_000_000); // the vocabulary and merges
      expect(a.length).toBe(b.length);
      expect(a.subarray(0, offset).equals(b.subarray(0, offset))).toBe(true);
      expect(a.subarray(offset).equals(b.subarray(offset))).toBe(false); // random weights from another PRNG

      const engines = await Promise.all([py, ts].map((model) => createLlamaCppEngine({ model, gpu: false, threads: 1, contextSize: 256 })));
      try {
        const prompt = "<|im_start|>user\nWhat is the weather in Paris?<|im_end|>\n<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\"}\n</tool_call>";
        const [t1, t2] = (await Promise.all(engines.map((e) => e.tokenize(prompt, { special: true })))) as [number[], number[]];
        expect(t1).toEqual(t2);
        expect(t1).toContain(128038); // <|im_start|> as one token
        expect(t1).toContain(128042); // <tool_call>
        const e = engines[0]!;
        expect(e.info.vocabularySize).toBe(128256);
        let generated = 0;
        for await (const ev of e.generate({ prompt: t1, maxTokens: 4, sampling: { doSample: false } })) if (ev.type === "finish") generated = ev.usage.completionTokens;
        expect(generated).toBeGreaterThan(0);
      } finally {
        await Promise.all(engines.map((x) => x.dispose()));
      }
    },
  );

  it.skipIf(!hasPython)("hf_peer.py and compare.py compile, and the dry run plans the 3B shape without torch", () => {
    execFileSync("python3", ["-c", "import ast,sys; [ast.parse(open(f).read(), f) for f in sys.argv[1:]]", path.join(gpu, "hf_peer.py"), path.join(gpu, "compare.py"), path.join(gpu, "gen_gguf.py")]);
    const out = execFileSync("python3", [path.join(gpu, "hf_peer.py"), "--dry-run", "--streams", "1,16", "--json-schema", path.join(gpu, "bench-schema.json")], { encoding: "utf8" });
    const p = JSON.parse(out) as { shape: Record<string, unknown>; approxParametersB: number; plan: string[]; dtype: string };
    expect(p.shape).toMatchObject({ hidden_size: 3072, num_hidden_layers: 28, num_attention_heads: 24, num_key_value_heads: 8, intermediate_size: 8192, vocab_size: 128256, tie_word_embeddings: true });
    expect(p.approxParametersB).toBeCloseTo(3.21, 2); // Llama-3.2-3B
    expect(p.plan).toEqual(["pp512", "ttft", "tg128", "tg128 x1", "tg128 x16", "tg128+json", "tg128+json x16"]);
    expect(p.dtype).toBe("bf16");
  });

  it.skipIf(!hasPython)("compare.py tables Talaria against llama-bench, llama-batched-bench, llama-server and HF, with ratios", async () => {
    const ms = (mean: number) => ({ mean, sd: 1, samples: [mean] });
    const engine = (gpuName: string, scale: number) => ({
      kind: "engine", backend: { gpu: gpuName }, model: { fileType: "MOSTLY_Q4_K_M" },
      tests: [
        { name: "pp512", kind: "pp", streams: 1, tokensPerSecond: ms(10000 * scale), ttftMs: ms(50 / scale) },
        { name: "tg128", kind: "tg", streams: 1, tokensPerSecond: ms(300 * scale) },
        { name: "tg128+json", kind: "tg-grammar", streams: 1, tokensPerSecond: ms(240 * scale) },
        { name: "tg128 x1", kind: "streams", streams: 1, tokensPerSecond: ms(290 * scale) },
        { name: "tg128 x16", kind: "streams", streams: 16, tokensPerSecond: ms(2900 * scale) },
      ],
    });
    const files = {
      talaria: engine("cuda", 1), remote: engine("remote (http://127.0.0.1:8081)", 1.25),
      bench: [{ n_prompt: 512, n_gen: 0, avg_ts: 12000, stddev_ts: 10 }, { n_prompt: 0, n_gen: 128, avg_ts: 330, stddev_ts: 2 }],
      batched: [{ pl: 1, speed_tg: 320 }, { pl: 16, speed_tg: 3200 }, { pl: 16, speed_tg: 3000 }],
      hf: { model: { dtype: "bf16" }, config: { constrainedSkipped: "xgrammar is not importable" }, tests: [{ kind: "pp", tokensPerSecond: ms(20000) }, { kind: "tg", tokensPerSecond: ms(40) }, { kind: "streams", streams: 16, tokensPerSecond: ms(600) }] },
    };
    const paths: Record<string, string> = {};
    for (const [k, v] of Object.entries(files)) {
      paths[k] = path.join(tmp, `compare-${k}.json`);
      await writeFile(paths[k] as string, JSON.stringify(v));
    }
    const out = execFileSync("python3", [path.join(gpu, "compare.py"), "--talaria", paths.talaria!, "--llama-bench", paths.bench!, "--llama-batched", paths.batched!, "--llama-server-engine", paths.remote!, "--hf", paths.hf!], { encoding: "utf8" });
    expect(out).toMatch(/\| decode tok\/s, 1 stream \| 300\.0 ± 1\.0 \| 330\.0 ± 2\.0 \| 375\.0 ± 1\.0 \| 40\.0 ± 1\.0 \|/);
    expect(out).toMatch(/\| aggregate decode tok\/s, 16 streams \| 2900\.0 ± 1\.0 \| 3100\.0 ± 141\.4 \|/);
    expect(out).toMatch(/\| decode tok\/s, 1 stream \| 0\.91× \| 0\.80× \| 7\.50× \|/); // Talaria ÷ peer
    expect(out).toMatch(/Talaria engine \(cuda, MOSTLY_Q4_K_M\): JSON-schema \/ free decode, 1 stream: 0\.80/);
    expect(out).toMatch(/HF constrained tests skipped: xgrammar is not importable/);
    // the older form: engine.json first, then HF reports
    expect(execFileSync("python3", [path.join(gpu, "compare.py"), paths.talaria!, paths.hf!], { encoding: "utf8" })).toMatch(/HF generate \(bf16\)/);
  });
});
