/**
 * `talaria render`: print the exact prompt for a conversation (no trailing newline added).
 */
import type { Command } from "commander";
import { promptToString } from "../../prompt/text.js";
import type { Engine } from "../../engine/types.js";
import { renderPrompt, warnProfileOnce, type JsonModePromptVariant, type PromptStyle, type ToolInput } from "../../hermes/index.js";
import { chooseProfile, readJsonFile, readMessagesFile, readToolsFile } from "./hermes-io.js";
import { loadEngine } from "../engine-loader.js";
import { parsePositiveInt, parseTemplateChoice, TEMPLATE_OPTION_HELP } from "../option-parsers.js";
import { resolveHermesChatSetup } from "../../chat/hermes-chat.js";

interface RenderCommandOptions {
  readonly messages: string;
  readonly tools?: string;
  readonly style: string;
  readonly template?: "model" | "official";
  readonly profile?: string;
  readonly model?: string;
  readonly jsonSchema?: string;
  readonly jsonModeVariant: string;
  readonly bos?: string;
  readonly generationPrompt: boolean;
  readonly parts: boolean;
  readonly threads?: number;
}

export function register(program: Command): void {
  program
    .command("render")
    .description("Print the exact Hermes prompt for a conversation (typed: markup special, content plain).")
    .requiredOption("--messages <file>", 'JSON file: an array of OpenAI-style messages, or {"messages": [...], "tools": [...]}')
    .option("--tools <file>", "JSON file: an array of OpenAI tools, function definitions or {name, description, parameters}")
    .option("--style <style>", "function-calling prompt style: card (the model cards' text) or template (the tool_use chat template)", "card")
    .option("--template <which>", TEMPLATE_OPTION_HELP, parseTemplateChoice)
    .option("--profile <profile>", "hermes-2-pro | hermes-3 | hermes-3-llama-3.2-3b | chatml (default: detected from --model, else hermes-3)")
    .option("--model <gguf>", "take the tool_use template, BOS text and profile from this GGUF")
    .option("--json-schema <file>", "JSON mode: add the Hermes JSON-mode system prompt for this JSON Schema file")
    .option("--json-mode-variant <variant>", "code (real newlines, as jsonmode.py) or card-printed (literal \\n as the cards print)", "code")
    .option("--bos <text>", "BOS text to put first (default: the model's with --model, else none)")
    .option("--no-generation-prompt", "do not append <|im_start|>assistant\\n")
    .option("--parts", "print the typed parts as JSON instead of the text", false)
    .option("--threads <n>", "threads for loading --model", parsePositiveInt)
    .action(async (options: RenderCommandOptions) => {
      process.stdout.write(await runRender(options));
    });
}

export async function runRender(options: RenderCommandOptions): Promise<string> {
  if (options.style !== "card" && options.style !== "template") throw new Error(`--style must be card or template, got ${options.style}`);
  if (options.jsonModeVariant !== "code" && options.jsonModeVariant !== "card-printed") {
    throw new Error(`--json-mode-variant must be code or card-printed, got ${options.jsonModeVariant}`);
  }
  const file = await readMessagesFile(options.messages);
  const tools: ToolInput[] | undefined = options.tools !== undefined ? await readToolsFile(options.tools) : file.tools;
  const jsonSchema = options.jsonSchema === undefined ? undefined : ((await readJsonFile(options.jsonSchema, "JSON schema")) as Record<string, unknown>);

  let engine: Engine | undefined;
  try {
    if (options.model !== undefined) {
      engine = await loadEngine({ model: options.model, contextSize: 256, ...(options.threads === undefined ? {} : { threads: options.threads }) });
    }
    const info = engine?.info;
    const { profile } = chooseProfile(options.profile, info);
    warnProfileOnce(profile, (message) => process.stderr.write(message + "\n"));
    const setup = resolveHermesChatSetup(info, { profile: profile.id, ...(options.template === undefined ? {} : { template: options.template }) });
    const prompt = renderPrompt({
      messages: file.messages,
      ...(tools === undefined ? {} : { tools }),
      style: options.style as PromptStyle,
      profile,
      ...(setup.templateText !== undefined ? { template: setup.templateText } : {}),
      addGenerationPrompt: options.generationPrompt,
      bosToken: options.bos ?? setup.bosToken ?? "",
      ...(info?.specialTokens.eos?.text !== undefined ? { eosToken: info.specialTokens.eos.text } : {}),
      ...(jsonSchema === undefined ? {} : { jsonSchema }),
      jsonModeVariant: options.jsonModeVariant as JsonModePromptVariant,
    });
    return options.parts ? JSON.stringify(prompt.parts, null, 2) + "\n" : promptToString(prompt);
  } finally {
    await engine?.dispose();
  }
}
