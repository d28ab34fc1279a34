/**
 * Reading the benchmark data files (the I/O edge of the eval core). Data is never copied into the
 * repository: it is read from a data directory laid out as `shared/eval-data/` (see docs/eval.md for
 * where to get the files). `.bz2` files are decompressed with seek-bzip (pure JavaScript).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Bunzip from "seek-bzip";
import { EvalDataError, type EvalDocument, type TaskDefinition } from "./types.js";

/** The repository (package) root: this file is `src/eval/data.ts` or `dist/eval/data.js`. */
export function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
}

/**
 * The default data directory, or undefined when none is present: `$TALARIA_SHARED_DIR/eval-data`, else
 * `../shared/eval-data` relative to the working directory, else relative to the package root.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string | undefined {
  const candidates: string[] = [];
  const shared = env.TALARIA_SHARED_DIR;
  if (shared !== undefined && shared !== "") candidates.push(path.join(shared, "eval-data"));
  candidates.push(path.resolve(cwd, "../shared/eval-data"), path.resolve(packageRoot(), "../shared/eval-data"));
  return candidates.find((dir) => existsSync(dir));
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Reads one data file as text (bzip2-decompressed when it ends in `.bz2`). */
export async function readDataFile(dataDir: string, relativePath: string): Promise<string> {
  const full = path.join(dataDir, relativePath);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(full);
  } catch (cause) {
    throw new EvalDataError(`cannot read ${full}: the data directory must contain ${relativePath} (see docs/eval.md)`, { cause });
  }
  if (relativePath.endsWith(".bz2")) {
    try {
      bytes = Bunzip.decode(bytes, undefined, true);
    } catch (cause) {
      throw new EvalDataError(`${full}: bzip2 decoding failed`, { cause });
    }
  }
  try {
    return utf8.decode(bytes);
  } catch (cause) {
    throw new EvalDataError(`${full}: not valid UTF-8`, { cause });
  }
}

/** Reads a task's files and builds its documents; `limit` keeps the first N in natural order. */
export async function loadTaskDocuments(dataDir: string, task: TaskDefinition, limit?: number): Promise<EvalDocument[]> {
  const files = new Map<string, string>();
  for (const f of task.files) files.set(f, await readDataFile(dataDir, f));
  const docs = task.build(files);
  return limit === undefined ? docs : docs.slice(0, limit);
}
