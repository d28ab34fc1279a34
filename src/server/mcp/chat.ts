/**
 * A chat-API MCP run (the server runs the agent loop) as a `chat.completion` or its chunks, with
 * Talaria's documented extension fields (docs/mcp.md):
 * - `message.content` / `delta.content`: the model's text over every turn, in order;
 * - `message.mcp_calls[]` / `delta.mcp_call`: each call `{id, server_label, name, arguments, status,
 *   output, error}` — streamed once `in_progress` (before it runs) and once `completed` or `failed`;
 * - `delta.mcp_approval_request` `{id, call_id, server_label, name, arguments}`: the run waits for
 *   `POST /v1/mcp/approvals/{id}`;
 * - `finish_reason`: `stop` (answered), `length` (cut by max_tokens, or the tool-round limit reached).
 * No `tool_calls` appear: the server ran them, so OpenAI clients see a plain answer.
 */
import type { AgentEvent } from "../../agent/index.js";
import type { McpToolset } from "../../mcp/index.js";
import type { OpenAIStreamEncoder } from "../sse.js";
import { encodeSseData } from "../sse.js";
import { chatCompletionHead, toOpenAIUsage, type ChatCompletionMeta } from "../openai/responses.js";
import type { Usage } from "../../engine/types.js";

export interface McpCallObject {
  readonly id: string;
  readonly server_label: string | null;
  readonly name: string;
  readonly arguments: string;
  readonly status: "in_progress" | "awaiting_approval" | "completed" | "failed";
  readonly output: string | null;
  readonly error: string | null;
}

/** The id, creation time and model of a run's `chat.completion`. */
export type AgentChatMeta = ChatCompletionMeta;

/** `max-depth` and `length` both mean the answer was cut. */
function finishReason(reason: Extract<AgentEvent, { type: "finish" }>["reason"]): "stop" | "length" {
  return reason === "length" || reason === "max-depth" ? "length" : "stop";
}

/** Tracks calls by id; maps exposed tool names to their servers. */
class CallBook {
  readonly calls = new Map<string, McpCallObject>();
  constructor(readonly toolset: McpToolset) {}

  start(event: Extract<AgentEvent, { type: "tool-call" }>): McpCallObject {
    const tool = this.toolset.tool(event.name);
    const call: McpCallObject = { id: event.id, server_label: tool?.server ?? null, name: tool?.remoteName ?? event.name, arguments: event.argumentsText, status: "in_progress", output: null, error: null };
    this.calls.set(event.id, call);
    return call;
  }

  update(id: string | undefined, change: Partial<McpCallObject>): McpCallObject | undefined {
    if (id === undefined) return undefined;
    const call = this.calls.get(id);
    if (call === undefined) return undefined;
    const next = { ...call, ...change };
    this.calls.set(id, next);
    return next;
  }
}

/** Streams a run as chunks. `approvalId` gives the live approval id of a call (set by the route before the event is encoded). */
export class AgentChatChunkEncoder implements OpenAIStreamEncoder<AgentEvent> {
  readonly #meta: AgentChatMeta;
  readonly #includeUsage: boolean;
  readonly #book: CallBook;
  readonly #approvalId: (callId: string, name: string) => string | undefined;
  #started = false;
  #usage: Usage | undefined;

  constructor(meta: AgentChatMeta, toolset: McpToolset, options: { readonly includeUsage: boolean; readonly approvalId: (callId: string, name: string) => string | undefined }) {
    this.#meta = meta;
    this.#book = new CallBook(toolset);
    this.#includeUsage = options.includeUsage;
    this.#approvalId = options.approvalId;
  }

  #chunk(delta: Record<string, unknown>, finish: string | null = null): string {
    return encodeSseData({ ...chatCompletionHead(this.#meta, "chat.completion.chunk"), choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  }

  encode(_choice: number, event: AgentEvent): string {
    let out = "";
    if (!this.#started) {
      this.#started = true;
      out += this.#chunk({ role: "assistant", content: "" });
    }
    switch (event.type) {
      case "text-delta":
        return out + (event.text === "" ? "" : this.#chunk({ content: event.text }));
      case "tool-call":
        return out + this.#chunk({ mcp_call: this.#book.start(event) });
      case "tool-approval-request": {
        const id = this.#approvalId(event.id, event.name);
        const call = id === undefined ? undefined : this.#book.update(event.id, { status: "awaiting_approval" });
        if (call === undefined || id === undefined) return out;
        return out + this.#chunk({ mcp_approval_request: { id, call_id: call.id, server_label: call.server_label, name: call.name, arguments: call.arguments } });
      }
      case "tool-result": {
        const call = this.#book.update(event.id, { status: "completed", output: event.content });
        return out + (call === undefined ? "" : this.#chunk({ mcp_call: call }));
      }
      case "tool-error": {
        const call = this.#book.update(event.id, { status: "failed", error: event.message });
        return out + (call === undefined ? "" : this.#chunk({ mcp_call: call }));
      }
      case "finish":
        this.#usage = event.usage;
        return out + this.#chunk({}, finishReason(event.reason));
      case "step-start":
      case "step-finish":
      case "warning":
      case "final-answer":
        return out;
      default:
        return event satisfies never;
    }
  }

  end(): string {
    if (!this.#includeUsage || this.#usage === undefined) return "";
    return encodeSseData({ ...chatCompletionHead(this.#meta, "chat.completion.chunk"), choices: [], usage: toOpenAIUsage(this.#usage) });
  }
}

/** The whole run as one `chat.completion`. */
export async function collectAgentChat(meta: AgentChatMeta, toolset: McpToolset, events: AsyncIterable<AgentEvent>): Promise<Record<string, unknown>> {
  const book = new CallBook(toolset);
  let content = "";
  for await (const event of events) {
    switch (event.type) {
      case "text-delta":
        content += event.text;
        break;
      case "tool-call":
        book.start(event);
        break;
      case "tool-result":
        book.update(event.id, { status: "completed", output: event.content });
        break;
      case "tool-error":
        book.update(event.id, { status: "failed", error: event.message });
        break;
      case "finish":
        return {
          ...chatCompletionHead(meta, "chat.completion"),
          choices: [{ index: 0, message: { role: "assistant", content, refusal: null, mcp_calls: [...book.calls.values()] }, logprobs: null, finish_reason: finishReason(event.reason) }],
          usage: toOpenAIUsage(event.usage),
        };
      case "step-start":
      case "step-finish":
      case "warning":
      case "final-answer":
      case "tool-approval-request":
        break;
      default:
        event satisfies never;
    }
  }
  throw new Error("the agent ended without a finish event");
}
