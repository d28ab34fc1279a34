/**
 * What the generating routes (`/v1/chat/completions`, `/v1/completions`) share: the request's deadline and
 * disconnect signal, admission (a sequence per choice), per-choice seeds, metrics and warning logs, and
 * the two ways a request ends (one JSON body, or an SSE stream built by `../sse.ts`).
 */
import type { Context } from "hono";
import type { SamplingOptions } from "../../engine/types.js";
import type { ChatEvent } from "../../chat/types.js";
import type { CompletionEvent } from "../../chat/completion.js";
import { ApiError, RequestTimeoutError, toApiError } from "../errors.js";
import type { AdmissionQueue, AdmissionTicket } from "../queue.js";
import { mergeIndexed } from "../merge.js";
import { openAIStream, sseResponse, type OpenAIStreamEncoder } from "../sse.js";
import { encodeStreamError } from "../openai/responses.js";
import type { RouteContext } from "./context.js";

/** The events a generating route streams per choice. */
export type GenerationEvent = ChatEvent | CompletionEvent;

/** One admitted request generating `n` choices. */
export interface Generation {
  /** Fires when the client disconnects, the deadline passes, or the request is done with. Pass it to every choice. */
  readonly signal: AbortSignal;
  /** Choice `choice`'s events, unchanged, as metrics see them (TTFT, tokens, finish) and warnings logged once per request. */
  observe<E extends GenerationEvent>(choice: number, events: AsyncIterable<E>): AsyncGenerator<E, void, undefined>;
  /** Non-streaming: every choice collected, then the request freed; a passed deadline is a 504. */
  collect<E, R>(streams: readonly AsyncIterable<E>[], collectOne: (events: AsyncIterable<E>) => Promise<R>): Promise<R[]>;
  /** Streaming: the SSE response of every choice's events (the request is freed when the stream ends). */
  /** `errorEvent`: the SSE text of a failure (default OpenAI's `data: {"error": …}`). */
  stream<E extends StreamedEvent>(streams: readonly AsyncGenerator<E, void, undefined>[], encoder: OpenAIStreamEncoder<E>, errorEvent?: (error: ApiError) => string): Promise<Response>;
}

/** What a stream may carry: generation events, or an MCP run's agent events (their finish has a reason too). */
export type StreamedEvent = { readonly type: string; readonly reason?: unknown };

/**
 * Wait for `n` sequences (→ 400 when `n` exceeds them all, 429 when the queue is full, 504 / 499 when
 * the deadline passes / the client leaves while waiting) and return the admitted request.
 */
