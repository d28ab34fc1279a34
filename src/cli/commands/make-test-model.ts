/**
 * `talaria make-test-model`: writes a generated Hermes-3-like GGUF test model (see docs/test-models.md).
 */
import { InvalidArgumentError, Option, type Command } from "commander";
import { stat } from "node:fs/promises";
import path from "node:path";
import { ensureTestModel, writeTestModel, type TestModelOptions, type TestModelQuant } from "../../testmodels/index.js";

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError("expected an integer");
  return n;
}

interface MakeTestModelFlags {
  kind: TestModelOptions["kind"];
  out?: string;
  reply?: string;
  afterToolReply?: string;
  toolTokenType?: "control" | "user";
  seed?: number;
  hidden?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  ffn?: number;
  contextLength?: number;
  quant?: TestModelQuant;
  name?: string;
  basename?: string;
  finetune?: string;
  sizeLabel?: string;
}

/** Maps CLI flags to {@link TestModelOptions}, leaving out what was not given. */
export function flagsToOptions(f: MakeTestModelFlags): TestModelOptions {
  const o: { -readonly [K in keyof TestModelOptions]: TestModelOptions[K] } = { kind: f.kind };
  if (f.reply !== undefined) o.reply = f.reply;
  if (f.afterToolReply !== undefined) o.afterToolReply = f.afterToolReply;
  if (f.toolTokenType !== undefined) o.toolTokenType = f.toolTokenType;
  if (f.seed !== undefined) o.seed = f.seed;
  if (f.hidden !== undefined) o.hidden = f.hidden;
  if (f.layers !== undefined) o.layers = f.layers;
  if (f.heads !== undefined) o.heads = f.heads;
  if (f.kvHeads !== undefined) o.kvHeads = f.kvHeads;
  if (f.ffn !== undefined) o.ffn = f.ffn;
  if (f.contextLength !== undefined) o.contextLength = f.contextLength;
  if (f.quant !== undefined) o.quant = f.quant;
  if (f.name !== undefined) o.name = f.name;
  if (f.basename !== undefined) o.basename = f.basename;
  if (f.finetune !== undefined) o.finetune = f.finetune;
  if (f.sizeLabel !== undefined) o.sizeLabel = f.sizeLabel;
  return o;
}

export function register(program: Command): void {
  program
    .command("make-test-model")
    .description("Generate a Hermes-3-like GGUF test model (random weights, a scripted reply, or the 3B shape for benchmarks)")
    .addOption(new Option("--kind <kind>", "model kind").choices(["random", "scripted", "3b"]).makeOptionMandatory())
    .option("--out <file>", "output GGUF path (default: the test-model cache under the OS temp dir)")
    .option("--reply <text>", "scripted: reply after <|im_start|>assistant\\n (default \"Hello from Talaria.\")")
    .option("--after-tool-reply <text>", "scripted: reply once <tool_response> is in the context (default: same as --reply)")
    .addOption(new Option("--tool-token-type <type>", "GGUF token type of the six tool tags (default control)").choices(["control", "user"]))
    .option("--seed <n>", "random/3b: weight seed (default 1)", integer)
    .option("--hidden <n>", "embedding width (random 64, 3b 3072, scripted computed)", positiveInt)
    .option("--layers <n>", "blocks (random 2, 3b 28, scripted 1)", positiveInt)
    .option("--heads <n>", "attention heads (random 4, 3b 24)", positiveInt)
    .option("--kv-heads <n>", "KV heads (random 2, 3b 8)", positiveInt)
    .option("--ffn <n>", "feed-forward width (random 256, 3b 8192, scripted computed)", positiveInt)
    .option("--context-length <n>", "training context length (random 8192, scripted 32768, 3b 131072)", positiveInt)
    .addOption(new Option("--quant <quant>", "weight encoding (random q4_0, 3b q4_k_m)").choices(["f32", "f16", "q8_0", "q4_0", "q4_k_m"]))
    .option("--name <name>", "general.name (default \"Hermes 3 Llama 3.2 3B\")")
    .option("--basename <name>", "general.basename (default \"Hermes-3-Llama-3.2\")")
    .option("--finetune <name>", "general.finetune (default: none)")
    .option("--size-label <label>", "general.size_label (default \"3B\")")
    .action(async (flags: MakeTestModelFlags) => {
      const options = flagsToOptions(flags);
      const started = Date.now();
      let lastPct = -1;
      const onProgress = (written: number, total: number): void => {
        const pct = Math.floor((100 * written) / total);
        if (total > 100 * 2 ** 20 && pct >= lastPct + 5) {
          lastPct = pct;
          process.stderr.write(`  ${pct}% (${(written / 2 ** 20).toFixed(0)} / ${(total / 2 ** 20).toFixed(0)} MiB)\n`);
        }
      };
      let file: string;
      if (flags.out !== undefined) {
        file = path.resolve(flags.out);
        await writeTestModel(options, file, { onProgress });
      } else {
        file = await ensureTestModel(options, { onProgress });
      }
      const { size } = await stat(file);
      process.stderr.write(`wrote ${(size / 2 ** 20).toFixed(1)} MiB in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      process.stdout.write(`${file}\n`);
    });
}
