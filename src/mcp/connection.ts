/**
 * One MCP server, through `@modelcontextprotocol/sdk`'s client: start (stdio) or reach (streamable HTTP,
 * SSE) it, finish the handshake within a deadline, keep its tool list (refreshed on
 * `notifications/tools/list_changed`), call tools with a timeout and an `AbortSignal` (the SDK sends
 * `notifications/cancelled`), and close it for good — a stdio child gets stdin closed, then SIGTERM,
 * then SIGKILL (the SDK's sequence), so no child outlives its connection.
 *
 * A server that exits or drops the connection fails its in-flight calls at once ("connection closed")
 * and is started again on its next call (at most once per call).
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import { DEFAULT_MCP_CONNECT_TIMEOUT_S, type McpServerConfig } from "./config.js";

/** A tool as the server lists it. */
export interface McpToolInfo {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly inputSchema: Record<string, unknown>;
  /** `annotations.readOnlyHint` etc., as the server sent them. */
  readonly annotations?: Readonly<Record<string, unknown>>;
}

export type McpConnectionState = "idle" | "connecting" | "ready" | "closed" | "failed";

export class McpConnectionError extends Error {
  constructor(
    message: string,
    /** `connect` (start or handshake failed), `timeout`, `closed` (the server went away), `aborted`, `protocol`. */
    readonly kind: "connect" | "timeout" | "closed" | "aborted" | "protocol",
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "McpConnectionError";
  }
}

export interface McpConnectionOptions {
  /** Milliseconds to start and initialize. Default {@link DEFAULT_MCP_CONNECT_TIMEOUT_S} s. */
  readonly connectTimeoutMs?: number;
  /** Told when the tool list changed (after the refresh). */
  readonly onToolsChanged?: (tools: readonly McpToolInfo[]) => void;
  /** Diagnostic lines (a server that exited, a failed refresh). Default: nothing. */
  readonly log?: (line: string) => void;
  /** The client's name in the handshake. Default `talaria`. */
  readonly clientName?: string;
}

/** Most tools kept from one server (pages of `tools/list` beyond are not fetched). */
const MAX_TOOLS = 1000;
/** Characters of a stdio server's stderr kept for error messages. */
const STDERR_TAIL = 2000;

export class McpConnection {
  readonly config: McpServerConfig;
  #options: McpConnectionOptions;
  #client: Client | undefined;
  #transport: Transport | undefined;
  #state: McpConnectionState = "idle";
  #tools: McpToolInfo[] = [];
  #stderr = "";
  #lastError: string | undefined;
  #connecting: Promise<void> | undefined;
  #closedForGood = false;
  #serverName: string | undefined;

  constructor(config: McpServerConfig, options: McpConnectionOptions = {}) {
    this.config = config;
    this.#options = options;
  }

  get label(): string {
    return this.config.label;
  }
  get state(): McpConnectionState {
    return this.#state;
  }
  /** The tools of the last `tools/list`. */
  get tools(): readonly McpToolInfo[] {
    return this.#tools;
  }
  /** Why the connection last failed or closed. */
  get lastError(): string | undefined {
    return this.#lastError;
  }
  /** The server's `serverInfo.name` from the handshake. */
  get serverName(): string | undefined {
    return this.#serverName;
  }
  /** The stdio child's pid while it runs. */
  get pid(): number | undefined {
    const t = this.#transport;
    return t instanceof StdioClientTransport ? (t.pid ?? undefined) : undefined;
  }

  /** Start/reach the server and list its tools. Throws {@link McpConnectionError} (`connect`). */
  connect(): Promise<void> {
    if (this.#closedForGood) return Promise.reject(new McpConnectionError(`MCP server "${this.label}" is closed`, "closed"));
    if (this.#state === "ready") return Promise.resolve();
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    this.#state = "connecting";
    this.#stderr = "";
    const transport = this.#makeTransport();
    const client = new Client(
      { name: this.#options.clientName ?? "talaria", version: "0.1.0" },
      {
        capabilities: {},
        listChanged: {
          tools: {
            onChanged: (error, tools) => {
              if (client !== this.#client) return;
              if (error !== null) {
                this.#options.log?.(`talaria: MCP server "${this.label}": refreshing its tools failed: ${error.message}`);
                return;
              }
              if (tools !== null) {
                this.#tools = tools.slice(0, MAX_TOOLS).map(toInfo);
                this.#options.onToolsChanged?.(this.#tools);
              }
            },
          },
        },
      },
    );
    transport.onclose = undefined;
    const timeoutMs = this.#options.connectTimeoutMs ?? DEFAULT_MCP_CONNECT_TIMEOUT_S * 1000;
    try {
      await client.connect(transport, { timeout: timeoutMs });
      client.onclose = () => this.#onClosed(client);
      this.#serverName = client.getServerVersion()?.name;
      this.#client = client;
      this.#transport = transport;
      this.#tools = await this.#listTools(client, timeoutMs);
      this.#state = "ready";
      this.#lastError = undefined;
    } catch (error) {
      this.#client = undefined;
      this.#transport = undefined;
      await client.close().catch(() => undefined);
      await transport.close().catch(() => undefined);
      this.#state = "failed";
      const reason = describe(error);
      this.#lastError = reason;
      const stderr = this.#stderr.trim();
      throw new McpConnectionError(
        `MCP server "${this.label}" (${this.#where()}) did not start: ${reason}${stderr === "" ? "" : `; its stderr ends: ${stderr.slice(-500)}`}`,
        "connect",
        { cause: error },
      );
    }
  }

  async #listTools(client: Client, timeoutMs: number): Promise<McpToolInfo[]> {
    const out: McpToolInfo[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout: timeoutMs });
      for (const tool of page.tools) if (out.length < MAX_TOOLS) out.push(toInfo(tool));
      cursor = page.nextCursor;
    } while (cursor !== undefined && out.length < MAX_TOOLS);
    return out;
  }

  #where(): string {
    const t = this.config.transport;
    return t.kind === "stdio" ? [t.command, ...t.args].join(" ") : t.url;
  }

