/**
 * Browser safety for a server that usually runs without a key on loopback (as Ollama and llama.cpp's
 * server do it):
 *
 * - **Host check** (DNS rebinding): a page on `http://evil.example:8080` whose name is re-pointed at
 *   127.0.0.1 reaches the server with `Host: evil.example:8080`. Only the allowed names are accepted
 *   (any port); IP literals and `localhost` always are, since a rebinding page can only use a name
 *   its attacker controls.
 * - **Origin check** (cross-site requests): a request carrying an `Origin` that is neither the server's
 *   own origin (its host and port are the `Host` header's) nor allowed by `--cors-origin` is refused.
 *
 * Together with the JSON-only `Content-Type` of the POST routes (`body.ts`), a page on another site can
 * neither send a "simple" request nor read an answer.
 */
import { isIP } from "node:net";
import type { MiddlewareHandler } from "hono";
import { ApiError } from "./errors.js";

export interface BrowserGuardOptions {
  /**
   * Host names accepted in the `Host` header (any port), lowercased, IPv6 in brackets or not; `*` = any.
   * IP literals and `localhost` are always accepted. `undefined` = any (no Host check).
   */
  readonly allowedHosts?: readonly string[];
  /** The `--cors-origin` list (`*` = any): these origins may call the API from a browser. */
  readonly corsOrigins?: readonly string[];
}

/** `host` or `[v6]`, optional `:port`; nothing else (no user info, path or spaces). */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[^\s:/?#@[\]\\]+)(?::(\d{1,5}))?$/i;

interface HostPort {
  /** Lowercased, without a trailing dot, IPv6 without brackets. */
  readonly hostname: string;
  /** `undefined` when the header has none (the scheme's default). */
  readonly port: string | undefined;
}

/** Parse a `Host` header value; `undefined` when it is not a valid one. */
export function parseHostHeader(value: string): HostPort | undefined {
  const m = HOST_HEADER.exec(value.trim());
  if (m === null || m[1] === undefined) return undefined;
  return { hostname: normalizeHostname(m[1]), port: m[2] };
}

function normalizeHostname(name: string): string {
  let n = name.toLowerCase();
  if (n.startsWith("[") && n.endsWith("]")) n = n.slice(1, -1);
  if (n.endsWith(".")) n = n.slice(0, -1);
  return n;
}

/** True for the names and addresses of the loopback interface (`localhost`, `127.0.0.0/8`, `::1`). */
export function isLoopbackHost(host: string): boolean {
  const n = normalizeHostname(host);
  if (n === "localhost" || n.endsWith(".localhost")) return true;
  if (isIP(n) === 4) return n.startsWith("127.");
  if (isIP(n) === 6) return n === "::1" || n === "0:0:0:0:0:0:0:1" || /^::ffff:127\./.test(n);
  return false;
}

/**
 * The Host names a server bound to `bindHost` accepts: `allowedHosts` when given; otherwise, on a
 * loopback address, the loopback names and the bound host; on any other address (`0.0.0.0`, `::`, a LAN
 * address) any name (`*`).
 */
export function defaultAllowedHosts(bindHost: string, allowedHosts: readonly string[] | undefined): readonly string[] {
  if (allowedHosts !== undefined && allowedHosts.length > 0) return [...allowedHosts, bindHost];
  if (isLoopbackHost(bindHost)) return ["localhost", "127.0.0.1", "::1", bindHost];
  return ["*"];
}

function originAllowed(origin: string, host: HostPort | undefined, corsOrigins: readonly string[]): boolean {
  if (corsOrigins.includes("*") || corsOrigins.includes(origin)) return true;
  if (host === undefined) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // `null` (sandboxed frames, file: pages) or garbage
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  const defaultPort = url.protocol === "https:" ? "443" : "80";
  return normalizeHostname(url.hostname) === host.hostname && (url.port || defaultPort) === (host.port ?? defaultPort);
}

/** The Host and Origin checks as one middleware (403 `permission_error`). */
export function browserGuard(options: BrowserGuardOptions): MiddlewareHandler {
  const anyHost = options.allowedHosts === undefined || options.allowedHosts.includes("*");
  const hosts = new Set((options.allowedHosts ?? []).map(normalizeHostname));
  const corsOrigins = options.corsOrigins ?? [];
  return async (c, next) => {
    const hostHeader = c.req.header("host");
    const host = hostHeader === undefined ? undefined : parseHostHeader(hostHeader);
    if (!anyHost && hostHeader !== undefined) {
      const ok = host !== undefined && (host.hostname === "localhost" || isIP(host.hostname) !== 0 || hosts.has(host.hostname));
      if (!ok) {
        throw new ApiError(
          403,
          "permission_error",
          `The Host header '${hostHeader.slice(0, 100)}' is not one this server answers to; start it with --allowed-hosts <names> to accept it.`,
          { code: "host_not_allowed" },
        );
      }
    }
    const origin = c.req.header("origin");
    if (origin !== undefined && !originAllowed(origin, host, corsOrigins)) {
      throw new ApiError(
        403,
        "permission_error",
        `Requests from the origin '${origin.slice(0, 100)}' are not allowed; start the server with --cors-origin <origin> to allow a web page there to call it.`,
        { code: "origin_not_allowed" },
      );
    }
    return next();
  };
}
