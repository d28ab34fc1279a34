/**
 * The managed llama-server engine (`talaria serve --model F.gguf --engine llama-server`): Talaria
 * starts llama.cpp's own `llama-server` as a child process on loopback, supervises it
 * (`supervisor.ts`) and talks to it through the remote engine's llama-server dialect, token ids both
 * ways: Talaria keeps the prompt, the grammar and the parser, as in front of any llama-server. One
 * native hand-off per token (llama-server's decode loop samples in C++), where the embedded engine
 * pays two thread-pool round trips (docs/decisions/0184-one-native-hand-off.md, docs/engines.md).
 *
 * Capabilities are the llama-server dialect's: no jump-forward, no loglikelihood.
 */
import { accessSync, constants as fsConstants, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFile } from "node:child_process";
import { SequencePool } from "../sequence-pool.js";
import {
  EngineError,
  type DetokenizeOptions,
  type Engine,
  type EngineCapabilities,
  type EngineStats,
  type GenerateEvent,
  type GenerateRequest,
  type LoglikelihoodRequest,
  type LoglikelihoodResult,
  type ModelInfo,
  type TokenId,
  type TokenizeOptions,
} from "../types.js";
import type { PromptText } from "../../prompt/text.js";
import { createRemoteEngine, type LocalModelInfo, type RemoteEngine, type RemoteEngineOptions } from "./engine.js";
import { BackendError } from "./http.js";
import { LLAMA_SERVER_CAPABILITIES } from "./llama-server.js";
import { describeExit, LlamaServerSupervisor, SUPERVISOR_DEFAULTS, type ServerExit, type ServerInstance, type SupervisorEvent } from "./supervisor.js";

/** The environment variable naming the llama-server binary (second in the lookup order). */
export const LLAMA_SERVER_ENV = "TALARIA_LLAMA_SERVER";

/** What to run when no binary is found: builds the llama.cpp commit node-llama-cpp bundles. */
export const LLAMA_SERVER_BUILD_HINT =
  "`bash scripts/llama-server.sh --build` (in a Talaria checkout) builds the llama.cpp commit Talaria bundles into /tmp/talaria-llama-server/<commit>/llama-server and prints its path";

function executable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The llama-server binary: `explicit` (the `--llama-server-bin` flag), else `$TALARIA_LLAMA_SERVER`,
 * else `llama-server` on `PATH`. Throws {@link EngineError} `model_load_failed` naming the lookup
 * order and {@link LLAMA_SERVER_BUILD_HINT} when none is found, or naming the path that is not executable.
 */
export function findLlamaServerBinary(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  for (const [given, from] of [[explicit, "--llama-server-bin"], [env[LLAMA_SERVER_ENV], `$${LLAMA_SERVER_ENV}`]] as const) {
    if (given === undefined || given === "") continue;
    if (!executable(given)) throw new EngineError(`${from} ${given} is not an executable file`, "model_load_failed");
    return path.resolve(given);
  }
  for (const dir of (env["PATH"] ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, "llama-server");
    if (executable(candidate)) return candidate;
  }
  throw new EngineError(
    `--engine llama-server: no llama-server binary (looked at --llama-server-bin, $${LLAMA_SERVER_ENV}, then llama-server on PATH); ${LLAMA_SERVER_BUILD_HINT}`,
    "model_load_failed",
  );
}

/** The optional flags a llama-server build has (read from its `--help`; older builds lack some). */
export interface LlamaServerFlags {
  /** `--no-ui` (newer) or `--no-webui`, when the build has a web UI to turn off. */
  readonly noUi?: string;
  /** `--cont-batching` (on by default; passed explicitly when the build knows it). */
  readonly contBatching: boolean;
  readonly metrics: boolean;
}

const helpCache = new Map<string, Promise<LlamaServerFlags>>();

/** Read which optional flags `binary` accepts from its `--help` (cached per binary; 15 s timeout). */
export function llamaServerFlags(binary: string): Promise<LlamaServerFlags> {
  let cached = helpCache.get(binary);
  if (cached === undefined) {
    cached = new Promise<string>((resolve) => {
      execFile(binary, ["--help"], { timeout: 15_000, maxBuffer: 4 * 1024 * 1024 }, (_error, stdout, stderr) => resolve(`${stdout}\n${stderr}`));
    }).then((help) => ({
      ...(/--no-ui\b/.test(help) ? { noUi: "--no-ui" } : /--no-webui\b/.test(help) ? { noUi: "--no-webui" } : {}),
      contBatching: /--cont-batching\b/.test(help),
      metrics: /--metrics\b/.test(help),
    }));
    helpCache.set(binary, cached);
  }
  return cached;
}

