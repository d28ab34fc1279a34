/**
 * The CLI's one engine loader: the model flags every model-loading command shares, a download
 * progress bar for remote models, and {@link loadEngine}. The CLI never creates an engine elsewhere.
 */
import { InvalidArgumentError, type Command } from "commander";
import cliProgress from "cli-progress";
import { createLlamaCppEngine, defaultThreads, isRemoteModelSource, readLocalModelInfo, resolveModelSource, type LlamaCppEngine, type LlamaCppEngineOptions } from "../engine/llama-cpp/index.js";
import { createManagedLlamaServerEngine, createRemoteEngine, findLlamaServerBinary, type ManagedLlamaServerEngine, type RemoteEngine } from "../engine/remote/index.js";
import { ReplicaPool } from "../engine/router/index.js";
import type { Engine } from "../engine/types.js";
import { HERMES_DIALECT } from "../hermes/dialect.js";
import type { DownloadProgress, GpuOption } from "../engine/llama-cpp/index.js";
import { parsePositiveInt } from "./option-parsers.js";

/** Flags shared by every command that loads a model. */
export interface ModelFlags {
  model: string;
  threads?: number;
  contextSize?: number;
  sequences?: number;
  gpu?: string;
  modelsDir?: string;
}

/** Adds `--model` (required unless `orBackend`: then `--backend` may replace it), `--threads`, `--context-size`, `--gpu` and `--models-dir`. */
export function addModelOptions(command: Command, orBackend = false): Command {
  return (orBackend ? command.option("--model <path|uri>", "GGUF file, hf:<user>/<repo>/<file>.gguf, or https URL (or --backend <url>)") : command.requiredOption("--model <path|uri>", "GGUF file, hf:<user>/<repo>/<file>.gguf, or https URL"))
    .option("--threads <n>", "evaluation threads (default: idle CPUs by load average, 1 to 8)", parsePositiveInt)
    .option("--context-size <n>", "context size in tokens (default: min(model training context, 4096))", parsePositiveInt)
    .option("--gpu <backend>", "auto, cuda, vulkan, metal or off (default auto)")
    .option("--models-dir <dir>", "download cache for remote models (default ~/.cache/talaria/models)");
}

/** A cli-progress bar on stderr for downloads; `stop()` when done. */
export function createDownloadProgressBar(label: string): { onProgress: (p: DownloadProgress) => void; stop: () => void } {
  let bar: cliProgress.SingleBar | undefined;
  return {
    onProgress: (p) => {
      if (bar === undefined) {
        bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: `downloading ${label} [{bar}] {percentage}% | {value}/{total} MB`,
            hideCursor: true,
            clearOnComplete: false,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(toMb(p.totalSize), 0);
      }
      bar.setTotal(toMb(p.totalSize));
      bar.update(toMb(p.downloadedSize));
    },
    stop: () => bar?.stop(),
  };
}

function toMb(bytes: number): number {
  return Math.round((bytes / 1e6) * 10) / 10;
}

function gpuOption(value: string | undefined): GpuOption {
  if (value === undefined || value === "auto") return "auto";
  if (value === "off" || value === "false" || value === "cpu") return false;
  if (value === "cuda" || value === "vulkan" || value === "metal") return value;
  throw new InvalidArgumentError(`--gpu must be auto, cuda, vulkan, metal or off (got ${value})`);
}

/** Loads the engine for a command, with a download progress bar for remote models. */
export async function loadEngine(flags: ModelFlags, extra: Omit<LlamaCppEngineOptions, "model"> = {}): Promise<LlamaCppEngine> {
  const progress = isRemoteModelSource(flags.model) && process.stderr.isTTY ? createDownloadProgressBar(flags.model) : undefined;
  try {
    return await createLlamaCppEngine({
      model: flags.model,
      gpu: gpuOption(flags.gpu),
      ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
      ...(flags.contextSize !== undefined ? { contextSize: flags.contextSize } : {}),
      ...(flags.sequences !== undefined ? { sequences: flags.sequences } : {}),
      ...(flags.modelsDir !== undefined ? { modelsDirectory: flags.modelsDir } : {}),
      ...(progress !== undefined ? { onDownloadProgress: progress.onProgress } : {}),
      ...extra,
    });
  } finally {
    progress?.stop();
  }
}


/** Flags of the commands that can run on remote backends instead of an embedded model. */
export interface BackendFlags {
  /** Backend server URLs (llama-server or vLLM); several = replicas of one model behind the router. */
  backend?: string[];
  /** `auto` (probe), `llama-server` or `vllm`. Default auto. */
  backendKind?: string;
  /** API key of the backends (Bearer). Default none. */
  backendApiKey?: string;
  /** vLLM: the served model name. Default: the backend's first model. */
  backendModel?: string;
  /** A local GGUF of the same model: names, chat templates, vocabulary where the backend exposes less. */
  modelInfo?: string;
  /** Backend read timeout in seconds. Default 300. */
  backendTimeout?: number;
  /** Requests at once over all backends (split evenly). Default: llama-server's slots, else 64 per backend. */
  parallel?: number;
  /** Which engine runs `--model`: `embedded` (node-llama-cpp in this process) or `llama-server` (a supervised child). Default embedded. */
  engine?: string;
  /** `--engine llama-server`: the binary. Default `$TALARIA_LLAMA_SERVER`, then `llama-server` on PATH. */
  llamaServerBin?: string;
}

