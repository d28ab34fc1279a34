/**
 * MCP tools in a request: the Responses API's documented tool
 * `{"type": "mcp", "server_label": …, "allowed_tools": …, "require_approval": …}`, accepted in the same
 * shape in the chat API's `tools` (Talaria's extension; docs/mcp.md). A request only picks among the
 * servers the operator configured (`talaria serve --mcp`): a label that is not configured, or any
 * attempt to say where a server is or how to start it (`server_url`, `connector_id`, `headers`,
 * `authorization`, `command`, …), is a 400 naming the field. Nothing in a request is ever started or
 * contacted.
 */
import { z } from "zod";
import type { McpToolSelection, McpToolset } from "../../mcp/index.js";
import { ApiError } from "../errors.js";

const toolNames = z.array(z.string().min(1)).max(1000);
const filter = z.object({ tool_names: toolNames.nullish(), read_only: z.boolean().nullish() }).strict();

const mcpToolSchema = z
  .object({
    type: z.literal("mcp"),
    server_label: z.string().min(1).max(64),
    server_description: z.string().nullish(),
    allowed_tools: z.union([toolNames, filter]).nullish(),
    require_approval: z.union([z.enum(["always", "never"]), z.object({ always: filter.nullish(), never: filter.nullish() }).strict()]).nullish(),
  })
  .strict();
type McpToolEntry = z.infer<typeof mcpToolSchema>;

/** Keys that would say where a server is or how to run one: never honoured. */
const LOCATION_KEYS = ["server_url", "connector_id", "headers", "authorization", "command", "args", "env", "cwd", "url"];

/** What a request's MCP tools resolve to. */
export interface McpRequestTools {
  /** The entries' servers and tools. */
  readonly selection: McpToolSelection;
  /** Whether a call of the exposed tool `name` needs the user's approval. */
  readonly needsApproval: (name: string) => boolean;
  /** The entries, as echoed in a response's `tools`. */
  readonly entries: readonly Record<string, unknown>[];
}

function bad(message: string, param: string, code: string): ApiError {
  return new ApiError(400, "invalid_request_error", message, { param, code });
}

/**
 * Take the `type: "mcp"` entries out of a raw request's `tools` (the rest is returned for the API's own
 * schema). undefined when there are none. `defaultApproval`: the Responses API's documented default is
 * `always`; the chat extension's is `never` (docs/mcp.md).
 */
export function takeMcpTools(
  raw: unknown,
  toolset: McpToolset | undefined,
  defaultApproval: "always" | "never",
): { readonly body: unknown; readonly mcp?: McpRequestTools } {
  if (typeof raw !== "object" || raw === null || !Array.isArray((raw as { tools?: unknown }).tools)) return { body: raw };
  const tools = (raw as { tools: unknown[] }).tools;
  const picked: { entry: McpToolEntry; index: number }[] = [];
  const rest: unknown[] = [];
  tools.forEach((tool, index) => {
    if ((tool as { type?: unknown } | null)?.type !== "mcp") {
      rest.push(tool);
      return;
    }
    const t = tool as Record<string, unknown>;
    for (const key of LOCATION_KEYS) {
      if (key in t) {
        throw bad(
          `tools[${index}].${key}: a request cannot name an MCP server's location or command; this server runs only the MCP servers its operator configured (by server_label).`,
          `tools[${index}].${key}`,
          "mcp_server_not_allowed",
        );
      }
    }
    const parsed = mcpToolSchema.safeParse(tool);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = [`tools[${index}]`, ...(issue?.path ?? []).map(String)].join(".");
      const keys = issue?.code === "unrecognized_keys" ? `unknown key(s) ${issue.keys.join(", ")}` : (issue?.message ?? "invalid");
      throw bad(`${where}: ${keys}`, where, "invalid_value");
    }
    picked.push({ entry: parsed.data, index });
  });
  if (picked.length === 0) return { body: raw };
  if (toolset === undefined) {
    throw bad(`tools[${picked[0]?.index ?? 0}]: this server has no MCP servers configured (talaria serve --mcp FILE).`, `tools[${picked[0]?.index ?? 0}].server_label`, "unknown_mcp_server");
  }
  const selection = new Map<string, Set<string> | "all">();
  const always = new Set<string>();
  const never = new Set<string>();
  for (const { entry, index } of picked) {
    const label = entry.server_label;
    const server = toolset.servers().find((s) => s.label === label);
    if (server === undefined) {
      throw bad(
        `tools[${index}].server_label: no MCP server is configured as '${label}'; this server offers: ${toolset.labels.join(", ") || "none"}.`,
        `tools[${index}].server_label`,
        "unknown_mcp_server",
      );
    }
    if (selection.has(label)) throw bad(`tools[${index}].server_label: '${label}' is given twice.`, `tools[${index}].server_label`, "invalid_value");
    const allowed = Array.isArray(entry.allowed_tools) ? entry.allowed_tools : (entry.allowed_tools?.tool_names ?? undefined);
    const readOnly = !Array.isArray(entry.allowed_tools) && entry.allowed_tools?.read_only === true;
    let names: Set<string> | "all" = "all";
    if (allowed != null) {
      const known = new Set(server.tools.map((t) => t.remoteName));
      const unknown = allowed.filter((n) => !known.has(n));
      if (unknown.length > 0) {
        throw bad(`tools[${index}].allowed_tools: the MCP server '${label}' has no tool ${unknown.map((n) => `'${n}'`).join(", ")}.`, `tools[${index}].allowed_tools`, "unknown_mcp_tool");
      }
      names = new Set(allowed);
    }
    if (readOnly) {
      const ro = server.tools.filter((t) => t.annotations?.["readOnlyHint"] === true && (names === "all" || names.has(t.remoteName))).map((t) => t.remoteName);
      names = new Set(ro);
    }
    selection.set(label, names);
    const approval = entry.require_approval ?? defaultApproval;
    for (const tool of server.tools) {
      if (names !== "all" && !names.has(tool.remoteName)) continue;
      let needs: boolean;
      if (typeof approval === "string") needs = approval === "always";
      else if (approval.never?.tool_names?.includes(tool.remoteName) === true) needs = false;
      else if (approval.always?.tool_names?.includes(tool.remoteName) === true) needs = true;
      else needs = approval.always == null; // only a `never` list: others need approval; only an `always` list: others do not
      (needs ? always : never).add(tool.name);
    }
  }
  return {
    body: { ...(raw as Record<string, unknown>), tools: rest },
    mcp: {
      selection,
      needsApproval: (name) => always.has(name),
      entries: picked.map(({ entry }) => ({
        type: "mcp",
        server_label: entry.server_label,
        server_description: entry.server_description ?? null,
        allowed_tools: entry.allowed_tools ?? null,
        require_approval: entry.require_approval ?? defaultApproval,
      })),
    },
  };
}
