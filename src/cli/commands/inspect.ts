/**
 * `talaria inspect`: what the engine knows about a model (GGUF metadata, chat templates, special
 * tokens), as a table or, with `--json`, as JSON for machines.
 *
 * Hook: {@link inspectRows} builds the table from {@link ModelInfo}; callers may append rows (for
 * example a detected Hermes model profile) through its `extraRows` argument.
 */
import type { Command } from "commander";
import { DEFAULT_CONTEXT_SIZE } from "../../engine/llama-cpp/index.js";
import type { ModelInfo } from "../../engine/types.js";
import { addModelOptions, loadEngine, type ModelFlags } from "../engine-loader.js";
import { HERMES_DIALECT } from "../../hermes/dialect.js";
import { describeHermesChatSetup, resolveHermesChatSetup, type HermesChatSetup } from "../../chat/hermes-chat.js";
import { getProfile, PROFILE_IDS } from "../../hermes/profiles.js";
import { parseTemplateChoice, TEMPLATE_OPTION_HELP } from "../option-parsers.js";

export type InspectRow = readonly [label: string, value: string];

function formatCount(n: number): string {
  const units: Array<[number, string]> = [
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "K"],
  ];
  for (const [size, unit] of units) if (n >= size) return `${(n / size).toFixed(2)}${unit} (${n.toLocaleString("en-US")})`;
  return String(n);
}

function token(t: { text: string; id: number } | undefined): string {
  return t === undefined ? "-" : `${JSON.stringify(t.text)} (${t.id})`;
}

/** The rows of the `inspect` table. */
export function inspectRows(
  info: ModelInfo,
  extraRows: readonly InspectRow[] = [],
  tokenText: (id: number) => string | undefined = () => undefined,
): InspectRow[] {
  const st = info.specialTokens;
  const rows: InspectRow[] = [
    ["source", info.source],
    ["path", info.path ?? "-"],
    ["architecture", info.architecture],
    ["name", info.name ?? "-"],
    ["basename", info.basename ?? "-"],
    ["finetune", info.finetune ?? "-"],
    ["size label", info.sizeLabel ?? "-"],
    ["parameters", formatCount(info.parameterCount)],
    ["file type", info.fileType ?? "-"],
    ["training context", String(info.trainContextLength)],
    ["context size", String(info.contextSize)],
    ["vocabulary", String(info.vocabularySize)],
    ["bos", token(st.bos)],
    ["eos", token(st.eos)],
    ["eot", token(st.eot)],
    [
      "end of generation",
      st.endOfGeneration.map((id) => (tokenText(id) !== undefined ? `${JSON.stringify(tokenText(id))} (${id})` : String(id))).join(", ") || "-",
    ],
    [
      "hermes markers",
      HERMES_DIALECT.markers
        .filter((m) => st.markers[m] !== undefined)
        .map((m) => `${m} ${st.markers[m]}`)
        .join(", ") || "-",
    ],
    ["added tokens", String(Object.keys(st.markers).length)],
    [
      "chat templates",
      Object.entries(info.chatTemplates)
        .map(([name, template]) => `${name} (${template.length} chars)`)
        .join(", ") || "-",
    ],
  ];
  return [...rows, ...extraRows];
}

export function renderTable(rows: readonly InspectRow[]): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n") + "\n";
}

interface InspectFlags extends ModelFlags {
  json?: boolean;
  profile?: string;
  style?: string;
  template?: "model" | "official";
}

/** The chat setup `run`/`serve` would use for this model and these flags (the composition root's resolution). */
export function inspectChatSetup(info: ModelInfo, options: { profile?: string; style?: string; template?: "model" | "official" } = {}): HermesChatSetup {
  if (options.style !== undefined && options.style !== "card" && options.style !== "template") throw new Error(`--style must be card or template, got ${options.style}`);
  return resolveHermesChatSetup(info, {
    // getProfile names the valid ids when the id is unknown
    profile: options.profile === undefined ? "auto" : getProfile(options.profile).id,
    ...(options.style === "card" || options.style === "template" ? { style: options.style } : {}),
    ...(options.template === undefined ? {} : { template: options.template }),
  });
}

/** The rows that say how Talaria's chat would use the model. */
export function chatSetupRows(info: ModelInfo, setup: HermesChatSetup): InspectRow[] {
  const own = info.chatTemplates["tool_use"];
  return [
    ["profile", `${setup.profile} (${setup.profileReason})`],
    [
      "tool_use template",
      setup.templateSource === "model"
        ? `the model's own (${own?.length ?? 0} chars)`
        : setup.templateSource === "official"
          ? `official Hermes${own === undefined ? " (the model has none)" : " (--template official)"}`
          : "custom",
    ],
    ["chat setup", describeHermesChatSetup(setup)],
  ];
}

export function register(program: Command): void {
  const command = program.command("inspect").description("Show a model's metadata, chat templates and special tokens");
  addModelOptions(command)
    .option("--json", "print the model info as JSON")
    .option("--profile <id>", `force a Hermes model profile instead of detecting it (${PROFILE_IDS.join(", ")})`)
    .option("--style <style>", "function-calling prompt style the chat setup row assumes: card or template", "card")
    .option("--template <which>", TEMPLATE_OPTION_HELP, parseTemplateChoice)
    .action(async (flags: InspectFlags) => {
      // A small context is enough to read the model; report the size `generate`/`serve` would allocate.
      const engine = await loadEngine({ ...flags, contextSize: 256, threads: flags.threads ?? 1 });
      try {
        const contextSize = flags.contextSize ?? Math.min(engine.info.trainContextLength, DEFAULT_CONTEXT_SIZE);
        const info: ModelInfo = { ...engine.info, contextSize };
        const texts = new Map<number, string>();
        for (const id of info.specialTokens.endOfGeneration) texts.set(id, await engine.detokenize([id], { special: true }));
        const setup = inspectChatSetup(info, flags);
        const { templateText: _text, ...setupJson } = setup;
        process.stdout.write(
          flags.json === true
            ? `${JSON.stringify({ ...info, profile: { id: setup.profile, reason: setup.profileReason }, chat: setupJson }, null, 2)}\n`
            : renderTable(inspectRows(info, chatSetupRows(info, setup), (id) => texts.get(id))),
        );
      } finally {
        await engine.dispose();
      }
    });
}
