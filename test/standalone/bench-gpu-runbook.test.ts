/**
 * The GPU runbook's scripts, checked as far as a machine without a GPU can: shell syntax, the
 * pack → split → checksum → unpack round trip on a small subset (and refusal of a corrupt part), and the
 * HF peer script's syntax and --dry-run plan. (The CPU run of run-talaria.sh on the random model is a
 * manual step in bench/gpu/README.md: it needs a full pack of node_modules.)
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const gpu = path.join(repo, "bench", "gpu");
const hasPython = spawnSync("python3", ["--version"]).status === 0;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "talaria-gpu-runbook-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("bench/gpu runbook", () => {
  it("has the documented files and its shell scripts parse", () => {
    for (const f of ["README.md", "pack.sh", "unpack.sh", "run-talaria.sh", "hf_peer.py", "compare.py", "build-llama-cpp.sh"]) expect(existsSync(path.join(gpu, f)), f).toBe(true);
    for (const f of ["pack.sh", "unpack.sh", "run-talaria.sh", "build-llama-cpp.sh"]) execFileSync("bash", ["-n", path.join(gpu, f)]);
  });

  it("packs a subset into checksummed parts and unpacks it again", async () => {
    const parts = path.join(tmp, "parts");
    const dest = path.join(tmp, "dest");
    execFileSync("bash", [path.join(gpu, "pack.sh"), "--subset", "--part-size", "16K", "--out", parts], { stdio: "pipe" });
    const names = (await readdir(parts)).sort();
    const chunks = names.filter((n) => n.startsWith("talaria-gpu.tar.gz.part-"));
    expect(chunks.length).toBeGreaterThan(1);
    expect(names).toContain("SHA256SUMS");
    expect(names).toContain("unpack.sh");
    const sums = await readFile(path.join(parts, "SHA256SUMS"), "utf8");
    expect(sums.trim().split("\n")).toHaveLength(chunks.length + 1); // every part + the whole archive
    execFileSync("bash", [path.join(parts, "unpack.sh"), "--dest", dest], { stdio: "pipe" });
    const root = path.join(dest, "talaria-gpu");
    expect(await readFile(path.join(root, "talaria", "bench", "gpu", "run-talaria.sh"), "utf8")).toBe(await readFile(path.join(gpu, "run-talaria.sh"), "utf8"));
    expect(await readFile(path.join(root, "talaria", "package.json"), "utf8")).toBe(await readFile(path.join(repo, "package.json"), "utf8"));
    expect(await readFile(path.join(root, "BUNDLE-INFO.txt"), "utf8")).toMatch(/subset: 1/);

    // a corrupt part is refused before anything is unpacked
    const victim = path.join(parts, chunks[0] as string);
    const bytes = await readFile(victim);
    bytes[100] = (bytes[100] as number) ^ 0xff;
    await writeFile(victim, bytes);
    const bad = spawnSync("bash", [path.join(parts, "unpack.sh"), "--dest", path.join(tmp, "dest2")], { encoding: "utf8" });
    expect(bad.status).not.toBe(0);
    expect(existsSync(path.join(tmp, "dest2", "talaria-gpu"))).toBe(false);
  });

  it.skipIf(!hasPython)("hf_peer.py and compare.py compile, and the dry run plans the 3B shape without torch", () => {
    execFileSync("python3", ["-c", "import ast,sys; [ast.parse(open(f).read(), f) for f in sys.argv[1:]]", path.join(gpu, "hf_peer.py"), path.join(gpu, "compare.py")]);
    const out = execFileSync("python3", [path.join(gpu, "hf_peer.py"), "--dry-run", "--streams", "1,16"], { encoding: "utf8" });
    const plan = JSON.parse(out) as { shape: Record<string, unknown>; approxParametersB: number; plan: string[]; dtype: string };
    expect(plan.shape).toMatchObject({ hidden_size: 3072, num_hidden_layers: 28, num_attention_heads: 24, num_key_value_heads: 8, intermediate_size: 8192, vocab_size: 128256, tie_word_embeddings: true });
    expect(plan.approxParametersB).toBeCloseTo(3.21, 2); // Llama-3.2-3B
    expect(plan.plan).toEqual(["pp512", "ttft", "tg128", "tg128 x1", "tg128 x16"]);
    expect(plan.dtype).toBe("bf16");
  });
});
