/**
 * Test helpers for llama.cpp's own `llama-server`, built from the same llama.cpp commit that node-llama-cpp
 * bundles (provisioned by `scripts/llama-server.sh`: cache, then `../shared/prebuilt`, else a source build).
 *
 * ```ts
 * const found = findLlamaServer();
 * describe.skipIf("missing" in found && !llamaServerRequired())("vs llama-server", () => {
 *   let server: LlamaServerProcess;
 *   beforeAll(async () => { server = await startLlamaServer({ model: await ensureTestModel({ kind: "random" }) }); });
 *   afterAll(() => server.kill());
 * });
 * ```
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cleanEnv, freePort } from "../../src/engine/remote/supervisor.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SCRIPT = path.join(repoRoot, "scripts/llama-server.sh");
const BUILD_COMMAND = "bash scripts/llama-server.sh --build";
const HOST = "127.0.0.1";
const HEALTH_TIMEOUT_MS = 120_000;
const KILL_GRACE_MS = 10_000;
const TAIL_CHARS = 16_384;

let found: { path: string } | { missing: string } | undefined;

/**
 * Locates the `llama-server` binary by running `scripts/llama-server.sh` without `--build` (synchronously, once per
 * process; the result is memoized). Never builds: a build takes ~40 minutes on 2 cores.
 *
 * @returns `{ path }` of an executable binary, or `{ missing }`: why it is unavailable and the command that
 *   provisions it (`bash scripts/llama-server.sh --build`).
 */
export function findLlamaServer(): { path: string } | { missing: string } {
  if (found !== undefined) return found;
  try {
    const out = execFileSync("bash", [SCRIPT], { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
    found = out !== "" && existsSync(out) ? { path: out } : { missing: `scripts/llama-server.sh printed no usable path (${JSON.stringify(out)}); run: ${BUILD_COMMAND}` };
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
    const reason = stderr.split("\n").pop() || (error as Error).message;
    found = { missing: reason.includes(BUILD_COMMAND) ? reason : `${reason}; run: ${BUILD_COMMAND}` };
  }
  return found;
}

let reasonPrinted = false;

/**
 * Whether tests that need `llama-server` must run (and so FAIL when it is missing) rather than skip: true when
 * `process.env.CI === "true"`. Otherwise false; when the binary is also missing, the reason is printed once per
 * process (`console.warn`) so the skip is visible.
 */
export function llamaServerRequired(): boolean {
  if (process.env["CI"] === "true") return true;
  const result = findLlamaServer();
  if ("missing" in result && !reasonPrinted) {
    reasonPrinted = true;
    console.warn(`llama-server tests skipped: ${result.missing}`);
  }
  return false;
}

/** Options of {@link startLlamaServer}. */
export interface LlamaServerOptions {
  /** Path of the GGUF model (`-m`). Required. */
  readonly model: string;
  /** Port on 127.0.0.1 (`--port`). Default: a free port, picked by listening on port 0 and closing. */
  readonly port?: number;
  /** Number of slots, i.e. concurrent sequences (`--parallel`). Default: 2. */
  readonly parallel?: number;
  /**
   * TOTAL context size in tokens (`-c`), divided among the slots: with `--parallel` given (as here), llama-server
   * uses separate per-slot KV caches (`kv_unified = false`) and gives each slot `contextSize / parallel` tokens, both
   * numbers rounded up to a multiple of 256 (the defaults: 1024 per slot; `-c 3000 --parallel 3`: 1024 per slot).
   * Default: 2048.
   */
  readonly contextSize?: number;
  /** CPU threads for generation (`--threads`). Default: 1 (fastest for the tiny test models on 2 busy cores). */
  readonly threads?: number;
  /** Further llama-server arguments, appended after the generated ones (e.g. `["--cache-reuse", "256"]`). Default: none. */
  readonly extraArgs?: readonly string[];
  /** API key the server requires on its API (`--api-key`; `/health` stays open). Default: none (no auth). */
  readonly apiKey?: string;
}

/** A running `llama-server` started by {@link startLlamaServer}. */
export interface LlamaServerProcess {
  /** Base URL, `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  /** The port it listens on; kept across {@link LlamaServerProcess.restart}. */
  readonly port: number;
  /** Pid of the current process (changes on restart). */
  readonly pid: number;
  /** The current child process (changes on restart). */
  readonly process: ChildProcess;
  /** The last ~16 KB of the process's log output (stderr, where llama-server logs, interleaved with stdout). */
  stderrTail(): string;
  /**
   * Stops the process and resolves once it has exited. Default signal: `SIGTERM`, escalated to `SIGKILL` after 10 s.
   * Resolves at once when it has already exited.
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Kills it (SIGTERM) and starts it again with the same arguments on the same port; resolves when healthy. */
  restart(): Promise<void>;
}

const live = new Set<ChildProcess>();
let cleanupRegistered = false;

/** Kills every still-running server when this process ends (registered once, on the first start). */
function registerCleanup(): void {
  if (cleanupRegistered) return;
  cleanupRegistered = true;
  const killAll = (): void => {
    for (const child of live) child.kill("SIGKILL");
    live.clear();
  };
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal); // our listener is gone: re-raise for the default behaviour
    });
  }
}