/** The engines that can run a local `--model`. */
export const ENGINE_KINDS = ["embedded", "llama-server"] as const;
export type EngineKind = (typeof ENGINE_KINDS)[number];

/** `--engine`: embedded (the default) or llama-server. */
export function engineKind(value: string | undefined): EngineKind {
  if (value === undefined || value === "embedded") return "embedded";
  if (value === "llama-server") return value;
  throw new InvalidArgumentError(`--engine must be embedded or llama-server (got ${value})`);
}

/** Help text of `--engine` and `--llama-server-bin`, the same on every command. */
export const ENGINE_OPTION_HELP =
  "engine of --model: embedded (node-llama-cpp in this process; default) or llama-server (llama.cpp's llama-server as a child process Talaria starts and supervises: one native hand-off per token, faster decode; no jump-forward, no loglikelihood; docs/engines.md)";
export const LLAMA_SERVER_BIN_HELP =
  "--engine llama-server: the llama-server binary (default: $TALARIA_LLAMA_SERVER, then llama-server on PATH; `bash scripts/llama-server.sh --build` builds one)";

function collectUrls(value: string, previous: string[] = []): string[] {
  const urls = value.split(",").map((u) => u.trim()).filter((u) => u !== "");
  for (const u of urls) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new InvalidArgumentError(`--backend ${u} is not a URL (e.g. http://127.0.0.1:8080)`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new InvalidArgumentError(`--backend ${u} must be http:// or https://`);
  }
  return [...previous, ...urls];
}

/**
 * Adds the flags of commands that can run elsewhere than the embedded engine: `--engine`,
 * `--llama-server-bin`, and `--backend` (repeatable), `--backend-kind`, `--backend-api-key`,
 * `--backend-model`, `--backend-timeout`, `--model-info`.
 */
export function addBackendOptions(command: Command): Command {
  return command
    .option("--engine <kind>", ENGINE_OPTION_HELP)
    .option("--llama-server-bin <path>", LLAMA_SERVER_BIN_HELP)
    .option("--backend <url>", "run on a llama-server or vLLM server instead of an embedded model (repeatable or comma-separated: replicas of one model)", collectUrls)
    .option("--backend-kind <kind>", "auto (probe the server), llama-server or vllm (default auto)")
    .option("--backend-api-key <key>", "API key the backends require (default: $TALARIA_BACKEND_API_KEY)")
    .option("--backend-model <name>", "vLLM: the served model name (default: the server's first model)")
    .option("--backend-timeout <seconds>", "most seconds a backend may stay silent (default 300)", parsePositiveInt)
    .option("--model-info <gguf>", "a local GGUF of the backend's model: names, templates and vocabulary the backend does not expose");
}

function backendKind(value: string | undefined): "auto" | "llama-server" | "vllm" {
  if (value === undefined || value === "auto") return "auto";
  if (value === "llama-server" || value === "vllm") return value;
  throw new InvalidArgumentError(`--backend-kind must be auto, llama-server or vllm (got ${value})`);
}

/**
 * The engine of `--backend` URLs: a replica pool (health checks, per-backend metrics, failover) of one
 * remote engine per URL; a single backend retries before its first token, replicas leave it to the pool.
 */
export async function loadBackendEngine(flags: BackendFlags & { readonly log?: (line: string) => void }): Promise<ReplicaPool> {
  const urls = flags.backend ?? [];
  if (urls.length === 0) throw new InvalidArgumentError("give --backend <url>");
  const local = flags.modelInfo === undefined ? undefined : await readLocalModelInfo(flags.modelInfo);
  const apiKey = flags.backendApiKey ?? process.env.TALARIA_BACKEND_API_KEY;
  const kind = backendKind(flags.backendKind);
  const connect = (url: string, retries: number): Promise<RemoteEngine> =>
    createRemoteEngine({
      url,
      kind,
      markerTexts: HERMES_DIALECT.markers,
      retries,
      ...(apiKey === undefined || apiKey === "" ? {} : { apiKey }),
      ...(flags.backendModel === undefined ? {} : { modelName: flags.backendModel }),
      ...(flags.backendTimeout === undefined ? {} : { readTimeoutMs: flags.backendTimeout * 1000 }),
      ...(local === undefined ? {} : { local }),
      ...(flags.parallel === undefined ? {} : { maxConcurrency: Math.ceil(flags.parallel / urls.length) }),
    });
  // One backend retries (with backoff) before its first token; in a pool of several, the pool fails over instead.
  const engines = await Promise.all(urls.map((u) => connect(u, urls.length === 1 ? 2 : 0)));
  const first = engines[0] as RemoteEngine;
  for (const e of engines.slice(1)) {
    if (e.description.modelId !== first.description.modelId && e.info.name !== first.info.name) {
      await Promise.allSettled(engines.map((x) => x.dispose()));
      throw new InvalidArgumentError(`--backend ${e.url} serves ${e.description.modelId}, ${first.url} serves ${first.description.modelId}: replicas must serve the same model`);
    }
  }
  return new ReplicaPool(
    engines.map((e) => ({ name: e.url, engine: e, healthy: (signal) => e.healthy(signal), load: (signal) => e.load(signal) })),
    { ...(flags.log === undefined ? {} : { log: flags.log }) },
  );
}

