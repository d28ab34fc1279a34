/**
 * MCP server configuration: the common `mcpServers` JSON shape (Claude Desktop, Cursor, Cline; VS Code's
 * `servers` key is accepted too), read from `--mcp FILE` or the `mcp` section of `talaria serve --config`.
 *
 * ```json
 * { "mcpServers": {
 *     "fs":  { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/data"] },
 *     "api": { "url": "https://mcp.example.com/mcp", "headers": { "Authorization": "Bearer ${API_TOKEN}" } } } }
 * ```
 *
 * - stdio servers: `command`, `args` (default none), `env` (added to a minimal inherited environment:
 *   the MCP SDK's `HOME`, `PATH`, `USER`, … only), `cwd` (default: the config file's directory).
 * - remote servers: `url` and `headers`; `type` `"http"` (streamable HTTP, the default for a `url`) or `"sse"`
 *   (the older HTTP+SSE transport).
 * - Talaria's own keys: `timeout` (seconds a tool call may take, default {@link DEFAULT_MCP_TOOL_TIMEOUT_S}),
 *   `tools` (offer only these of its tools: every tool description costs prompt tokens), `disabled`
 *   (skip the server).
 * - `${NAME}` in `args`, `env`, `cwd`, `url` and `headers` is replaced with the environment variable NAME
 *   (an unset one is an error), so secrets stay out of the file.
 *
 * Unknown keys are errors naming the key (a typo must not silently drop, say, a header).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";

/** Seconds one MCP tool call may take before it becomes a tool error (the MCP SDK's own default). */
export const DEFAULT_MCP_TOOL_TIMEOUT_S = 60;
/** Seconds to start a server and finish the MCP handshake. */
export const DEFAULT_MCP_CONNECT_TIMEOUT_S = 30;

export type McpTransportConfig =
  | {
      readonly kind: "stdio";
      readonly command: string;
      readonly args: readonly string[];
      readonly env: Readonly<Record<string, string>>;
      readonly cwd?: string;
    }
  | { readonly kind: "http" | "sse"; readonly url: string; readonly headers: Readonly<Record<string, string>> };

/** One configured MCP server. */
export interface McpServerConfig {
  /** The key in `mcpServers`: the server's label (`server_label` in the Responses API). */
  readonly label: string;
  readonly transport: McpTransportConfig;
  /** Milliseconds one tool call may take. Default {@link DEFAULT_MCP_TOOL_TIMEOUT_S} s. */
  readonly toolTimeoutMs: number;
  /** Only these of the server's tools are offered (its own names). Default: all it lists. */
  readonly tools?: readonly string[];
}

export class McpConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "McpConfigError";
  }
}

/** Server labels: what the Responses API's `server_label` may be. */
export const MCP_LABEL_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const stringMap = z.record(z.string(), z.string());
const entrySchema = z
  .object({
    type: z.enum(["stdio", "http", "streamable-http", "streamableHttp", "sse"]).optional(),
    command: z.string().min(1).optional(),
    args: z.array(z.string()).optional(),
    env: stringMap.optional(),
    cwd: z.string().min(1).optional(),
    url: z.string().min(1).optional(),
    headers: stringMap.optional(),
    timeout: z.number().positive().optional(),
    tools: z.array(z.string().min(1)).optional(),
    disabled: z.boolean().optional(),
  })
  .strict();
const fileSchema = z
  .object({ mcpServers: z.record(z.string(), z.unknown()).optional(), servers: z.record(z.string(), z.unknown()).optional() })
  .strict();

function expand(value: string, where: string, env: Readonly<Record<string, string | undefined>>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
    const v = env[name];
    if (v === undefined) throw new McpConfigError(`${where} uses \${${name}}, which is not set in the environment`);
    return v;
  });
}

function describeZod(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const at = i.path.length === 0 ? "" : `${i.path.map(String).join(".")}: `;
      if (i.code === "unrecognized_keys") return `${at}unknown key${i.keys.length === 1 ? "" : "s"} ${i.keys.map((k) => JSON.stringify(k)).join(", ")}`;
      return `${at}${i.message}`;
    })
    .join("; ");
}

export interface ParseMcpConfigOptions {
  /** Names the source in errors. Default `the MCP config`. */
  readonly source?: string;
  /** Relative `cwd`s resolve against it, and it is the default `cwd`. Default: the process's. */
  readonly baseDir?: string;
  /** For `${NAME}`. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Seconds a tool call may take on servers that set no `timeout`. Default {@link DEFAULT_MCP_TOOL_TIMEOUT_S}. */
  readonly defaultTimeoutS?: number;
}