  #makeTransport(): Transport {
    const t = this.config.transport;
    switch (t.kind) {
      case "stdio": {
        const transport = new StdioClientTransport({
          command: t.command,
          args: [...t.args],
          env: { ...getDefaultEnvironment(), ...t.env },
          ...(t.cwd === undefined ? {} : { cwd: t.cwd }),
          stderr: "pipe",
        });
        transport.stderr?.on("data", (chunk: Buffer) => {
          this.#stderr = (this.#stderr + chunk.toString("utf8")).slice(-STDERR_TAIL);
        });
        return transport;
      }
      case "http":
        return new StreamableHTTPClientTransport(new URL(t.url), { requestInit: { headers: { ...t.headers } } });
      case "sse":
        return new SSEClientTransport(new URL(t.url), { requestInit: { headers: { ...t.headers } } });
      default:
        t satisfies never;
        throw new Error("unreachable");
    }
  }

  #onClosed(client: Client): void {
    if (client !== this.#client) return;
    this.#client = undefined;
    this.#transport = undefined;
    if (this.#closedForGood) return;
    this.#state = "closed";
    const stderr = this.#stderr.trim();
    this.#lastError = `the server closed the connection${stderr === "" ? "" : ` (its stderr ends: ${stderr.slice(-300)})`}`;
    this.#options.log?.(`talaria: MCP server "${this.label}": ${this.#lastError}; it is started again on its next call`);
  }

  /**
   * Call a tool. Throws {@link McpConnectionError}: `timeout` past `timeoutMs` (default: the server's
   * configured timeout), `aborted` when `signal` fires, `closed` when the server goes away mid-call,
   * `connect` when it cannot be (re)started, `protocol` for an MCP error reply (unknown tool, bad params).
   */
  async callTool(name: string, args: Record<string, unknown>, options: { readonly signal?: AbortSignal; readonly timeoutMs?: number } = {}): Promise<CallToolResult> {
    const timeoutMs = options.timeoutMs ?? this.config.toolTimeoutMs;
    options.signal?.throwIfAborted();
    if (this.#state !== "ready") await this.connect();
    const client = this.#client;
    if (client === undefined) throw new McpConnectionError(`MCP server "${this.label}" is not connected`, "closed");
    try {
      const result = await client.callTool({ name, arguments: args }, undefined, {
        timeout: timeoutMs,
        maxTotalTimeout: timeoutMs,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      return result as CallToolResult;
    } catch (error) {
      if (options.signal?.aborted === true) throw new McpConnectionError(`the call of ${name} was cancelled`, "aborted", { cause: error });
      const code = (error as { code?: unknown }).code;
      if (code === -32001) throw new McpConnectionError(`${name} did not answer within ${timeoutMs / 1000} s (the MCP server "${this.label}" timeout)`, "timeout", { cause: error });
      if (code === -32000 || this.#client !== client) {
        throw new McpConnectionError(`the MCP server "${this.label}" went away during the call of ${name}: ${this.#lastError ?? describe(error)}`, "closed", { cause: error });
      }
      throw new McpConnectionError(`the MCP server "${this.label}" refused the call of ${name}: ${describe(error)}`, "protocol", { cause: error });
    }
  }

  /** Close for good (stdio: the child is ended; idempotent). */
  async close(): Promise<void> {
    this.#closedForGood = true;
    this.#state = "closed";
    const pending = this.#connecting;
    if (pending !== undefined) await pending.catch(() => undefined);
    const client = this.#client;
    const transport = this.#transport;
    this.#client = undefined;
    this.#transport = undefined;
    await client?.close().catch(() => undefined);
    await transport?.close().catch(() => undefined);
  }
}

function toInfo(tool: Tool): McpToolInfo {
  return {
    name: tool.name,
    ...(tool.title === undefined ? {} : { title: tool.title }),
    ...(tool.description === undefined ? {} : { description: tool.description }),
    inputSchema: tool.inputSchema as Record<string, unknown>,
    ...(tool.annotations === undefined ? {} : { annotations: tool.annotations as Record<string, unknown> }),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
