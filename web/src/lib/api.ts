/**
 * The server's public API, as the UI uses it: `GET /health`, `GET /v1/models`, `POST /v1/chat/completions`
 * (streaming), and for MCP tools `GET /v1/mcp/servers` and `POST /v1/mcp/approvals/{id}`. Same origin; `Authorization: Bearer <key>` when a key is set. SSE is parsed with
 * `eventsource-parser` over `fetch`'s body stream, so a Stop (AbortSignal) cancels the HTTP request itself.
 */
import { createParser } from "eventsource-parser";
import { parseMcpServers, type McpServerInfo } from "./mcp.js";
import type { ChatRequestBody } from "./request.js";

/** Why a call failed, for the error banner. */
export type ApiFailure =
  | { readonly kind: "network"; readonly message: string }
  | {
      readonly kind: "http";
      readonly status: number;
      readonly message: string;
      readonly code: string | null;
      /** Seconds, from `Retry-After`. */
      readonly retryAfter: number | null;
    }
  | { readonly kind: "stream"; readonly message: string };

export class ApiCallError extends Error {
  constructor(readonly failure: ApiFailure) {
    super(failure.message);
    this.name = "ApiCallError";
  }
}

export interface ModelInfo {
  readonly id: string;
  readonly ownedBy: string | null;
  /** The server's `profile` extension (a name, or an object with a `name`/`id`), when present. */
  readonly profile: string | null;
  readonly contextLength: number | null;
}

export interface CallOptions {
  readonly apiKey: string;
  readonly signal?: AbortSignal;
}

function headers(apiKey: string, json: boolean): Record<string, string> {
  const h: Record<string, string> = { Accept: json ? "application/json" : "text/event-stream" };
  if (apiKey.trim() !== "") h["Authorization"] = `Bearer ${apiKey.trim()}`;
  return h;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}

async function send(url: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (isAbort(error)) throw error;
    throw new ApiCallError({
      kind: "network",
      message: `Cannot reach the Talaria server (${error instanceof Error ? error.message : String(error)}).`,
    });
  }
  if (!response.ok) throw new ApiCallError(await httpFailure(response));
  return response;
}

/** Read an OpenAI error body (`{"error": {"message", "code"}}`), falling back to the status text. */
async function httpFailure(response: Response): Promise<ApiFailure> {
  let message = response.statusText || `HTTP ${response.status}`;
  let code: string | null = null;
  try {
    const body: unknown = await response.json();
    if (isRecord(body) && isRecord(body["error"])) {
      const error = body["error"];
      if (typeof error["message"] === "string" && error["message"] !== "") message = error["message"];
      if (typeof error["code"] === "string") code = error["code"];
    }
  } catch {
    // Not JSON: keep the status text.
  }
  const retry = Number(response.headers.get("Retry-After"));
  return { kind: "http", status: response.status, message, code, retryAfter: Number.isFinite(retry) && retry > 0 ? retry : null };
}

function describeProfile(value: unknown): string | null {
  if (typeof value === "string" && value !== "") return value;
  if (isRecord(value)) {
    for (const key of ["name", "id", "profile"]) {
      const v = value[key];
      if (typeof v === "string" && v !== "") return v;
    }
  }
  return null;
}

/** `GET /v1/models`. */
export async function fetchModels(options: CallOptions): Promise<ModelInfo[]> {
  const response = await send("/v1/models", { headers: headers(options.apiKey, true), ...(options.signal ? { signal: options.signal } : {}) });
  const body: unknown = await response.json();
  const data = isRecord(body) && Array.isArray(body["data"]) ? body["data"] : [];
  return data.filter(isRecord).flatMap((m) => {
    if (typeof m["id"] !== "string") return [];
    const context = [m["context_length"], m["max_model_len"], m["context_window"]].find((v) => typeof v === "number");
    return [
      {
        id: m["id"],
        ownedBy: typeof m["owned_by"] === "string" ? m["owned_by"] : null,
        // Talaria's `profile` extension; else the chat format name the server reports in `meta`.
        profile: describeProfile(m["profile"]) ?? (isRecord(m["meta"]) ? describeProfile(m["meta"]["format"]) : null),
        contextLength: typeof context === "number" ? context : null,
      },
    ];
  });
}

/** `GET /v1/mcp/servers`: the MCP servers whose tools requests may use (empty when none, or on a server without the route). */
export async function fetchMcpServers(options: CallOptions): Promise<McpServerInfo[]> {
  let response: Response;
  try {
    response = await send("/v1/mcp/servers", { headers: headers(options.apiKey, true), ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    if (error instanceof ApiCallError && error.failure.kind === "http" && error.failure.status === 404) return [];
    throw error;
  }
  return parseMcpServers(await response.json());
}

/** `POST /v1/mcp/approvals/{id}` `{"approve": …}`: answer a waiting MCP call (404: it timed out or its run ended). */
export async function answerApproval(id: string, approve: boolean, options: CallOptions): Promise<void> {
  await send(`/v1/mcp/approvals/${encodeURIComponent(id)}`, {
    method: "POST",
    headers: { ...headers(options.apiKey, true), "Content-Type": "application/json" },
    body: JSON.stringify({ approve }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** Server state from `GET /health`: 2xx = up, 503 = loading the model, anything else or no answer = down. */
export type Health = "up" | "loading" | "down";

export async function fetchHealth(signal?: AbortSignal): Promise<Health> {
  try {
    const response = await fetch("/health", { ...(signal ? { signal } : {}) });
    if (response.ok) return "up";
    return response.status === 503 ? "loading" : "down";
  } catch {
    return "down";
  }
}

/**
 * `POST /v1/chat/completions` with `stream: true`. Calls `onChunk` with each parsed chunk until `[DONE]`
 * (or the end of the body). Rejects with {@link ApiCallError}, or with the `AbortError` of `signal`.
 */
export async function streamChat(
  body: ChatRequestBody,
  options: CallOptions & { readonly onChunk: (chunk: unknown) => void },
): Promise<void> {
  const response = await send("/v1/chat/completions", {
    method: "POST",
    headers: { ...headers(options.apiKey, false), "Content-Type": "application/json" },
    body: JSON.stringify(body),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (response.body === null) throw new ApiCallError({ kind: "stream", message: "The server sent an empty response." });
  let done = false;
  let parseError: ApiCallError | null = null;
  const parser = createParser({
    onEvent(event) {
      if (done || parseError !== null) return;
      if (event.data === "[DONE]") {
        done = true;
        return;
      }
      let chunk: unknown;
      try {
        chunk = JSON.parse(event.data);
      } catch {
        parseError = new ApiCallError({ kind: "stream", message: "The server sent a malformed stream event." });
        return;
      }
      options.onChunk(chunk);
    },
  });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    while (!done) {
      let result: ReadableStreamReadResult<string>;
      try {
        result = await reader.read();
      } catch (error) {
        if (isAbort(error) || options.signal?.aborted === true) throw error;
        throw new ApiCallError({ kind: "network", message: "The connection to the server was lost during the reply." });
      }
      if (result.done) break;
      parser.feed(result.value);
      if (parseError !== null) throw parseError;
    }
  } finally {
    // Closes the connection when we stop reading early (error event, [DONE] before the body's end).
    await reader.cancel().catch(() => undefined);
  }
}
