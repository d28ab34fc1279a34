/**
 * Build of the chat web UI served by `talaria serve` at `/`.
 *
 * Run from the repository root as `vite build web`: `web/` is the Vite root, the output goes to `dist/web/`
 * (next to the compiled server in `dist/`; `src/web-assets.ts` finds it there). JSX is compiled by Vite's
 * own transformer (Oxc) for Preact's automatic runtime, so no Babel preset is needed (decision 0130).
 *
 * Dev loop: `TALARIA_DEV_API=http://127.0.0.1:8080 npx vite web` serves the UI with hot reload and proxies
 * the public API (`/v1`, `/health`) to a running `talaria serve`.
 */
import { defineConfig, loadEnv } from "vite";

export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, ".", "TALARIA_");
  const api = env["TALARIA_DEV_API"] ?? "http://127.0.0.1:8080";
  return {
    base: "./",
    oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
    build: {
      outDir: "../dist/web",
      emptyOutDir: true,
      target: "es2022",
      sourcemap: false,
      reportCompressedSize: true,
      chunkSizeWarningLimit: 300,
    },
    server: { proxy: { "/v1": api, "/health": api } },
  };
});
