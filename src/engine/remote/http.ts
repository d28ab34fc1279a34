/**
 * The HTTP client of the remote engine adapters: JSON requests and SSE streams to one backend over
 * keep-alive `node:http(s)` connections, with a connect timeout, a read (idle) timeout, the backend's
 * API key, an `AbortSignal` that closes the connection (llama-server and vLLM then cancel the
 * request), and typed {@link BackendError}s. Retries live one level up, where it is known whether a
 * token has been streamed yet (docs/decisions/0180-remote-engines.md).
 */
import http from "node:http";
import https from "node:https";
import { createParser } from "eventsource-parser";

/** Connection settings of one backend. */
export interface BackendHttpOptions {
  /** Base URL, e.g. `http://127.0.0.1:8080` (a path prefix such as `/llm` is kept). */
  readonly url: string;
  /** Sent as `Authorization: Bearer <key>`. Default none. */
  readonly apiKey?: string;
  /** Most time to open the TCP (and TLS) connection, in ms. Default 5,000. */
  readonly connectTimeoutMs?: number;
  /**
   * Most time without a byte from the backend, in ms: until the response headers arrive (which
   * covers the backend's queue and prompt processing) and between chunks of a stream. Default 300,000.
   */
  readonly readTimeoutMs?: number;
  /** Most bytes of a non-streamed response body. Default 64 MiB. */
  readonly maxResponseBytes?: number;
}

/** Defaults of {@link BackendHttpOptions}. */
export const BACKEND_HTTP_DEFAULTS = { connectTimeoutMs: 5_000, readTimeoutMs: 300_000, maxResponseBytes: 64 * 1024 * 1024 } as const;

/** What went wrong talking to a backend. */
export type BackendErrorKind =
  /** No connection (refused, reset before an answer, DNS, TLS, connect timeout). Safe to retry. */
  | "connect"
  /** The backend stopped answering within the read timeout. */
  | "timeout"
  /** The connection broke after the response began. */
  | "broken"
  /** The backend answered with an HTTP error status (see `status`). */
  | "status"
  /** The answer is not what the protocol says (bad JSON, missing fields). */
  | "protocol"
  /** The caller's signal fired. */
  | "aborted";

export class BackendError extends Error {
  constructor(
    message: string,
    readonly kind: BackendErrorKind,
    readonly status?: number,
    /** The backend's own error text, when it sent one. */
    readonly backendMessage?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "BackendError";
  }

  /** A reused keep-alive socket was found closed before any answer (safe to resend at once). */
  staleSocket = false;

  /** Worth trying again (on this backend or another) when nothing has been streamed yet. */
  get retryable(): boolean {
    return this.kind === "connect" || (this.kind === "status" && (this.status === 502 || this.status === 503 || this.status === 504 || this.status === 429));
  }
}

export interface BackendResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

/** One SSE event (`data` field) of a streamed response; `[DONE]` ends the stream and is not yielded. */
export interface SseData {
  readonly data: string;
}

interface RequestSpec {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  readonly accept?: string;
}

/** A client for one backend. */
export class BackendHttp {
  readonly url: URL;
  readonly #options: Required<Omit<BackendHttpOptions, "apiKey" | "url">> & { apiKey?: string };
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;

  constructor(options: BackendHttpOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new TypeError(`backend URL ${JSON.stringify(options.url)} is not a URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`backend URL ${options.url} must be http:// or https://`);
    this.url = url;
    this.#options = {
      connectTimeoutMs: options.connectTimeoutMs ?? BACKEND_HTTP_DEFAULTS.connectTimeoutMs,
      readTimeoutMs: options.readTimeoutMs ?? BACKEND_HTTP_DEFAULTS.readTimeoutMs,
      maxResponseBytes: options.maxResponseBytes ?? BACKEND_HTTP_DEFAULTS.maxResponseBytes,
      ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
    };
    const secure = url.protocol === "https:";
    this.#agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 256 }) : new http.Agent({ keepAlive: true, maxSockets: 256 });
    this.#request = secure ? https.request : http.request;
  }

  /** The URL as shown in logs and errors (no credentials). */
  get origin(): string {
    return `${this.url.origin}${this.url.pathname.replace(/\/$/, "")}`;
  }

