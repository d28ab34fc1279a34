/**
 * One fuzz request over node:http (or https): raw paths (no URL normalisation), Content-Length or
 * chunked uploads in planned pieces, a per-request limit, and disconnects at the planned point through
 * an AbortController. Never throws: every ending is a {@link FuzzOutcome}.
 */
import http from "node:http";
import https from "node:https";
import type { FuzzCase, FuzzOutcome } from "./types.js";

export interface ExecuteOptions {
  readonly base: URL;
  readonly agent: http.Agent;
  /** The request's limit: past it, the client aborts and the outcome is `timeout`. */
  readonly limitMs: number;
  /** Sent as `Authorization: Bearer …` unless the case sets its own authorization header. */
  readonly apiKey?: string;
  /** Bytes of the response body kept for checks (the rest is counted, not kept). Default 1 MiB. */
  readonly maxKeptBytes?: number;
  /** This is the retry after a stale keep-alive socket (no second retry). */
  readonly retried?: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function executeCase(c: FuzzCase, options: ExecuteOptions): Promise<FuzzOutcome> {
  const maxKept = options.maxKeptBytes ?? 1024 * 1024;
  return new Promise<FuzzOutcome>((resolve) => {
    const start = performance.now();
    const ms = (): number => performance.now() - start;
    const controller = new AbortController();
    let done = false;
    let status: number | undefined;
    let disconnectTimer: ReturnType<typeof setTimeout> | undefined;
    const finish = (outcome: FuzzOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(limitTimer);
      if (disconnectTimer !== undefined) clearTimeout(disconnectTimer);
      resolve(outcome);
    };
    const disconnect = (): void => {
      if (done || c.disconnect === undefined) return;
      finish({ kind: "disconnected", stage: c.disconnect.stage, ...(status === undefined ? {} : { status }), ms: ms() });
      controller.abort();
    };
    // The controller tears the connection down (disconnects and the limit); errors after that are expected.
    const ignore = (): void => undefined;
    const limitTimer = setTimeout(() => {
      finish({ kind: "timeout", ...(status === undefined ? {} : { status }), ms: ms() });
      controller.abort();
    }, options.limitMs);

    const headers: Record<string, string> = { ...c.headers };
    const hasAuth = Object.keys(headers).some((k) => k.toLowerCase() === "authorization");
    if (options.apiKey !== undefined && options.apiKey !== "" && !hasAuth) headers.authorization = `Bearer ${options.apiKey}`;
    const body = c.body;
    if (c.upload.kind === "length") headers["content-length"] = String(body?.length ?? 0);
    // Explicit, so Node chunk-encodes whatever the method (it does so by default only for some).
    else if (c.upload.kind === "chunked") headers["transfer-encoding"] = "chunked";

    let req: http.ClientRequest;
    try {
      req = (options.base.protocol === "https:" ? https : http).request({
        protocol: options.base.protocol,
        hostname: options.base.hostname.replace(/^\[|\]$/g, ""),
        port: options.base.port === "" ? undefined : Number(options.base.port),
        method: c.method,
        path: c.path,
        headers,
        agent: options.agent,
      });
    } catch (error) {
      finish({ kind: "transport-error", message: `request not sent: ${error instanceof Error ? error.message : String(error)}`, ms: ms() });
      return;
    }

    controller.signal.addEventListener("abort", () => {
      req.on("error", ignore);
      req.destroy();
    });
    req.on("response", (res) => {
      status = res.statusCode ?? 0;
      res.on("error", (error) => {
        finish({ kind: "transport-error", message: `response failed: ${describe(error)}`, status: status ?? 0, ms: ms() });
      });
      controller.signal.addEventListener("abort", () => res.on("error", ignore));
      if (c.disconnect?.stage === "headers") {
        disconnect();
        return;
      }
      const kept: Buffer[] = [];
      let keptBytes = 0;
      let total = 0;
      res.on("data", (chunk: Buffer) => {
        total += chunk.length;
        if (keptBytes < maxKept) {
          const piece = chunk.length + keptBytes > maxKept ? chunk.subarray(0, maxKept - keptBytes) : chunk;
          kept.push(piece);
          keptBytes += piece.length;
        }
        if (c.disconnect?.stage === "body" && total >= c.disconnect.afterBytes) disconnect();
      });
      res.on("end", () => {
        finish({ kind: "response", status: status ?? 0, headers: res.headers, body: Buffer.concat(kept), bodyBytes: total, truncated: total > keptBytes, ms: ms() });
      });
    });
    req.on("error", (error) => {
      // A keep-alive socket the server closed just as it was reused (Node's documented race): retry once
      // on a fresh connection, as HTTP clients do; the retry's ending is the outcome.
      if (status === undefined && req.reusedSocket && ["ECONNRESET", "EPIPE"].includes((error as NodeJS.ErrnoException).code ?? "") && options.retried !== true && !done) {
        done = true;
        clearTimeout(limitTimer);
        if (disconnectTimer !== undefined) clearTimeout(disconnectTimer);
        void executeCase(c, { ...options, agent: new (options.base.protocol === "https:" ? https.Agent : http.Agent)({ keepAlive: false }), limitMs: Math.max(1, options.limitMs - ms()), retried: true }).then((o) =>
          resolve(o.kind === "response" ? { ...o, staleSocketRetry: true } : o),
        );
        return;
      }
      finish({ kind: "transport-error", message: describe(error), ...(status === undefined ? {} : { status }), ms: ms() });
    });
    if (c.disconnect?.stage === "time") disconnectTimer = setTimeout(disconnect, c.disconnect.afterMs);

    const upload = c.upload;
    if (upload.kind !== "chunked" || body === undefined) {
      req.end(upload.kind === "length" ? body : undefined);
      return;
    }
    void (async () => {
      let offset = 0;
      for (let i = 0; i <= upload.chunks.length; i++) {
        if (done || req.destroyed) return;
        if (c.disconnect?.stage === "upload" && i === c.disconnect.afterChunks) {
          disconnect();
          return;
        }
        if (i === upload.chunks.length) break;
        const size = upload.chunks[i] as number;
        const piece = body.subarray(offset, offset + size);
        offset += piece.length;
        if (piece.length > 0 && !req.write(piece)) await untilDrainOrClose(req);
        if (upload.delayMs > 0) await sleep(upload.delayMs);
      }
      if (!done && !req.destroyed) req.end(offset < body.length ? body.subarray(offset) : undefined);
    })();
  });
}

function untilDrainOrClose(req: http.ClientRequest): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      req.off("drain", done);
      req.off("close", done);
      resolve();
    };
    req.on("drain", done);
    req.on("close", done);
  });
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code === undefined ? error.message : `${code}: ${error.message}`;
}
