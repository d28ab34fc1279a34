/**
 * Where the built chat web UI lives. `vite build web` writes it to `dist/web/` (see `web/vite.config.ts`);
 * the server serves that folder at `/` (`src/server/static.ts`).
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Absolute path of the built web UI: `$TALARIA_WEB_ROOT` when set, else `<package root>/dist/web`.
 * The package root is found from this module's own location, which is `src/` when run from source and
 * `dist/` when built, so both resolve to the same folder.
 */
export function webRoot(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const override = env["TALARIA_WEB_ROOT"];
  if (override !== undefined && override !== "") return resolve(override);
  const packageRoot = fileURLToPath(new URL("..", import.meta.url));
  return join(packageRoot, "dist", "web");
}

/** True when `root` holds a built UI (an `index.html`). */
export function webUiBuilt(root: string = webRoot()): boolean {
  return existsSync(join(root, "index.html"));
}
