/**
 * The OpenAI-compatible HTTP app (Hono): routes, validation, SSE streaming, auth, CORS, body limit,
 * metrics and admission control. The model work happens in the chat service (`src/chat/`); this file
 * only translates HTTP to it and back.
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import type { Engine, SamplingOptions } from "../engine/types.js";
import { collectChat, type ChatService } from "../chat/service.js";
import type { ChatEvent } from "../chat/types.js";
import { prepareCompletion, streamCompletion, type CompletionEvent } from "../chat/completion.js";
import { promptToString } from "../prompt/text.js";
import { randomId } from "../chat/ids.js";
import { ApiError, RequestTimeoutError, toApiError } from "./errors.js";
import { isAuthorized } from "./auth.js";
import { AdmissionQueue, type AdmissionTicket } from "./queue.js";
import { ServerMetrics } from "./metrics.js";
import { mergeIndexed } from "./merge.js";
import { SSE_DONE, SSE_HEADERS } from "./sse.js";
import { mountWebUi, type WebUiOptions } from "./static.js";
import {
  applyTemplateRequestSchema,
  chatCompletionRequestSchema,
  completionRequestSchema,
  detokenizeRequestSchema,
  toChatMessages,
  toChatRequest,
  toResponseFormat,
  toSampling,
  toStopList,
  toToolChoice,
  toToolDefinitions,
  tokenizeRequestSchema,
} from "./openai/schemas.js";
import { ChatChunkEncoder, encodeStreamError, sumUsage, toChatCompletion } from "./openai/responses.js";
import { encodeCompletionChunk, toTextCompletion, type CompletionChoiceResult } from "./openai/completions.js";

/** What the server needs once the model is loaded. */
export interface ServerBackend {
  readonly engine: Engine;
  readonly chat: ChatService;
}

export interface TalariaAppOptions {
  /** The backend, or a promise of it while the model loads (`/health` answers 503 until it resolves). */
  readonly backend: ServerBackend | Promise<ServerBackend>;
  /** The model id reported by `/v1/models` and in responses. Requests may name any model; this one answers. */
  readonly modelId: string;
  /** Require `Authorization: Bearer <apiKey>` on every route except `/health`. Default: no auth. */
  readonly apiKey?: string;
  /** Allowed CORS origins (`*` for any). Default: none (CORS off). */
  readonly corsOrigins?: readonly string[];
  /** Sequences generating at once (match the engine's sequences). Default 1. */
  readonly parallel?: number;
  /** Requests that may wait for a sequence before new ones get 429. Default 64. */
  readonly maxQueue?: number;
  /** Per-request deadline in ms, queueing included (→ 504). Default 600000 (10 min). */
  readonly timeoutMs?: number;
  /** Largest accepted request body in bytes (→ 413). Default 8 MiB. */
  readonly bodyLimitBytes?: number;
  /** Where server-side errors are logged. Default: one line on stderr. */
  readonly log?: (message: string) => void;
  /**
   * Serve the chat web UI (`src/server/static.ts`) at `/` (public: the page asks for the key itself).
   * `false` turns it off. Default true (the built UI from `dist/web/` or `$TALARIA_WEB_ROOT`).
   */
  readonly webUi?: boolean | WebUiOptions;
}

export interface TalariaApp {
  readonly app: Hono;
  readonly metrics: ServerMetrics;
  readonly queue: AdmissionQueue;
  /** The loaded backend, or undefined while loading / after a failed load. */
  backend(): ServerBackend | undefined;
}

type LoadState =
  | { readonly kind: "loading" }
  | { readonly kind: "ready"; readonly backend: ServerBackend }
  | { readonly kind: "failed"; readonly message: string };

const DEFAULT_TIMEOUT_MS = 600_000;
const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;

