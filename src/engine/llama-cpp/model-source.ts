/**
 * Resolving `--model`: a local path, an `hf:<user>/<repo>/<file>` (or `hf:<user>/<repo>:<quant>`) URI,
 * or an https URL. Remote models are downloaded once into a cache directory through node-llama-cpp's
 * `resolveModelFile` (Range requests, resumable); `HF_ENDPOINT` / `MODEL_ENDPOINT` or the
 * `huggingFaceEndpoint` option point `hf:` URIs at another server.
 */
import { constants as fsConstants } from "node:fs";
import { access, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { resolveModelFile } from "node-llama-cpp";
import { EngineError } from "../types.js";

export interface DownloadProgress {
  readonly downloadedSize: number;
  readonly totalSize: number;
}

export interface ResolveModelSourceOptions {
  /** Where downloaded models are kept. Default {@link defaultModelsDirectory}. */
  readonly modelsDirectory?: string;
  /** Called while downloading. Default none. */
  readonly onDownloadProgress?: (progress: DownloadProgress) => void;
  /** Base URL for `hf:` URIs. Default: `MODEL_ENDPOINT`, then `HF_ENDPOINT`, then https://huggingface.co/. */
  readonly huggingFaceEndpoint?: string;
  /** How long to wait for the remote host before calling it unreachable, in ms. Default 15000. */
  readonly connectTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** `$XDG_CACHE_HOME/talaria/models`, else `~/.cache/talaria/models`. */
export function defaultModelsDirectory(): string {
  const cache = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache");
  return path.join(cache, "talaria", "models");
}

export function isRemoteModelSource(source: string): boolean {
  return source.startsWith("hf:") || source.startsWith("huggingface:") || /^https?:\/\//i.test(source);
}

const HINT = "Pass --model /path/to/model.gguf, or create a test model with `talaria make-test-model`.";

/** Resolve a model source to a local GGUF path, downloading it when needed. */
export async function resolveModelSource(source: string, options: ResolveModelSourceOptions = {}): Promise<string> {
  if (!isRemoteModelSource(source)) {
    const resolved = path.resolve(source);
    try {
      await access(resolved, fsConstants.R_OK);
      const info = await stat(resolved);
      if (!info.isFile()) throw new Error("not a file");
    } catch {
      throw new EngineError(`model file not found: ${source}. ${HINT}`, "model_not_found");
    }
    return resolved;
  }
  const endpoint = options.huggingFaceEndpoint;
  const onDownloadProgress = options.onDownloadProgress;
  // Fail fast when the host is unreachable: node-llama-cpp retries network reads with a long back-off.
  await checkReachable(source, endpoint, options.connectTimeoutMs ?? 15_000, options.signal);
  try {
    return await resolveModelFile(source, {
      directory: options.modelsDirectory ?? defaultModelsDirectory(),
      cli: false,
      ...(onDownloadProgress !== undefined
        ? { onProgress: (p: DownloadProgress) => onDownloadProgress({ downloadedSize: p.downloadedSize, totalSize: p.totalSize }) }
        : {}),
      ...(endpoint !== undefined ? { endpoints: { huggingFace: endpoint } } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (options.signal?.aborted === true) throw new EngineError(`download of ${source} was aborted`, "aborted", { cause: error });
    const message = error instanceof Error ? error.message : String(error);
    if (isNetworkError(error)) {
      throw new EngineError(`could not download ${source}: network unreachable (${message}). ${HINT}`, "offline", { cause: error });
    }
    if (/\b404\b|not found/i.test(message)) {
      throw new EngineError(`could not download ${source}: not found on the server. ${HINT}`, "model_not_found", { cause: error });
    }
    throw new EngineError(`could not download ${source}: ${message}. ${HINT}`, "model_load_failed", { cause: error });
  }
}

/** The URL a source is fetched from (for the reachability probe). */
export function probeUrlFor(source: string, endpoint: string | undefined): string {
  if (/^https?:\/\//i.test(source)) return source;
  const base = endpoint ?? process.env.MODEL_ENDPOINT ?? process.env.HF_ENDPOINT ?? "https://huggingface.co/";
  return base.endsWith("/") ? base : `${base}/`;
}

async function checkReachable(source: string, endpoint: string | undefined, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const url = probeUrlFor(source, endpoint);
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = signal !== undefined ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    const response = await fetch(url, { method: "HEAD", signal: combined, redirect: "manual" });
    await response.body?.cancel();
  } catch (error) {
    if (signal?.aborted === true) throw new EngineError(`download of ${source} was aborted`, "aborted", { cause: error });
    const reason = timeout.aborted ? `no answer from ${new URL(url).host} within ${timeoutMs} ms` : describeNetworkError(error);
    throw new EngineError(`could not download ${source}: network unreachable (${reason}). ${HINT}`, "offline", { cause: error });
  }
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  if (cause?.code !== undefined) return cause.code;
  if (cause?.message !== undefined) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function isNetworkError(error: unknown): boolean {
  const text = `${error instanceof Error ? error.message : String(error)} ${describeNetworkError(error)}`;
  return /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH|ETIMEDOUT|ECONNRESET|fetch failed|network/i.test(text);
}
