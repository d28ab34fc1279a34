/**
 * `talaria generate`: raw completion. The prompt is taken as is (special tokens such as
 * `<|im_start|>` are honoured) and the completion is streamed to stdout with no added newline.
 *
 * Also exports the model-loading flags and the download progress bar for other commands.
 */
import { InvalidArgumentError, type Command } from "commander";
import cliProgress from "cli-progress";
import { createLlamaCppEngine, isRemoteModelSource, type LlamaCppEngine, type LlamaCppEngineOptions } from "../../engine/llama-cpp/index.js";
import type { DownloadProgress, GpuOption } from "../../engine/llama-cpp/index.js";
import type { GenerateRequest, SamplingOptions } from "../../engine/types.js";
import { parseInteger, parseNumber, parsePositiveInt } from "../option-parsers.js";
export { parseInteger, parseNumber, parsePositiveInt } from "../option-parsers.js";

function collectRepeated(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

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
export async function loadEngineFromFlags(flags: ModelFlags, extra: Omit<LlamaCppEngineOptions, "model"> = {}): Promise<LlamaCppEngine> {
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

interface GenerateFlags extends ModelFlags {
  prompt: string;
  temperature?: number;
  topP?: number;
  topK?: number;
  minP?: number;
  repetitionPenalty?: number;
  maxTokens?: number;
  seed?: number;
  stop?: string[];
  sample: boolean;
  addBos?: boolean;
  verbose?: boolean;
}

/** Maps the flags to a generation request (exported for tests). */
export function requestFromFlags(flags: GenerateFlags, signal?: AbortSignal): GenerateRequest {
  const sampling: { -readonly [K in keyof SamplingOptions]: SamplingOptions[K] } = {};
  if (!flags.sample) sampling.doSample = false;
  if (flags.temperature !== undefined) sampling.temperature = flags.temperature;
  if (flags.topP !== undefined) sampling.topP = flags.topP;
  if (flags.topK !== undefined) sampling.topK = flags.topK;
  if (flags.minP !== undefined) sampling.minP = flags.minP;
  if (flags.repetitionPenalty !== undefined) sampling.repetitionPenalty = flags.repetitionPenalty;
  if (flags.seed !== undefined) sampling.seed = flags.seed;
  return {
    prompt: flags.prompt,
    sampling,
    ...(flags.maxTokens !== undefined ? { maxTokens: flags.maxTokens } : {}),
    ...(flags.stop !== undefined && flags.stop.length > 0 ? { stop: flags.stop } : {}),
    ...(flags.addBos === true ? { addBos: true } : {}),
    ...(signal !== undefined ? { signal } : {}),
  };
}

export function register(program: Command): void {
  const command = program
    .command("generate")
    .description("Raw completion: stream the model's continuation of --prompt to stdout (special tokens in the prompt are honoured)");
  addModelOptions(command)
    .requiredOption("--prompt <text>", "the prompt text, e.g. $'<|im_start|>user\\nhi<|im_end|>\\n<|im_start|>assistant\\n'")
    .option("--temperature <t>", "softmax temperature, 0 = greedy (default 1.0)", parseNumber)
    .option("--top-p <p>", "nucleus sampling, 1 disables (default 1.0)", parseNumber)
    .option("--top-k <k>", "keep the k most likely tokens, 0 disables (default 50)", parseInteger)
    .option("--min-p <p>", "min-p sampling, 0 disables (default 0)", parseNumber)
    .option("--repetition-penalty <r>", "HF repetition penalty over prompt + output, 1 disables (default 1.0)", parseNumber)
    .option("--max-tokens <n>", "stop after n tokens (default: until the context is full)", parsePositiveInt)
    .option("--seed <n>", "RNG seed (default random)", parseInteger)
    .option("--stop <text>", "stop string, repeatable (not printed)", collectRepeated)
    .option("--no-sample", "greedy decoding (HF do_sample=False)")
    .option("--add-bos", "prepend the model's BOS token (default off: Hermes prompts write <|begin_of_text|> themselves)")
    .option("--verbose", "print the finish reason and token counts to stderr")
    .action(async (flags: GenerateFlags) => {
      const request = requestFromFlags(flags);
      const engine = await loadEngineFromFlags(flags);
      const controller = new AbortController();
      const onSigint = (): void => controller.abort();
      process.once("SIGINT", onSigint);
      try {
        for await (const event of engine.generate({ ...request, signal: controller.signal })) {
          switch (event.type) {
            case "text-delta":
              if (event.text !== "") process.stdout.write(event.text);
              break;
            case "finish":
              if (flags.verbose === true) {
                const u = event.usage;
                process.stderr.write(
                  `\n[finish: ${event.reason}${event.stopText !== undefined ? ` (${JSON.stringify(event.stopText)})` : ""}; ` +
                    `prompt ${u.promptTokens} tokens, completion ${u.completionTokens}]\n`,
                );
              }
              break;
            default:
              event satisfies never;
          }
        }
      } finally {
        process.off("SIGINT", onSigint);
        await engine.dispose();
      }
    });
}
