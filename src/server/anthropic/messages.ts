/**
 * Anthropic Messages API responses: the `message` object, its SSE stream (`message_start`, `ping`,
 * `content_block_start` / `_delta` (`text_delta`, `input_json_delta`) / `_stop`, `message_delta`,
 * `message_stop`, `error`, each as `event: <type>` + `data: <json>`), and errors in Anthropic's shape
 * (`{"type": "error", "error": {"type", "message"}}`).
 */
import type { ChatEvent, ChatFinishReason, ChatToolCallError } from "../../chat/types.js";
import type { FinishReason, Usage } from "../../engine/types.js";
import type { ApiError } from "../errors.js";
import type { OpenAIStreamEncoder } from "../sse.js";

export type AnthropicStopReason = "end_turn" | "tool_use" | "max_tokens" | "stop_sequence";

export type AnthropicBlock =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "tool_use"; readonly id: string; readonly name: string; readonly input: unknown };

export interface AnthropicMessage {
  readonly id: string;
  readonly type: "message";
  readonly role: "assistant";
  readonly model: string;
  readonly content: readonly AnthropicBlock[];
  readonly stop_reason: AnthropicStopReason | null;
  readonly stop_sequence: string | null;
  readonly usage: { readonly input_tokens: number; readonly output_tokens: number; readonly cache_read_input_tokens?: number; readonly cache_creation_input_tokens?: number };
  /** Talaria extension: `<tool_call>` blocks that produced no call (their raw text is in a text block). */
  readonly tool_call_errors?: readonly { readonly kind: string; readonly message: string; readonly raw: string; readonly name?: string }[];
}

/** Anthropic's error types by HTTP status. */
export function anthropicErrorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 413) return "request_too_large";
  if (status === 429) return "rate_limit_error";
  if (status === 503 || status === 529) return "overloaded_error";
  if (status >= 500) return "api_error";
  return "invalid_request_error";
}

/** An {@link ApiError} as Anthropic's error body. */
export function anthropicErrorBody(error: ApiError): { readonly type: "error"; readonly error: { readonly type: string; readonly message: string } } {
  return { type: "error", error: { type: anthropicErrorType(error.status), message: error.message } };
}

const sse = (type: string, payload: unknown): string => `event: ${type}\ndata: ${JSON.stringify(payload)}\n\n`;

/** The SSE `error` event of a failure after the stream began. */
export function encodeAnthropicStreamError(error: ApiError): string {
  return sse("error", anthropicErrorBody(error));
}

export function stopReasonOf(reason: ChatFinishReason, engineReason: FinishReason): AnthropicStopReason {
  if (reason === "tool_calls") return "tool_use";
  if (reason === "length") return "max_tokens";
  if (engineReason === "stop-string") return "stop_sequence";
  return "end_turn";
}

function usageOf(usage: Usage, inputTokens?: number): AnthropicMessage["usage"] {
  return {
    input_tokens: (inputTokens ?? usage.promptTokens) - usage.cachedPromptTokens,
    output_tokens: usage.completionTokens,
    cache_read_input_tokens: usage.cachedPromptTokens,
    cache_creation_input_tokens: 0,
  };
}

function parseInput(args: string): unknown {
  try {
    return JSON.parse(args);
  } catch {
    return {};
  }
}

