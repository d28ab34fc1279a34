/**
 * The OpenAI-compatible HTTP app (Hono), composed: error handling, metrics, the Host/Origin checks, CORS,
 * the web UI, auth, `/health` and `/metrics`, the route modules (`routes/`), which translate HTTP to the
 * chat service (`src/chat/`) and back (JSON bodies and their size limit: `body.ts`), and 405s for known
 * paths asked with another method. Streaming is `sse.ts`; response objects are `openai/`.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { ApiError, toApiError } from "./errors.js";
import { isAuthorized } from "./auth.js";
import { DEFAULT_BODY_LIMIT_BYTES } from "./body.js";
import { browserGuard } from "./browser-guard.js";
import { AdmissionQueue } from "./queue.js";
import { ServerMetrics } from "./metrics.js";
import type { ReplicaCounters } from "../engine/types.js";
import { mountWebUi, type WebUiOptions } from "./static.js";
import { DEFAULT_MAX_TOKENS, resolveMaxTokensPolicy, type RouteContext, type ServedModel, type ServerBackend } from "./routes/context.js";
import { mountModelRoutes } from "./routes/models.js";
import { mountTokenizeRoutes } from "./routes/tokenize.js";
import { mountChatRoutes } from "./routes/chat.js";
import { mountCompletionRoutes } from "./routes/completions.js";
import { mountMessagesRoutes } from "./routes/messages.js";
import { mountResponsesRoutes } from "./routes/responses.js";
import { ResponsesStore } from "./responses/store.js";
import { anthropicErrorBody } from "./anthropic/messages.js";
import { mountMcpRoutes } from "./routes/mcp.js";
import { ApprovalRegistry } from "./mcp/approvals.js";
import type { McpToolset } from "../mcp/index.js";

export type { ServerBackend } from "./routes/context.js";

export { DEFAULT_MAX_TOKENS };

/** One more model to serve besides the main one (`talaria serve --config`: models → backend pools). */
export interface ExtraServedModel {
  readonly id: string;
  readonly backend: ServerBackend | Promise<ServerBackend>;
  /** Requests generating at once for this model. Default 1. */
  readonly parallel?: number;
  /** Requests that may wait for it before 429. Default: the server's `maxQueue`. */
  readonly maxQueue?: number;
}

