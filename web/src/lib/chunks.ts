/**
 * Accumulates OpenAI `chat.completion.chunk` objects into one reply.
 *
 * Pure and DOM-free (unit-tested under Node). The chunk format: a role delta, content deltas, `tool_calls`
 * deltas (each with an `index`; `id`, `type` and `function.name` arrive with the first delta of a call, then
 * `function.arguments` fragments), a `finish_reason`, and with `stream_options.include_usage` a last chunk
 * with empty `choices` and `usage`. A chunk with an `error` member is a server error sent mid-stream.
 * Talaria's MCP extension fields (`delta.mcp_call`, `delta.mcp_approval_request`) are read by `mcp.ts`.
 */

/** A tool call as the wire carries it in an assistant message. */
export interface WireToolCall {
  readonly id: string;
  readonly type: "function";
  readonly function: { readonly name: string; readonly arguments: string };
}

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
}

/** The reply so far. */
export interface StreamState {
  readonly role: string | null;
  readonly content: string;
  /** In `index` order. */
  readonly toolCalls: readonly WireToolCall[];
  readonly finishReason: string | null;
  readonly usage: Usage | null;
  readonly model: string | null;
}

/** An `{"error": {...}}` event inside an otherwise successful stream. */
export class StreamChunkError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
    this.name = "StreamChunkError";
  }
}

export function emptyStreamState(): StreamState {
  return { role: null, content: "", toolCalls: [], finishReason: null, usage: null, model: null };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function readUsage(value: unknown): Usage | null {
  if (!isRecord(value)) return null;
  const promptTokens = num(value["prompt_tokens"]);
  const completionTokens = num(value["completion_tokens"]);
  if (promptTokens === null || completionTokens === null) return null;
  return { promptTokens, completionTokens, totalTokens: num(value["total_tokens"]) ?? promptTokens + completionTokens };
}

/**
 * True when the chunk carries output (content, a tool-call delta, or an MCP call or approval request the
 * server ran for the model): the time-to-first-token mark.
 */
export function chunkHasOutput(chunk: unknown): boolean {
  if (!isRecord(chunk) || !Array.isArray(chunk["choices"])) return false;
  return chunk["choices"].some((choice: unknown) => {
    if (!isRecord(choice) || !isRecord(choice["delta"])) return false;
    const delta = choice["delta"];
    const content = str(delta["content"]);
    return (
      (content !== null && content !== "") ||
      (Array.isArray(delta["tool_calls"]) && delta["tool_calls"].length > 0) ||
      isRecord(delta["mcp_call"]) ||
      isRecord(delta["mcp_approval_request"])
    );
  });
}

/** Index-keyed accumulation of tool-call deltas (mutable while applying one chunk). */
interface DraftCall {
  index: number;
  id: string;
  name: string;
  arguments: string;
}

/**
 * Apply one parsed chunk (the JSON of one `data:` event other than `[DONE]`) to `state`; returns a new state.
 * Only choice 0 is read (the UI never asks for `n > 1`). Throws {@link StreamChunkError} on an error event.
 */
export function applyChunk(state: StreamState, chunk: unknown): StreamState {
  if (!isRecord(chunk)) return state;
  if (isRecord(chunk["error"])) {
    const error = chunk["error"];
    throw new StreamChunkError(str(error["message"]) ?? "The server reported an error while streaming.", str(error["code"]));
  }
  let { role, content, finishReason, usage, model } = state;
  model = str(chunk["model"]) ?? model;
  usage = readUsage(chunk["usage"]) ?? usage;
  let toolCalls = state.toolCalls;
  const choices = Array.isArray(chunk["choices"]) ? chunk["choices"] : [];
  const choice: unknown = choices.find((c: unknown) => isRecord(c) && (c["index"] === undefined || c["index"] === 0));
  if (isRecord(choice)) {
    finishReason = str(choice["finish_reason"]) ?? finishReason;
    const delta = choice["delta"];
    if (isRecord(delta)) {
      role = str(delta["role"]) ?? role;
      content += str(delta["content"]) ?? "";
      if (Array.isArray(delta["tool_calls"]) && delta["tool_calls"].length > 0) {
        toolCalls = applyToolCallDeltas(toolCalls, delta["tool_calls"]);
      }
    }
  }
  return { role, content, toolCalls, finishReason, usage, model };
}

function applyToolCallDeltas(current: readonly WireToolCall[], deltas: readonly unknown[]): readonly WireToolCall[] {
  const drafts: DraftCall[] = current.map((call, index) => ({
    index,
    id: call.id,
    name: call.function.name,
    arguments: call.function.arguments,
  }));
  for (const delta of deltas) {
    if (!isRecord(delta)) continue;
    const index = num(delta["index"]) ?? drafts.length;
    let draft = drafts.find((d) => d.index === index);
    if (draft === undefined) {
      draft = { index, id: "", name: "", arguments: "" };
      drafts.push(draft);
    }
    const id = str(delta["id"]);
    if (id !== null && id !== "") draft.id = id;
    const fn = delta["function"];
    if (isRecord(fn)) {
      // OpenAI sends the name whole, once; concatenating also handles servers that split it.
      draft.name += str(fn["name"]) ?? "";
      draft.arguments += str(fn["arguments"]) ?? "";
    }
  }
  drafts.sort((a, b) => a.index - b.index);
  return drafts.map((d) => ({ id: d.id, type: "function", function: { name: d.name, arguments: d.arguments } }));
}

/** Per-reply timing, from `performance.now()`-style millisecond marks. */
export interface ReplyTiming {
  /** Request sent → first output chunk. */
  readonly ttftMs: number | null;
  /**
   * Tokens per second. When the output streamed token by token (at least half as many output chunks as
   * completion tokens), the decode speed (completion tokens − 1) / (last output − first output), as vLLM's
   * TPOT. Otherwise (output held back and sent at once, as tool calls are) completion tokens / time from
   * the request to the last output, since chunk arrival times say nothing about decoding then. Null
   * without usage.
   */
  readonly tokensPerSecond: number | null;
  readonly totalMs: number;
}

export interface ReplyMarks {
  readonly start: number;
  readonly firstOutput: number | null;
  readonly lastOutput: number | null;
  readonly end: number;
  /** Chunks that carried output. */
  readonly outputChunks: number;
}

export function replyTiming(marks: ReplyMarks, completionTokens: number | null): ReplyTiming {
  const ttftMs = marks.firstOutput === null ? null : marks.firstOutput - marks.start;
  const totalMs = marks.end - marks.start;
  let tokensPerSecond: number | null = null;
  if (completionTokens !== null && completionTokens > 0) {
    const first = marks.firstOutput;
    const last = marks.lastOutput;
    const streamed = marks.outputChunks * 2 >= completionTokens;
    if (streamed && completionTokens > 1 && first !== null && last !== null && last > first) {
      tokensPerSecond = ((completionTokens - 1) * 1000) / (last - first);
    } else {
      const span = (last ?? marks.end) - marks.start;
      if (span > 0) tokensPerSecond = (completionTokens * 1000) / span;
    }
  }
  return { ttftMs, tokensPerSecond, totalMs };
}
