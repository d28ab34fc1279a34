/**
 * The configured MCP servers as agent tools. {@link McpToolset.start} connects every server (in
 * parallel; one that cannot start fails the whole start, naming it, and the others are closed again),
 * then exposes their tools as {@link AgentTool}s that call through the MCP client:
 *
 * - names: a tool keeps its own name unless another server (or a reserved local tool) has the same one;
 *   then every colliding tool is `<label>__<name>`. Characters a Hermes/OpenAI tool name cannot hold
 *   become `_`.
 * - schemas: each tool's `inputSchema` is compiled to a grammar once, when it is listed; a schema the
 *   converter cannot enforce is reported once (server, tool, keyword) and that tool's arguments are then
 *   constrained to a JSON object and checked by the validator only ({@link McpToolSummary.enforcement}).
 * - results: {@link mcpResultContent}; `isError` results, timeouts, a server that exits mid-call and
 *   a cancelled run are thrown, so the agent loop gives the model a tool error (never a hang).
 */
import type { AgentTool } from "../agent/index.js";
import { JsonSchemaGrammarError, jsonSchemaConstraint } from "../grammar/index.js";
import type { McpServerConfig } from "./config.js";
import { McpConnection, type McpConnectionOptions, type McpToolInfo } from "./connection.js";
import { mcpResultContent } from "./result.js";

/** One tool of one server, as exposed. */
export interface McpToolSummary {
  /** The name the model sees (and calls). */
  readonly name: string;
  /** The server's own name for it. */
  readonly remoteName: string;
  readonly server: string;
  readonly title?: string;
  readonly description?: string;
  readonly inputSchema: Readonly<Record<string, unknown>>;
  /** `grammar`: the arguments are generated under the schema's grammar; `validation`: only validated (see `unenforced`). */
  readonly enforcement: "grammar" | "validation";
  /** Why the schema has no grammar: the keyword and where. */
  readonly unenforced?: { readonly keyword?: string; readonly path: string; readonly message: string };
  /** The server's `annotations` (`readOnlyHint`, `destructiveHint`, …). */
  readonly annotations?: Readonly<Record<string, unknown>>;
}

/** One server, as the web UI and `/v1/mcp/servers` list it. */
export interface McpServerSummary {
  readonly label: string;
  readonly state: McpConnection["state"];
  readonly transport: "stdio" | "http" | "sse";
  readonly serverName?: string;
  readonly toolTimeoutMs: number;
  readonly lastError?: string;
  readonly tools: readonly McpToolSummary[];
}

/** Which tools a run may use: labels → allowed tool names (their own names) or all. */
export type McpToolSelection = ReadonlyMap<string, ReadonlySet<string> | "all">;

export interface McpToolsetOptions extends Pick<McpConnectionOptions, "connectTimeoutMs" | "clientName"> {
  /** Warnings (unenforceable schemas, renamed tools, servers that went away). Default: nothing. */
  readonly log?: (line: string) => void;
  /** Names already taken by other tools (e.g. `--tools` modules): colliding MCP tools are namespaced. Default none. */
  readonly reservedNames?: readonly string[];
}

export class McpToolsetError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "McpToolsetError";
  }
}

const NAME_OK = /^[A-Za-z0-9_.-]{1,64}$/;

function sanitize(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 64);
  return s === "" ? "tool" : s;
}

export class McpToolset {
  readonly #connections: McpConnection[];
  readonly #log: (line: string) => void;
  readonly #reserved: ReadonlySet<string>;
  /** Unenforceable-schema reports already made ("label\0tool\0schema"). */
  readonly #reported = new Set<string>();
  #summaries: McpToolSummary[] = [];
  readonly #listeners = new Set<() => void>();

  private constructor(connections: McpConnection[], options: McpToolsetOptions) {
    this.#connections = connections;
    this.#log = options.log ?? (() => undefined);
    this.#reserved = new Set(options.reservedNames ?? []);
  }

  /** Connect every server of `configs` and list their tools. Throws {@link McpToolsetError} naming the failed servers. */
  static async start(configs: readonly McpServerConfig[], options: McpToolsetOptions = {}): Promise<McpToolset> {
    const labels = new Set<string>();
    for (const c of configs) {
      if (labels.has(c.label)) throw new McpToolsetError(`two MCP servers are named "${c.label}"`);
      labels.add(c.label);
    }
    let set: McpToolset | undefined;
    const connections = configs.map(
      (config) =>
        new McpConnection(config, {
          ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
          ...(options.clientName === undefined ? {} : { clientName: options.clientName }),
          ...(options.log === undefined ? {} : { log: options.log }),
          onToolsChanged: () => set?.refresh(),
        }),
    );
    set = new McpToolset(connections, options);
    const results = await Promise.allSettled(connections.map((c) => c.connect()));
    const failed = results.flatMap((r) => (r.status === "rejected" ? [r.reason as Error] : []));
    if (failed.length > 0) {
      await set.close();
      throw new McpToolsetError(failed.map((e) => e.message).join("\n"), { cause: failed[0] });
    }
    set.refresh();
    return set;
  }

  /** The configured server labels, in config order. */
  get labels(): readonly string[] {
    return this.#connections.map((c) => c.label);
  }

