/**
 * Model profiles: the per-model differences of the Hermes format, and their detection from GGUF
 * metadata. Pure: no engine imports.
 */
import { HERMES_DIALECT } from "./dialect.js";

export type HermesProfileId = "hermes-2-pro" | "hermes-3" | "hermes-3-llama-3.2-3b" | "chatml";

export interface HermesProfile {
  readonly id: HermesProfileId;
  readonly description: string;
  /** ChatML role that carries `<tool_response>` turns. */
  readonly toolResponseRole: "tool" | "user";
  /** Whether the model was trained on the Hermes function-calling and JSON-mode prompts. */
  readonly hermesTrained: boolean;
  /** Shown once per process when the profile is used (the generic fallback). */
  readonly warning?: string;
}

export const HERMES_PROFILES: Readonly<Record<HermesProfileId, HermesProfile>> = {
  "hermes-2-pro": {
    id: "hermes-2-pro",
    description: "Hermes 2 Pro (Llama 3): ChatML, tool results in the dedicated `tool` role",
    toolResponseRole: "tool",
    hermesTrained: true,
  },
  "hermes-3": {
    id: "hermes-3",
    description: "Hermes 3 (Llama 3.1 8B/70B/405B): ChatML, tool results in the `tool` role",
    toolResponseRole: "tool",
    hermesTrained: true,
  },
  "hermes-3-llama-3.2-3b": {
    id: "hermes-3-llama-3.2-3b",
    description:
      "Hermes 3 Llama-3.2 3B: its card sends tool results back in the `user` role wrapped in <tool_response> (a training quirk the card warns about)",
    toolResponseRole: "user",
    hermesTrained: true,
  },
  chatml: {
    id: "chatml",
    description: "Generic ChatML fallback (not a recognised Hermes model): Hermes prompts, tool results in the `tool` role",
    toolResponseRole: "tool",
    hermesTrained: false,
    warning:
      "talaria: the model is not a recognised Hermes model; using the generic ChatML profile (Hermes tool-calling prompts may work poorly). Pass --profile to choose one.",
  },
};

export const PROFILE_IDS = Object.keys(HERMES_PROFILES) as HermesProfileId[];

export function isProfileId(value: string): value is HermesProfileId {
  return Object.hasOwn(HERMES_PROFILES, value);
}

export class UnknownProfileError extends Error {
  constructor(readonly requested: string) {
    super(`unknown profile ${JSON.stringify(requested)}; expected one of ${PROFILE_IDS.join(", ")}`);
    this.name = "UnknownProfileError";
  }
}

/** Look a profile up by id; throws {@link UnknownProfileError}. */
export function getProfile(id: string): HermesProfile {
  if (!isProfileId(id)) throw new UnknownProfileError(id);
  return HERMES_PROFILES[id];
}

/** What detection looks at: the GGUF `general.*` names and the chat templates (`default`, `tool_use`, …). */
export interface ProfileDetectionInput {
  readonly name?: string | undefined;
  readonly basename?: string | undefined;
  readonly finetune?: string | undefined;
  readonly sizeLabel?: string | undefined;
  readonly chatTemplates?: Readonly<Record<string, string>> | undefined;
}

export interface ProfileDetection {
  readonly profile: HermesProfileId;
  /** Human-readable: which metadata decided it. */
  readonly reason: string;
}

/** Lowercase and turn separators (space, `_`, `.` between letters) into `-`, keeping version dots. */
function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\s_]+/g, "-")
    .replace(/-+/g, "-");
}

/**
 * Pick a profile from GGUF metadata. Names are checked first (`general.name`, `basename`,
 * `finetune`, `size_label`), then the chat templates; anything else gets the `chatml` fallback.
 */
export function detectProfile(metadata: ProfileDetectionInput): ProfileDetection {
  const fields: Array<[string, string]> = [];
  if (metadata.name) fields.push(["general.name", metadata.name]);
  if (metadata.basename) fields.push(["general.basename", metadata.basename]);
  if (metadata.finetune) fields.push(["general.finetune", metadata.finetune]);
  const joined = normalise(fields.map(([, v]) => v).join(" "));
  const shown = fields.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ");
  const size = (metadata.sizeLabel ?? "").toLowerCase();

  const isHermes3 = /hermes-?3(?![\d.])/.test(joined);
  const isHermes2 = /hermes-?2(?![\d.])/.test(joined);
  if (isHermes3) {
    const llama32 = /llama-?3\.2/.test(joined);
    const is3b = size === "3b" || size.startsWith("3.2b") || /(^|[^\d.])3(\.\d)?b\b/.test(joined);
    if (llama32 && is3b) {
      return {
        profile: "hermes-3-llama-3.2-3b",
        reason: `Hermes 3 on Llama 3.2 3B (${shown}${metadata.sizeLabel ? `, general.size_label=${JSON.stringify(metadata.sizeLabel)}` : ""})`,
      };
    }
    return { profile: "hermes-3", reason: `Hermes 3 model name (${shown})` };
  }
  if (isHermes2) {
    const pro = /hermes-?2-pro/.test(joined);
    return {
      profile: "hermes-2-pro",
      reason: pro ? `Hermes 2 Pro model name (${shown})` : `Hermes 2 family model name, which uses the Hermes 2 Pro format (${shown})`,
    };
  }

  const templates = metadata.chatTemplates ?? {};
  const toolUse = templates["tool_use"];
  if (toolUse !== undefined && toolUse.includes(HERMES_DIALECT.toolCall.open) && toolUse.includes("You are a function calling AI model")) {
    return {
      profile: "hermes-3",
      reason: "no Hermes name in the metadata, but tokenizer.chat_template.tool_use is the Hermes function-calling template",
    };
  }
  const anyChatml = Object.values(templates).some((t) => t.includes("<|im_start|>"));
  return {
    profile: "chatml",
    reason: anyChatml
      ? `no Hermes name in the metadata${shown ? ` (${shown})` : ""}; the chat template is ChatML`
      : `no Hermes name and no ChatML chat template in the metadata${shown ? ` (${shown})` : ""}`,
  };
}

const warned = new Set<HermesProfileId>();

/** Emit a profile's warning once per process (the generic `chatml` fallback warns). */
export function warnProfileOnce(profile: HermesProfile, warn: (message: string) => void = (m) => console.warn(m)): void {
  if (profile.warning === undefined || warned.has(profile.id)) return;
  warned.add(profile.id);
  warn(profile.warning);
}