/**
 * The managed llama-server engine of `--model … --engine llama-server`: the binary by the lookup order
 * (`--llama-server-bin`, `$TALARIA_LLAMA_SERVER`, `llama-server` on PATH), the model resolved (and
 * downloaded) as for the embedded engine, Talaria's flags mapped to llama-server's (`--context-size`
 * per sequence × sequences → `-c`, sequences → `-np`, `--threads` → `-t`, `--gpu off` → `-ngl 0`, else
 * `-ngl 999`, which needs a GPU build of llama-server).
 */
export async function loadManagedEngine(flags: ModelFlags & Pick<BackendFlags, "llamaServerBin"> & { readonly log?: (line: string) => void }, gpu?: GpuOption): Promise<ManagedLlamaServerEngine> {
  const binary = findLlamaServerBinary(flags.llamaServerBin);
  const progress = isRemoteModelSource(flags.model) && process.stderr.isTTY ? createDownloadProgressBar(flags.model) : undefined;
  let modelPath: string;
  try {
    modelPath = await resolveModelSource(flags.model, {
      ...(flags.modelsDir !== undefined ? { modelsDirectory: flags.modelsDir } : {}),
      ...(progress !== undefined ? { onDownloadProgress: progress.onProgress } : {}),
    });
  } finally {
    progress?.stop();
  }
  const local = await readLocalModelInfo(modelPath);
  return createManagedLlamaServerEngine({
    binary,
    model: modelPath,
    local,
    markerTexts: HERMES_DIALECT.markers,
    threads: flags.threads ?? defaultThreads(),
    gpu: (gpu ?? gpuOption(flags.gpu)) !== false,
    ...(flags.contextSize !== undefined ? { contextSize: flags.contextSize } : {}),
    ...(flags.sequences !== undefined ? { parallel: flags.sequences } : {}),
    ...(flags.log === undefined ? {} : { log: flags.log }),
  });
}

/**
 * The engine of a local `--model` by `--engine`: embedded (default) or the managed llama-server.
 * `extra` applies to the embedded engine only (its `gpu`, when set, to both).
 */
export async function loadModelEngine(flags: ModelFlags & Pick<BackendFlags, "engine" | "llamaServerBin"> & { readonly log?: (line: string) => void }, extra: Omit<LlamaCppEngineOptions, "model"> = {}): Promise<Engine> {
  const kind = engineKind(flags.engine);
  switch (kind) {
    case "embedded":
      return loadEngine(flags, extra);
    case "llama-server":
      return loadManagedEngine(flags, extra.gpu);
    default:
      return kind satisfies never;
  }
}

/** The engine of a command: `--backend` servers when given, else `--model` on the `--engine` (embedded by default). */
export async function loadAnyEngine(flags: Partial<ModelFlags> & BackendFlags & { readonly log?: (line: string) => void }, extra: Omit<LlamaCppEngineOptions, "model"> = {}): Promise<Engine> {
  const remote = (flags.backend ?? []).length > 0;
  if (remote && flags.model !== undefined) throw new InvalidArgumentError("give --model (an embedded model) or --backend (servers), not both");
  if (remote && flags.engine !== undefined) throw new InvalidArgumentError("--engine picks the engine of --model; with --backend, use --backend-kind");
  if (remote) return loadBackendEngine(flags);
  if (flags.model === undefined) throw new InvalidArgumentError("give --model <gguf> or --backend <url>");
  return loadModelEngine({ ...flags, model: flags.model }, extra);
}

/** The backend flags of a command's options (commander leaves unset ones undefined). */
export function backendFlagsOf(o: Readonly<BackendFlags>): BackendFlags {
  return {
    ...(o.backend === undefined ? {} : { backend: [...o.backend] }),
    ...(o.backendKind === undefined ? {} : { backendKind: o.backendKind }),
    ...(o.backendApiKey === undefined ? {} : { backendApiKey: o.backendApiKey }),
    ...(o.backendModel === undefined ? {} : { backendModel: o.backendModel }),
    ...(o.backendTimeout === undefined ? {} : { backendTimeout: o.backendTimeout }),
    ...(o.modelInfo === undefined ? {} : { modelInfo: o.modelInfo }),
    ...(o.parallel === undefined ? {} : { parallel: o.parallel }),
    ...(o.engine === undefined ? {} : { engine: o.engine }),
    ...(o.llamaServerBin === undefined ? {} : { llamaServerBin: o.llamaServerBin }),
  };
}
