// Locates shared/ for the eval tests (TALARIA_SHARED_DIR overrides ../shared relative to the repo root).
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const sharedDir = process.env.TALARIA_SHARED_DIR ?? path.resolve(repoRoot, "../shared");
export const evalDataDir = path.join(sharedDir, "eval-data");
