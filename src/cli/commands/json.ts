/**
 * `talaria json --model F [--schema s.json] "query"` (parity with Hermes-Function-Calling
 * `jsonmode.py`): the Hermes JSON-mode prompt + the schema's grammar; prints JSON that is valid
 * against the schema (any JSON object without `--schema`). An answer that fails validation is never
 * printed as a result: the error and the raw text go to stderr and the exit code is 1.
 */
import type { Command } from "commander";
import { generateJson } from "../../agent/index.js";
import type { Engine, SamplingOptions } from "../../engine/types.js";
import { warnProfileOnce } from "../../hermes/index.js";
import { chooseProfile, readJsonFile } from "./hermes-io.js";
import { addBackendOptions, backendFlagsOf, loadAnyEngine, type BackendFlags } from "../engine-loader.js";
import { parseCount, parseNumber, parsePositiveInt } from "../option-parsers.js";
import { withSigintAbort } from "../sigint.js";

export interface JsonCommandOptions extends Readonly<BackendFlags> {
  readonly model?: string;
  readonly schema?: string;
  readonly system?: string;
  readonly profile?: string;
  readonly strict?: boolean;
  readonly constrained: boolean;
  readonly retries: number;
  readonly maxTokens: number;
  readonly temperature?: number;
  readonly seed?: number;
  readonly threads?: number;
  readonly contextSize?: number;
  readonly compact?: boolean;
}

export interface JsonIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly signal?: AbortSignal;
}

export async function runJson(query: string, options: JsonCommandOptions, io: JsonIo, engineOverride?: Engine): Promise<number> {
  let schema: Readonly<Record<string, unknown>> | undefined;
  if (options.schema !== undefined) {
    const data = await readJsonFile(options.schema, "schema");
    if (typeof data !== "object" || data === null || Array.isArray(data)) throw new Error(`schema file ${options.schema} must hold a JSON Schema object`);
    schema = data as Record<string, unknown>;
  }
  const engine =
    engineOverride ??
    (await loadAnyEngine({
      ...(options.model === undefined ? {} : { model: options.model }),
      ...backendFlagsOf(options),
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...(options.contextSize === undefined ? {} : { contextSize: options.contextSize }),
    }));
  try {
    const { profile } = chooseProfile(options.profile, engine.info);
    warnProfileOnce(profile, (m) => io.stderr.write(m + "\n"));
    const sampling: SamplingOptions = {
      ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    };
    const result = await generateJson({
      engine,
      ...(schema === undefined ? {} : { schema }),
      ...(options.system === undefined ? {} : { messages: [{ role: "system" as const, content: options.system }] }),
      query,
      profile: profile.id,
      constrained: options.constrained,
      strict: options.strict === true,
      retries: options.retries,
      maxTokens: options.maxTokens,
      sampling,
      ...(io.signal === undefined ? {} : { signal: io.signal }),
    });
    if (result.valid) {
      io.stdout.write(JSON.stringify(result.value, null, options.compact === true ? undefined : 2) + "\n");
      return 0;
    }
    io.stderr.write(`talaria: ${result.error} (after ${result.attempts} attempt${result.attempts === 1 ? "" : "s"})\n`);
    io.stderr.write(`talaria: the model wrote: ${JSON.stringify(result.text)}\n`);
    return result.finishReason === "abort" ? 130 : 1;
  } finally {
    if (engineOverride === undefined) await engine.dispose();
  }
}

export function register(program: Command): void {
  const command = program
    .command("json")
    .description("Answer in JSON that is valid against a JSON Schema (Hermes JSON mode + grammar-constrained decoding).")
    .argument("<query>", "what to ask")
    .option("--model <gguf>", "GGUF file or hf: URI (or --backend <url>)")
    .option("--schema <file>", "JSON Schema of the answer (default: any JSON object)")
    .option("--system <text>", "an extra system message (after the JSON-mode prompt)")
    .option("--profile <profile>", "hermes-2-pro | hermes-3 | hermes-3-llama-3.2-3b | chatml (default: detected)")
    .option("--strict", "no keys beyond the schema's properties (OpenAI strict)")
    .option("--no-constrained", "no grammar: rely on the prompt, validate afterwards")
    .option("--retries <n>", "extra attempts after an invalid answer", parseCount, 0)
    .option("--max-tokens <n>", "most tokens per attempt", parsePositiveInt, 1024)
    .option("--temperature <t>", "sampling temperature (0 = greedy)", parseNumber)
    .option("--seed <n>", "sampling seed", parseNumber)
    .option("--threads <n>", "CPU threads", parsePositiveInt)
    .option("--context-size <n>", "context size in tokens", parsePositiveInt)
    .option("--compact", "print the JSON on one line");
  addBackendOptions(command)
    .action(async (query: string, options: JsonCommandOptions) => {
      process.exitCode = await withSigintAbort((signal) => runJson(query, options, { stdout: process.stdout, stderr: process.stderr, signal }));
    });
}
