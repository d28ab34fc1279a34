/**
 * Responses API objects from the chat service's events: the `response` object, its output items
 * (`message` with `output_text`, `function_call`), and the SSE stream in OpenAI's documented order:
 * `response.created`, `response.in_progress`, then per item `response.output_item.added`,
 * (`response.content_part.added`, `response.output_text.delta`…, `response.output_text.done`,
 * `response.content_part.done` | `response.function_call_arguments.delta`…, `.done`),
 * `response.output_item.done`, and last `response.completed` (or `response.incomplete` when cut by
 * `max_output_tokens`); a failure is an `error` event. Every event carries `sequence_number`.
 */
import { randomId } from "../../chat/ids.js";
import type { ChatEvent, ChatToolCallError } from "../../chat/types.js";
import type { Usage } from "../../engine/types.js";
import type { ApiError } from "../errors.js";
import type { OpenAIStreamEncoder } from "../sse.js";
import type { InputItem } from "./schemas.js";

export type OutputItem =
  | {
      readonly type: "message";
      readonly id: string;
      readonly status: "completed" | "incomplete" | "in_progress";
      readonly role: "assistant";
      readonly content: readonly { readonly type: "output_text"; readonly text: string; readonly annotations: readonly never[]; readonly logprobs: readonly never[] }[];
    }
  | { readonly type: "function_call"; readonly id: string; readonly call_id: string; readonly name: string; readonly arguments: string; readonly status: "completed" | "in_progress" }
  | { readonly type: "mcp_list_tools"; readonly id: string; readonly server_label: string; readonly tools: readonly Readonly<Record<string, unknown>>[] }
  | {
      readonly type: "mcp_call";
      readonly id: string;
      readonly server_label: string;
      readonly name: string;
      readonly arguments: string;
      readonly output: string | null;
      readonly error: string | null;
      readonly approval_request_id: string | null;
      readonly status: "in_progress" | "completed" | "failed";
    }
  | { readonly type: "mcp_approval_request"; readonly id: string; readonly server_label: string; readonly name: string; readonly arguments: string };

/** The request fields a response echoes, and its identity. */
export interface ResponseMeta {
  readonly id: string;
  readonly createdAt: number;
  readonly model: string;
  readonly echo: Readonly<Record<string, unknown>>;
}

export interface ResponseState {
  readonly status: "in_progress" | "completed" | "incomplete";
  readonly output: readonly OutputItem[];
  readonly usage?: Usage;
  readonly incompleteReason?: "max_output_tokens";
  readonly toolCallErrors?: readonly ChatToolCallError[];
}

/** The `response` object. */
export function responseObject(meta: ResponseMeta, state: ResponseState): Record<string, unknown> {
  const u = state.usage;
  return {
    id: meta.id,
    object: "response",
    created_at: meta.createdAt,
    status: state.status,
    error: null,
    incomplete_details: state.incompleteReason === undefined ? null : { reason: state.incompleteReason },
    model: meta.model,
    output: state.output,
    usage:
      u === undefined
        ? null
        : {
            input_tokens: u.promptTokens,
            input_tokens_details: { cached_tokens: u.cachedPromptTokens },
            output_tokens: u.completionTokens,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: u.promptTokens + u.completionTokens,
          },
    reasoning: { effort: null, summary: null },
    ...meta.echo,
    ...(state.toolCallErrors !== undefined && state.toolCallErrors.length > 0
      ? { tool_call_errors: state.toolCallErrors.map((e) => ({ kind: e.kind, message: e.message, raw: e.raw, ...(e.name === undefined ? {} : { name: e.name }) })) }
      : {}),
  };
}

/** Output items as input items (for the stored conversation). */
export function outputAsInput(output: readonly OutputItem[]): InputItem[] {
  return output.map((item): InputItem => {
    switch (item.type) {
      case "message":
        return { type: "message", role: "assistant", content: item.content.map((c) => c.text).join("") };
      case "function_call":
        return { type: "function_call", call_id: item.call_id, name: item.name, arguments: item.arguments };
      case "mcp_list_tools":
        return { ...item, tools: [...item.tools] };
      case "mcp_call":
      case "mcp_approval_request":
        return { ...item };
      default:
        return item satisfies never;
    }
  });
}

/** Accumulates events into output items (shared by the JSON answer and the stream). */
class OutputBuilder {
  readonly items: OutputItem[] = [];
  readonly errors: ChatToolCallError[] = [];
  text = "";
  messageId: string | undefined;
  calls = new Map<number, { id: string; callId: string; name: string; args: string }>();

  /** The state at the end: `incomplete` when the token limit cut the answer. */
  finalState(finish: Extract<ChatEvent, { type: "finish" }>): ResponseState {
    const incomplete = finish.reason === "length";
    return {
      status: incomplete ? "incomplete" : "completed",
      output: this.items,
      usage: finish.usage,
      ...(incomplete ? { incompleteReason: "max_output_tokens" as const } : {}),
      toolCallErrors: this.errors,
    };
  }

  /** Close the text so far into a message item (trimmed when tool calls follow). */
  closeText(trim: boolean): OutputItem | undefined {
    const text = trim ? this.text.trim() : this.text;
    this.text = "";
    const id = this.messageId;
    this.messageId = undefined;
    if (text === "" && id === undefined) return undefined;
    if (text.trim() === "" && trim) return undefined;
    const item: OutputItem = { type: "message", id: id ?? randomId("msg_"), status: "completed", role: "assistant", content: [{ type: "output_text", text, annotations: [], logprobs: [] }] };
    this.items.push(item);
    return item;
  }
}

