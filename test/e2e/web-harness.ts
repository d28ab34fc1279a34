/**
 * Shared setup for the web UI browser tests: build the UI, start Talaria's server on a scripted test model,
 * drive Debian's Chromium with playwright-core.
 *
 * The server is started in-process through the server's own start function (`startServer`, the one
 * `talaria serve` uses) with the llama.cpp engine on a generated scripted GGUF; the page is whatever that
 * server serves at `/` (it finds the build through `webRoot()`, pointed here at a fresh build by
 * `TALARIA_WEB_ROOT`). With `mcp` (an `mcpServers` file, as `talaria serve --mcp FILE` takes) the server
 * also runs those MCP servers' tools.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { build } from "vite";
import { createLlamaCppEngine } from "../../src/engine/llama-cpp/index.js";
import { createHermesChat } from "../../src/chat/hermes-chat.js";
import { startServer, type RunningServer } from "../../src/server/server.js";
import { McpToolset, readMcpConfig } from "../../src/mcp/index.js";
import type { ServerBackend } from "../../src/server/app.js";
import type { Engine } from "../../src/engine/types.js";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Screenshots of each step (gitignored). */
export const screenshotDir = path.join(repoRoot, "test-output", "web");

/** Chromium binary: `$TALARIA_CHROMIUM`, else Debian's `/usr/bin/chromium`. */
export const chromiumPath = process.env["TALARIA_CHROMIUM"] ?? "/usr/bin/chromium";

/** Build `web/` with its own Vite config into `outDir` (so the test never sees a stale `dist/web`). */
export async function buildWebUi(outDir: string): Promise<void> {
  await build({
    root: path.join(repoRoot, "web"),
    logLevel: "warn",
    build: { outDir, emptyOutDir: true },
  });
}

export interface Talaria {
  readonly server: RunningServer;
  readonly engine: Engine;
  /** True when the server serves the built page at `/`. */
  readonly servesUi: boolean;
  /** Stop the HTTP server only (to see the page handle a server that went away). */
  stopServer(): Promise<void>;
  /** Stop the server (if still running) and dispose of the engine. */
  close(): Promise<void>;
}

export const MODEL_ID = "hermes-3-scripted";

/**
 * Start the server on `modelPath` (2 threads, one sequence) and check that `/` is the web UI. The check
 * runs while the model is still loading (the server takes a backend promise), so a server without the UI
 * costs no model load.
 */
export async function startTalaria(options: {
  readonly modelPath: string;
  readonly webRoot: string;
  readonly apiKey?: string;
  /** An `mcpServers` JSON file: its servers start before the server listens, as with `talaria serve --mcp FILE`. */
  readonly mcp?: string;
}): Promise<Talaria> {
  process.env["TALARIA_WEB_ROOT"] = options.webRoot;
  const mcp = options.mcp === undefined ? undefined : await McpToolset.start(await readMcpConfig(options.mcp));
  let provide!: (backend: ServerBackend) => void;
  let fail!: (error: unknown) => void;
  const backend = new Promise<ServerBackend>((resolve, reject) => {
    provide = resolve;
    fail = reject;
  });
  let server: RunningServer;
  try {
    server = await startServer({
      backend,
      modelId: MODEL_ID,
      host: "127.0.0.1",
      port: 0,
      parallel: 1,
      log: () => undefined,
      ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
      ...(mcp !== undefined ? { mcp } : {}),
    });
  } catch (error) {
    await mcp?.close();
    throw error;
  }
  const page = await fetch(`${server.url}/`);
  const html = await page.text();
  const servesUi = page.ok && (page.headers.get("content-type") ?? "").includes("text/html") && html.includes('id="app"');
  let engine: Engine | undefined;
  let serverOpen = true;
  if (servesUi) {
    try {
      const loaded = await createLlamaCppEngine({ model: options.modelPath, threads: 2, gpu: "auto", sequences: 1, contextSize: 4096 });
      engine = loaded;
      provide({
        engine: loaded,
        chat: createHermesChat(loaded, { profile: "hermes-3", constrained: false }).service,
        // MCP runs, as `talaria serve` sets them up: the agent loop validates arguments and answers unknown tools.
        ...(mcp !== undefined ? { agentChat: createHermesChat(loaded, { profile: "hermes-3", constrained: false, validate: false, undeclaredToolCalls: "call" }).service } : {}),
      });
    } catch (error) {
      fail(error);
      await server.close();
      await mcp?.close();
      throw error;
    }
  } else {
    fail(new Error("not loaded: the server does not serve the web UI"));
  }
  return {
    server,
    get engine(): Engine {
      if (engine === undefined) throw new Error("no engine: the server does not serve the web UI");
      return engine;
    },
    servesUi,
    stopServer: async () => {
      if (serverOpen) {
        serverOpen = false;
        await server.close();
      }
    },
    close: async () => {
      if (serverOpen) {
        serverOpen = false;
        await server.close();
      }
      await mcp?.close();
      await engine?.dispose();
    },
  };
}

/** Why the browser tests cannot run here, or null. */
export function chromiumProblem(): string | null {
  return existsSync(chromiumPath)
    ? null
    : `Chromium not found at ${chromiumPath}: install Debian's package (apt-get install -y chromium) or set TALARIA_CHROMIUM.`;
}

export interface BrowserSession {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and page errors seen so far. */
  readonly errors: string[];
  close(): Promise<void>;
}

/**
 * Headless Chromium with a fresh profile (so localStorage starts empty), the flags this machine needs
 * (no sandbox as root, no GPU, no background network), and the given viewport.
 */
export async function openBrowser(viewport: { readonly width: number; readonly height: number }): Promise<BrowserSession> {
  const userDataDir = await mkdtemp(path.join(tmpdir(), "talaria-web-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    viewport,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    // Chromium reports the sanitiser's inert parse of an inline event handler as a CSP event; nothing runs.
    if (m.type() === "error" && !m.text().startsWith("Executing inline event handler violates")) errors.push(`console: ${m.text()}`);
  });
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Save a screenshot as `test-output/web/<name>.png`. */
export async function shot(page: Page, name: string): Promise<void> {
  await mkdir(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: false });
}

/** The conversations the page keeps in localStorage. */
export async function storedConversations(page: Page): Promise<
  { title: string; messages: { role: string; content: string; toolCallId?: string; meta?: Record<string, unknown> }[] }[]
> {
  return page.evaluate<never>(`JSON.parse(localStorage.getItem("talaria.web.conversations.v1") ?? "[]")`);
}

/**
 * Start recording the text lengths the last assistant reply goes through (a MutationObserver in the
 * page); `read()` returns them. More than a couple of distinct lengths means the reply was streamed.
 */
export async function watchReplyGrowth(page: Page): Promise<{ read(): Promise<number[]> }> {
  // Page-side code as text: this program is typed for Node, without the DOM library.
  await page.evaluate(`(() => {
    window.__replyLengths = [];
    new MutationObserver(() => {
      const all = document.querySelectorAll('article[data-role="assistant"] .markdown');
      const n = all.length === 0 ? 0 : (all[all.length - 1].textContent ?? "").length;
      const seen = window.__replyLengths;
      if (n > 0 && seen[seen.length - 1] !== n) seen.push(n);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  })()`);
  return { read: () => page.evaluate<number[]>("window.__replyLengths") };
}

/** A fresh temporary folder. */
export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}
