/**
 * The CLI's one engine loader: the model flags every model-loading command shares, a download
 * progress bar for remote models, and {@link loadEngine}. The CLI never creates an engine elsewhere.
 */
import { InvalidArgumentError, type Command } from "commander";
import cliProgress from "cli-progress";
import { createLlamaCppEngine, isRemoteModelSource, type LlamaCppEngine, type LlamaCppEngineOptions } from "../engine/llama-cpp/index.js";
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

/** Adds `--model`, `--threads`, `--context-size`, `--gpu` and `--models-dir`. */
export function addModelOptions(command: Command): Command {
  return command
    .requiredOption("--model <path|uri>", "GGUF file, hf:<user>/<repo>/<file>.gguf, or https URL")
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

