/**
 * Settings panel values → an OpenAI chat-completions request body (pure, DOM-free).
 *
 * `top_k` and `repetition_penalty` are Talaria extensions of the request body. Empty fields are left out,
 * so the server's defaults apply. MCP tools (`{"type": "mcp", …}`, another extension) replace the function
 * tools and JSON mode: the server cannot combine them (it runs the MCP calls itself).
 */
import type { McpToolJson } from "./mcp.js";
import type { Conversation, Settings, UiMessage } from "./model.js";

/** One wire message (OpenAI chat format). */
export type WireMessage =
  | { readonly role: "system" | "user"; readonly content: string }
  | {
      readonly role: "assistant";
      readonly content: string | null;
      readonly tool_calls?: readonly {
        readonly id: string;
        readonly type: "function";
        readonly function: { readonly name: string; readonly arguments: string };
      }[];
    }
  | { readonly role: "tool"; readonly tool_call_id: string; readonly content: string };

export interface ToolJson {
  readonly type: "function";
  readonly function: {
    readonly name: string;
    readonly description?: string;
    readonly parameters?: Record<string, unknown>;
    readonly strict?: boolean;
  };
}

export interface ChatRequestBody {
  readonly model?: string;
  readonly messages: readonly WireMessage[];
  readonly stream: true;
  readonly stream_options: { readonly include_usage: true };
  readonly temperature?: number;
  readonly top_p?: number;
  readonly top_k?: number;
  readonly max_tokens?: number;
  readonly repetition_penalty?: number;
  readonly tools?: readonly ToolJson[] | readonly McpToolJson[];
  readonly response_format?:
    | { readonly type: "json_object" }
    | {
        readonly type: "json_schema";
        readonly json_schema: { readonly name: string; readonly schema: Record<string, unknown>; readonly strict: true };
      };
}

/** Which settings field a problem belongs to. */
export type SettingsField = "temperature" | "topP" | "topK" | "maxTokens" | "repetitionPenalty" | "toolsJson" | "jsonSchema";

export type SettingsProblems = Partial<Record<SettingsField, string>>;

interface NumberRule {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  /** `min` itself is not allowed. */
  readonly exclusiveMin?: boolean;
}

const NUMBER_RULES = {
  temperature: { min: 0, max: 2, integer: false },
  topP: { min: 0, max: 1, integer: false },
  topK: { min: 0, max: 1_000_000, integer: true },
  maxTokens: { min: 1, max: 10_000_000, integer: true },
  repetitionPenalty: { min: 0, max: 10, integer: false, exclusiveMin: true },
} as const satisfies Record<string, NumberRule>;