export function createTalariaApp(options: TalariaAppOptions): TalariaApp {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const queue = new AdmissionQueue({ capacity: options.parallel ?? 1, maxQueue: options.maxQueue ?? 64 });
  let state: LoadState = { kind: "loading" };
  Promise.resolve(options.backend).then(
    (backend) => {
      state = { kind: "ready", backend };
    },
    (error: unknown) => {
      // Reported by whoever provided the backend (the CLI prints one line); here /health turns 503.
      state = { kind: "failed", message: error instanceof Error ? error.message : String(error) };
    },
  );
  const metrics = new ServerMetrics({
    running: () => queue.running,
    waiting: () => queue.waiting,
    sequences: () => {
      if (state.kind !== "ready") return undefined;
      const s = state.backend.engine.stats();
      return { busy: s.sequencesBusy, total: s.sequencesTotal };
    },
  });

  /** Per-choice TTFT and the finished generation's metrics, from a chat or completion event stream. */
  const generationObserver = (n: number, arrivedAt: number) => {
    const firstTokenAt: (number | undefined)[] = Array.from({ length: n }, () => undefined);
    return (choice: number, event: ChatEvent | CompletionEvent): void => {
      if (event.type === "generation-start") firstTokenAt[choice] = performance.now();
      else if (event.type === "finish") {
        metrics.recordGeneration({
          arrivedAt,
          firstTokenAt: firstTokenAt[choice],
          finishedAt: performance.now(),
          promptTokens: event.usage.promptTokens,
          cachedPromptTokens: event.usage.cachedPromptTokens,
          completionTokens: event.usage.completionTokens,
          finishReason: event.reason === "stop-string" ? "stop" : event.reason,
        });
      }
    };
  };

  const requireBackend = (): ServerBackend => {
    if (state.kind === "ready") return state.backend;
    throw new ApiError(503, "unavailable_error", state.kind === "loading" ? "Loading model" : "The model failed to load.", {
      code: "model_unavailable",
      headers: { "Retry-After": "5" },
    });
  };

  const app = new Hono();

  app.onError((error, c) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500 && !(error instanceof ApiError)) {
      log(`talaria serve: ${c.req.method} ${c.req.path} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    for (const [k, v] of Object.entries(apiError.headers)) c.header(k, v);
    return c.json(apiError.toBody(), apiError.status as 400);
  });
  app.notFound((c) =>
    c.json(new ApiError(404, "not_found_error", `Unknown route: ${c.req.method} ${c.req.path}`, { code: "unknown_url" }).toBody(), 404),
  );

  app.use("*", async (c, next) => {
    await next();
    metrics.httpRequests.inc({ route: c.req.routePath === "*" ? "unknown" : c.req.routePath, status: String(c.res.status) });
  });
  if (options.corsOrigins !== undefined && options.corsOrigins.length > 0) {
    const origins = [...options.corsOrigins];
    app.use(
      "*",
      cors({
        origin: origins.includes("*") ? "*" : origins,
        allowHeaders: ["Authorization", "Content-Type"],
        allowMethods: ["GET", "POST", "OPTIONS"],
        maxAge: 600,
      }),
    );
  }
  if (options.webUi !== false) mountWebUi(app, options.webUi === true || options.webUi === undefined ? {} : options.webUi);
  if (options.apiKey !== undefined) {
    const apiKey = options.apiKey;
    app.use("*", async (c, next) => {
      if (c.req.path === "/health" || c.req.method === "OPTIONS") return next();
      if (!isAuthorized(c.req.header("authorization"), apiKey)) {
        throw new ApiError(401, "invalid_request_error", "Missing or invalid API key: send 'Authorization: Bearer <key>'.", {
          code: "invalid_api_key",
          headers: { "WWW-Authenticate": 'Bearer realm="talaria"' },
        });
      }
      return next();
    });
  }
  app.use(
    "*",
    bodyLimit({
      maxSize: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT,
      onError: (c) =>
        c.json(
          new ApiError(413, "invalid_request_error", "The request body is too large.", { code: "request_too_large" }).toBody(),
          413,
        ),
    }),
  );

  app.get("/health", (c) => {
    requireBackend(); // 503 while loading or after a failed load (llama.cpp's behaviour)
    return c.json({ status: "ok" });
  });

  app.get("/metrics", async (c) => {
    const text = await metrics.registry.metrics();
    return c.body(text, 200, { "Content-Type": metrics.registry.contentType });
  });

  const modelCard = (backend: ServerBackend): Record<string, unknown> => ({
    id: options.modelId,
    object: "model",
    created: 0,
    owned_by: "talaria",
    max_model_len: backend.engine.info.contextSize,
    meta: {
      architecture: backend.engine.info.architecture,
      n_params: backend.engine.info.parameterCount,
      n_ctx_train: backend.engine.info.trainContextLength,
      n_vocab: backend.engine.info.vocabularySize,
      format: backend.chat.format.name,
    },
  });
  app.get("/v1/models", (c) => c.json({ object: "list", data: [modelCard(requireBackend())] }));
  app.get("/v1/models/:id{.+}", (c) => {
    const backend = requireBackend();
    if (c.req.param("id") !== options.modelId) {
      throw new ApiError(404, "invalid_request_error", `The model '${c.req.param("id")}' does not exist.`, {
        param: "model",
        code: "model_not_found",
      });
    }
    return c.json(modelCard(backend));
  });

  app.post("/tokenize", async (c) => {
    const backend = requireBackend();
    const body = tokenizeRequestSchema.parse(await readJson(c));
    const text = body.content ?? body.prompt ?? "";
    let tokens = await backend.engine.tokenize(text, { special: true });
    const bos = backend.engine.info.specialTokens.bos;
    if (body.add_special === true && bos !== undefined) tokens = [bos.id, ...tokens];
    const result: Record<string, unknown> = {
      tokens:
        body.with_pieces === true
          ? await Promise.all(tokens.map(async (id) => ({ id, piece: await backend.engine.detokenize([id], { special: true }) })))
          : tokens,
      count: tokens.length,
      max_model_len: backend.engine.info.contextSize,
    };
    return c.json(result);
  });

  app.post("/detokenize", async (c) => {
    const backend = requireBackend();
    const body = detokenizeRequestSchema.parse(await readJson(c));
    const vocabularySize = backend.engine.info.vocabularySize;
    const bad = body.tokens.findIndex((t) => t >= vocabularySize);
    if (bad >= 0) {
      throw new ApiError(400, "invalid_request_error", `Token id ${body.tokens[bad]} is outside the vocabulary.`, {
        param: `tokens[${bad}]`,
        code: "invalid_value",
      });
    }
    const text = await backend.engine.detokenize(body.tokens, { special: true });
    return c.json({ content: text, prompt: text });
  });

  app.post("/apply-template", async (c) => {
    const backend = requireBackend();
    const body = applyTemplateRequestSchema.parse(await readJson(c));
    const toolChoice = toToolChoice(body.tool_choice);
    const responseFormat = toResponseFormat(body.response_format);
    const prompt = backend.chat.render({
      messages: toChatMessages(body.messages),
      tools: toToolDefinitions(body.tools),
      ...(toolChoice === undefined ? {} : { toolChoice }),
      ...(responseFormat === undefined ? {} : { responseFormat }),
    });
    return c.json({ prompt: promptToString(prompt) });
  });

  /** Deadline + client disconnect, and which one fired. */
  const requestSignals = (c: Context): { signal: AbortSignal; timeout: AbortSignal; abort: () => void } => {
    const timeout = AbortSignal.timeout(timeoutMs);
    // Ours: stops every choice of the request when one fails or the response is done with early.
    const own = new AbortController();
    return { signal: AbortSignal.any([c.req.raw.signal, timeout, own.signal]), timeout, abort: () => own.abort() };
  };

  const admit = async (weight: number, signal: AbortSignal, timeout: AbortSignal): Promise<AdmissionTicket> => {
    if (weight > queue.capacity) {
      throw new ApiError(400, "invalid_request_error", `'n' is ${weight}; this server runs at most ${queue.capacity} sequences at once.`, {
        param: "n",
        code: "invalid_value",
      });
    }
    try {
      const ticket = await queue.acquire(weight, signal);
      metrics.queueTime.observe(ticket.queuedMs / 1000);
      return ticket;
    } catch (error) {
      if (signal.aborted) {
        throw timeout.aborted
          ? new RequestTimeoutError(timeoutMs)
          : new ApiError(499, "invalid_request_error", "Client closed the request.", { code: "cancelled" });
      }
      throw error;
    }
  };

  app.post("/v1/chat/completions", async (c) => {
    const arrivedAt = performance.now();
    const backend = requireBackend();
    const body = chatCompletionRequestSchema.parse(await readJson(c));
    const request = toChatRequest(body);
    const n = body.n ?? 1;
    const prepared = await backend.chat.prepare(request);
    const { signal, timeout, abort } = requestSignals(c);
    const ticket = await admit(n, signal, timeout);
    const meta = { id: randomId("chatcmpl-"), created: Math.floor(Date.now() / 1000), model: options.modelId };
    const observe = generationObserver(n, arrivedAt);
    const streams = Array.from({ length: n }, (_, choice) =>
      tap(backend.chat.stream(forChoice(prepared, choice), { signal }), (event) => observe(choice, event)),
    );

    if (body.stream !== true) {
      try {
        const results = await Promise.all(streams.map((s) => collectChat(s)));
        if (timeout.aborted) throw new RequestTimeoutError(timeoutMs);
        return c.json(toChatCompletion(meta, results));
      } finally {
        abort();
        ticket.release();
      }
    }

    const encoder = new ChatChunkEncoder({ ...meta, includeUsage: body.stream_options?.include_usage === true });
    const events: AsyncIterable<readonly [number, ChatEvent]> =
      n === 1 ? indexed(streams[0] as AsyncGenerator<ChatEvent>) : mergeIndexed(streams);
    async function* sse(): AsyncGenerator<string, void, undefined> {
      const usages = [];
      try {
        for await (const [choice, event] of events) {
          if (event.type === "finish") {
            if (event.reason === "abort") {
              if (timeout.aborted) yield encodeStreamError(toApiError(new RequestTimeoutError(timeoutMs)).toBody());
              return; // client gone or timed out: no finish chunk, no [DONE]
            }
            usages.push(event.usage);
          }
          const text = encoder.encode(choice, event);
          if (text !== "") yield text;
        }
        const usageChunk = encoder.encodeUsage(sumUsage(usages));
        if (usageChunk !== "") yield usageChunk;
        yield SSE_DONE;
      } finally {
        abort();
        ticket.release();
      }
    }
    return streamSse(sse(), signal, ticket, abort, (error) => encodeStreamError(toApiError(error).toBody()), log);
  });

  app.post("/v1/completions", async (c) => {
    const arrivedAt = performance.now();
    const backend = requireBackend();
    const body = completionRequestSchema.parse(await readJson(c));
    const promptValue = body.prompt;
    const prompt = typeof promptValue === "string" ? promptValue : typeof promptValue[0] === "string" ? promptValue[0] : (promptValue as number[]);
    const stopList = toStopList(body.stop);
    const prepared = await prepareCompletion(backend.engine, {
      prompt,
      sampling: toSampling(body),
      maxTokens: body.max_tokens ?? 16,
      ...(stopList.length === 0 ? {} : { stop: stopList }),
      ...(body.logprobs == null ? {} : { logprobs: body.logprobs }),
    });
    const echo = body.echo === true ? await backend.engine.detokenize(prepared.promptTokens, { special: true }) : "";
    const n = body.n ?? 1;
    const { signal, timeout, abort } = requestSignals(c);
    const ticket = await admit(n, signal, timeout);
    const meta = { id: randomId("cmpl-"), created: Math.floor(Date.now() / 1000), model: options.modelId };
    const observe = generationObserver(n, arrivedAt);
    const streams = Array.from({ length: n }, (_, choice) =>
      tap(streamCompletion(backend.engine, forChoice(prepared, choice), { signal }), (event) => observe(choice, event)),
    );
    const wantLogprobs = body.logprobs != null;

    if (body.stream !== true) {
      try {
        const results = await Promise.all(streams.map((s) => collectCompletion(s, echo)));
        if (timeout.aborted) throw new RequestTimeoutError(timeoutMs);
        return c.json(toTextCompletion(meta, results, wantLogprobs));
      } finally {
        abort();
        ticket.release();
      }
    }

    const includeUsage = body.stream_options?.include_usage === true;
    const events: AsyncIterable<readonly [number, CompletionEvent]> =
      n === 1 ? indexed(streams[0] as AsyncGenerator<CompletionEvent>) : mergeIndexed(streams);
    async function* sse(): AsyncGenerator<string, void, undefined> {
      const usages = [];
      try {
        for await (const [choice, event] of events) {
          switch (event.type) {
            case "generation-start":
              if (echo !== "") yield encodeCompletionChunk(meta, choice, echo, null, null, wantLogprobs, includeUsage);
              break;
            case "text-delta":
              if (event.text !== "" || (wantLogprobs && event.tokens.length > 0)) {
                yield encodeCompletionChunk(meta, choice, event.text, event.tokens, null, wantLogprobs, includeUsage);
              }
              break;
            case "finish":
              if (event.reason === "abort") {
                if (timeout.aborted) yield encodeStreamError(toApiError(new RequestTimeoutError(timeoutMs)).toBody());
                return;
              }
              usages.push(event.usage);
              yield encodeCompletionChunk(meta, choice, "", [], event.reason === "length" ? "length" : "stop", wantLogprobs, includeUsage);
              break;
            default:
              event satisfies never;
          }
        }
        if (includeUsage) {
          const u = sumUsage(usages);
          yield `data: ${JSON.stringify({
            id: meta.id,
            object: "text_completion",
            created: meta.created,
            model: meta.model,
            choices: [],
            usage: { prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.promptTokens + u.completionTokens },
          })}\n\n`;
        }
        yield SSE_DONE;
      } finally {
        abort();
        ticket.release();
      }
    }
    return streamSse(sse(), signal, ticket, abort, (error) => encodeStreamError(toApiError(error).toBody()), log);
  });

  return { app, metrics, queue, backend: () => (state.kind === "ready" ? state.backend : undefined) };
}

/**
 * Choice `i` of a request with a `seed` samples with `seed + i`, so `n` > 1 choices differ but the whole
 * response stays reproducible.
 */
function forChoice<T extends { readonly request: { readonly sampling?: SamplingOptions } }>(prepared: T, choice: number): T {
  const seed = prepared.request.sampling?.seed;
  if (choice === 0 || seed === undefined) return prepared;
  return { ...prepared, request: { ...prepared.request, sampling: { ...prepared.request.sampling, seed: (seed + choice) >>> 0 } } };
}

async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError(400, "invalid_request_error", "The request body is not valid JSON.", { code: "invalid_json" });
  }
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

async function collectCompletion(events: AsyncIterable<CompletionEvent>, echo: string): Promise<CompletionChoiceResult> {
  let text = echo;
  const tokens = [];
  for await (const event of events) {
    if (event.type === "text-delta") {
      text += event.text;
      tokens.push(...event.tokens);
    } else if (event.type === "finish") {
      return { text, tokens, finishReason: event.reason === "length" ? "length" : "stop", usage: event.usage, aborted: event.reason === "abort" };
    }
  }
  throw new Error("completion stream ended without a finish event");
}

const utf8 = new TextEncoder();

/**
 * An SSE response whose first piece is produced BEFORE the response starts: anything that fails before
 * the first token (context overflow, engine errors) still becomes a proper HTTP error, and the role chunk
 * is sent together with the first token (vLLM's TTFT counts the first chunk with choices).
 */
async function streamSse(
  pieces: AsyncGenerator<string, void, undefined>,
  signal: AbortSignal,
  ticket: AdmissionTicket,
  abort: () => void,
  encodeError: (error: unknown) => string,
  log: (message: string) => void,
): Promise<Response> {
  let first: IteratorResult<string, void>;
  try {
    do first = await pieces.next();
    while (first.done !== true && first.value === "");
  } catch (error) {
    abort();
    ticket.release();
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
        closed = true;
        if (!signal.aborted) {
          const apiError = toApiError(error);
          if (apiError.status >= 500) log(`talaria serve: stream failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
          controller.enqueue(utf8.encode(encodeError(error)));
        }
        controller.close();
        abort();
        ticket.release();
      }
    },
    async cancel() {
      // The client went away: stop every choice's generation, then close our generator.
      closed = true;
      abort();
      await pieces.return(undefined).catch(() => undefined);
      ticket.release();
    },
  });
  return new Response(body, { status: 200, headers: SSE_HEADERS });
}
