/**
 * Reading a JSON request body: the `Content-Type` must be JSON (415 otherwise, so a browser page cannot
 * send one as a "simple" cross-origin request), the body is read from the raw stream with a byte limit
 * (413 as soon as it is passed, whether the size was declared in `Content-Length` or the body is
 * chunked), then parsed (400 `invalid_json`).
 *
 * Hono's `bodyLimit` middleware cannot be used here: it re-wraps the request with `new Request(raw, …)`,
 * which throws under @hono/node-server's `overrideGlobalObjects: false` for every body without a
 * `Content-Length`.
 */
import type { Context } from "hono";
import { ApiError } from "./errors.js";

/** Default largest request body: 8 MiB. */
export const DEFAULT_BODY_LIMIT_BYTES = 8 * 1024 * 1024;

/** `application/json` or `application/<anything>+json`, with optional parameters (`; charset=utf-8`). */
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json$/i;

/** True when a `Content-Type` header value names JSON. */
export function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const mediaType = (value.split(";", 1)[0] ?? "").trim();
  return JSON_MEDIA_TYPE.test(mediaType);
}

export function bodyTooLarge(limitBytes: number): ApiError {
  return new ApiError(413, "invalid_request_error", `The request body is too large (the limit is ${limitBytes} bytes).`, {
    code: "request_too_large",
  });
}

/**
 * The body's bytes, at most `limitBytes` of them (413 beyond). A declared `Content-Length` over the limit
 * is refused before anything is read; a chunked body is counted as it arrives and refused the moment it
 * passes the limit (what is left unread is drained and the connection closed by @hono/node-server).
 */
export async function readBodyBytes(request: Request, limitBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared.trim()) > limitBytes) throw bodyTooLarge(limitBytes);
  const stream = request.body;
  if (stream === null) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let read: Awaited<ReturnType<typeof reader.read>>;
    try {
      read = await reader.read();
    } catch (error) {
      // The client went away mid-upload: nobody will read an answer, and nothing failed on our side.
      throw new ApiError(499, "invalid_request_error", "The client closed the connection before the request body was complete.", {
        code: "client_closed_request",
        cause: error,
      });
    }
    const { done, value } = read;
    if (done) break;
    size += value.byteLength;
    if (size > limitBytes) {
      // Not cancel(): that could destroy the socket before the 413 is written. The rest is left unread.
      reader.releaseLock();
      throw bodyTooLarge(limitBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

const decoder = new TextDecoder();

/**
 * The request body as JSON: 415 `unsupported_media_type` unless `Content-Type` is JSON, 413
 * `request_too_large` over `limitBytes`, 400 `invalid_json` when it does not parse.
 */
export async function readJsonBody(c: Context, limitBytes: number): Promise<unknown> {
  const contentType = c.req.header("content-type");
  if (!isJsonContentType(contentType)) {
    const got = contentType === undefined ? "none was sent" : `got '${contentType.slice(0, 100)}'`;
    throw new ApiError(415, "invalid_request_error", `The Content-Type header must be application/json (${got}).`, {
      code: "unsupported_media_type",
    });
  }
  const text = decoder.decode(await readBodyBytes(c.req.raw, limitBytes));
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError(400, "invalid_request_error", "The request body is not valid JSON.", { code: "invalid_json" });
  }
}