/** Options of {@link createManagedLlamaServerEngine}. */
export interface ManagedLlamaServerOptions {
  /** The llama-server binary. Default: {@link findLlamaServerBinary}() (`$TALARIA_LLAMA_SERVER`, then `PATH`). */
  readonly binary?: string;
  /** Path of a local GGUF file (`-m`). Required. */
  readonly model: string;
  /** Tokens per sequence. Default min(the model's training context, 4096) (`local.trainContextLength`), else 4096. */
  readonly contextSize?: number;
  /** Sequences generating at once: llama-server slots (`-np`); `-c` is contextSize × parallel. Default 1. */
  readonly parallel?: number;
  /** CPU threads (`-t`). Default: idle CPUs by the 1-minute load average, 1 to 8 (as the embedded engine). */
  readonly threads?: number;
  /**
   * Offload layers to a GPU: true → `-ngl 999` (every layer; the binary must be a GPU build, a CPU
   * build ignores it with a warning), false → `-ngl 0`. Default true.
   */
  readonly gpu?: boolean;
  /** More llama-server arguments, after Talaria's. Default none. */
  readonly extraArgs?: readonly string[];
  /** Marker texts of the chat format (as {@link RemoteEngineOptions.markerTexts}). Default: end-of-turn texts only. */
  readonly markerTexts?: readonly string[];
  /** Facts from the local GGUF header (names, chat templates, training context). Default none. */
  readonly local?: LocalModelInfo;
  /** Most ms until the server is healthy (model load included). Default 300,000. */
  readonly startTimeoutMs?: number;
  /** Restarts in a row after unexpected exits before giving up. Default 5. */
  readonly maxRestarts?: number;
  /** Delay before the first restart, doubled per restart in a row (at most 10 s). Default 500 ms. */
  readonly restartBackoffMs?: number;
  /** Ms between SIGTERM and SIGKILL when stopping the child. Default 5,000. */
  readonly killGraceMs?: number;
  /** Most ms the server may stay silent during a request. Default 300,000. */
  readonly readTimeoutMs?: number;
  /** One line per exit, restart and give-up of the child. Default: stderr. */
  readonly log?: (line: string) => void;
}

/** Default threads: idle CPUs by the 1-minute load average, 1 to 8 (the embedded engine's rule, docs/decisions/0012). */
export function defaultManagedThreads(cpus: number = os.availableParallelism(), load1: number = os.loadavg()[0] ?? 0): number {
  return Math.max(1, Math.min(Math.max(1, Math.min(cpus, 8)), Math.round(cpus - load1)));
}

/** The llama-server arguments for the options (without `--host` / `--port`). */
export function managedLlamaServerArgs(options: ManagedLlamaServerOptions & { readonly contextSize: number; readonly parallel: number; readonly threads: number }, flags: LlamaServerFlags): string[] {
  return [
    "-m", options.model,
    "-c", String(options.contextSize * options.parallel),
    "-np", String(options.parallel),
    "-t", String(options.threads),
    "-ngl", options.gpu === false ? "0" : "999",
    ...(flags.contBatching ? ["--cont-batching"] : []),
    ...(flags.metrics ? ["--metrics"] : []),
    ...(flags.noUi === undefined ? [] : [flags.noUi]),
    ...(options.extraArgs ?? []),
  ];
}

function isAbort(error: unknown): boolean {
  return error instanceof EngineError && error.code === "aborted";
}

/** The BackendError under an engine error, if any. */
function backendCause(error: unknown): BackendError | undefined {
  for (let e: unknown = error, i = 0; e !== undefined && e !== null && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    if (e instanceof BackendError) return e;
  }
  return undefined;
}

/** The managed llama-server engine: see the module comment. Create with {@link createManagedLlamaServerEngine}. */
export class ManagedLlamaServerEngine implements Engine {
  readonly info: ModelInfo;
  readonly #supervisor: LlamaServerSupervisor;
  readonly #options: ManagedLlamaServerOptions;
  readonly #pool: SequencePool<number>;
  #remote: { readonly epoch: number; readonly engine: Promise<RemoteEngine> };
  #disposed = false;

  /** @internal Use {@link createManagedLlamaServerEngine}. */
  constructor(supervisor: LlamaServerSupervisor, first: RemoteEngine, epoch: number, options: ManagedLlamaServerOptions, parallel: number) {
    this.#supervisor = supervisor;
    this.#options = options;
    this.#remote = { epoch, engine: Promise.resolve(first) };
    this.#pool = new SequencePool(Array.from({ length: parallel }, (_, i) => i), () => []);
    const binary = options.binary ?? "llama-server";
    this.info = {
      ...first.info,
      source: options.model,
      path: options.model,
      ...(options.local?.architecture === undefined ? {} : { architecture: options.local.architecture }),
      metadata: { ...first.info.metadata, "talaria.backend.kind": "llama-server", "talaria.backend.managed": true, "talaria.backend.binary": binary },
    };
  }

