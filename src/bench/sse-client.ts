/**
 * One streamed OpenAI chat completion, timed as vLLM's `async_request_openai_chat_completions` times it
 * (`vllm/benchmarks/lib/endpoint_request_func.py`, commit 02cfb534): `st` just before the POST, TTFT at
 * the first SSE message with a non-empty `choices`, ITL between consecutive `choices` messages, latency at
 * the last `choices` message; SSE comments and `[DONE]` are skipped; the usage chunk gives the token
 * counts. SSE is parsed with eventsource-parser.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";

/** The part of a {@link RequestRecord} the stream itself gives (token counts resolved by the caller). */
export interface StreamedCompletion {
  readonly success: boolean;
  readonly error?: string;
  /** HTTP status, when a response arrived. */
  readonly status?: number;
  readonly startTime: number;
  readonly ttft: number;
  readonly strictTtft?: number;
  readonly itl: readonly number[];
  readonly latency: number;
  readonly generatedText: string;
  readonly toolCallChunks: number;
  readonly finishReason?: string;
  /** `usage` of the final chunk (`stream_options.include_usage`), when the server sent it. */
  readonly usage?: { readonly promptTokens?: number; readonly completionTokens?: number };
}

export interface StreamChatOptions {
  /** Full URL of the endpoint, e.g. `http://127.0.0.1:8080/v1/chat/completions`. */
  readonly endpoint: string;
  /** JSON request body; `stream: true` and `stream_options.include_usage: true` are forced. */
  readonly body: Readonly<Record<string, unknown>>;
  /** Sent as `Authorization: Bearer <key>`. Default: none. */
  readonly apiKey?: string;
  readonly signal?: AbortSignal;
  /** Clock in seconds. Default `performance.now() / 1000`. */
  readonly now?: () => number;
}

interface ChunkShape {
  choices?: { delta?: { content?: unknown; tool_calls?: unknown }; finish_reason?: unknown }[] | null;
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
  error?: unknown;
}

const defaultNow = (): number => performance.now() / 1000;

/** Streams one chat completion and times it. Never throws: failures come back with `success: false`. */
export async function streamChatCompletion(options: StreamChatOptions): Promise<StreamedCompletion> {
  const now = options.now ?? defaultNow;
  const body = { ...options.body, stream: true, stream_options: { include_usage: true } };
  const headers: Record<string, string> = { "content-type": "application/json", accept: "text/event-stream" };
  if (options.apiKey !== undefined && options.apiKey !== "") headers.authorization = `Bearer ${options.apiKey}`;

  let text = "";
  let ttft = 0;
  let strictTtft: number | undefined;
  const itl: number[] = [];
  let firstChunk = false;
  let toolCallChunks = 0;
  let finishReason: string | undefined;
  let usage: { promptTokens?: number; completionTokens?: number } | undefined;
  let streamError: string | undefined;
  const st = now();
  let mostRecent = st;
  const result = (success: boolean, error?: string, status?: number): StreamedCompletion => ({
    success,
    ...(error !== undefined ? { error } : {}),
    ...(status !== undefined ? { status } : {}),
    startTime: st,
    ttft,
    ...(strictTtft !== undefined ? { strictTtft } : {}),
    itl,
    latency: mostRecent - st,
    generatedText: text,
    toolCallChunks,
    ...(finishReason !== undefined ? { finishReason } : {}),
    ...(usage !== undefined ? { usage } : {}),
  });

  let response: Response;
  try {
    response = await fetch(options.endpoint, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
  } catch (error) {
    return result(false, describe(error));
  }
  if (response.status !== 200) {
    const detail = await response.text().catch(() => "");
    return result(false, `HTTP ${response.status}${detail !== "" ? `: ${detail.slice(0, 500)}` : ""}`, response.status);
  }

  const onEvent = (message: EventSourceMessage): void => {
    if (message.data === "[DONE]") return;
    const timestamp = now();
    let chunk: ChunkShape;
    try {
      chunk = JSON.parse(message.data) as ChunkShape;
    } catch {
      throw new Error(`invalid JSON in an SSE message: ${message.data.slice(0, 200)}`);
    }
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    if (choices.length > 0) {
      const choice = choices[0];
      const content = typeof choice?.delta?.content === "string" ? choice.delta.content : "";
      const toolCalls = Array.isArray(choice?.delta?.tool_calls) && choice.delta.tool_calls.length > 0;
      if (!firstChunk) {
        firstChunk = true;
        ttft = timestamp - st;
      } else {
        itl.push(timestamp - mostRecent);
      }
      if (strictTtft === undefined && (content !== "" || toolCalls)) strictTtft = timestamp - st;
      if (toolCalls) toolCallChunks++;
      if (typeof choice?.finish_reason === "string") finishReason = choice.finish_reason;
      text += content;
      // Only choices chunks advance the request end; the trailing usage chunk carries no token.
      mostRecent = timestamp;
    } else if (chunk.usage !== undefined && chunk.usage !== null) {
      const u = chunk.usage;
      usage = {
        ...(typeof u.prompt_tokens === "number" ? { promptTokens: u.prompt_tokens } : {}),
        ...(typeof u.completion_tokens === "number" ? { completionTokens: u.completion_tokens } : {}),
      };
    } else if (chunk.error !== undefined) {
      streamError = `error event in the stream: ${JSON.stringify(chunk.error).slice(0, 300)}`;
    }
  };
  const parser = createParser({ onEvent });
  try {
    const decoder = new TextDecoder();
    if (response.body === null) return result(false, "the response has no body", 200);
    for await (const piece of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(piece, { stream: true }));
    parser.feed(decoder.decode());
  } catch (error) {
    return result(false, describe(error), 200);
  }
  if (!firstChunk) return result(false, streamError ?? "never received a chunk with choices (no TTFT)", 200);
  return result(true, streamError, 200);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === "AbortError") return "aborted";
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}
