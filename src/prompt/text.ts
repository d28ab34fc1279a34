/**
 * Typed prompt text. A prompt is a sequence of parts; only parts marked `special` may ever
 * tokenize to control tokens such as `<|im_start|>` or `<tool_call>`. User, assistant and tool
 * content is always `plain`, so it tokenizes as ordinary text even when it spells a control token.
 *
 * This module has no dependencies: the Hermes prompt formats (pure) produce it and the engines
 * consume it.
 */

/** A run of text that must be tokenized with special tokens OFF (it can never become a control token). */
export interface PlainPart {
  readonly kind: "plain";
  readonly text: string;
}

/** A run of text that must be tokenized with special tokens ON (ChatML markers, tool tags, BOS). */
export interface SpecialPart {
  readonly kind: "special";
  readonly text: string;
}

export type PromptPart = PlainPart | SpecialPart;

/** An immutable prompt: a list of parts. Build it with {@link plain}, {@link special} and {@link joinPrompt}. */
export interface PromptText {
  readonly parts: readonly PromptPart[];
}

export function plain(text: string): PromptText {
  return { parts: text === "" ? [] : [{ kind: "plain", text }] };
}

export function special(text: string): PromptText {
  return { parts: text === "" ? [] : [{ kind: "special", text }] };
}

/** Concatenate prompt texts (and raw strings, which are taken as plain text), merging adjacent parts of the same kind. */
export function joinPrompt(...items: ReadonlyArray<PromptText | string>): PromptText {
  const parts: PromptPart[] = [];
  for (const item of items) {
    const itemParts = typeof item === "string" ? plain(item).parts : item.parts;
    for (const part of itemParts) {
      if (part.text === "") continue;
      const last = parts[parts.length - 1];
      if (last !== undefined && last.kind === part.kind) {
        parts[parts.length - 1] = { kind: part.kind, text: last.text + part.text };
      } else {
        parts.push(part);
      }
    }
  }
  return { parts };
}

/** The prompt's text as one string (for display, hashing and byte-exact comparisons with fixtures). */
export function promptToString(prompt: PromptText): string {
  return prompt.parts.map((p) => p.text).join("");
}

export function isPromptText(value: unknown): value is PromptText {
  return typeof value === "object" && value !== null && Array.isArray((value as { parts?: unknown }).parts);
}
