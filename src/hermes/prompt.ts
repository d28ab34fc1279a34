/**
 * Hermes prompt formats: ChatML, the function-calling prompt in two styles (`card`: the model
 * cards' exact text; `template`: the official `tool_use` chat template rendered with Python Jinja2
 * semantics) and the JSON-mode system prompt. Output is typed {@link PromptText}: only our own
 * markup is `special`; every message, argument, tool description and result is `plain`, so it can
 * never become a control token.
 */
import { joinPrompt, plain, special, promptToString, type PromptText } from "../prompt/text.js";
import { compileJinjaTemplate, type JinjaRenderOptions } from "./jinja.js";
import { parseLiteral, LiteralSyntaxError } from "./literal.js";
import { OFFICIAL_TOOL_USE_TEMPLATE } from "./official-tool-use-template.js";
import { getProfile, HERMES_PROFILES, type HermesProfile, type HermesProfileId } from "./profiles.js";
import { jsonString, pyJsonDumps } from "./python-json.js";
import { normalizeTools, toOpenAITool, type JsonSchema, type ToolDefinition, type ToolInput } from "./tools.js";

import { HERMES_DIALECT, IM_START, IM_END } from "./dialect.js";

const TOOLS_OPEN = HERMES_DIALECT.tools.open;
const TOOLS_CLOSE = HERMES_DIALECT.tools.close;
const CALL = HERMES_DIALECT.toolCall;
const RESPONSE = HERMES_DIALECT.toolResponse;

// ---------------------------------------------------------------------------------------------
// Messages

/** A text part of OpenAI multi-part content. */
export interface TextContentPart {
  readonly type: "text";
  readonly text: string;
}

export type MessageContent = string | null | readonly TextContentPart[];

/** A tool call in an assistant message: OpenAI shape (`function` wrapper) or bare `{name, arguments}`. */
export interface HermesToolCallInput {
  readonly id?: string;
  readonly type?: "function";
  readonly function?: { readonly name: string; readonly arguments?: string | Readonly<Record<string, unknown>> };
  readonly name?: string;
  readonly arguments?: string | Readonly<Record<string, unknown>>;
}

/** An OpenAI-style chat message (what HF `apply_chat_template` takes). */
export interface HermesMessage {
  readonly role: "system" | "user" | "assistant" | "tool" | (string & {});
  readonly content?: MessageContent;
  readonly tool_calls?: readonly HermesToolCallInput[];
  readonly tool_call_id?: string;
  readonly name?: string;
}

export type PromptStyle = "card" | "template";

/** How the JSON-mode system prompt is written: `code` = real newlines (Hermes-Function-Calling jsonmode.py), `card-printed` = the literal `\n` the cards print. */
export type JsonModePromptVariant = "code" | "card-printed";

export interface RenderPromptOptions {
  readonly messages: readonly HermesMessage[];
  /** Tools to offer. Absent or empty: a plain ChatML prompt (in `template` style an explicit `[]` is passed to the template). */
  readonly tools?: readonly ToolInput[];
  /** Function-calling prompt style. Default `card`. */
  readonly style?: PromptStyle;
  /** Model profile (tool-response role in the `card` style). Default `hermes-3`. */
  readonly profile?: HermesProfileId | HermesProfile;
  /** `template` style: the tool_use template text (e.g. the GGUF's). Default: the official Hermes template. */
  readonly template?: string;
  /** Append `<|im_start|>assistant\n`. Default true. */
  readonly addGenerationPrompt?: boolean;
  /** BOS text put first (special). Default "" (none: the renderer never invents one; pass the model's). */
  readonly bosToken?: string;
  /** `eos_token` for templates. Default `<|im_end|>`. */
  readonly eosToken?: string;
  /** JSON mode: add the Hermes JSON-mode system prompt for this schema (an object, or schema text used verbatim). Default none. */
  readonly jsonSchema?: JsonSchema | string;
  /** JSON-mode prompt variant. Default `code`. */
  readonly jsonModeVariant?: JsonModePromptVariant;
  /** Clock for templates that call `strftime_now`. */
  readonly now?: JinjaRenderOptions["now"];
}

