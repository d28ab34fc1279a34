/**
 * Server-sent events: the encoding (the writing half; clients and tests parse with `eventsource-parser`),
 * OpenAI's stream framing (chunks, usage, `[DONE]`, what an abort ends with) and the streaming
 * `Response` itself (headers after the first token, backpressure, client disconnect → abort).
 *
 * OpenAI's stream format is a sequence of `data: <json>\n\n` events ending with `data: [DONE]\n\n`.
 * Each event is serialised once, from the small chunk object of that step only.
 */

/** The terminating event of an OpenAI stream. */
export const SSE_DONE = "data: [DONE]\n\n";

/**
 * One `data:` event holding `payload` as JSON. `JSON.stringify` never emits a raw newline (newlines in
 * strings are escaped), so one `data:` line is always enough.
 */
export function encodeSseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/**
 * A comment line (`: text`), ignored by clients; used as a keep-alive during long prefill. Line breaks
 * in `text` are replaced so the comment cannot inject fields.
 */
export function encodeSseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, " ")}\n\n`;
}

/** Headers of an SSE response. `X-Accel-Buffering: no` keeps nginx from buffering the stream. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache",
  Connection: "keep-alive",
  "X-Accel-Buffering": "no",
};

// ---- OpenAI streams ------------------------------------------------------------------------------------

/** How one request's generation events become OpenAI stream chunks (see `ChatChunkEncoder`). */
export interface OpenAIStreamEncoder<E> {
  /** SSE text for one event of choice `choice` ("" when the event produces no chunk). */
  encode(choice: number, event: E): string;
  /** SSE text after the last event, before `[DONE]`: the usage chunk, or "". */
  end(): string;
  /** What ends the stream after `end()`. Default `data: [DONE]` (OpenAI); Anthropic's streams end with their own last event (""). */
  readonly terminator?: string;
}

export interface OpenAIStreamOptions<E> {
  /** The events of every choice, tagged with the choice's index, in the order they happen. */
  readonly events: AsyncIterable<readonly [number, E]>;
  readonly encoder: OpenAIStreamEncoder<E>;
  /** Whether `event` is a choice's finish because the request was aborted (client gone, deadline). */
  readonly isAborted: (event: E) => boolean;
  /** On abort, the last event to send (the deadline's error), or `undefined` when the client is gone. */
  readonly abortEvent: () => string | undefined;
  /** Called once the events are done with, however the stream ended (stops generation, frees the sequences). */
  readonly release: () => void;
}

/**
 * The pieces of an OpenAI stream: each event's chunk, then the encoder's `end()` and `[DONE]`. An
 * aborted choice ends the stream at once, with no finish chunk and no `[DONE]` (a client that timed out
 * gets the error event last instead).
 */
export async function* openAIStream<E>(options: OpenAIStreamOptions<E>): AsyncGenerator<string, void, undefined> {
  const { encoder } = options;
  try {
    for await (const [choice, event] of options.events) {
      if (options.isAborted(event)) {
        const last = options.abortEvent();
        if (last !== undefined) yield last;
        return; // client gone or timed out: no finish chunk, no [DONE]
      }
      const text = encoder.encode(choice, event);
      if (text !== "") yield text;
    }
    const end = encoder.end();
    if (end !== "") yield end;
    const terminator = encoder.terminator ?? SSE_DONE;
    if (terminator !== "") yield terminator;
  } finally {
    options.release();
  }
}

// ---- the Response --------------------------------------------------------------------------------------

export interface SseResponseOptions {
  /**
   * The request's signal: fires when the client disconnects, the deadline passes or the server stops
   * the request. A failure after it fired is not reported in the stream (nobody would read it).
   */
  readonly signal: AbortSignal;
  /** Stops the generation (every choice). Called when the client goes away or the stream fails. */
  readonly abort: () => void;
  /** Frees what the request holds (its admission ticket); idempotent. Called when the stream is over. */
  readonly release: () => void;
  /**
   * The SSE text of an error thrown after the response started (`data: {"error": …}`); the place to log
   * it. Called only while `signal` has not fired.
   */
  readonly encodeError: (error: unknown) => string;
}

const utf8 = new TextEncoder();

/**
 * An SSE response whose first piece is produced BEFORE the response starts: anything that fails before
 * the first token (context overflow, engine errors) is thrown from here and still becomes a proper HTTP
 * error, and the headers go out together with the first token (vLLM's TTFT counts the first chunk with
 * choices). After that, one non-empty piece is written per pull (backpressure); a client disconnect
 * cancels the body, which aborts the generation and closes `pieces`.
 */
export async function sseResponse(pieces: AsyncGenerator<string, void, undefined>, options: SseResponseOptions): Promise<Response> {
  const { signal, abort, release, encodeError } = options;
  let first: IteratorResult<string, void>;
  try {
    do first = await pieces.next();
    while (first.done !== true && first.value === "");
  } catch (error) {
    abort();
    release();
    throw error;
  }
  let closed = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (first.done === true) {
        closed = true;
        controller.close();
      } else {
        controller.enqueue(utf8.encode(first.value));
      }
    },
    async pull(controller) {
      if (closed) return;
      try {
        // Enqueue exactly one non-empty piece per pull (a pull that enqueues nothing is not repeated).
        for (;;) {
          const next = await pieces.next();
          if (closed) return; // cancelled while this piece was being made: the body is gone
          if (next.done === true) {
            closed = true;
            controller.close();
            return;
          }
          if (next.value !== "") {
            controller.enqueue(utf8.encode(next.value));
            return;
          }
        }
      } catch (error) {
        if (closed) return; // cancelled meanwhile: `cancel` stops and releases
        closed = true;
        if (!signal.aborted) controller.enqueue(utf8.encode(encodeError(error)));
        controller.close();
        abort();
        release();
      }
    },
    async cancel() {
      // The client went away: stop every choice's generation, then close our generator.
      closed = true;
      abort();
      await pieces.return(undefined).catch(() => undefined);
      release();
    },
  });
  return new Response(body, { status: 200, headers: SSE_HEADERS });
}