  /** What llama-server can do: no jump-forward, no loglikelihood ({@link LLAMA_SERVER_CAPABILITIES}). */
  get capabilities(): EngineCapabilities {
    return LLAMA_SERVER_CAPABILITIES;
  }

  /** The running child's base URL and pid (undefined while it restarts). */
  get server(): ServerInstance | undefined {
    return this.#supervisor.current;
  }

  /** Restarts after unexpected exits so far. */
  get restarts(): number {
    return this.#supervisor.restarts;
  }

  /** The last ~16 KB of the child's log. */
  logTail(): string {
    return this.#supervisor.logTail();
  }

  /** The remote engine on the running child (connected anew after a restart). */
  async #current(signal?: AbortSignal): Promise<{ readonly epoch: number; readonly engine: RemoteEngine }> {
    this.#ensureLive();
    const instance = await this.#supervisor.ready(signal);
    if (instance.epoch !== this.#remote.epoch) {
      const previous = this.#remote.engine;
      const engine = createRemoteEngine(remoteOptionsFor(this.#options, instance.url, this.#pool.total));
      engine.catch(() => undefined);
      this.#remote = { epoch: instance.epoch, engine };
      void previous.then((e) => e.dispose()).catch(() => undefined);
    }
    const { epoch, engine } = this.#remote;
    return { epoch, engine: await engine };
  }

  /** The error for a request the child's exit broke; undefined when the child did not exit. */
  async #exitError(epoch: number, error: unknown, streamed: boolean): Promise<EngineError | undefined> {
    if (!(error instanceof EngineError) || (error.code !== "backend_failed" && error.code !== "backend_unavailable")) return undefined;
    const exit = await this.#supervisor.exitOf(epoch, 1_000);
    if (exit === undefined) return undefined;
    return new EngineError(`${describeExit(exit)} during the request; ${restartNote(exit)}`, streamed ? "backend_failed" : "backend_unavailable", { cause: error });
  }

