/**
 * A supervised local `llama-server` child process, for the managed llama-server engine
 * (`managed.ts`, docs/engines.md, docs/decisions/0184-one-native-hand-off.md):
 *
 * - starts it on 127.0.0.1 on a free port (picked by listening on port 0; on a bind failure, the race
 *   with another process, it starts again on a fresh port) and waits for `GET /health` = 200 (the model
 *   loaded), with a bounded timeout and the log tail in the error;
 * - restarts it after an unexpected exit, with backoff, a bounded number of times in a row (a child
 *   that stayed up a while resets the count), and reports each exit and restart;
 * - stops it with SIGTERM, then SIGKILL after a grace period; every child still running when this
 *   process exits is SIGKILLed, and on SIGINT / SIGTERM / SIGHUP with no other listener (the signal
 *   would end the process) the children are stopped before the signal is re-raised. Children run in
 *   their own process group, so a terminal's Ctrl-C reaches Talaria only, which decides.
 *
 * Not covered: a Talaria process killed with SIGKILL cannot stop its child (nothing runs).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { EngineError } from "../types.js";
import { BackendHttp } from "./http.js";
import { sleep } from "../../util/sleep.js";

/** The loopback address every managed server listens on. */
export const MANAGED_HOST = "127.0.0.1";

/** Options of {@link LlamaServerSupervisor.start}. */
export interface LlamaServerSupervisorOptions {
  /** Path of the `llama-server` binary. Required. */
  readonly binary: string;
  /** Its arguments without `--host` and `--port` (the supervisor adds those). Required. */
  readonly args: readonly string[];
  /** Most ms from spawn until `/health` answers 200 (model load included). Default 300,000. */
  readonly startTimeoutMs?: number;
  /** Ms between SIGTERM and SIGKILL when stopping. Default 5,000. */
  readonly killGraceMs?: number;
  /** Restarts in a row after unexpected exits before giving up. Default 5. */
  readonly maxRestarts?: number;
  /** Delay before the first restart, doubled per restart in a row, at most 10 s. Default 500 ms. */
  readonly restartBackoffMs?: number;
  /** A child up this long before it exits counts as stable: the restart count starts again. Default 60,000 ms. */
  readonly stableMs?: number;
  /** Starts tried on fresh ports when the port was taken meanwhile. Default 5. */
  readonly bindAttempts?: number;
  /** The child's environment. Default: this process's, without llama-server's `LLAMA_ARG_*` / `LLAMA_API_KEY`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Exits, restarts and give-ups, as they happen. Default none. */
  readonly onEvent?: (event: SupervisorEvent) => void;
}

/** Defaults of {@link LlamaServerSupervisorOptions}. */
export const SUPERVISOR_DEFAULTS = {
  startTimeoutMs: 300_000,
  killGraceMs: 5_000,
  maxRestarts: 5,
  restartBackoffMs: 500,
  maxBackoffMs: 10_000,
  stableMs: 60_000,
  bindAttempts: 5,
} as const;

/** One running child. `epoch` counts the successful starts (1 = the first). */
export interface ServerInstance {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly epoch: number;
}

/** How a child ended unexpectedly. */
export interface ServerExit {
  readonly epoch: number;
  readonly pid: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The last lines of its log. */
  readonly tail: string;
  /** The restart this exit causes (1 = the first in a row), or undefined when the supervisor gave up. */
  readonly restart?: number;
  readonly maxRestarts: number;
}

/** What the supervisor reports. */
export type SupervisorEvent =
  | { readonly type: "started"; readonly instance: ServerInstance; readonly restart: number }
  | { readonly type: "exited"; readonly exit: ServerExit; readonly restartInMs: number }
  | { readonly type: "restart-failed"; readonly message: string; readonly restart: number }
  | { readonly type: "gave-up"; readonly exit: ServerExit };

