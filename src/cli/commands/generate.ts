/**
 * `talaria generate`: raw completion. The prompt is taken as is (special tokens such as
 * `<|im_start|>` are honoured) and the completion is streamed to stdout. Piped, stdout gets exactly the
 * completion (no added newline); on a terminal a final newline is added when the text does not end
 * with one, so the shell prompt starts on its own line.
 */
import { InvalidArgumentError, type Command } from "commander";
import { addModelOptions, loadEngine, type ModelFlags } from "../engine-loader.js";
import type { GenerateRequest, SamplingOptions } from "../../engine/types.js";
import { parseInteger, parseNumber, parsePositiveInt } from "../option-parsers.js";

function collectRepeated(value: string, previous: string[] = []): string[] {
  return [...previous, value];
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
    .description("Raw completion: stream the model's continuation of --prompt to stdout (special tokens in the prompt are honoured; exact text when piped, a final newline on a terminal)");
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
      const engine = await loadEngine(flags);
      const controller = new AbortController();
      const onSigint = (): void => controller.abort();
      process.once("SIGINT", onSigint);
      let last = "";
      /** On a terminal, end the completion's line (once). */
      const endLine = (): void => {
        if (process.stdout.isTTY === true && last !== "" && !last.endsWith("\n")) process.stdout.write("\n");
        last = "";
      };
      try {
        for await (const event of engine.generate({ ...request, signal: controller.signal })) {
          switch (event.type) {
            case "text-delta":
              if (event.text !== "") {
                process.stdout.write(event.text);
                last = event.text;
              }
              break;
            case "warning":
              process.stderr.write(`\n[warning: ${event.code}] ${event.message}\n`);
              break;
            case "finish":
              endLine();
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
        endLine();
        process.off("SIGINT", onSigint);
        await engine.dispose();
      }
    });
}
