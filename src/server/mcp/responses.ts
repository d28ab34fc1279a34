/**
 * A Responses-API MCP run (the server runs the agent loop) as OpenAI's documented output items and
 * stream events:
 * - an `mcp_list_tools` item per MCP tool entry first (`response.mcp_list_tools.in_progress` /
 *   `.completed`);
 * - `message` items for the model's text;
 * - an `mcp_call` item per call: `response.output_item.added` (in progress), `response.mcp_call_arguments.delta`
 *   and `.done`, `response.mcp_call.in_progress`, then `response.mcp_call.completed` or `.failed` and
 *   `response.output_item.done` with `output` or `error`;
 * - for a call that needs approval, an `mcp_approval_request` item, and the response ends; the client
 *   answers in a new request with an `mcp_approval_response` input item ({@link resolveApprovals}).
 * One encoder serves both forms: the JSON answer is the stream's final `response`.
 */
import { randomId } from "../../chat/ids.js";
import type { AgentEvent } from "../../agent/index.js";
import type { McpToolSelection, McpToolset } from "../../mcp/index.js";
import { ApiError } from "../errors.js";
import type { OpenAIStreamEncoder } from "../sse.js";
import { responseObject, type OutputItem, type ResponseMeta } from "../responses/objects.js";
import type { InputItem } from "../responses/schemas.js";

type McpCallItem = Extract<OutputItem, { type: "mcp_call" }>;

export interface AgentResponseOptions {
  readonly meta: ResponseMeta;
  readonly toolset: McpToolset;
  /** The request's MCP servers and tools, for the `mcp_list_tools` items (one per server). */
  readonly selection: McpToolSelection;
  /** Calls run before the model (approved in this request): their items come first. */
  readonly preface?: readonly McpCallItem[];
  /** Called with the final response (to store it). */
  readonly onComplete?: (response: Record<string, unknown>, output: readonly OutputItem[]) => void;
}

export class AgentResponseEncoder implements OpenAIStreamEncoder<AgentEvent> {
  readonly terminator = "";
  readonly #o: AgentResponseOptions;
  readonly items: OutputItem[] = [];
  #seq = 0;
  #started = false;
  #text = "";
  #messageId: string | undefined;
  #messageIndex = -1;
  #held = "";
  readonly #calls = new Map<string, { index: number; item: McpCallItem }>();
  /** The final response object, once the run finished. */
  response: Record<string, unknown> | undefined;

  constructor(options: AgentResponseOptions) {
    this.#o = options;
  }

