/**
 * The UI's data: conversations kept in the browser and the settings panel's values. Pure types and
 * constructors, DOM-free.
 */
import type { WireToolCall } from "./chunks.js";
import type { McpCall } from "./mcp.js";

/** Stats and outcome of one assistant reply (UI only; never sent to the server). */
export interface ReplyMeta {
  readonly ttftMs?: number | null;
  readonly tokensPerSecond?: number | null;
  readonly totalMs?: number;
  readonly promptTokens?: number;
  readonly completionTokens?: number;
  readonly finishReason?: string | null;
  /** The user pressed Stop. */
  readonly stopped?: boolean;
  /** The request failed (the banner says why); partial content stays. */
  readonly error?: string;
  /** JSON-mode check of the content. */
  readonly json?: JsonCheck;
  readonly model?: string;
}

export type JsonCheck =
  | { readonly kind: "json-valid"; readonly schemaChecked: boolean }
  | { readonly kind: "json-invalid"; readonly errors: readonly string[] };

export type UiMessage =
  | { readonly id: string; readonly role: "user"; readonly content: string }
  | {
      readonly id: string;
      readonly role: "assistant";
      readonly content: string;
      readonly toolCalls?: readonly WireToolCall[];
      /** MCP calls the server ran during this reply (shown as cards; never sent back to the server). */
      readonly mcpCalls?: readonly McpCall[];
      readonly meta?: ReplyMeta;
    }
  | { readonly id: string; readonly role: "tool"; readonly toolCallId: string; readonly content: string };

export interface Conversation {
  readonly id: string;
  readonly title: string;
  /** True once the user renamed it (the title no longer follows the first message). */
  readonly titleEdited: boolean;
  readonly systemPrompt: string;
  readonly messages: readonly UiMessage[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * The settings panel. Sampling fields are text as typed: empty means "server default" (left out of the
 * request). See `request.ts` for parsing and ranges.
 */
export interface Settings {
  readonly apiKey: string;
  readonly model: string;
  readonly temperature: string;
  readonly topP: string;
  readonly topK: string;
  readonly maxTokens: string;
  readonly repetitionPenalty: string;
  readonly toolsEnabled: boolean;
  /** OpenAI `tools` JSON (an array, or one tool object). */
  readonly toolsJson: string;
  readonly jsonMode: boolean;
  /** JSON Schema for `response_format: json_schema`; empty = `json_object`. */
  readonly jsonSchema: string;
}

export const DEFAULT_SETTINGS: Settings = {
  apiKey: "",
  model: "",
  temperature: "",
  topP: "",
  topK: "",
  maxTokens: "",
  repetitionPenalty: "",
  toolsEnabled: false,
  toolsJson: "",
  jsonMode: false,
  jsonSchema: "",
};

let counter = 0;

/** A unique id (random where `crypto.randomUUID` exists, e.g. on secure origins and localhost). */
export function newId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID !== undefined) return c.randomUUID();
  counter += 1;
  return `${Date.now().toString(36)}-${counter.toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

export function newConversation(now: number, systemPrompt = ""): Conversation {
  return { id: newId(), title: "New chat", titleEdited: false, systemPrompt, messages: [], createdAt: now, updatedAt: now };
}

/** Title from the first user message: its first line, at most 48 characters. */
export function titleFrom(messages: readonly UiMessage[]): string | null {
  const first = messages.find((m) => m.role === "user");
  if (first === undefined) return null;
  const line = first.content.trim().split("\n")[0] ?? "";
  if (line === "") return null;
  return line.length > 48 ? `${line.slice(0, 47)}…` : line;
}

/** The tool calls of `message` that have no `tool` answer after it yet. */
export function unansweredToolCalls(messages: readonly UiMessage[], assistantIndex: number): readonly WireToolCall[] {
  const message = messages[assistantIndex];
  if (message === undefined || message.role !== "assistant" || message.toolCalls === undefined) return [];
  const answered = new Set<string>();
  for (const m of messages.slice(assistantIndex + 1)) if (m.role === "tool") answered.add(m.toolCallId);
  return message.toolCalls.filter((call) => !answered.has(call.id));
}