  /** Run `fn` on the current child; once more on the next child when the first one had exited before the request reached it. */
  async #withRemote<T>(fn: (engine: RemoteEngine) => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const { epoch, engine } = await this.#current(signal);
      try {
        return await fn(engine);
      } catch (error) {
        const exitError = await this.#exitError(epoch, error, false);
        if (exitError === undefined) throw error;
        if (attempt === 0 && backendCause(error)?.kind === "connect") continue; // nothing reached the dead child
        throw exitError;
      }
    }
  }

  tokenize(input: string | PromptText, options?: TokenizeOptions): Promise<TokenId[]> {
    return this.#withRemote((e) => e.tokenize(input, options));
  }

  detokenize(tokens: readonly TokenId[], options?: DetokenizeOptions): Promise<string> {
    return this.#withRemote((e) => e.detokenize(tokens, options));
  }

  async *generate(request: GenerateRequest): AsyncIterable<GenerateEvent> {
    this.#ensureLive();
    const abortFinish: GenerateEvent = { type: "finish", reason: "abort", usage: { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0 } };
    let lease;
    try {
      lease = await this.#pool.acquire([], request.signal);
    } catch (error) {
      if (isAbort(error)) {
        yield abortFinish;
        return;
      }
      throw error;
    }
    try {
      for (let attempt = 0; ; attempt++) {
        let current;
        try {
          current = await this.#current(request.signal);
        } catch (error) {
          if (isAbort(error)) {
            yield abortFinish;
            return;
          }
          throw error;
        }
        let streamed = false;
        try {
          for await (const event of current.engine.generate(request)) {
            if (event.type === "text-delta") streamed = true;
            yield event;
          }
          return;
        } catch (error) {
          const exitError = await this.#exitError(current.epoch, error, streamed);
          if (exitError === undefined) throw error;
          // A request that never reached the child (it had already exited) waits for the restart once.
          if (attempt === 0 && !streamed && backendCause(error)?.kind === "connect") continue;
          throw exitError;
        }
      }
    } finally {
      lease.release();
    }
  }

  async loglikelihood(requests: readonly LoglikelihoodRequest[], options?: { readonly signal?: AbortSignal }): Promise<LoglikelihoodResult[]> {
    this.#ensureLive();
    void requests;
    void options;
    throw new EngineError("the llama-server engine does not support loglikelihood (use the embedded engine or vLLM)", "unsupported");
  }

  stats(): EngineStats {
    return { sequencesTotal: this.#pool.total, sequencesBusy: this.#pool.busy, waiting: this.#pool.waiting };
  }

  /** Whether the child is running and answers `/health` with 200. */
  async healthy(signal?: AbortSignal): Promise<boolean> {
    if (this.#disposed || this.#supervisor.current === undefined) return false;
    return (await this.#remote.engine.catch(() => undefined))?.healthy(signal) ?? false;
  }

  /** Stop the child (SIGTERM, then SIGKILL after the grace period) and refuse further requests. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#pool.close(new EngineError("the engine was disposed", "disposed"));
    await this.#remote.engine.then((e) => e.dispose()).catch(() => undefined);
    await this.#supervisor.stop();
  }

  #ensureLive(): void {
    if (this.#disposed) throw new EngineError("the engine was disposed", "disposed");
  }
}

/** The remote engine's options on a managed child at `url`. */
function remoteOptionsFor(o: ManagedLlamaServerOptions, url: string, parallel: number): RemoteEngineOptions {
  return {
    url,
    kind: "llama-server",
    retries: 0,
    // The managed engine's own pool (the same size) holds requests in order, here and across restarts.
    maxConcurrency: parallel,
    ...(o.markerTexts === undefined ? {} : { markerTexts: o.markerTexts }),
    ...(o.local === undefined ? {} : { local: o.local }),
    ...(o.readTimeoutMs === undefined ? {} : { readTimeoutMs: o.readTimeoutMs }),
  };
}

function restartNote(exit: ServerExit): string {
  return exit.restart === undefined ? `Talaria gave up restarting it after ${exit.maxRestarts} restart(s) in a row` : `Talaria is restarting it (restart ${exit.restart} of at most ${exit.maxRestarts} in a row)`;
}

/** One log line per supervisor event. */
export function describeSupervisorEvent(event: SupervisorEvent): string {
  switch (event.type) {
    case "started":
      return `llama-server restarted (pid ${event.instance.pid}, ${event.instance.url}; restart ${event.restart})`;
    case "exited":
      return `${describeExit(event.exit)} unexpectedly; restarting it in ${(event.restartInMs / 1000).toFixed(1)} s (restart ${String(event.exit.restart)} of at most ${event.exit.maxRestarts} in a row); its log ends:\n${event.exit.tail}`;
    case "restart-failed":
      return `llama-server restart ${event.restart} failed: ${event.message}`;
    case "gave-up":
      return `${describeExit(event.exit)}; gave up after ${event.exit.maxRestarts} restart(s) in a row: requests now fail with backend_unavailable`;
    default:
      return event satisfies never;
  }
}

/**
 * Start llama-server on `options.model` (see {@link ManagedLlamaServerOptions} for the mapping to its
 * flags), wait until it is healthy, and connect the engine. Throws {@link EngineError}
 * `model_load_failed` (no binary, the server exited or timed out while loading: its log tail in the
 * message) or `aborted`.
 */
export async function createManagedLlamaServerEngine(options: ManagedLlamaServerOptions, signal?: AbortSignal): Promise<ManagedLlamaServerEngine> {
  const binary = options.binary ?? findLlamaServerBinary();
  const parallel = options.parallel ?? 1;
  const threads = options.threads ?? defaultManagedThreads();
  const contextSize = options.contextSize ?? Math.min(options.local?.trainContextLength ?? 4096, 4096);
  for (const [name, value, min] of [["parallel", parallel, 1], ["threads", threads, 1], ["contextSize", contextSize, 2]] as const) {
    if (!Number.isInteger(value) || value < min) throw new EngineError(`${name} must be an integer >= ${min} (got ${value})`, "invalid_request");
  }
  const flags = await llamaServerFlags(binary);
  const args = managedLlamaServerArgs({ ...options, contextSize, parallel, threads }, flags);
  const log = options.log ?? ((line: string) => process.stderr.write(`talaria: ${line}\n`));
  const supervisor = await LlamaServerSupervisor.start(
    {
      binary,
      args,
      onEvent: (event) => log(describeSupervisorEvent(event)),
      ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
      ...(options.maxRestarts === undefined ? {} : { maxRestarts: options.maxRestarts }),
      ...(options.restartBackoffMs === undefined ? {} : { restartBackoffMs: options.restartBackoffMs }),
      killGraceMs: options.killGraceMs ?? SUPERVISOR_DEFAULTS.killGraceMs,
    },
    signal,
  );
  try {
    const instance = await supervisor.ready(signal);
    const managed: ManagedLlamaServerOptions = { ...options, binary };
    const first = await createRemoteEngine(remoteOptionsFor(options, instance.url, parallel), signal);
    return new ManagedLlamaServerEngine(supervisor, first, instance.epoch, managed, parallel);
  } catch (error) {
    await supervisor.stop();
    if (error instanceof EngineError && error.code !== "backend_unavailable" && error.code !== "backend_failed") throw error;
    throw new EngineError(`llama-server started but Talaria could not connect to it: ${error instanceof Error ? error.message : String(error)}; its log ends:\n${supervisor.logTail().trimEnd().split("\n").slice(-25).join("\n")}`, "model_load_failed", { cause: error });
  }
}