/** Parse one numeric field: `undefined` when empty, a number, or a problem message. */
export function parseNumberField(text: string, rule: NumberRule): number | undefined | { readonly problem: string } {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return { problem: "Enter a number (or leave empty for the server default)." };
  if (rule.integer && !Number.isInteger(value)) return { problem: "Enter a whole number." };
  const low = rule.exclusiveMin === true ? value <= rule.min : value < rule.min;
  if (low || value > rule.max) {
    return { problem: `Must be ${rule.exclusiveMin === true ? "above" : "at least"} ${rule.min} and at most ${rule.max}.` };
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Parse the tools text: an array of OpenAI tools (`{"type":"function","function":{...}}`), one such tool,
 * or bare function objects (`{"name", "parameters"}`), which are wrapped.
 */
export function parseTools(text: string): readonly ToolJson[] | { readonly problem: string } {
  if (text.trim() === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { problem: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const list: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
  const tools: ToolJson[] = [];
  for (const [i, item] of list.entries()) {
    if (!isRecord(item)) return { problem: `Tool ${i + 1} is not an object.` };
    const fn = isRecord(item["function"]) ? item["function"] : item;
    if (item["type"] !== undefined && item["type"] !== "function") return { problem: `Tool ${i + 1}: only "type": "function" is supported.` };
    const name = fn["name"];
    if (typeof name !== "string" || name === "") return { problem: `Tool ${i + 1} has no "name".` };
    const parameters = fn["parameters"];
    if (parameters !== undefined && !isRecord(parameters)) return { problem: `Tool "${name}": "parameters" must be an object.` };
    const description = fn["description"];
    const strict = fn["strict"];
    tools.push({
      type: "function",
      function: {
        name,
        ...(typeof description === "string" ? { description } : {}),
        ...(parameters !== undefined ? { parameters } : {}),
        ...(typeof strict === "boolean" ? { strict } : {}),
      },
    });
  }
  const names = tools.map((t) => t.function.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) return { problem: `Two tools are named "${duplicate}".` };
  return tools;
}

/** Parse the JSON-mode schema text: `null` when empty (plain JSON mode), an object schema, or a problem. */
export function parseSchema(text: string): Record<string, unknown> | null | { readonly problem: string } {
  if (text.trim() === "") return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { problem: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (!isRecord(parsed)) return { problem: "The schema must be a JSON object." };
  return parsed;
}

function isProblem(value: unknown): value is { readonly problem: string } {
  return isRecord(value) && typeof value["problem"] === "string";
}

/**
 * What the settings panel notes when MCP tools are on: the function tools and JSON mode that are set but
 * not sent (the server cannot combine them with MCP tools).
 */
export function mcpConflicts(settings: Settings, mcpOn: boolean): { readonly functionTools: boolean; readonly jsonMode: boolean } {
  return { functionTools: mcpOn && settings.toolsEnabled && settings.toolsJson.trim() !== "", jsonMode: mcpOn && settings.jsonMode };
}

/** Every problem in the settings, by field (empty = the settings can be sent). */
export function settingsProblems(settings: Settings): SettingsProblems {
  const problems: Partial<Record<SettingsField, string>> = {};
  for (const field of Object.keys(NUMBER_RULES) as (keyof typeof NUMBER_RULES)[]) {
    const parsed = parseNumberField(settings[field], NUMBER_RULES[field]);
    if (isProblem(parsed)) problems[field] = parsed.problem;
  }
  if (settings.toolsEnabled) {
    const tools = parseTools(settings.toolsJson);
    if (isProblem(tools)) problems.toolsJson = tools.problem;
  }
  if (settings.jsonMode) {
    const schema = parseSchema(settings.jsonSchema);
    if (isProblem(schema)) problems.jsonSchema = schema.problem;
  }
  return problems;
}

/** The conversation's messages in wire form, the system prompt first when set. */
export function toWireMessages(systemPrompt: string, messages: readonly UiMessage[]): WireMessage[] {
  const wire: WireMessage[] = [];
  if (systemPrompt.trim() !== "") wire.push({ role: "system", content: systemPrompt });
  for (const m of messages) {
    switch (m.role) {
      case "user":
        wire.push({ role: "user", content: m.content });
        break;
      case "assistant":
        // A reply that failed before producing anything is not part of the conversation.
        if (m.content === "" && (m.toolCalls === undefined || m.toolCalls.length === 0)) break;
        if (m.toolCalls !== undefined && m.toolCalls.length > 0) {
          wire.push({ role: "assistant", content: m.content === "" ? null : m.content, tool_calls: m.toolCalls });
        } else {
          wire.push({ role: "assistant", content: m.content });
        }
        break;
      case "tool":
        wire.push({ role: "tool", tool_call_id: m.toolCallId, content: m.content });
        break;
      default:
        m satisfies never;
    }
  }
  return wire;
}

/**
 * The streaming request body for `conversation` under `settings`. Throws if the settings have problems
 * (check {@link settingsProblems} first).
 */
export function buildChatRequest(
  conversation: Pick<Conversation, "systemPrompt" | "messages">,
  settings: Settings,
  mcpTools: readonly McpToolJson[] = [],
): ChatRequestBody {
  const problems = settingsProblems(settings);
  const first = Object.values(problems)[0];
  if (first !== undefined) throw new Error(first);
  const numbers: Partial<Record<keyof typeof NUMBER_RULES, number>> = {};
  for (const field of Object.keys(NUMBER_RULES) as (keyof typeof NUMBER_RULES)[]) {
    const parsed = parseNumberField(settings[field], NUMBER_RULES[field]);
    if (typeof parsed === "number") numbers[field] = parsed;
  }
  const mcp = mcpTools.length > 0;
  const tools = mcp ? mcpTools : settings.toolsEnabled ? parseTools(settings.toolsJson) : [];
  const jsonMode = settings.jsonMode && !mcp;
  const schema = jsonMode ? parseSchema(settings.jsonSchema) : null;
  return {
    ...(settings.model !== "" ? { model: settings.model } : {}),
    messages: toWireMessages(conversation.systemPrompt, conversation.messages),
    stream: true,
    stream_options: { include_usage: true },
    ...(numbers.temperature !== undefined ? { temperature: numbers.temperature } : {}),
    ...(numbers.topP !== undefined ? { top_p: numbers.topP } : {}),
    ...(numbers.topK !== undefined ? { top_k: numbers.topK } : {}),
    ...(numbers.maxTokens !== undefined ? { max_tokens: numbers.maxTokens } : {}),
    ...(numbers.repetitionPenalty !== undefined ? { repetition_penalty: numbers.repetitionPenalty } : {}),
    ...(Array.isArray(tools) && tools.length > 0 ? { tools } : {}),
    ...(jsonMode
      ? {
          response_format:
            schema !== null && !isProblem(schema)
              ? ({ type: "json_schema", json_schema: { name: "response", schema, strict: true } } as const)
              : ({ type: "json_object" } as const),
        }
      : {}),
  };
}