/**
 * The servers of an `mcpServers` document (the whole file, or a bare map of label → entry). Disabled
 * servers are left out. Throws {@link McpConfigError} naming the file, the server and the key.
 */
export function parseMcpConfig(document: unknown, options: ParseMcpConfigOptions = {}): McpServerConfig[] {
  const source = options.source ?? "the MCP config";
  const env = options.env ?? process.env;
  if (typeof document !== "object" || document === null || Array.isArray(document)) throw new McpConfigError(`${source}: expected a JSON object {"mcpServers": {…}}`);
  let map: Record<string, unknown>;
  if ("mcpServers" in document || "servers" in document) {
    const parsed = fileSchema.safeParse(document);
    if (!parsed.success) throw new McpConfigError(`${source}: ${describeZod(parsed.error)}`);
    if (parsed.data.mcpServers !== undefined && parsed.data.servers !== undefined) throw new McpConfigError(`${source}: give "mcpServers" or "servers", not both`);
    map = parsed.data.mcpServers ?? parsed.data.servers ?? {};
  } else {
    map = document as Record<string, unknown>;
  }
  const out: McpServerConfig[] = [];
  for (const [label, raw] of Object.entries(map)) {
    const where = `${source}: server "${label}"`;
    if (!MCP_LABEL_PATTERN.test(label)) throw new McpConfigError(`${where}: a server name must be 1-64 characters of A-Z a-z 0-9 _ -`);
    const parsed = entrySchema.safeParse(raw);
    if (!parsed.success) throw new McpConfigError(`${where}: ${describeZod(parsed.error)}`);
    const e = parsed.data;
    if (e.disabled === true) continue;
    const x = (value: string, key: string): string => expand(value, `${where}: ${key}`, env);
    const remote = e.url !== undefined;
    if (remote === (e.command !== undefined)) throw new McpConfigError(`${where}: give "command" (a stdio server) or "url" (a remote server), exactly one`);
    let transport: McpTransportConfig;
    if (e.command !== undefined) {
      if (e.type !== undefined && e.type !== "stdio") throw new McpConfigError(`${where}: "type": "${e.type}" needs a "url", not a "command"`);
      if (e.headers !== undefined) throw new McpConfigError(`${where}: "headers" are for remote (url) servers`);
      const base = options.baseDir ?? process.cwd();
      transport = {
        kind: "stdio",
        command: x(e.command, "command"),
        args: (e.args ?? []).map((a, i) => x(a, `args[${i}]`)),
        env: Object.fromEntries(Object.entries(e.env ?? {}).map(([k, v]) => [k, x(v, `env.${k}`)])),
        cwd: path.resolve(base, x(e.cwd ?? ".", "cwd")),
      };
    } else {
      if (e.type === "stdio") throw new McpConfigError(`${where}: "type": "stdio" needs a "command", not a "url"`);
      for (const key of ["args", "env", "cwd"] as const) if (e[key] !== undefined) throw new McpConfigError(`${where}: "${key}" is for stdio (command) servers`);
      const url = x(e.url as string, "url");
      let parsedUrl: URL;
      try {
        parsedUrl = new URL(url);
      } catch {
        throw new McpConfigError(`${where}: "url" is not a URL: ${JSON.stringify(url)}`);
      }
      if (parsedUrl.protocol !== "http:" && parsedUrl.protocol !== "https:") throw new McpConfigError(`${where}: "url" must be http or https`);
      transport = {
        kind: e.type === "sse" ? "sse" : "http",
        url,
        headers: Object.fromEntries(Object.entries(e.headers ?? {}).map(([k, v]) => [k, x(v, `headers.${k}`)])),
      };
    }
    out.push({
      label,
      transport,
      toolTimeoutMs: Math.round((e.timeout ?? options.defaultTimeoutS ?? DEFAULT_MCP_TOOL_TIMEOUT_S) * 1000),
      ...(e.tools === undefined ? {} : { tools: e.tools }),
    });
  }
  return out;
}

/** Read and parse an MCP config file (see {@link parseMcpConfig}; `cwd`s resolve against the file's directory). */
export async function readMcpConfig(file: string, options: Pick<ParseMcpConfigOptions, "env" | "defaultTimeoutS"> = {}): Promise<McpServerConfig[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new McpConfigError(`cannot read the MCP config ${file}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new McpConfigError(`${file} is not JSON: ${(error as Error).message}`);
  }
  return parseMcpConfig(document, { ...options, source: file, baseDir: path.dirname(path.resolve(file)) });
}