  /** GET a path; resolves with any status (callers decide). */
  get(path: string, signal?: AbortSignal): Promise<BackendResponse> {
    return this.#send({ method: "GET", path, ...(signal === undefined ? {} : { signal }) });
  }

  /** POST JSON; resolves with any status. */
  post(path: string, body: unknown, signal?: AbortSignal): Promise<BackendResponse> {
    return this.#send({ method: "POST", path, body, ...(signal === undefined ? {} : { signal }) });
  }

  /** POST JSON and parse a 2xx JSON answer; any other status is a {@link BackendError} `status`. */
  async postJson<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    return parseJsonAnswer<T>(await this.post(path, body, signal), `POST ${path}`, this.origin);
  }

  /** GET and parse a 2xx JSON answer. */
  async getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
    return parseJsonAnswer<T>(await this.get(path, signal), `GET ${path}`, this.origin);
  }

  /**
   * POST JSON and stream the SSE answer. Rejects (before yielding) with a `status` error when the
   * backend answers an HTTP error; a `data: [DONE]` event ends the iteration. Breaking out of the
   * loop, or the signal, closes the connection.
   */
  async *stream(path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<SseData> {
    const { response, request } = await this.#open({ method: "POST", path, body, accept: "text/event-stream", ...(signal === undefined ? {} : { signal }) });
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const text = await readBody(response, this.#options.maxResponseBytes, request, this.#options.readTimeoutMs).catch(() => "");
      throw statusError(status, text, `POST ${path}`, this.origin);
    }
    const queue: string[] = [];
    let done = false;
    const parser = createParser({
      onEvent: (event) => {
        if (event.data === "[DONE]") done = true;
        else if (!done) queue.push(event.data);
      },
    });
    const decoder = new TextDecoder("utf-8");
    try {
      for await (const chunk of iterateResponse(response, request, this.#options.readTimeoutMs, signal)) {
        parser.feed(decoder.decode(chunk, { stream: true }));
        while (queue.length > 0) yield { data: queue.shift() as string };
        if (done) return;
      }
      parser.feed(decoder.decode());
      while (queue.length > 0) yield { data: queue.shift() as string };
    } finally {
      if (!response.complete) request.destroy();
    }
  }

  /** Close idle keep-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  async #send(spec: RequestSpec): Promise<BackendResponse> {
    const { response, request } = await this.#open(spec);
    const text = await readBody(response, this.#options.maxResponseBytes, request, this.#options.readTimeoutMs, spec.signal);
    return { status: response.statusCode ?? 0, headers: response.headers, text };
  }

  /**
   * Open a request. A keep-alive connection the backend closed while idle (a reused socket reset
   * before any answer) is retried once on a fresh connection: nothing reached the backend.
   */
  async #open(spec: RequestSpec): Promise<{ response: http.IncomingMessage; request: http.ClientRequest }> {
    try {
      return await this.#openOnce(spec, false);
    } catch (error) {
      if (error instanceof BackendError && error.staleSocket) return this.#openOnce(spec, true);
      throw error;
    }
  }

  #openOnce(spec: RequestSpec, fresh: boolean): Promise<{ response: http.IncomingMessage; request: http.ClientRequest }> {
    const { signal } = spec;
    if (signal?.aborted === true) return Promise.reject(new BackendError(`request to ${this.origin} aborted`, "aborted"));
    const payload = spec.body === undefined ? undefined : Buffer.from(JSON.stringify(spec.body), "utf8");
    const base = this.url.pathname.replace(/\/$/, "");
    const headers: Record<string, string> = { accept: spec.accept ?? "application/json" };
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(payload.length);
    }
    if (this.#options.apiKey !== undefined) headers["authorization"] = `Bearer ${this.#options.apiKey}`;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: BackendError): void => {
        if (settled) return;
        settled = true;
        cleanup();
        request.destroy();
        reject(error);
      };
      const request = this.#request({
        protocol: this.url.protocol,
        hostname: this.url.hostname.replace(/^\[|\]$/g, ""),
        port: this.url.port === "" ? undefined : Number(this.url.port),
        method: spec.method,
        path: `${base}${spec.path}`,
        headers,
        agent: fresh ? false : this.#agent,
      });
      const connectTimer = setTimeout(() => fail(new BackendError(`could not connect to ${this.origin} within ${this.#options.connectTimeoutMs} ms`, "connect")), this.#options.connectTimeoutMs);
      let readTimer: NodeJS.Timeout | undefined;
      const armRead = (): void => {
        clearTimeout(readTimer);
        readTimer = setTimeout(() => fail(new BackendError(`${this.origin} sent no answer within ${this.#options.readTimeoutMs} ms`, "timeout")), this.#options.readTimeoutMs);
      };
      const onAbort = (): void => fail(new BackendError(`request to ${this.origin} aborted`, "aborted"));
      const cleanup = (): void => {
        clearTimeout(connectTimer);
        clearTimeout(readTimer);
        signal?.removeEventListener("abort", onAbort);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      request.on("socket", (socket) => {
        const connected = (): void => {
          clearTimeout(connectTimer);
          armRead();
        };
        // A reused keep-alive socket is already connected.
        if (!socket.connecting) connected();
        else socket.once(this.url.protocol === "https:" ? "secureConnect" : "connect", connected);
      });
      request.on("error", (error: NodeJS.ErrnoException) => {
        const kind: BackendErrorKind = ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "EPIPE"].includes(error.code ?? "") ? "connect" : "broken";
        const e = new BackendError(`${this.origin}: ${error.code ?? error.message}`, kind, undefined, undefined, { cause: error });
        if (request.reusedSocket && (error.code === "ECONNRESET" || error.code === "EPIPE")) e.staleSocket = true;
        fail(e);
      });
      request.on("response", (response) => {
        if (settled) {
          response.destroy();
          return;
        }
        settled = true;
        cleanup();
        resolve({ response, request });
      });
      request.end(payload);
    });
  }
}