export class HermesPromptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HermesPromptError";
  }
}

function resolveProfile(profile: RenderPromptOptions["profile"]): HermesProfile {
  if (profile === undefined) return HERMES_PROFILES["hermes-3"];
  return typeof profile === "string" ? getProfile(profile) : profile;
}

/** Message content as text (text parts joined). */
export function contentText(content: MessageContent | undefined): string {
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  return content.map((part) => part.text).join("");
}

// ---------------------------------------------------------------------------------------------
// The card style

/** Python `json.dumps` of a tool as the cards show it: `{"type": "function", "function": {...}}`. */
export function serializeToolForCard(tool: ToolDefinition): string {
  return pyJsonDumps(toOpenAITool(tool));
}

/** The card's pydantic `FunctionCall` schema (arguments-first, as both cards print it). */
export const CARD_FUNCTION_CALL_SCHEMA =
  '{"properties": {"arguments": {"title": "Arguments", "type": "object"}, "name": {"title": "Name", "type": "string"}}, "required": ["arguments", "name"], "title": "FunctionCall", "type": "object"}';

/**
 * The function-calling system prompt, byte-exact with the cards. Several tools are separated by a
 * newline, as in the official template (docs/decisions/0031-card-prompt-multiple-tools.md).
 */
export function cardFunctionCallingSystemPrompt(tools: readonly ToolDefinition[]): PromptText {
  return joinPrompt(
    "You are a function calling AI model. You are provided with function signatures within ",
    special(TOOLS_OPEN),
    special(TOOLS_CLOSE),
    " XML tags. You may call one or more functions to assist with the user query. Don't make assumptions about what values to plug into functions. Here are the available tools: ",
    special(TOOLS_OPEN),
    " ",
    plain(tools.map(serializeToolForCard).join("\n")),
    " ",
    special(TOOLS_CLOSE),
    ` Use the following pydantic model json schema for each tool call you will make: ${CARD_FUNCTION_CALL_SCHEMA} For each function call return a json object with function name and arguments within `,
    special(CALL.open),
    special(CALL.close),
    " XML tags as follows:\n",
    special(CALL.open),
    '\n{"arguments": <args-dict>, "name": <function-name>}\n',
    special(CALL.close),
  );
}

/**
 * The JSON-mode system prompt. `code` (default) uses real newlines, as jsonmode.py builds it; the
 * schema object is serialised like pydantic's `schema_json()` (`json.dumps` defaults: `", "` / `": "`,
 * ASCII-escaped). A string schema is inserted verbatim.
 */
export function jsonModeSystemPrompt(schema: JsonSchema | string, variant: JsonModePromptVariant = "code"): string {
  const schemaText = typeof schema === "string" ? schema : pyJsonDumps(schema, { ensureAscii: true });
  const nl = variant === "code" ? "\n" : "\\n";
  return `You are a helpful assistant that answers in JSON. Here's the json schema you must adhere to:${nl}<schema>${nl}${schemaText}${nl}</schema>`;
}

function turn(role: string, body: PromptText | string): PromptText {
  return joinPrompt(special(IM_START), `${role}\n`, body, special(IM_END), "\n");
}

/** `{"arguments": ARGS, "name": "N"}`: string arguments verbatim (as the template does), objects through json.dumps. */
function cardToolCall(call: HermesToolCallInput): PromptText {
  const fn = call.function ?? call;
  if (typeof fn.name !== "string" || fn.name === "") throw new HermesPromptError("an assistant tool call needs a name");
  const args = fn.arguments ?? {};
  const argsText = typeof args === "string" ? args : pyJsonDumps(args);
  return joinPrompt(special(CALL.open), `\n{"arguments": ${argsText}, "name": ${jsonString(fn.name)}}\n`, special(CALL.close));
}