function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Starts llama.cpp's `llama-server` (located by {@link findLlamaServer}; throws its `missing` reason when absent) on
 * 127.0.0.1 and resolves once `GET /health` answers 200 (timeout 120 s, after which it is killed). Arguments:
 * `-m <model> --host 127.0.0.1 --port <port> --threads 1 --parallel 2 -c 2048 --metrics --slots --no-ui`
 * (defaults shown; see {@link LlamaServerOptions}), then `--api-key` and `extraArgs` when given. `LLAMA_ARG_*`
 * environment variables are not passed on. Rejects with the log tail when the process exits before it is healthy.
 * Every server still running when this process exits is killed.
 */
export async function startLlamaServer(options: LlamaServerOptions): Promise<LlamaServerProcess> {
  const binary = findLlamaServer();
  if ("missing" in binary) throw new Error(`llama-server unavailable: ${binary.missing}`);
  registerCleanup();
  const port = options.port ?? (await freePort());
  const url = `http://${HOST}:${port}`;
  const args = [
    "-m", options.model,
    "--host", HOST,
    "--port", String(port),
    "--threads", String(options.threads ?? 1),
    "--parallel", String(options.parallel ?? 2),
    "-c", String(options.contextSize ?? 2048),
    "--metrics",
    "--slots",
    "--no-ui", // = --no-webui, which this llama.cpp logs as deprecated
    ...(options.apiKey !== undefined ? ["--api-key", options.apiKey] : []),
    ...(options.extraArgs ?? []),
  ];
  let tail = "";
  let child: ChildProcess;

  const launch = async (): Promise<void> => {
    tail = "";
    const proc = spawn(binary.path, args, { env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    live.add(proc);
    const append = (chunk: Buffer): void => {
      tail = (tail + chunk.toString("utf8")).slice(-TAIL_CHARS);
    };
    proc.stdout?.on("data", append);
    proc.stderr?.on("data", append);
    let exited: string | undefined;
    proc.once("exit", (code, signal) => {
      live.delete(proc);
      exited = `exited with ${signal ?? `code ${code}`}`;
    });
    const spawnError = new Promise<never>((_, reject) => proc.once("error", reject));
    spawnError.catch(() => undefined);
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    for (;;) {
      if (exited !== undefined) throw new Error(`llama-server ${exited} before /health answered 200:\n${tail}`);
      if (Date.now() > deadline) {
        await stop(proc, "SIGKILL");
        throw new Error(`llama-server: /health did not answer 200 within ${HEALTH_TIMEOUT_MS / 1000} s:\n${tail}`);
      }
      try {
        const res = await Promise.race([fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) }), spawnError]);
        await res.body?.cancel();
        if (res.status === 200) return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).syscall?.startsWith("spawn")) throw error;
      }
      await sleep(100);
    }
  };

  await launch();
  return {
    url,
    port,
    get pid() {
      return child.pid ?? -1;
    },
    get process() {
      return child;
    },
    stderrTail: () => tail,
    kill: (signal: NodeJS.Signals = "SIGTERM") => stop(child, signal),
    restart: async () => {
      await stop(child, "SIGTERM");
      await launch();
    },
  };
}

/** Sends `signal` (SIGKILL after {@link KILL_GRACE_MS}) and resolves once `proc` has exited. */
async function stop(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill("SIGKILL"), KILL_GRACE_MS);
  await exited;
  clearTimeout(timer);
  live.delete(proc);
}
