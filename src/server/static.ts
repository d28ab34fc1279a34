/**
 * The chat web UI (built by `vite build web` into `dist/web/`, see `src/web-assets.ts`) served at `/`.
 *
 * Call {@link mountWebUi} on the app BEFORE the auth middleware: the page and its assets are public (the
 * page itself asks for the API key and sends it with its API calls), only the API needs the key.
 */
import type { Hono, MiddlewareHandler } from "hono";
import { serveStatic } from "@hono/node-server/serve-static";
import { webRoot, webUiBuilt } from "../web-assets.js";

export interface WebUiOptions {
  /** Folder of the built UI. Default {@link webRoot}() (`dist/web/`, or `$TALARIA_WEB_ROOT`). */
  readonly root?: string;
}

/**
 * Content-Security-Policy of the page: only its own scripts, styles and API (same origin); no inline
 * script; model output is sanitised by the page as well.
 */
export const WEB_UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const NOT_BUILT_PAGE = `<!doctype html><meta charset="utf-8"><title>Talaria</title>
<p>The Talaria web UI is not built. Run <code>npm run build</code> in the package folder (it runs
<code>vite build web</code>), then reload. The API is available under <code>/v1</code>.</p>`;

/**
 * Register `GET /` (the page) and `GET /assets/*` (hashed, immutable bundles) on `app`. When the UI is not
 * built, `/` answers 503 with a page saying how to build it; the API is unaffected.
 */
export function mountWebUi(app: Hono, options: WebUiOptions = {}): void {
  const root = options.root ?? webRoot();
  const pageHeaders = {
    "Content-Security-Policy": WEB_UI_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
  } as const;

  // Created on first use: serveStatic complains at creation when its root does not exist (UI not built).
  let page: MiddlewareHandler | undefined;
  let assets: MiddlewareHandler | undefined;
  for (const route of ["/", "/index.html"]) {
    app.get(route, async (c, next) => {
      if (!webUiBuilt(root)) {
        return c.html(NOT_BUILT_PAGE, 503, { "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" });
      }
      page ??= serveStatic({ root, path: "index.html" });
      return withHeaders(await page(c, next), pageHeaders);
    });
  }
  app.get("/assets/*", async (c, next) => {
    if (!webUiBuilt(root)) return next();
    assets ??= serveStatic({ root });
    // Vite puts a content hash in every asset name.
    return withHeaders(await assets(c, next), { "Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff" });
  });
}

/**
 * Add headers to the response serveStatic produced (a file was found); when it fell through to the next
 * handler (nothing returned), leave that handler's response alone.
 */
function withHeaders(result: Response | void, headers: Readonly<Record<string, string>>): Response | undefined {
  if (!(result instanceof Response)) return undefined;
  for (const [k, v] of Object.entries(headers)) result.headers.set(k, v);
  return result;
}