/** A whole message from the chat events (content blocks in the order the model wrote them). */
export async function collectMessage(meta: { readonly id: string; readonly model: string }, events: AsyncIterable<ChatEvent>): Promise<AnthropicMessage> {
  const content: AnthropicBlock[] = [];
  const errors: ChatToolCallError[] = [];
  let text = "";
  const flush = (): void => {
    if (text.trim() !== "") content.push({ type: "text", text: content.length === 0 ? text.replace(/\s+$/, "") : text.trim() });
    text = "";
  };
  for await (const event of events) {
    switch (event.type) {
      case "text-delta":
        text += event.text;
        break;
      case "tool-call-end":
        flush();
        content.push({ type: "tool_use", id: event.id, name: event.name, input: parseInput(event.arguments) });
        break;
      case "tool-call-error": {
        const { type: _type, ...error } = event;
        errors.push(error);
        break;
      }
      case "finish": {
        if (content.some((b) => b.type === "tool_use")) text = text.trim();
        if (text !== "") content.push({ type: "text", text });
        return {
          id: meta.id,
          type: "message",
          role: "assistant",
          model: meta.model,
          content,
          stop_reason: stopReasonOf(event.reason, event.engineReason),
          stop_sequence: event.engineReason === "stop-string" ? (event.stopText ?? null) : null,
          usage: usageOf(event.usage),
          ...(errors.length > 0 ? { tool_call_errors: errors.map((e) => ({ kind: e.kind, message: e.message, raw: e.raw, ...(e.name === undefined ? {} : { name: e.name }) })) } : {}),
        };
      }
      case "generation-start":
      case "tool-call-start":
      case "tool-call-delta":
      case "logprobs":
      case "warning":
      case "validation-error":
        break;
      default:
        event satisfies never;
    }
  }
  throw new Error("chat stream ended without a finish event");
}

export interface MessageStreamOptions {
  readonly id: string;
  readonly model: string;
  /** Prompt tokens, for `message_start`'s usage. */
  readonly inputTokens: number;
}

/** The Messages SSE stream of one choice (`n` is always 1 here). */
export class MessageStreamEncoder implements OpenAIStreamEncoder<ChatEvent> {
  /** No `[DONE]`: the stream ends with `message_stop`. */
  readonly terminator = "";
  readonly #options: MessageStreamOptions;
  #index = -1;
  #open: "text" | "tool_use" | undefined;
  /** Whitespace held back at the start of a text block (dropped before a tool call, as the non-stream message drops it). */
  #held = "";

  constructor(options: MessageStreamOptions) {
    this.#options = options;
  }

  encode(_choice: number, event: ChatEvent): string {
    switch (event.type) {
      case "generation-start":
        return (
          sse("message_start", {
            type: "message_start",
            message: { id: this.#options.id, type: "message", role: "assistant", model: this.#options.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: this.#options.inputTokens, output_tokens: 0 } },
          }) + sse("ping", { type: "ping" })
        );
      case "text-delta": {
        let out = "";
        let piece = event.text;
        if (this.#open !== "text") {
          // A block starts only with visible text (whitespace between tool calls makes no block).
          this.#held += piece;
          if (this.#held.trim() === "") return "";
          piece = this.#held.replace(/^\s+/, this.#index < 0 ? "" : "");
          this.#held = "";
          out += this.#start({ type: "text", text: "" }, "text");
        }
        return out + sse("content_block_delta", { type: "content_block_delta", index: this.#index, delta: { type: "text_delta", text: piece } });
      }
      case "tool-call-start":
        this.#held = "";
        return this.#start({ type: "tool_use", id: event.id, name: event.name, input: {} }, "tool_use");
      case "tool-call-delta":
        return sse("content_block_delta", { type: "content_block_delta", index: this.#index, delta: { type: "input_json_delta", partial_json: event.argumentsDelta } });
      case "tool-call-end":
        return this.#stop();
      case "finish":
        return (
          this.#stop() +
          sse("message_delta", {
            type: "message_delta",
            delta: { stop_reason: stopReasonOf(event.reason, event.engineReason), stop_sequence: event.engineReason === "stop-string" ? (event.stopText ?? null) : null },
            usage: { output_tokens: event.usage.completionTokens },
          }) +
          sse("message_stop", { type: "message_stop" })
        );
      case "tool-call-error":
      case "validation-error":
      case "logprobs":
      case "warning":
        return "";
      default:
        return event satisfies never;
    }
  }

  end(): string {
    return "";
  }

  #start(block: unknown, kind: "text" | "tool_use"): string {
    const close = this.#stop();
    this.#index++;
    this.#open = kind;
    return close + sse("content_block_start", { type: "content_block_start", index: this.#index, content_block: block });
  }

  #stop(): string {
    if (this.#open === undefined) return "";
    this.#open = undefined;
    return sse("content_block_stop", { type: "content_block_stop", index: this.#index });
  }
}
