/** Run the app on Node's HTTP server (@hono/node-server). */
import { serve, type ServerType } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { createTalariaApp, type TalariaApp, type TalariaAppOptions } from "./app.js";
import { defaultAllowedHosts } from "./browser-guard.js";

export interface TalariaServerOptions extends TalariaAppOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host?: string;
  /** Port; 0 = any free port. Default 8080. */
  readonly port?: number;
}

export interface RunningServer extends TalariaApp {
  /** Base URL, e.g. `http://127.0.0.1:8080` (OpenAI clients use `${url}/v1`). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Stop accepting connections, end open ones, and resolve when the server is closed. */
  close(): Promise<void>;
}

export async function startServer(options: TalariaServerOptions): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  // Bound to loopback: only loopback names (and IP literals) in `Host`, unless `allowedHosts` says more.
  const talaria = createTalariaApp({ ...options, allowedHosts: defaultAllowedHosts(host, options.allowedHosts) });
  const requestedPort = options.port ?? 8080;
  let server: ServerType | undefined;
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    // overrideGlobalObjects: false — a library must not replace the process's global Request/Response.
    server = serve({ fetch: talaria.app.fetch, hostname: host, port: requestedPort, overrideGlobalObjects: false }, (info) => resolve(info));
    server.once("error", reject);
  });
  const s = server as ServerType;
  const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    ...talaria,
    url: `http://${urlHost}:${address.port}`,
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        s.close((error) => (error === undefined ? resolve() : reject(error)));
        if ("closeAllConnections" in s) s.closeAllConnections();
      }),
  };
}
