/**
 * MCP tools in the chat page (pure, DOM-free): the server's `GET /v1/mcp/servers` list, the user's
 * choice of servers and tools (kept in localStorage), the `{"type": "mcp", …}` entries a request
 * carries, and the reply's MCP call cards built from the stream's `delta.mcp_call` /
 * `delta.mcp_approval_request` extension fields. The server runs the calls (docs/mcp.md); the page only
 * shows them and answers approval requests (`POST /v1/mcp/approvals/{id}`).
 */

/** One tool of an MCP server, as `GET /v1/mcp/servers` lists it. */
export interface McpToolInfo {
  /** The server's own name for the tool (what `allowed_tools` and `mcp_call.name` use). */
  readonly name: string;
  /** The name the model sees. */
  readonly exposedName: string;
  readonly title: string | null;
  readonly description: string | null;
  /** `validation`: the schema could not be turned into a grammar; the arguments are only validated. */
  readonly enforcement: "grammar" | "validation";
  /** Why, when `enforcement` is `validation`. */
  readonly unenforced: string | null;
}

export interface McpServerInfo {
  readonly label: string;
  /** `ready`, `connecting`, `failed`, … */
  readonly state: string;
  readonly transport: string;
  readonly serverName: string | null;
  readonly lastError: string | null;
  readonly tools: readonly McpToolInfo[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/** Read a `GET /v1/mcp/servers` body; entries that do not look right are dropped. */
export function parseMcpServers(body: unknown): McpServerInfo[] {
  const data = isRecord(body) && Array.isArray(body["data"]) ? body["data"] : [];
  return data.filter(isRecord).flatMap((s) => {
    const label = str(s["server_label"]);
    if (label === null || label === "") return [];
    const tools = (Array.isArray(s["tools"]) ? s["tools"] : []).filter(isRecord).flatMap((t): McpToolInfo[] => {
      const name = str(t["name"]);
      if (name === null || name === "") return [];
      const unenforced = t["unenforced"];
      return [
        {
          name,
          exposedName: str(t["exposed_name"]) ?? name,
          title: str(t["title"]),
          description: str(t["description"]),
          enforcement: t["enforcement"] === "validation" ? "validation" : "grammar",
          unenforced: isRecord(unenforced) ? str(unenforced["message"]) : null,
        },
      ];
    });
    return [
      {
        label,
        state: str(s["state"]) ?? "unknown",
        transport: str(s["transport"]) ?? "",
        serverName: str(s["server_name"]),
        lastError: str(s["last_error"]),
        tools,
      },
    ];
  });
}

// --- the user's choice -----------------------------------------------------------------------------

/** One server's choice: off until enabled; every tool on unless turned off (so new tools are on too). */
export interface McpServerChoice {
  readonly enabled: boolean;
  readonly disabledTools: readonly string[];
}

export interface McpSettings {
  /** By server label. */
  readonly servers: Readonly<Record<string, McpServerChoice>>;
  /** `require_approval: "always"` (on) or `"never"`. */
  readonly requireApproval: boolean;
}

export const DEFAULT_MCP_SETTINGS: McpSettings = { servers: {}, requireApproval: true };

/** Stored MCP settings, read defensively (anything odd → the defaults for that part). */
export function readMcpSettings(value: unknown): McpSettings {
  if (!isRecord(value)) return DEFAULT_MCP_SETTINGS;
  const servers: Record<string, McpServerChoice> = {};
  if (isRecord(value["servers"])) {
    for (const [label, choice] of Object.entries(value["servers"])) {
      if (!isRecord(choice)) continue;
      const disabled = Array.isArray(choice["disabledTools"]) ? choice["disabledTools"].filter((n): n is string => typeof n === "string") : [];
      servers[label] = { enabled: choice["enabled"] === true, disabledTools: disabled };
    }
  }
  return { servers, requireApproval: typeof value["requireApproval"] === "boolean" ? value["requireApproval"] : true };
}

function choiceOf(settings: McpSettings, label: string): McpServerChoice {
  return settings.servers[label] ?? { enabled: false, disabledTools: [] };
}

export function serverEnabled(settings: McpSettings, label: string): boolean {
  return choiceOf(settings, label).enabled;
}

export function toolEnabled(settings: McpSettings, label: string, tool: string): boolean {
  return !choiceOf(settings, label).disabledTools.includes(tool);
}

export function withServerEnabled(settings: McpSettings, label: string, enabled: boolean): McpSettings {
  return { ...settings, servers: { ...settings.servers, [label]: { ...choiceOf(settings, label), enabled } } };
}

export function withToolEnabled(settings: McpSettings, label: string, tool: string, enabled: boolean): McpSettings {
  const choice = choiceOf(settings, label);
  const rest = choice.disabledTools.filter((n) => n !== tool);
  return { ...settings, servers: { ...settings.servers, [label]: { ...choice, disabledTools: enabled ? rest : [...rest, tool] } } };
}

/** A request's MCP tool entry (Talaria's chat-API extension, the Responses API's `mcp` tool shape). */
export interface McpToolJson {
  readonly type: "mcp";
  readonly server_label: string;
  readonly allowed_tools: readonly string[];
  readonly require_approval: "always" | "never";
}

/**
 * The request's `tools` for the user's choice: one entry per enabled server that has enabled tools, its
 * enabled tools (those the server lists now) as `allowed_tools`. Empty: no MCP tools are on.
 */
export function mcpToolEntries(servers: readonly McpServerInfo[], settings: McpSettings): McpToolJson[] {
  return servers.flatMap((server) => {
    if (!serverEnabled(settings, server.label)) return [];
    const allowed = server.tools.filter((t) => toolEnabled(settings, server.label, t.name)).map((t) => t.name);
    if (allowed.length === 0) return [];
    return [{ type: "mcp", server_label: server.label, allowed_tools: allowed, require_approval: settings.requireApproval ? "always" : "never" }];
  });
}

// --- call cards from the stream --------------------------------------------------------------------

/**
 * `in_progress`, `awaiting_approval`, `completed`, `failed` come from the server; `cancelled` is the
 * page's own, for a call still open when the reply ended (Stop, a lost connection).
 */
export type McpCallStatus = "in_progress" | "awaiting_approval" | "completed" | "failed" | "cancelled";

export interface McpApproval {
  /** The approval request's id (`POST /v1/mcp/approvals/{id}`). */
  readonly id: string;
  /** What the user chose (null: not yet). */
  readonly answer: "approve" | "deny" | null;
  /** Why the answer did not reach the server (e.g. it timed out), else null. */
  readonly problem: string | null;
}

/** One MCP call of a reply, as its card shows it (and as the conversation keeps it). */
export interface McpCall {
  readonly id: string;
  readonly serverLabel: string | null;
  readonly name: string;
  /** The arguments JSON text. */
  readonly arguments: string;
  readonly status: McpCallStatus;
  readonly output: string | null;
  readonly error: string | null;
  readonly approval: McpApproval | null;
  /** Length of the reply text when the call appeared: the card is shown at that point of the text. */
  readonly textOffset: number;
}

const SERVER_STATUSES: readonly McpCallStatus[] = ["in_progress", "awaiting_approval", "completed", "failed"];

function readStatus(value: unknown): McpCallStatus | null {
  return SERVER_STATUSES.find((s) => s === value) ?? null;
}

/**
 * Apply one `delta.mcp_call` object: a new call is added (shown at `textOffset`), a known id is updated
 * (its place and approval state kept). Returns `calls` itself when the object is not a call.
 */
export function applyMcpCallDelta(calls: readonly McpCall[], value: unknown, textOffset: number): readonly McpCall[] {
  if (!isRecord(value)) return calls;
  const id = str(value["id"]);
  if (id === null || id === "") return calls;
  const known = calls.find((c) => c.id === id);
  const status = readStatus(value["status"]) ?? known?.status ?? "in_progress";
  const next: McpCall = {
    id,
    serverLabel: str(value["server_label"]) ?? known?.serverLabel ?? null,
    name: str(value["name"]) ?? known?.name ?? "",
    arguments: str(value["arguments"]) ?? known?.arguments ?? "",
    status,
    output: str(value["output"]) ?? known?.output ?? null,
    error: str(value["error"]) ?? known?.error ?? null,
    approval: known?.approval ?? null,
    textOffset: known?.textOffset ?? textOffset,
  };
  return known === undefined ? [...calls, next] : calls.map((c) => (c.id === id ? next : c));
}

/**
 * Apply one `delta.mcp_approval_request` (`{id, call_id, server_label, name, arguments}`): the call
 * `call_id` now waits for the user (a call not seen yet is added).
 */
export function applyMcpApprovalRequest(calls: readonly McpCall[], value: unknown, textOffset: number): readonly McpCall[] {
  if (!isRecord(value)) return calls;
  const id = str(value["id"]);
  const callId = str(value["call_id"]);
  if (id === null || id === "" || callId === null || callId === "") return calls;
  const base = applyMcpCallDelta(
    calls,
    { id: callId, server_label: value["server_label"], name: value["name"], arguments: value["arguments"], status: "awaiting_approval" },
    textOffset,
  );
  return base.map((c) => (c.id === callId ? { ...c, status: "awaiting_approval", approval: { id, answer: null, problem: null } } : c));
}

/**
 * Apply the MCP extension fields of one parsed stream chunk (choice 0's `delta.mcp_call` and
 * `delta.mcp_approval_request`). `textLength`: the reply text's length after this chunk, where a new card
 * goes. Returns `calls` itself when the chunk has neither.
 */
export function applyMcpChunk(calls: readonly McpCall[], chunk: unknown, textLength: number): readonly McpCall[] {
  if (!isRecord(chunk) || !Array.isArray(chunk["choices"])) return calls;
  const choice: unknown = chunk["choices"].find((c: unknown) => isRecord(c) && (c["index"] === undefined || c["index"] === 0));
  if (!isRecord(choice) || !isRecord(choice["delta"])) return calls;
  const delta = choice["delta"];
  let next = calls;
  if (delta["mcp_call"] !== undefined) next = applyMcpCallDelta(next, delta["mcp_call"], textLength);
  if (delta["mcp_approval_request"] !== undefined) next = applyMcpApprovalRequest(next, delta["mcp_approval_request"], textLength);
  return next;
}

/** Record the user's answer to approval `approvalId` (and, with `problem`, why it did not reach the server). */
export function answerMcpApproval(calls: readonly McpCall[], approvalId: string, answer: "approve" | "deny", problem: string | null = null): readonly McpCall[] {
  return calls.map((c) => (c.approval?.id === approvalId ? { ...c, approval: { id: approvalId, answer, problem } } : c));
}

/** The calls as the finished reply keeps them: any still open (in progress, awaiting approval) is `cancelled`. */
export function settleMcpCalls(calls: readonly McpCall[]): readonly McpCall[] {
  return calls.map((c) => (c.status === "in_progress" || c.status === "awaiting_approval" ? { ...c, status: "cancelled" } : c));
}

/** Whether the call waits for an answer the user has not given yet (the card shows Approve / Deny). */
export function needsAnswer(call: McpCall): boolean {
  return call.status === "awaiting_approval" && call.approval !== null && call.approval.answer === null;
}

/** A stored call, checked (for conversations read back from localStorage). */
export function isMcpCall(value: unknown): value is McpCall {
  if (!isRecord(value)) return false;
  const approval = value["approval"];
  const approvalOk =
    approval === null ||
    (isRecord(approval) &&
      typeof approval["id"] === "string" &&
      (approval["answer"] === null || approval["answer"] === "approve" || approval["answer"] === "deny") &&
      (approval["problem"] === null || typeof approval["problem"] === "string"));
  return (
    typeof value["id"] === "string" &&
    (value["serverLabel"] === null || typeof value["serverLabel"] === "string") &&
    typeof value["name"] === "string" &&
    typeof value["arguments"] === "string" &&
    (readStatus(value["status"]) !== null || value["status"] === "cancelled") &&
    (value["output"] === null || typeof value["output"] === "string") &&
    (value["error"] === null || typeof value["error"] === "string") &&
    approvalOk &&
    typeof value["textOffset"] === "number"
  );
}

/** A reply's pieces in order: its text, cut where each MCP call appeared, and the call cards between. */
export type ReplySegment = { readonly kind: "text"; readonly text: string } | { readonly kind: "call"; readonly call: McpCall };

export function replySegments(content: string, calls: readonly McpCall[]): ReplySegment[] {
  const segments: ReplySegment[] = [];
  let at = 0;
  const ordered = [...calls].sort((a, b) => a.textOffset - b.textOffset);
  for (const call of ordered) {
    const cut = Math.max(at, Math.min(call.textOffset, content.length));
    if (cut > at) segments.push({ kind: "text", text: content.slice(at, cut) });
    at = cut;
    segments.push({ kind: "call", call });
  }
  if (at < content.length) segments.push({ kind: "text", text: content.slice(at) });
  return segments;
}
