/**
 * Generated Hermes-3-like GGUF test models (see docs/test-models.md).
 *
 * ```ts
 * import { ensureTestModel } from "../src/testmodels/index.js";
 * const path = await ensureTestModel({ kind: "scripted", reply: "Hello from Talaria 👋" });
 * ```
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { writeGguf, type GgufFileSpec } from "../gguf/index.js";
import { GENERATOR_VERSION } from "./llama-gguf.js";
import { resolveTestModelOptions, type ResolvedTestModelOptions, type TestModelOptions } from "./options.js";
import { buildRandomModelSpec } from "./random-model.js";
import { buildScriptedModelSpec } from "./scripted-model.js";
import { readToolUseTemplate } from "./templates.js";
import { llama3TokenizerJsonPath } from "./vocab.js";

export * from "./tokens.js";
export { GENERATOR_VERSION } from "./llama-gguf.js";
export {
  DEFAULT_REPLY,
  TestModelOptionsError,
  resolveTestModelOptions,
  type ResolvedTestModelOptions,
  type TestModelKind,
  type TestModelOptions,
  type TestModelQuant,
} from "./options.js";
export { TestModelError, tokenizeWithSpecials } from "./vocab.js";
export { CHATML_TEMPLATE, readToolUseTemplate } from "./templates.js";
export { compileScript, type CompiledScript } from "./scripted-model.js";

/** Directory of the cache: `os.tmpdir()/talaria-test-models`. */
export function testModelCacheDir(): string {
  return path.join(os.tmpdir(), "talaria-test-models");
}

async function buildSpec(o: ResolvedTestModelOptions, toolUseTemplate: string): Promise<GgufFileSpec> {
  switch (o.kind) {
    case "random":
    case "3b":
      return buildRandomModelSpec(o, toolUseTemplate);
    case "scripted":
      return buildScriptedModelSpec(o, toolUseTemplate);
    default:
      return o.kind satisfies never;
  }
}

export interface WriteTestModelOptions {
  /** Aborts generation; the partial file is removed. Default: none. */
  readonly signal?: AbortSignal;
  /** Progress callback (bytes written, final size). Default: none. */
  readonly onProgress?: (written: number, total: number) => void;
}

/** Generates the model described by `options` and writes it to `outPath` (atomically: temp file + rename). */
export async function writeTestModel(options: TestModelOptions, outPath: string, writeOptions: WriteTestModelOptions = {}): Promise<void> {
  const resolved = resolveTestModelOptions(options);
  const spec = await buildSpec(resolved, readToolUseTemplate());
  await writeGguf(outPath, spec, {
    ...(writeOptions.signal !== undefined ? { signal: writeOptions.signal } : {}),
    ...(writeOptions.onProgress !== undefined ? { onProgress: writeOptions.onProgress } : {}),
  });
}

let vocabDigest: string | undefined;

/** The cache key: options, generator version, and digests of the vocabulary and tool_use template inputs. */
export function testModelCacheKey(options: TestModelOptions): string {
  const r = resolveTestModelOptions(options);
  vocabDigest ??= createHash("sha256").update(readFileSync(llama3TokenizerJsonPath())).digest("hex");
  const template = readToolUseTemplate();
  return createHash("sha256")
    .update(JSON.stringify({ v: GENERATOR_VERSION, r, vocabDigest, template }))
    .digest("hex")
    .slice(0, 20);
}

const pending = new Map<string, Promise<string>>();

/**
 * Path of a cached GGUF for `options`, generating it first when missing (a few seconds for `random` and
 * `scripted`). Safe under concurrent test workers: each writes a temp file and renames it into place.
 */
export async function ensureTestModel(options: TestModelOptions, writeOptions: WriteTestModelOptions = {}): Promise<string> {
  const key = testModelCacheKey(options);
  const file = path.join(testModelCacheDir(), `${options.kind}-${key}.gguf`);
  const inFlight = pending.get(file);
  if (inFlight !== undefined) return inFlight;
  const job = (async () => {
    if (existsSync(file)) return file;
    await mkdir(testModelCacheDir(), { recursive: true });
    await writeTestModel(options, file, writeOptions);
    return file;
  })();
  pending.set(file, job);
  try {
    return await job;
  } finally {
    pending.delete(file);
  }
}