  #event(type: string, payload: Record<string, unknown>): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.#seq++, ...payload })}\n\n`;
  }

  #start(): string {
    this.#started = true;
    const response = responseObject(this.#o.meta, { status: "in_progress", output: [] });
    let out = this.#event("response.created", { response }) + this.#event("response.in_progress", { response });
    const offered = this.#o.toolset.summaries(this.#o.selection);
    for (const label of this.#o.selection.keys()) {
      const tools = offered.filter((t) => t.server === label);
      const item: OutputItem = {
        type: "mcp_list_tools",
        id: randomId("mcpl_"),
        server_label: label,
        tools: tools.map((t) => ({ name: t.remoteName, description: t.description ?? null, input_schema: t.inputSchema, annotations: t.annotations ?? null })),
      };
      const index = this.items.length;
      this.items.push(item);
      out +=
        this.#event("response.output_item.added", { output_index: index, item: { ...item, tools: [] } }) +
        this.#event("response.mcp_list_tools.in_progress", { item_id: item.id, output_index: index }) +
        this.#event("response.mcp_list_tools.completed", { item_id: item.id, output_index: index }) +
        this.#event("response.output_item.done", { output_index: index, item });
    }
    for (const item of this.#o.preface ?? []) {
      const index = this.items.length;
      this.items.push(item);
      out += this.#event("response.output_item.added", { output_index: index, item }) + this.#event("response.output_item.done", { output_index: index, item });
    }
    return out;
  }

  encode(_choice: number, event: AgentEvent): string {
    let out = this.#started ? "" : this.#start();
    switch (event.type) {
      case "text-delta": {
        let piece = event.text;
        if (this.#messageId === undefined) {
          this.#held += piece;
          if (this.#held.trim() === "") return out;
          piece = this.#held.replace(/^\s+/, "");
          this.#held = "";
          this.#messageId = randomId("msg_");
          this.#messageIndex = this.items.length;
          this.items.push({ type: "message", id: this.#messageId, status: "in_progress", role: "assistant", content: [] });
          out += this.#event("response.output_item.added", { output_index: this.#messageIndex, item: { type: "message", id: this.#messageId, status: "in_progress", role: "assistant", content: [] } });
          out += this.#event("response.content_part.added", { item_id: this.#messageId, output_index: this.#messageIndex, content_index: 0, part: { type: "output_text", text: "", annotations: [], logprobs: [] } });
        }
        this.#text += piece;
        return out + this.#event("response.output_text.delta", { item_id: this.#messageId, output_index: this.#messageIndex, content_index: 0, delta: piece, logprobs: [] });
      }
      case "tool-call": {
        out += this.#closeMessage(true);
        const tool = this.#o.toolset.tool(event.name);
        const item: McpCallItem = {
          type: "mcp_call",
          id: event.id,
          server_label: tool?.server ?? "",
          name: tool?.remoteName ?? event.name,
          arguments: event.argumentsText,
          output: null,
          error: null,
          approval_request_id: null,
          status: "in_progress",
        };
        const index = this.items.length;
        this.items.push(item);
        this.#calls.set(event.id, { index, item });
        return (
          out +
          this.#event("response.output_item.added", { output_index: index, item }) +
          this.#event("response.mcp_call_arguments.delta", { item_id: item.id, output_index: index, delta: item.arguments }) +
          this.#event("response.mcp_call_arguments.done", { item_id: item.id, output_index: index, arguments: item.arguments }) +
          this.#event("response.mcp_call.in_progress", { item_id: item.id, output_index: index })
        );
      }
      case "tool-result":
        return out + this.#settle(event.id, { status: "completed", output: event.content });
      case "tool-error":
        return out + (event.id === undefined ? "" : this.#settle(event.id, { status: "failed", error: event.message }));
      case "finish": {
        out += this.#closeMessage(this.items.some((i) => i.type === "mcp_call"));
        for (const pending of event.pending ?? []) {
          // The call waits for approval: its item becomes an approval request (answered in the next request).
          const at = this.#calls.get(pending.id);
          if (at !== undefined) this.items.splice(this.items.indexOf(at.item), 1);
          const tool = this.#o.toolset.tool(pending.name);
          const item: OutputItem = { type: "mcp_approval_request", id: pending.id, server_label: tool?.server ?? "", name: tool?.remoteName ?? pending.name, arguments: pending.argumentsText };
          const index = this.items.length;
          this.items.push(item);
          out += this.#event("response.output_item.added", { output_index: index, item }) + this.#event("response.output_item.done", { output_index: index, item });
        }
        const incomplete = event.reason === "length" || event.reason === "max-depth";
        const response = responseObject(this.#o.meta, {
          status: incomplete ? "incomplete" : "completed",
          output: this.items,
          usage: event.usage,
          ...(incomplete ? { incompleteReason: "max_output_tokens" as const } : {}),
        });
        this.response = response;
        this.#o.onComplete?.(response, this.items);
        return out + this.#event(incomplete ? "response.incomplete" : "response.completed", { response });
      }
      case "step-start":
      case "step-finish":
      case "warning":
      case "final-answer":
      case "tool-approval-request":
        return out;
      default:
        return event satisfies never;
    }
  }

  #settle(id: string, change: Partial<McpCallItem>): string {
    const at = this.#calls.get(id);
    if (at === undefined) return "";
    const item = { ...at.item, ...change };
    this.items[at.index] = item;
    at.item = item;
    const done = item.status === "completed" ? "response.mcp_call.completed" : "response.mcp_call.failed";
    return this.#event(done, { item_id: id, output_index: at.index }) + this.#event("response.output_item.done", { output_index: at.index, item });
  }

  #closeMessage(trim: boolean): string {
    this.#held = "";
    if (this.#messageId === undefined) return "";
    const id = this.#messageId;
    const index = this.#messageIndex;
    const text = trim ? this.#text.trim() : this.#text;
    this.#text = "";
    this.#messageId = undefined;
    const item: OutputItem = { type: "message", id, status: "completed", role: "assistant", content: [{ type: "output_text", text, annotations: [], logprobs: [] }] };
    this.items[index] = item;
    const part = item.content[0];
    return (
      this.#event("response.output_text.done", { item_id: id, output_index: index, content_index: 0, text, logprobs: [] }) +
      this.#event("response.content_part.done", { item_id: id, output_index: index, content_index: 0, part }) +
      this.#event("response.output_item.done", { output_index: index, item })
    );
  }

  end(): string {
    return "";
  }

  errorEvent(error: ApiError): string {
    return this.#event("error", { code: error.code, message: error.message, param: error.param });
  }
}

/**
 * Answer the `mcp_approval_response` items of a request: each must name an `mcp_approval_request` of the
 * conversation (else 400); approved calls run now (within `signal`), denied ones are answered with an
 * error the model reads. Returns the conversation with each response replaced by the resulting `mcp_call`
 * item, and those items (they open the new response's output).
 */
export async function resolveApprovals(
  items: readonly InputItem[],
  toolset: McpToolset | undefined,
  allowed: (exposedName: string) => boolean,
  signal: AbortSignal,
): Promise<{ readonly items: InputItem[]; readonly executed: McpCallItem[] }> {
  const requests = new Map<string, Extract<InputItem, { type: "mcp_approval_request" }>>();
  for (const item of items) if (item.type === "mcp_approval_request") requests.set(item.id, item);
  const out: InputItem[] = [];
  const executed: McpCallItem[] = [];
  for (const [i, item] of items.entries()) {
    if (item.type !== "mcp_approval_response") {
      out.push(item);
      continue;
    }
    const param = `input[${i}].approval_request_id`;
    const request = requests.get(item.approval_request_id);
    if (request === undefined) {
      throw new ApiError(400, "invalid_request_error", `No mcp_approval_request with id '${item.approval_request_id}' in this conversation.`, { param, code: "invalid_value" });
    }
    const exposed = toolset?.summaries().find((t) => t.server === request.server_label && t.remoteName === request.name);
    if (toolset === undefined || exposed === undefined || !allowed(exposed.name)) {
      throw new ApiError(400, "invalid_request_error", `The approved call '${request.name}' is not a tool of this request's MCP servers (tools of type "mcp").`, { param, code: "unknown_mcp_tool" });
    }
    let output: string | null = null;
    let error: string | null = null;
    if (item.approve) {
      let args: Record<string, unknown> = {};
      try {
        const parsed: unknown = JSON.parse(request.arguments);
        if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) args = parsed as Record<string, unknown>;
      } catch {
        error = "the arguments are not a JSON object";
      }
      if (error === null) {
        try {
          output = await toolset.call(exposed.name, args, signal);
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
      }
    } else {
      error = `the call of ${request.name} was not approved by the user${item.reason == null ? "" : `: ${item.reason}`}`;
    }
    const call: McpCallItem = {
      type: "mcp_call",
      id: randomId("mcp_"),
      server_label: request.server_label,
      name: request.name,
      arguments: request.arguments,
      output,
      error,
      approval_request_id: request.id,
      status: error === null ? "completed" : "failed",
    };
    executed.push(call);
    out.push({ ...call });
  }
  return { items: out, executed };
}