/** A tool result's value text: verbatim when it is a JSON value or a Python literal (the cards print a repr), else a JSON string. */
function toolResultValue(content: string): string {
  for (const syntax of ["json", "python"] as const) {
    try {
      parseLiteral(content, syntax);
      return content.trim();
    } catch (error) {
      if (!(error instanceof LiteralSyntaxError)) throw error;
    }
  }
  return jsonString(content);
}

function renderCardStyle(
  messages: readonly HermesMessage[],
  tools: readonly ToolDefinition[],
  profile: HermesProfile,
  options: RenderPromptOptions,
): PromptText {
  const parts: PromptText[] = [];
  if (options.bosToken) parts.push(special(options.bosToken));
  if (tools.length > 0) parts.push(turn("system", cardFunctionCallingSystemPrompt(tools)));

  const callNames = new Map<string, string>();
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as HermesMessage;
    switch (message.role) {
      case "system":
      case "user":
        parts.push(turn(message.role, plain(contentText(message.content))));
        break;
      case "assistant": {
        const calls = message.tool_calls ?? [];
        const pieces: PromptText[] = [];
        const text = contentText(message.content);
        if (text !== "") pieces.push(plain(text));
        for (const call of calls) {
          const fn = call.function ?? call;
          if (call.id !== undefined && typeof fn.name === "string") callNames.set(call.id, fn.name);
          pieces.push(cardToolCall(call));
        }
        parts.push(turn("assistant", joinPrompt(...pieces.flatMap((p, j) => (j === 0 ? [p] : [plain("\n"), p])))));
        break;
      }
      case "tool": {
        // Consecutive tool results share one turn, each in its own <tool_response> block.
        const group: PromptText[] = [];
        let j = i;
        for (; j < messages.length && messages[j]?.role === "tool"; j++) {
          const result = messages[j] as HermesMessage;
          const name = result.name ?? (result.tool_call_id === undefined ? undefined : callNames.get(result.tool_call_id));
          if (name === undefined) {
            throw new HermesPromptError(
              "a tool message needs a name or a tool_call_id that matches an earlier assistant tool call (the card format writes {\"name\", \"content\"})",
            );
          }
          const payload = `{"name": ${jsonString(name)}, "content": ${toolResultValue(contentText(result.content))}}`;
          group.push(joinPrompt(special(RESPONSE.open), "\n", plain(payload), "\n", special(RESPONSE.close), "\n"));
        }
        parts.push(turn(profile.toolResponseRole, joinPrompt(...group)));
        i = j - 1;
        break;
      }
      default:
        throw new HermesPromptError(`unsupported message role ${JSON.stringify(message.role)}`);
    }
  }
  if (options.addGenerationPrompt ?? true) parts.push(joinPrompt(special(IM_START), "assistant\n"));
  return joinPrompt(...parts);
}

// ---------------------------------------------------------------------------------------------
// The template style

const PRIVATE_LT = "\uE000";
const MARKER_PATTERN = /<\|[^\s<>|]{1,64}\|>|<\/?tool_call>|<\/?tool_response>|<\/?tools>/g;

/**
 * Defusing: the first code unit of every marker-like substring (and of every BOS/EOS text, whatever
 * its shape, e.g. `<s>`) is replaced by a private-use character of the same length, reversibly.
 */
interface Defuser {
  defuse(value: unknown): unknown;
  /** Undo the replacements (for comparing the two renders). */
  restore(text: string): string;
}

