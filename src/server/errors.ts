/**
 * Typed errors → HTTP, in one place (openai-node's `APIError` in reverse).
 *
 * Every error response has OpenAI's shape `{"error": {"message", "type", "param", "code"}}`. Messages never
 * contain stack traces; unknown errors become a generic 500 (the caller logs the original).
 */
import { ZodError } from "zod";
import { EngineError } from "../engine/types.js";
import { ChatError } from "../chat/errors.js";

/** OpenAI error `type`s used by this server. */
export type ApiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "timeout_error"
  | "server_error"
  | "unavailable_error";

export interface ApiErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: ApiErrorType;
    readonly param: string | null;
    readonly code: string | null;
  };
}

/** An error that already knows its HTTP status and OpenAI body. Throw it from routes. */
export class ApiError extends Error {
  readonly status: number;
  readonly type: ApiErrorType;
  readonly param: string | null;
  readonly code: string | null;
  /** Extra response headers (`Retry-After`, `WWW-Authenticate`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    type: ApiErrorType,
    message: string,
    options: {
      readonly param?: string | null;
      readonly code?: string | null;
      readonly headers?: Readonly<Record<string, string>>;
      readonly cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ApiError";
    this.status = status;
    this.type = type;
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.headers = options.headers ?? {};
  }

  toBody(): ApiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** The waiting queue is full (→ 429 with `Retry-After`). */
export class QueueFullError extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    message = "The server is busy: too many requests are waiting. Retry later.",
  ) {
    super(message);
    this.name = "QueueFullError";
  }
}

/** The per-request deadline passed (→ 504). */
export class RequestTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`The request took longer than the server's timeout (${timeoutMs} ms).`);
    this.name = "RequestTimeoutError";
  }
}

/** Render a zod issue path as `messages[0].role`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

function fromZod(error: ZodError): ApiError {
  const issue = error.issues[0];
  if (issue === undefined) return new ApiError(400, "invalid_request_error", "Invalid request body.");
  const param = formatIssuePath(issue.path);
  const message = param === "" ? `Invalid request: ${issue.message}` : `Invalid value for '${param}': ${issue.message}`;
  return new ApiError(400, "invalid_request_error", message, { param: param === "" ? null : param, code: "invalid_value" });
}

function fromEngine(error: EngineError): ApiError {
  switch (error.code) {
    case "context_length_exceeded":
      return new ApiError(400, "invalid_request_error", error.message, { param: "messages", code: "context_length_exceeded" });
    case "invalid_request":
      return new ApiError(400, "invalid_request_error", error.message, { code: "invalid_value" });
    case "unsupported":
      // The request needs a capability this engine lacks (the message names the feature and the engine).
      return new ApiError(400, "invalid_request_error", error.message, { code: "unsupported" });
    case "grammar_violation":
      // The server's own constraint failed, not the request: a 500 whose message reveals no generated text.
      return new ApiError(500, "server_error", "The generated text could not be kept to the required format.", { code: "grammar_violation" });
    case "aborted":
      // The client went away (nobody reads this) or the server aborted it.
      return new ApiError(499, "invalid_request_error", "The request was cancelled.", { code: "cancelled" });
    case "disposed":
    case "model_load_failed":
    case "model_not_found":
    case "offline":
      return new ApiError(503, "unavailable_error", "The model is not available.", { code: "model_unavailable" });
    case "internal":
      return new ApiError(500, "server_error", "The engine failed while generating.", { code: "internal_error" });
    case "backend_unavailable":
      // No replica could take the request and nothing was generated: safe to retry.
      return new ApiError(503, "unavailable_error", "No backend is available for this model right now. Retry later.", { code: "backend_unavailable", headers: { "Retry-After": "1" } });
    case "backend_failed":
      return new ApiError(502, "server_error", "The model backend failed while answering.", { code: "backend_failed" });
    default:
      error.code satisfies never;
      return new ApiError(500, "server_error", "Internal server error.");
  }
}

function fromChat(error: ChatError): ApiError {
  switch (error.code) {
    case "invalid_request":
      return new ApiError(400, "invalid_request_error", error.message, { param: error.param ?? null, code: "invalid_value" });
    case "unsupported":
      return new ApiError(400, "invalid_request_error", error.message, { param: error.param ?? null, code: "unsupported_value" });
    case "context_length_exceeded":
      return new ApiError(400, "invalid_request_error", error.message, { param: error.param ?? "messages", code: "context_length_exceeded" });
    default:
      error.code satisfies never;
      return new ApiError(500, "server_error", "Internal server error.");
  }
}

/**
 * Map anything thrown below the HTTP layer to an {@link ApiError}. Unknown errors become a generic 500
 * whose message reveals nothing about the cause.
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ZodError) return fromZod(error);
  if (error instanceof ChatError) return fromChat(error);
  if (error instanceof EngineError) return fromEngine(error);
  if (error instanceof QueueFullError) {
    return new ApiError(429, "rate_limit_error", error.message, {
      code: "queue_full",
      headers: { "Retry-After": String(error.retryAfterSeconds) },
    });
  }
  if (error instanceof RequestTimeoutError) {
    return new ApiError(504, "timeout_error", error.message, { code: "timeout" });
  }
  if (error instanceof SyntaxError) {
    // JSON.parse of the body is the only SyntaxError that reaches here from routes.
    return new ApiError(400, "invalid_request_error", "The request body is not valid JSON.", { code: "invalid_json" });
  }
  return new ApiError(500, "server_error", "Internal server error.", { code: "internal_error" });
}

/** Convenience for routes: the JSON body and status of any error. */
export function errorResponseParts(error: unknown): { status: number; body: ApiErrorBody; headers: Readonly<Record<string, string>> } {
  const apiError = toApiError(error);
  return { status: apiError.status, body: apiError.toBody(), headers: apiError.headers };
}