/** Read a whole body, bounded, with the read timeout between chunks. */
async function readBody(response: http.IncomingMessage, maxBytes: number, request: http.ClientRequest, idleMs: number, signal?: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of iterateResponse(response, request, idleMs, signal)) {
    size += chunk.length;
    if (size > maxBytes) {
      request.destroy();
      throw new BackendError(`the backend's answer is over ${maxBytes} bytes`, "protocol");
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The chunks of a response; a gap over `idleMs`, a broken connection or the signal end it with a {@link BackendError}. */
async function* iterateResponse(response: http.IncomingMessage, request: http.ClientRequest, idleMs: number, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const pending: Buffer[] = [];
  let finished = false;
  let failure: BackendError | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  let idle: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      failure ??= new BackendError(`the backend sent nothing for ${idleMs} ms`, "timeout");
      request.destroy();
      notify();
    }, idleMs);
  };
  const onAbort = (): void => {
    failure ??= new BackendError("request aborted", "aborted");
    request.destroy();
    notify();
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  response.on("data", (chunk: Buffer) => {
    pending.push(chunk);
    arm();
    notify();
  });
  response.on("end", () => {
    finished = true;
    notify();
  });
  response.on("error", (error) => {
    failure ??= new BackendError(`the connection to the backend broke: ${error.message}`, "broken", undefined, undefined, { cause: error });
    notify();
  });
  response.on("close", () => {
    if (!response.complete) failure ??= new BackendError("the backend closed the connection mid-answer", "broken");
    finished = true;
    notify();
  });
  arm();
  try {
    for (;;) {
      if (pending.length > 0) {
        yield pending.shift() as Buffer;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (finished) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    clearTimeout(idle);
    signal?.removeEventListener("abort", onAbort);
  }
}

function statusError(status: number, text: string, what: string, origin: string): BackendError {
  let message: string | undefined;
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    const e = body.error;
    message = typeof e === "string" ? e : typeof e?.message === "string" ? e.message : typeof body.message === "string" ? body.message : typeof body.detail === "string" ? body.detail : undefined;
  } catch {
    message = text.trim().slice(0, 500) || undefined;
  }
  return new BackendError(`${origin} answered ${what} with ${status}${message === undefined ? "" : `: ${message}`}`, "status", status, message);
}

function parseJsonAnswer<T>(r: BackendResponse, what: string, origin: string): T {
  if (r.status < 200 || r.status >= 300) throw statusError(r.status, r.text, what, origin);
  try {
    return JSON.parse(r.text) as T;
  } catch (error) {
    throw new BackendError(`${origin} answered ${what} with a body that is not JSON`, "protocol", r.status, undefined, { cause: error });
  }
}
