/**
 * The composition root: engine → Hermes profile → Hermes chat format → {@link ChatService}. Every
 * command (`serve`, `run`, `json`, `chat`, `render`, `eval`, `bench`), the server, the agent loop and
 * JSON mode build their chat service here, so they render the same prompt for the same model and
 * flags. See docs/decisions/0034-one-dialect-one-composition-root.md.
 */
import type { Engine, ModelInfo } from "../engine/types.js";
import { detectProfile, getProfile, type HermesProfileId } from "../hermes/profiles.js";
import type { PromptStyle } from "../hermes/prompt.js";
import type { GrammarConstraintsOptions } from "./constraints.js";
import type { ChatFormat } from "./format.js";
import { createHermesChatFormat } from "./hermes-format.js";
import { ChatService } from "./service.js";

/**
 * Which `tool_use` template the `template` prompt style renders:
 * - `model`: the model's own (`tokenizer.chat_template.tool_use` in the GGUF), or the official Hermes
 *   template when the model has none;
 * - `official`: always the official Hermes template bundled with Talaria;
 * - `{ text }`: the given template text.
 */
export type TemplateChoice = "model" | "official" | { readonly text: string };

export interface HermesChatOptions {
  /** A profile id, or `auto`: detected from the model's metadata. Default `auto`. */
  readonly profile?: HermesProfileId | "auto";
  /** Function-calling prompt style. Default `card`. */
  readonly style?: PromptStyle;
  /** The tool_use template of the `template` style. Default `model`. */
  readonly template?: TemplateChoice;
  /** Constrained decoding (grammars for tool choice and JSON modes). Default true. */
  readonly constrained?: boolean | GrammarConstraintsOptions;
  /** Validate tool arguments and JSON answers with ajv (`validation-error` events). Default true. */
  readonly validate?: boolean;
  /** Tool-call ids. Default `call_` + 24 random alphanumerics. */
  readonly createToolCallId?: () => string;
  /** Calls of undeclared tools: reported as `tool-call-error`s (default) or returned as calls (see `ChatServiceOptions.undeclaredToolCalls`). */
  readonly undeclaredToolCalls?: "error" | "call";
}

/** How a chat was set up for a model: what `talaria inspect` and the server's start line show. */
export interface HermesChatSetup {
  readonly profile: HermesProfileId;
  /** Why this profile (`--profile`, or what detection matched). */
  readonly profileReason: string;
  readonly style: PromptStyle;
  /** Where the `tool_use` template comes from (used by the `template` style only). */
  readonly templateSource: "model" | "official" | "custom";
  /** The template text, when it is not the official one. */
  readonly templateText?: string;
  /** BOS text put first in every prompt (the model's). */
  readonly bosToken?: string;
}

/** Resolve profile, style, template and BOS for a model (pure; `info` undefined = no model, defaults only). */
export function resolveHermesChatSetup(info: Pick<ModelInfo, "name" | "basename" | "finetune" | "sizeLabel" | "chatTemplates" | "specialTokens"> | undefined, options: HermesChatOptions = {}): HermesChatSetup {
  const requested = options.profile ?? "auto";
  let profile: HermesProfileId;
  let profileReason: string;
  if (requested !== "auto") {
    profile = getProfile(requested).id;
    profileReason = "requested";
  } else if (info === undefined) {
    profile = "hermes-3";
    profileReason = "default (no model given)";
  } else {
    const detected = detectProfile({
      name: info.name,
      basename: info.basename,
      finetune: info.finetune,
      sizeLabel: info.sizeLabel,
      chatTemplates: info.chatTemplates,
    });
    profile = detected.profile;
    profileReason = detected.reason;
  }
  const choice = options.template ?? "model";
  const own = info?.chatTemplates["tool_use"];
  const template: Pick<HermesChatSetup, "templateSource" | "templateText"> =
    typeof choice === "object"
      ? { templateSource: "custom", templateText: choice.text }
      : choice === "model" && own !== undefined
        ? { templateSource: "model", templateText: own }
        : { templateSource: "official" };
  const bos = info?.specialTokens.bos?.text;
  return {
    profile,
    profileReason,
    style: options.style ?? "card",
    ...template,
    ...(bos === undefined ? {} : { bosToken: bos }),
  };
}

/** One line for logs: `profile hermes-3 (detected), card style` or `…, template style, tool_use template: the model's`. */
export function describeHermesChatSetup(setup: HermesChatSetup): string {
  const profile = `profile ${setup.profile} (${setup.profileReason === "requested" ? "requested" : "detected"})`;
  if (setup.style === "card") return `${profile}, card style`;
  const template = setup.templateSource === "model" ? "the model's" : setup.templateSource === "official" ? "official Hermes" : "custom";
  return `${profile}, template style, tool_use template: ${template}`;
}

/** The Hermes chat format for a setup. */
export function hermesFormatFor(setup: HermesChatSetup): ChatFormat {
  return createHermesChatFormat({
    profile: setup.profile,
    style: setup.style,
    ...(setup.templateText === undefined ? {} : { template: setup.templateText }),
    ...(setup.bosToken === undefined ? {} : { bosToken: setup.bosToken }),
  });
}

export interface HermesChat {
  readonly service: ChatService;
  readonly setup: HermesChatSetup;
}

/** Wire an engine to a Hermes chat service (the one composition root). */
export function createHermesChat(engine: Engine, options: HermesChatOptions = {}): HermesChat {
  const setup = resolveHermesChatSetup(engine.info, options);
  const service = new ChatService({
    engine,
    format: hermesFormatFor(setup),
    constrained: options.constrained ?? true,
    validate: options.validate ?? true,
    ...(options.createToolCallId === undefined ? {} : { createToolCallId: options.createToolCallId }),
    ...(options.undeclaredToolCalls === undefined ? {} : { undeclaredToolCalls: options.undeclaredToolCalls }),
  });
  return { service, setup };
}