/** "pid 123 exited with code 1" / "… was killed by SIGKILL". */
export function describeExit(exit: Pick<ServerExit, "pid" | "code" | "signal">): string {
  return `llama-server (pid ${exit.pid}) ${exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`}`;
}

const TAIL_CHARS = 16_384;
const TAIL_LINES = 25;
const HEALTH_POLL_MS = 50;


/** The last {@link TAIL_LINES} lines of a log. */
function lastLines(text: string): string {
  return text.trimEnd().split("\n").slice(-TAIL_LINES).join("\n");
}

/** A port that was free a moment ago on 127.0.0.1 (listen on port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, MANAGED_HOST, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("could not pick a free port"))));
    });
  });
}

/** The environment without llama-server's `LLAMA_ARG_*` / `LLAMA_API_KEY` variables, which would change its settings. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("LLAMA_ARG_") && key !== "LLAMA_API_KEY"));
}

// ---- every live child of this process, killed when it ends ------------------------------------

const live = new Set<ChildProcess>();
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const signalHandlers = new Map<NodeJS.Signals, () => void>();
let exitHandlerInstalled = false;

function killAllNow(): void {
  for (const child of live) child.kill("SIGKILL");
}

function removeSignalHandlers(): void {
  for (const [signal, handler] of signalHandlers) process.off(signal, handler);
  signalHandlers.clear();
}

function track(child: ChildProcess, graceMs: number): void {
  live.add(child);
  child.once("exit", () => {
    live.delete(child);
    if (live.size === 0) {
      removeSignalHandlers();
      if (exitHandlerInstalled) process.off("exit", killAllNow);
      exitHandlerInstalled = false;
    }
  });
  if (!exitHandlerInstalled) {
    process.on("exit", killAllNow); // process.exit(), the end of the event loop, an uncaught exception
    exitHandlerInstalled = true;
  }
  for (const signal of SIGNALS) {
    if (signalHandlers.has(signal)) continue;
    const handler = (): void => {
      // Another listener (a command's own shutdown, which disposes the engine) owns this signal.
      // Ours runs first (prepended), so the count still includes every other listener.
      if (process.listenerCount(signal) > 1) return;
      removeSignalHandlers();
      void stopChildren([...live], graceMs).finally(() => process.kill(process.pid, signal)); // the default action now
    };
    signalHandlers.set(signal, handler);
    process.prependListener(signal, handler);
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once every child has exited. */
async function stopChildren(children: readonly ChildProcess[], graceMs: number): Promise<void> {
  await Promise.all(children.map((c) => stopChild(c, graceMs)));
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

// ---- the supervisor -------------------------------------------------------------------------

/** A started child, its log tail and how it ended. */
interface Running {
  readonly child: ChildProcess;
  readonly instance: ServerInstance;
  readonly startedAt: number;
  readonly tail: () => string;
  readonly exited: Promise<ServerExit>;
}

/**
 * Starts and supervises one `llama-server` (see the module comment). {@link ready} gives the running
 * instance, waiting through a restart; {@link exitOf} tells whether an instance has exited.
 */
export class LlamaServerSupervisor {
  readonly #options: LlamaServerSupervisorOptions;
  readonly #stop = new AbortController();
  #running: Running | undefined;
  #ready: Promise<ServerInstance>;
  #epoch = 0;
  #inRow = 0;
  #restarts = 0;
  readonly #exits = new Map<number, ServerExit>();
  readonly #exitWaiters = new Map<number, Array<(exit: ServerExit) => void>>();

  private constructor(options: LlamaServerSupervisorOptions) {
    this.#options = options;
    this.#ready = Promise.reject(new EngineError("llama-server has not started", "backend_unavailable"));
    this.#ready.catch(() => undefined);
  }

  /** Start the child and wait until it is healthy. Throws {@link EngineError} `model_load_failed` with its log tail. */
  static async start(options: LlamaServerSupervisorOptions, signal?: AbortSignal): Promise<LlamaServerSupervisor> {
    const supervisor = new LlamaServerSupervisor(options);
    const onAbort = (): void => supervisor.#stop.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const instance = await supervisor.#launch();
      supervisor.#ready = Promise.resolve(instance);
      return supervisor;
    } catch (error) {
      await supervisor.stop();
      if (signal?.aborted === true) throw new EngineError("starting llama-server was aborted", "aborted", { cause: error });
      throw error;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** The running instance; waits while a restart is under way. Rejects once the supervisor gave up or stopped. */
  ready(signal?: AbortSignal): Promise<ServerInstance> {
    if (signal === undefined) return this.#ready;
    if (signal.aborted) return Promise.reject(new EngineError("the request was aborted", "aborted"));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(new EngineError("the request was aborted", "aborted"));
      signal.addEventListener("abort", onAbort, { once: true });
      this.#ready.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  /** The instance running now (undefined while restarting or after stopping). */
  get current(): ServerInstance | undefined {
    const r = this.#running;
    return r !== undefined && r.child.exitCode === null && r.child.signalCode === null ? r.instance : undefined;
  }

  /** Restarts after unexpected exits so far. */
  get restarts(): number {
    return this.#restarts;
  }

  /** The last ~16 KB of the current (or last) child's log. */
  logTail(): string {
    return this.#running?.tail() ?? "";
  }

  /**
   * How instance `epoch` exited unexpectedly: at once when known, else within `waitMs` (a connection
   * can break a moment before the exit is reported), else undefined (it is still running).
   */
  async exitOf(epoch: number, waitMs = 0): Promise<ServerExit | undefined> {
    const known = this.#exits.get(epoch);
    if (known !== undefined || waitMs <= 0) return known;
    return new Promise((resolve) => {
      const waiters = this.#exitWaiters.get(epoch) ?? [];
      const timer = setTimeout(() => resolve(this.#exits.get(epoch)), waitMs);
      waiters.push((exit) => {
        clearTimeout(timer);
        resolve(exit);
      });
      this.#exitWaiters.set(epoch, waiters);
    });
  }

  /** Stop the child (SIGTERM, SIGKILL after the grace period) and never restart it. Idempotent. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#ready = Promise.reject(new EngineError("the engine was disposed", "disposed"));
    this.#ready.catch(() => undefined);
    const r = this.#running;
    if (r !== undefined) await stopChild(r.child, this.#options.killGraceMs ?? SUPERVISOR_DEFAULTS.killGraceMs);
  }

  /** Spawn on a free port and wait for health; a bind failure tries a fresh port. */
  async #launch(): Promise<ServerInstance> {
    const attempts = this.#options.bindAttempts ?? SUPERVISOR_DEFAULTS.bindAttempts;
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      try {
        return await this.#launchOn(port);
      } catch (error) {
        const bind = error instanceof LaunchError && /couldn't bind|address already in use|EADDRINUSE/i.test(error.tail);
        if (!bind || attempt >= attempts || this.#stop.signal.aborted) throw error instanceof LaunchError ? error.engineError : error;
      }
    }
  }

  async #launchOn(port: number): Promise<ServerInstance> {
    if (this.#stop.signal.aborted) throw new EngineError("the engine was disposed", "disposed");
    const { binary } = this.#options;
    const graceMs = this.#options.killGraceMs ?? SUPERVISOR_DEFAULTS.killGraceMs;
    let tail = "";
    const child = spawn(binary, [...this.#options.args, "--host", MANAGED_HOST, "--port", String(port)], {
      env: this.#options.env ?? cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group: a terminal's Ctrl-C goes to Talaria, which decides
    });
    const append = (chunk: Buffer): void => {
      tail = (tail + chunk.toString("utf8")).slice(-TAIL_CHARS);
    };
    child.stdout?.on("data", append);
    child.stderr?.on("data", append);
    // The child and its pipes stay referenced (the process lives while the engine does): whoever
    // creates the engine disposes it; the exit hook covers process.exit() and uncaught exceptions.
    let spawnError: Error | undefined;
    child.once("error", (error) => {
      spawnError = error;
    });
    const pid = child.pid;
    if (pid === undefined) {
      await new Promise((resolve) => setImmediate(resolve));
      throw new LaunchError(new EngineError(`could not start ${binary}: ${spawnError?.message ?? "no pid"}`, "model_load_failed", { cause: spawnError }), "");
    }
    track(child, graceMs);
    const epoch = this.#epoch + 1;
    const instance: ServerInstance = { url: `http://${MANAGED_HOST}:${port}`, port, pid, epoch };
    let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const exited = new Promise<ServerExit>((resolve) => {
      child.once("exit", (code, signal) => {
        exitInfo = { code, signal };
        resolve({ epoch, pid, code, signal, tail: lastLines(tail), maxRestarts: this.#options.maxRestarts ?? SUPERVISOR_DEFAULTS.maxRestarts });
      });
    });
    this.#running = { child, instance, startedAt: Date.now(), tail: () => tail, exited };

    const http = new BackendHttp({ url: instance.url, connectTimeoutMs: 1_000, readTimeoutMs: 5_000 });
    const timeoutMs = this.#options.startTimeoutMs ?? SUPERVISOR_DEFAULTS.startTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        if (exitInfo !== undefined || spawnError !== undefined) {
          const how = spawnError !== undefined ? `could not be started (${spawnError.message})` : describeExit({ pid, ...exitInfo! }).replace(/^llama-server \(pid \d+\) /, "");
          throw new LaunchError(new EngineError(`llama-server ${binary} ${how} before it was ready; its log ends:\n${lastLines(tail)}`, "model_load_failed", { cause: spawnError }), tail);
        }
        if (this.#stop.signal.aborted) throw new EngineError("the engine was disposed", "disposed");
        if (Date.now() > deadline) {
          await stopChild(child, graceMs);
          throw new EngineError(`llama-server ${binary}: /health did not answer 200 within ${Math.round(timeoutMs / 1000)} s (the model loads before it does); its log ends:\n${lastLines(tail)}`, "model_load_failed");
        }
        const r = await http.get("/health", this.#stop.signal).catch(() => undefined);
        if (r?.status === 200) break;
        await sleep(HEALTH_POLL_MS, this.#stop.signal);
      }
    } catch (error) {
      await stopChild(child, graceMs);
      throw error;
    } finally {
      http.close();
    }
    this.#epoch = epoch;
    void exited.then((exit) => this.#onExit(exit));
    return instance;
  }

  #onExit(exit: ServerExit): void {
    const running = this.#running;
    if (this.#stop.signal.aborted) return this.#recordExit(exit); // stopped on purpose
    if (running !== undefined && Date.now() - running.startedAt >= (this.#options.stableMs ?? SUPERVISOR_DEFAULTS.stableMs)) this.#inRow = 0;
    const max = this.#options.maxRestarts ?? SUPERVISOR_DEFAULTS.maxRestarts;
    if (this.#inRow >= max) {
      this.#recordExit(exit);
      this.#giveUp(exit);
      return;
    }
    this.#inRow++;
    const noted: ServerExit = { ...exit, restart: this.#inRow };
    this.#recordExit(noted);
    const delay = Math.min((this.#options.restartBackoffMs ?? SUPERVISOR_DEFAULTS.restartBackoffMs) * 2 ** (this.#inRow - 1), SUPERVISOR_DEFAULTS.maxBackoffMs);
    this.#options.onEvent?.({ type: "exited", exit: noted, restartInMs: delay });
    this.#ready = this.#restartLoop(delay, noted);
    this.#ready.catch(() => undefined);
  }

  async #restartLoop(firstDelay: number, exit: ServerExit): Promise<ServerInstance> {
    let delay = firstDelay;
    const max = this.#options.maxRestarts ?? SUPERVISOR_DEFAULTS.maxRestarts;
    for (;;) {
      await sleep(delay, this.#stop.signal);
      if (this.#stop.signal.aborted) throw new EngineError("the engine was disposed", "disposed");
      try {
        const instance = await this.#launch();
        this.#restarts++;
        this.#options.onEvent?.({ type: "started", instance, restart: this.#inRow });
        return instance;
      } catch (error) {
        if (this.#stop.signal.aborted) throw new EngineError("the engine was disposed", "disposed");
        const message = error instanceof Error ? error.message : String(error);
        this.#options.onEvent?.({ type: "restart-failed", message, restart: this.#inRow });
        if (this.#inRow >= max) throw this.#giveUp(exit, message);
        this.#inRow++;
        delay = Math.min(delay * 2, SUPERVISOR_DEFAULTS.maxBackoffMs);
      }
    }
  }

  #giveUp(exit: ServerExit, lastError?: string): EngineError {
    const max = this.#options.maxRestarts ?? SUPERVISOR_DEFAULTS.maxRestarts;
    const error = new EngineError(
      `${describeExit(exit)}; gave up after ${max} restart(s) in a row${lastError === undefined ? `; its log ends:\n${exit.tail}` : `; the last restart failed: ${lastError}`}`,
      "backend_unavailable",
    );
    this.#ready = Promise.reject(error);
    this.#ready.catch(() => undefined);
    this.#options.onEvent?.({ type: "gave-up", exit });
    return error;
  }

  #recordExit(exit: ServerExit): void {
    this.#exits.set(exit.epoch, exit);
    for (const w of this.#exitWaiters.get(exit.epoch) ?? []) w(exit);
    this.#exitWaiters.delete(exit.epoch);
  }
}

/** A start that failed, with the log tail (to tell a bind failure from the rest). */
class LaunchError extends Error {
  constructor(
    readonly engineError: EngineError,
    readonly tail: string,
  ) {
    super(engineError.message);
  }
}
