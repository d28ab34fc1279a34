/**
 * Test helpers: locate the shared fixtures (`../shared` next to the repo, or TALARIA_SHARED_DIR)
 * and load them. Used by tests only; never copies fixture data into the repo.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export function sharedDir(): string {
  return process.env["TALARIA_SHARED_DIR"] ?? path.resolve(repoRoot, "../shared");
}

export function readShared(relative: string): string {
  return readFileSync(path.join(sharedDir(), relative), "utf8");
}

export function readSharedJson<T>(relative: string): T {
  return JSON.parse(readShared(relative)) as T;
}