  /** Listen for tool-list changes (a server's `tools/list_changed`). Returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Recompute exposed names and grammar checks from the connections' current tool lists. */
  refresh(): void {
    const offered = (c: McpConnection): readonly McpToolInfo[] => (c.config.tools === undefined ? c.tools : c.tools.filter((t) => c.config.tools?.includes(t.name)));
    const count = new Map<string, number>();
    for (const c of this.#connections) for (const t of offered(c)) count.set(sanitize(t.name), (count.get(sanitize(t.name)) ?? 0) + 1);
    const out: McpToolSummary[] = [];
    const taken = new Set<string>(this.#reserved);
    for (const c of this.#connections) {
      for (const tool of offered(c)) {
        const base = sanitize(tool.name);
        let name = (count.get(base) ?? 0) > 1 || this.#reserved.has(base) ? sanitize(`${c.label}__${base}`) : base;
        for (let i = 2; taken.has(name); i++) name = sanitize(`${c.label}__${base}`).slice(0, 60) + `_${i}`;
        taken.add(name);
        if (!NAME_OK.test(tool.name)) this.#reportOnce(`${c.label}\0${tool.name}\0name`, `talaria: MCP server "${c.label}": tool "${tool.name}" is exposed as "${name}" (a tool name holds only A-Z a-z 0-9 _ . -, at most 64)`);
        out.push(this.#summarize(c.label, name, tool));
      }
    }
    this.#summaries = out;
    for (const l of this.#listeners) l();
  }

  #reportOnce(key: string, line: string): void {
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#log(line);
  }

  #summarize(label: string, name: string, tool: McpToolInfo): McpToolSummary {
    let unenforced: McpToolSummary["unenforced"];
    try {
      jsonSchemaConstraint(tool.inputSchema);
    } catch (error) {
      const e = error instanceof JsonSchemaGrammarError ? error : undefined;
      unenforced = { ...(e?.keyword === undefined ? {} : { keyword: e.keyword }), path: e?.path ?? "#", message: error instanceof Error ? error.message : String(error) };
      this.#reportOnce(
        `${label}\0${tool.name}\0${JSON.stringify(tool.inputSchema)}`,
        `talaria: MCP server "${label}": tool "${tool.name}": its input schema cannot be enforced by the grammar ` +
          `(${unenforced.keyword === undefined ? unenforced.message : `keyword "${unenforced.keyword}" at ${unenforced.path}`}); ` +
          `its arguments are generated as a JSON object and checked by the validator only`,
      );
    }
    return {
      name,
      remoteName: tool.name,
      server: label,
      ...(tool.title === undefined ? {} : { title: tool.title }),
      ...(tool.description === undefined ? {} : { description: tool.description }),
      inputSchema: tool.inputSchema,
      enforcement: unenforced === undefined ? "grammar" : "validation",
      ...(unenforced === undefined ? {} : { unenforced }),
      ...(tool.annotations === undefined ? {} : { annotations: tool.annotations }),
    };
  }

  /** Every server with its state and tools. */
  servers(): McpServerSummary[] {
    return this.#connections.map((c) => ({
      label: c.label,
      state: c.state,
      transport: c.config.transport.kind,
      ...(c.serverName === undefined ? {} : { serverName: c.serverName }),
      toolTimeoutMs: c.config.toolTimeoutMs,
      ...(c.lastError === undefined ? {} : { lastError: c.lastError }),
      tools: this.#summaries.filter((t) => t.server === c.label),
    }));
  }

  /** The exposed tool called `name`. */
  tool(name: string): McpToolSummary | undefined {
    return this.#summaries.find((t) => t.name === name);
  }

  /** The tools of `selection` (default: every tool of every server). */
  summaries(selection?: McpToolSelection): McpToolSummary[] {
    if (selection === undefined) return [...this.#summaries];
    return this.#summaries.filter((t) => {
      const allowed = selection.get(t.server);
      return allowed !== undefined && (allowed === "all" || allowed.has(t.remoteName));
    });
  }

  /** The tools of `selection` as agent tools (calls go to their servers). */
  agentTools(selection?: McpToolSelection): AgentTool<never>[] {
    return this.summaries(selection).map((summary) => this.#agentTool(summary));
  }

  #agentTool(summary: McpToolSummary): AgentTool<never> {
    const connection = this.#connections.find((c) => c.label === summary.server) as McpConnection;
    return {
      name: summary.name,
      ...(summary.description === undefined ? {} : { description: summary.description }),
      parameters: summary.inputSchema,
      ...(summary.enforcement === "validation" ? { argumentsConstraint: "json-object" as const } : {}),
      execute: async (args: Record<string, unknown>, context) => {
        const result = await connection.callTool(summary.remoteName, args, { signal: context.signal });
        return mcpResultContent(result, summary.remoteName);
      },
    } as AgentTool<never>;
  }

  /** Call an exposed tool directly (an approved Responses API call). */
  async call(name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<string> {
    const summary = this.tool(name);
    if (summary === undefined) throw new McpToolsetError(`no MCP tool is named ${JSON.stringify(name)}`);
    return (await this.#agentTool(summary).execute(args as never, { signal: signal ?? new AbortController().signal, callId: "", step: 0 })) as string;
  }

  /** The connection of a server (for tests and diagnostics). */
  connection(label: string): McpConnection | undefined {
    return this.#connections.find((c) => c.label === label);
  }

  /** Close every server (stdio children are ended). Idempotent. */
  async close(): Promise<void> {
    await Promise.all(this.#connections.map((c) => c.close()));
  }
}