export async function startGeneration(ctx: RouteContext, queue: AdmissionQueue, c: Context, n: number, arrivedAt: number): Promise<Generation> {
  const timeout = AbortSignal.timeout(ctx.timeoutMs);
  // Ours: stops every choice of the request when one fails or the response is done with early.
  const own = new AbortController();
  // The client's and the deadline's: after they fire nobody reads the stream, so a failure then is not
  // written. Our own abort (the request is done with, e.g. a choice failed) must not hide a failure.
  const outside = AbortSignal.any([c.req.raw.signal, timeout]);
  const signal = AbortSignal.any([outside, own.signal]);
  const ticket = await admit(ctx, queue, n, signal, timeout);
  const abort = (): void => own.abort();
  const release = (): void => {
    abort();
    ticket.release();
  };

  const firstTokenAt: (number | undefined)[] = Array.from({ length: n }, () => undefined);
  const warned = new Set<string>();
  const onEvent = (choice: number, event: GenerationEvent): void => {
    if (event.type === "generation-start") firstTokenAt[choice] = performance.now();
    else if (event.type === "finish") {
      ctx.metrics.recordGeneration({
        arrivedAt,
        firstTokenAt: firstTokenAt[choice],
        finishedAt: performance.now(),
        promptTokens: event.usage.promptTokens,
        cachedPromptTokens: event.usage.cachedPromptTokens,
        completionTokens: event.usage.completionTokens,
        finishReason: event.reason === "stop-string" ? "stop" : event.reason,
      });
    } else if (event.type === "warning") {
      // Every choice of a request usually reports the same warning: log it once.
      const key = `${event.code}\n${event.message}`;
      if (!warned.has(key)) {
        warned.add(key);
        ctx.log(`talaria serve: ${c.req.method} ${c.req.path}: warning ${event.code}: ${event.message}`);
      }
    }
  };

  return {
    signal,
    observe: (choice, events) => tap(events, (event) => onEvent(choice, event)),
    async collect(streams, collectOne) {
      try {
        const results = await Promise.all(streams.map((s) => collectOne(s)));
        if (timeout.aborted) throw new RequestTimeoutError(ctx.timeoutMs);
        return results;
      } finally {
        release();
      }
    },
    stream<E extends StreamedEvent>(streams: readonly AsyncGenerator<E, void, undefined>[], encoder: OpenAIStreamEncoder<E>, errorEvent?: (error: ApiError) => string): Promise<Response> {
      const encode = errorEvent ?? ((e: ApiError) => encodeStreamError(e.toBody()));
      const events = streams.length === 1 ? indexed(streams[0] as AsyncGenerator<E, void, undefined>) : mergeIndexed(streams);
      const pieces = openAIStream({
        events,
        encoder,
        isAborted: isAbortFinish,
        abortEvent: () => (timeout.aborted ? encode(toApiError(new RequestTimeoutError(ctx.timeoutMs))) : undefined),
        release,
      });
      return sseResponse(pieces, {
        signal: outside,
        abort,
        release,
        encodeError: (error) => {
          const apiError = toApiError(error);
          if (apiError.status >= 500) ctx.log(`talaria serve: stream failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
          return encode(apiError);
        },
      });
    },
  };
}

async function admit(ctx: RouteContext, queue: AdmissionQueue, weight: number, signal: AbortSignal, timeout: AbortSignal): Promise<AdmissionTicket> {
  if (weight > queue.capacity) {
    throw new ApiError(400, "invalid_request_error", `'n' is ${weight}; this server runs at most ${queue.capacity} sequences at once.`, {
      param: "n",
      code: "invalid_value",
    });
  }
  try {
    const ticket = await queue.acquire(weight, signal);
    ctx.metrics.queueTime.observe(ticket.queuedMs / 1000);
    return ticket;
  } catch (error) {
    if (signal.aborted) {
      throw timeout.aborted
        ? new RequestTimeoutError(ctx.timeoutMs)
        : new ApiError(499, "invalid_request_error", "Client closed the request.", { code: "cancelled" });
    }
    throw error;
  }
}

/** A choice's finish because the request was aborted (client gone or deadline): the stream ends there. */
function isAbortFinish(event: StreamedEvent): boolean {
  return event.type === "finish" && event.reason === "abort";
}

/**
 * Choice `i` of a request with a `seed` samples with `seed + i`, so `n` > 1 choices differ but the whole
 * response stays reproducible.
 */
export function forChoice<T extends { readonly request: { readonly sampling?: SamplingOptions } }>(prepared: T, choice: number): T {
  const seed = prepared.request.sampling?.seed;
  if (choice === 0 || seed === undefined) return prepared;
  return { ...prepared, request: { ...prepared.request, sampling: { ...prepared.request.sampling, seed: (seed + choice) >>> 0 } } };
}

/** Calls `onEvent` for each event as it passes (metrics), without changing the stream. */
async function* tap<T>(source: AsyncIterable<T>, onEvent: (event: T) => void): AsyncGenerator<T, void, undefined> {
  for await (const event of source) {
    onEvent(event);
    yield event;
  }
}

async function* indexed<T>(source: AsyncIterable<T>): AsyncGenerator<readonly [0, T], void, undefined> {
  for await (const event of source) yield [0, event] as const;
}
