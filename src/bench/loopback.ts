/**
 * The load generator refuses non-loopback targets unless `--allow-remote` is given: a benchmark sends
 * hundreds of requests, and pointing it at someone else's server by mistake is a denial of service.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

/** True for 127.0.0.0/8, ::1 and IPv4-mapped ::ffff:127.x.y.z. */
export function isLoopbackAddress(address: string): boolean {
  const a = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  const family = isIP(a);
  if (family === 4) return a.split(".")[0] === "127";
  if (family === 6) {
    const lower = a.toLowerCase();
    if (lower === "::1" || lower === "0:0:0:0:0:0:0:1") return true;
    // IPv4-mapped: ::ffff:127.0.0.1, or as WHATWG URL writes it, ::ffff:7f00:1
    const dotted = /^(?:0:0:0:0:0:|::)ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (dotted !== null) return isLoopbackAddress(dotted[1] as string);
    const hex = /^(?:0:0:0:0:0:|::)ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/.exec(lower);
    if (hex !== null) return parseInt(hex[1] as string, 16) >> 8 === 127;
  }
  return false;
}

export class RemoteTargetError extends Error {
  constructor(
    message: string,
    readonly host: string,
  ) {
    super(message);
    this.name = "RemoteTargetError";
  }
}

/**
 * Resolves the URL's host and throws {@link RemoteTargetError} unless every address it resolves to is
 * a loopback address (or `allowRemote` is set). `resolve` is injectable for tests.
 */
export async function assertLoopbackTarget(
  url: string,
  options: { readonly allowRemote?: boolean; readonly resolve?: (host: string) => Promise<readonly string[]> } = {},
): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RemoteTargetError(`not a URL: ${url}`, url);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new RemoteTargetError(`unsupported protocol ${parsed.protocol} (use http or https)`, parsed.hostname);
  if (options.allowRemote === true) return;
  const host = parsed.hostname;
  const bare = host.startsWith("[") ? host.slice(1, -1) : host;
  let addresses: readonly string[];
  if (isIP(bare) !== 0) addresses = [bare];
  else {
    const resolve = options.resolve ?? (async (h: string) => (await lookup(h, { all: true })).map((a) => a.address));
    try {
      addresses = await resolve(bare);
    } catch (error) {
      throw new RemoteTargetError(`cannot resolve ${bare}: ${error instanceof Error ? error.message : String(error)}`, bare);
    }
  }
  const remote = addresses.filter((a) => !isLoopbackAddress(a));
  if (addresses.length === 0 || remote.length > 0) {
    throw new RemoteTargetError(
      `refusing to load-test ${bare} (${remote.join(", ") || "no address"} is not a loopback address); pass --allow-remote to benchmark a remote server`,
      bare,
    );
  }
}