export interface TalariaAppOptions {
  /** The backend, or a promise of it while the model loads (`/health` answers 503 until it resolves). */
  readonly backend: ServerBackend | Promise<ServerBackend>;
  /**
   * The model id reported by `/v1/models` and in responses. With no other models, requests may name
   * any model and this one answers; with {@link TalariaAppOptions.models}, a request's `model` picks one
   * (unknown → 404 `model_not_found`; none → this one).
   */
  readonly modelId: string;
  /** More models, each with its own backend and queue. Default none. */
  readonly models?: readonly ExtraServedModel[];
  /**
   * Stored Responses API responses (for `previous_response_id`, `GET`/`DELETE /v1/responses/{id}`): at most
   * `maxEntries` (least recently used evicted; 0 = store nothing), each for `ttlMs`. Default 1,000 for one hour.
   */
  readonly responsesStore?: { readonly maxEntries?: number; readonly ttlMs?: number };
  /**
   * The operator's MCP servers: requests may use their tools (`{"type": "mcp", "server_label": …}`) and
   * the server runs the calls (docs/mcp.md). Default none.
   */
  readonly mcp?: McpToolset;
  /** Milliseconds a chat-API MCP run waits for a live approval before denying the call. Default 300,000. */
  readonly mcpApprovalTimeoutMs?: number;
  /** Require `Authorization: Bearer <apiKey>` on every route except `/health`. Default: no auth. */
  readonly apiKey?: string;
  /**
   * Allowed CORS origins (`*` for any). Default: none (CORS off). A request whose `Origin` is neither
   * the server's own nor one of these is refused (403 `origin_not_allowed`).
   */
  readonly corsOrigins?: readonly string[];
  /**
   * Names accepted in the `Host` header, any port (`*` = any); IP literals and `localhost` are always
   * accepted; others → 403 `host_not_allowed` (DNS-rebinding protection). Default for
   * `createTalariaApp`: any. `startServer` derives it from `host` when not given: loopback → only
   * the loopback names and the bound host; any other address → any.
   */
  readonly allowedHosts?: readonly string[];
  /** Sequences generating at once (match the engine's sequences). Default 1. */
  readonly parallel?: number;
  /** Requests that may wait for a sequence before new ones get 429. Default 64. */
  readonly maxQueue?: number;
  /** Per-request deadline in ms, queueing included (→ 504). Default 600000 (10 min). */
  readonly timeoutMs?: number;
  /**
   * `max_tokens` of a chat request that gives none (`/v1/completions` keeps OpenAI's 16). Default
   * {@link DEFAULT_MAX_TOKENS} (2048); `Infinity` = until the context is full.
   */
  readonly maxTokensDefault?: number;
  /** Largest `max_tokens` (or `max_completion_tokens`) a request may ask for (→ 400 naming it). Default: no limit beyond the context. */
  readonly maxTokensLimit?: number;
  /** Largest accepted request body in bytes, chunked bodies included (→ 413). Default 8 MiB. */
  readonly bodyLimitBytes?: number;
  /** Where server-side errors (and engine warnings, once per request) are logged. Default: one line on stderr. */
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

/** A served model: its load state (`/health` is 503 while loading or after a failed load) and its queue. */
function servedModel(id: string, backend: ServerBackend | Promise<ServerBackend>, queue: AdmissionQueue): ServedModel {
  let state: LoadState = { kind: "loading" };
  Promise.resolve(backend).then(
    (b) => {
      state = { kind: "ready", backend: b };
    },
    (error: unknown) => {
      // Reported by whoever provided the backend (the CLI prints one line); here /health turns 503.
      state = { kind: "failed", message: error instanceof Error ? error.message : String(error) };
    },
  );
  return {
    id,
    queue,
    backend: () => (state.kind === "ready" ? state.backend : undefined),
    requireBackend: () => {
      if (state.kind === "ready") return state.backend;
      throw new ApiError(503, "unavailable_error", state.kind === "loading" ? "Loading model" : "The model failed to load.", {
        code: "model_unavailable",
        headers: { "Retry-After": "5" },
      });
    },
  };
}

type LoadState =
  | { readonly kind: "loading" }
  | { readonly kind: "ready"; readonly backend: ServerBackend }
  | { readonly kind: "failed"; readonly message: string };

const DEFAULT_TIMEOUT_MS = 600_000;

/**
 * Answer 405 (with `Allow`) for a known path asked with another method, and `OPTIONS` with 204 and
 * `Allow` (when CORS is on, its middleware answers preflights first). Registered after the real routes,
 * so it only runs when none of them answered; a GET route that fell through (`/assets/*` of an unbuilt
 * UI) goes on to the 404.
 */
function methodGuard(methods: readonly ("GET" | "POST" | "DELETE")[]): MiddlewareHandler {
  const accepted = new Set<string>(methods.includes("GET") ? [...methods, "HEAD"] : methods);
  const allow = [...accepted, "OPTIONS"].join(", ");
  return async (c, next) => {
    if (accepted.has(c.req.method)) return next();
    if (c.req.method === "OPTIONS") return c.body(null, 204, { Allow: allow });
    throw new ApiError(405, "invalid_request_error", `Method ${c.req.method} is not allowed on ${c.req.path}; use ${methods.join(" or ")}.`, {
      code: "method_not_allowed",
      headers: { Allow: allow },
    });
  };
}

export function createTalariaApp(options: TalariaAppOptions): TalariaApp {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const maxQueue = options.maxQueue ?? 64;
  const served: ServedModel[] = [
    { id: options.modelId, backend: options.backend, parallel: options.parallel ?? 1, maxQueue },
    ...(options.models ?? []).map((m) => ({ id: m.id, backend: m.backend, parallel: m.parallel ?? 1, maxQueue: m.maxQueue ?? maxQueue })),
  ].map((m) => servedModel(m.id, m.backend, new AdmissionQueue({ capacity: m.parallel, maxQueue: m.maxQueue })));
  const ids = new Set<string>();
  for (const m of served) {
    if (ids.has(m.id)) throw new RangeError(`model id ${JSON.stringify(m.id)} is served twice`);
    ids.add(m.id);
  }
  const main = served[0] as ServedModel;
  const queue = main.queue;
  const metrics = new ServerMetrics({
    running: () => served.reduce((n, m) => n + m.queue.running, 0),
    waiting: () => served.reduce((n, m) => n + m.queue.waiting, 0),
    sequences: () => {
      const ready = served.flatMap((m) => {
        const b = m.backend();
        return b === undefined ? [] : [b.engine.stats()];
      });
      if (ready.length === 0) return undefined;
      return { busy: ready.reduce((n, s) => n + s.sequencesBusy, 0), total: ready.reduce((n, s) => n + s.sequencesTotal, 0) };
    },
    backends: () => served.flatMap((m) => {
      // A replica pool (src/engine/router/) reports its backends; other engines have none.
      const engine = m.backend()?.engine as { replicas?: () => readonly ReplicaCounters[] } | undefined;
      return typeof engine?.replicas === "function" ? engine.replicas().map((r) => ({ model: m.id, ...r })) : [];
    }),
  });
  const model = (name: string | null | undefined): ServedModel => {
    if (served.length === 1) return main;
    if (name === null || name === undefined || name === "") return main;
    const found = served.find((m) => m.id === name);
    if (found !== undefined) return found;
    throw new ApiError(404, "invalid_request_error", `The model '${name}' does not exist; this server serves ${served.map((m) => `'${m.id}'`).join(", ")}.`, {
      param: "model",
      code: "model_not_found",
    });
  };
  const app = new Hono();

  app.onError((error, c) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500 && !(error instanceof ApiError)) {
      log(`talaria serve: ${c.req.method} ${c.req.path} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    for (const [k, v] of Object.entries(apiError.headers)) c.header(k, v);
    // Anthropic's clients read Anthropic's error shape on its routes.
    if (c.req.path.startsWith("/v1/messages")) return c.json(anthropicErrorBody(apiError), apiError.status as 400);
    return c.json(apiError.toBody(), apiError.status as 400);
  });
  app.notFound((c) =>
    c.json(new ApiError(404, "not_found_error", `Unknown route: ${c.req.method} ${c.req.path}`, { code: "unknown_url" }).toBody(), 404),
  );

  app.use("*", async (c, next) => {
    await next();
    metrics.httpRequests.inc({ route: c.req.routePath === "*" ? "unknown" : c.req.routePath, status: String(c.res.status) });
  });
  app.use("*", browserGuard({ ...(options.allowedHosts === undefined ? {} : { allowedHosts: options.allowedHosts }), corsOrigins: options.corsOrigins ?? [] }));
  if (options.corsOrigins !== undefined && options.corsOrigins.length > 0) {
    const origins = [...options.corsOrigins];
    app.use(
      "*",
      cors({
        origin: origins.includes("*") ? "*" : origins,
        allowHeaders: ["Authorization", "Content-Type"],
        allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
        maxAge: 600,
      }),
    );
  }
  if (options.webUi !== false) mountWebUi(app, options.webUi === true || options.webUi === undefined ? {} : options.webUi);
  if (options.apiKey !== undefined) {
    const apiKey = options.apiKey;
    app.use("*", async (c, next) => {
      if (c.req.path === "/health" || c.req.method === "OPTIONS") return next();
      // `Authorization: Bearer <key>`, or Anthropic's `x-api-key: <key>`.
      const xApiKey = c.req.header("x-api-key");
      if (!isAuthorized(c.req.header("authorization"), apiKey) && !(xApiKey !== undefined && isAuthorized(`Bearer ${xApiKey}`, apiKey))) {
        throw new ApiError(401, "invalid_request_error", "Missing or invalid API key: send 'Authorization: Bearer <key>'.", {
          code: "invalid_api_key",
          headers: { "WWW-Authenticate": 'Bearer realm="talaria"' },
        });
      }
      return next();
    });
  }
  app.get("/health", (c) => {
    // 503 while loading or after a failed load (llama.cpp's behaviour); with several models, each must be ready.
    for (const m of served) m.requireBackend();
    return c.json({ status: "ok" });
  });

  app.get("/metrics", async (c) => {
    const text = await metrics.registry.metrics();
    return c.body(text, 200, { "Content-Type": metrics.registry.contentType });
  });

  const context: RouteContext = {
    models: served,
    model,
    metrics,
    responses: new ResponsesStore(options.responsesStore ?? {}),
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    bodyLimitBytes: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    maxTokens: resolveMaxTokensPolicy(options.maxTokensDefault, options.maxTokensLimit),
    log,
    mcp: options.mcp,
    approvals: new ApprovalRegistry(options.mcpApprovalTimeoutMs),
  };
  mountModelRoutes(app, context);
  mountTokenizeRoutes(app, context);
  mountChatRoutes(app, context);
  mountCompletionRoutes(app, context);
  mountMessagesRoutes(app, context);
  mountResponsesRoutes(app, context);
  mountMcpRoutes(app, context);

  const getPaths = ["/health", "/metrics", "/v1/models", "/v1/models/:id{.+}", "/v1/mcp/servers"];
  if (options.webUi !== false) getPaths.push("/", "/index.html", "/assets/*");
  for (const path of getPaths) app.all(path, methodGuard(["GET"]));
  app.all("/v1/responses/:id/input_items", methodGuard(["GET"]));
  app.all("/v1/responses/:id", methodGuard(["GET", "DELETE"]));
  for (const path of ["/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/messages", "/v1/messages/count_tokens", "/tokenize", "/detokenize", "/apply-template", "/v1/mcp/approvals/:id"]) {
    app.all(path, methodGuard(["POST"]));
  }

  return { app, metrics, queue, backend: () => main.backend() };
}