function defuser(tokens: readonly string[]): Defuser {
  const literal = tokens.filter((t) => t !== "").map(escapeRegExp);
  const pattern = new RegExp([...literal, MARKER_PATTERN.source].join("|"), "g");
  // `<` → U+E000; any other first character of a BOS/EOS text → U+E001, U+E002, …
  const toPrivate = new Map<string, string>([["<", PRIVATE_LT]]);
  for (const token of tokens) {
    const first = token.charAt(0);
    if (first !== "" && !toPrivate.has(first)) toPrivate.set(first, String.fromCharCode(PRIVATE_LT.charCodeAt(0) + toPrivate.size));
  }
  const fromPrivate = [...toPrivate].map(([original, replacement]) => [replacement, original] as const);
  const defuse = (value: unknown): unknown => {
    if (typeof value === "string") return value.replace(pattern, (m) => (toPrivate.get(m.charAt(0)) as string) + m.slice(1));
    if (Array.isArray(value)) return value.map(defuse);
    if (value instanceof Map) return new Map([...value.entries()].map(([k, v]) => [k, defuse(v)]));
    if (typeof value === "object" && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, defuse(v)]));
    }
    return value;
  };
  const restore = (text: string): string => fromPrivate.reduce((out, [replacement, original]) => out.replaceAll(replacement, original), text);
  return { defuse, restore };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Render a chat template and type its output: a marker is `special` only where the template itself
 * wrote it. We render twice, the second time with every marker inside the inputs defused (the
 * BOS/EOS texts too, whatever their shape); markers that survive came from the template.
 */
export function renderChatTemplate(
  template: string,
  context: {
    readonly messages: readonly unknown[];
    readonly tools?: readonly unknown[] | null;
    readonly bosToken: string;
    readonly eosToken: string;
    readonly addGenerationPrompt: boolean;
    readonly extra?: Readonly<Record<string, unknown>>;
  },
  options: JinjaRenderOptions = {},
): PromptText {
  const compiled = compileJinjaTemplate(template);
  const { defuse, restore } = defuser([context.bosToken, context.eosToken]);
  const base = {
    documents: null,
    add_generation_prompt: context.addGenerationPrompt,
    bos_token: context.bosToken,
    eos_token: context.eosToken,
    ...(context.extra ?? {}),
  };
  const exact = compiled.render({ ...base, messages: context.messages, tools: context.tools }, options);
  const probe = compiled.render({ ...base, messages: defuse(context.messages), tools: defuse(context.tools) }, options);
  if (probe.length !== exact.length || restore(probe) !== restore(exact)) {
    throw new HermesPromptError("the chat template transforms message text in a way that prevents typing its output safely");
  }
  const alternatives = [MARKER_PATTERN.source];
  for (const token of [context.bosToken, context.eosToken]) if (token !== "") alternatives.unshift(escapeRegExp(token));
  const pattern = new RegExp(alternatives.join("|"), "g");
  const parts: PromptText[] = [];
  let last = 0;
  for (const match of probe.matchAll(pattern)) {
    parts.push(plain(exact.slice(last, match.index)));
    parts.push(special(exact.slice(match.index, match.index + match[0].length)));
    last = match.index + match[0].length;
  }
  parts.push(plain(exact.slice(last)));
  return joinPrompt(...parts);
}

// ---------------------------------------------------------------------------------------------
// Entry point

/** Render a conversation to typed prompt text. */
export function renderPrompt(options: RenderPromptOptions): PromptText {
  const style = options.style ?? "card";
  const profile = resolveProfile(options.profile);
  const tools = normalizeTools(options.tools ?? []);
  const messages: HermesMessage[] =
    options.jsonSchema === undefined
      ? [...options.messages]
      : [{ role: "system", content: jsonModeSystemPrompt(options.jsonSchema, options.jsonModeVariant) }, ...options.messages];

  if (style === "card") return renderCardStyle(messages, tools, profile, options);
  // The template fails on `tools = None` (as in transformers): without tools, plain ChatML.
  if (options.tools === undefined) return renderCardStyle(messages, [], profile, options);
  return renderChatTemplate(
    options.template ?? OFFICIAL_TOOL_USE_TEMPLATE,
    {
      messages,
      tools: tools.map((tool) => ({ type: "function", function: tool.source })),
      bosToken: options.bosToken ?? "",
      eosToken: options.eosToken ?? IM_END,
      addGenerationPrompt: options.addGenerationPrompt ?? true,
    },
    options.now === undefined ? {} : { now: options.now },
  );
}

/** {@link renderPrompt} as one string (for display and byte comparisons). */
export function renderPromptString(options: RenderPromptOptions): string {
  return promptToString(renderPrompt(options));
}
