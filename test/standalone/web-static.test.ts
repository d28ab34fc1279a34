/** Serving the built web UI (src/server/static.ts, src/web-assets.ts) on a bare Hono app. */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEB_UI_CSP, mountWebUi } from "../../src/server/static.js";
import { webRoot, webUiBuilt } from "../../src/web-assets.js";

let dir: string;
let root: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "talaria-web-static-"));
  root = path.join(dir, "web");
  await mkdir(path.join(root, "assets"), { recursive: true });
  await writeFile(path.join(root, "index.html"), '<!doctype html><div id="app"></div>');
  await writeFile(path.join(root, "assets", "index-abc123.js"), "console.log(1)");
  await writeFile(path.join(dir, "secret.txt"), "secret");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function appWith(uiRoot: string): Hono {
  const app = new Hono();
  mountWebUi(app, { root: uiRoot });
  app.use("*", async (c) => c.json({ error: "auth" }, 401)); // stands for the API's auth middleware
  return app;
}

describe("mountWebUi", () => {
  it("serves the page at / and /index.html, before auth, with CSP and no-cache", async () => {
    for (const route of ["/", "/index.html"]) {
      const res = await appWith(root).request(route);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      expect(res.headers.get("content-security-policy")).toBe(WEB_UI_CSP);
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(await res.text()).toContain('id="app"');
    }
  });

  it("serves hashed assets as immutable; unknown files and traversal fall through to the next handler", async () => {
    const app = appWith(root);
    const js = await app.request("/assets/index-abc123.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await js.text()).toBe("console.log(1)");
    expect((await app.request("/assets/missing.js")).status).toBe(401);
    expect((await app.request("/assets/../../secret.txt")).status).toBe(401);
    expect((await app.request("/assets/%2e%2e/%2e%2e/secret.txt")).status).toBe(401);
    expect((await app.request("/v1/models")).status).toBe(401);
  });

  it("answers 503 with a build hint when the UI is not built", async () => {
    const res = await appWith(path.join(dir, "nothing-here")).request("/");
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("npm run build");
  });
});

describe("webRoot", () => {
  it("is $TALARIA_WEB_ROOT when set, else dist/web under the package root", () => {
    expect(webRoot({ TALARIA_WEB_ROOT: root })).toBe(root);
    expect(webRoot({})).toBe(path.resolve(import.meta.dirname, "../../dist/web"));
    expect(webUiBuilt(root)).toBe(true);
    expect(webUiBuilt(dir)).toBe(false);
  });
});