/** The whole response from the chat events. */
export async function collectResponse(meta: ResponseMeta, events: AsyncIterable<ChatEvent>): Promise<{ readonly response: Record<string, unknown>; readonly output: readonly OutputItem[] }> {
  const b = new OutputBuilder();
  for await (const event of events) {
    switch (event.type) {
      case "text-delta":
        b.text += event.text;
        break;
      case "tool-call-start":
        b.closeText(true);
        break;
      case "tool-call-end":
        b.items.push({ type: "function_call", id: randomId("fc_"), call_id: event.id, name: event.name, arguments: event.arguments, status: "completed" });
        break;
      case "tool-call-error": {
        const { type: _type, ...error } = event;
        b.errors.push(error);
        break;
      }
      case "finish": {
        b.closeText(b.items.length > 0);
        return { response: responseObject(meta, b.finalState(event)), output: b.items };
      }
      case "generation-start":
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

export interface ResponseStreamOptions {
  readonly meta: ResponseMeta;
  /** Called with the final response (to store it). */
  readonly onComplete?: (response: Record<string, unknown>, output: readonly OutputItem[]) => void;
}

/** The Responses SSE stream of one generation. */
export class ResponseStreamEncoder implements OpenAIStreamEncoder<ChatEvent> {
  /** No `[DONE]`: the stream ends with `response.completed` / `response.incomplete`. */
  readonly terminator = "";
  readonly #options: ResponseStreamOptions;
  readonly #b = new OutputBuilder();
  #seq = 0;
  /** Whitespace held back before a message item opens (none opens for whitespace before a call). */
  #held = "";
  #messageIndex = -1;

  constructor(options: ResponseStreamOptions) {
    this.#options = options;
  }

  #event(type: string, payload: Record<string, unknown>): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.#seq++, ...payload })}\n\n`;
  }

  encode(_choice: number, event: ChatEvent): string {
    const meta = this.#options.meta;
    const b = this.#b;
    switch (event.type) {
      case "generation-start": {
        const response = responseObject(meta, { status: "in_progress", output: [] });
        return this.#event("response.created", { response }) + this.#event("response.in_progress", { response });
      }
      case "text-delta": {
        let out = "";
        let piece = event.text;
        if (b.messageId === undefined) {
          this.#held += piece;
          if (this.#held.trim() === "") return "";
          piece = this.#held.replace(/^\s+/, "");
          this.#held = "";
          b.messageId = randomId("msg_");
          this.#messageIndex = b.items.length;
          out += this.#event("response.output_item.added", { output_index: this.#messageIndex, item: { type: "message", id: b.messageId, status: "in_progress", role: "assistant", content: [] } });
          out += this.#event("response.content_part.added", { item_id: b.messageId, output_index: this.#messageIndex, content_index: 0, part: { type: "output_text", text: "", annotations: [], logprobs: [] } });
        }
        b.text += piece;
        return out + this.#event("response.output_text.delta", { item_id: b.messageId, output_index: this.#messageIndex, content_index: 0, delta: piece, logprobs: [] });
      }
      case "tool-call-start": {
        const out = this.#closeMessage(true);
        const id = randomId("fc_");
        b.calls.set(event.index, { id, callId: event.id, name: event.name, args: "" });
        return out + this.#event("response.output_item.added", { output_index: b.items.length, item: { type: "function_call", id, call_id: event.id, name: event.name, arguments: "", status: "in_progress" } });
      }
      case "tool-call-delta": {
        const call = b.calls.get(event.index);
        if (call === undefined) return "";
        call.args += event.argumentsDelta;
        return this.#event("response.function_call_arguments.delta", { item_id: call.id, output_index: b.items.length, delta: event.argumentsDelta });
      }
      case "tool-call-end": {
        const call = b.calls.get(event.index);
        if (call === undefined) return "";
        const item: OutputItem = { type: "function_call", id: call.id, call_id: call.callId, name: call.name, arguments: event.arguments, status: "completed" };
        const index = b.items.length;
        b.items.push(item);
        return this.#event("response.function_call_arguments.done", { item_id: call.id, output_index: index, name: call.name, arguments: event.arguments }) + this.#event("response.output_item.done", { output_index: index, item });
      }
      case "tool-call-error": {
        const { type: _type, ...error } = event;
        b.errors.push(error);
        return "";
      }
      case "finish": {
        const out = this.#closeMessage(b.items.length > 0);
        const state = b.finalState(event);
        const incomplete = state.status === "incomplete";
        const response = responseObject(meta, state);
        this.#options.onComplete?.(response, b.items);
        return out + this.#event(incomplete ? "response.incomplete" : "response.completed", { response });
      }
      case "logprobs":
      case "warning":
      case "validation-error":
        return "";
      default:
        return event satisfies never;
    }
  }

  end(): string {
    return "";
  }

  /** The `error` event of a failure after the stream began. */
  errorEvent(error: ApiError): string {
    return this.#event("error", { code: error.code, message: error.message, param: error.param });
  }

  #closeMessage(trim: boolean): string {
    const b = this.#b;
    this.#held = "";
    if (b.messageId === undefined) return "";
    const id = b.messageId;
    const index = this.#messageIndex;
    const text = trim ? b.text.trim() : b.text;
    b.text = text;
    const item = b.closeText(false) as Extract<OutputItem, { type: "message" }>;
    const part = item.content[0];
    return (
      this.#event("response.output_text.done", { item_id: id, output_index: index, content_index: 0, text, logprobs: [] }) +
      this.#event("response.content_part.done", { item_id: id, output_index: index, content_index: 0, part }) +
      this.#event("response.output_item.done", { output_index: index, item })
    );
  }
}
