/**
 * MCP runs on the server: the routes for the operator's MCP servers (`GET /v1/mcp/servers`, the live
 * approvals `POST /v1/mcp/approvals/{id}`), and {@link mcpRun}, which turns a chat request with MCP
 * tools into the agent loop's events (the server executes the calls; docs/mcp.md).
 */
import type { Hono } from "hono";
import { runAgent, type AgentEvent, type AgentOptions, type AgentToolChoice } from "../../agent/index.js";
import type { ChatRequest } from "../../chat/types.js";
import { ApiError } from "../errors.js";
import type { McpRequestTools } from "../mcp/request.js";
import type { Generation } from "./generation.js";
import { readJson, type RouteContext, type ServerBackend } from "./context.js";

/** Tool rounds (model turns whose calls run) of one MCP run before it stops with `length` / `incomplete`. */
export const MCP_MAX_TOOL_ROUNDS = 8;

export function mountMcpRoutes(app: Hono, ctx: RouteContext): void {
  app.get("/v1/mcp/servers", (c) => {
    const servers = ctx.mcp?.servers() ?? [];
    return c.json({
      object: "list",
      data: servers.map((s) => ({
        object: "mcp_server",
        server_label: s.label,
        state: s.state,
        transport: s.transport,
        server_name: s.serverName ?? null,
        tool_timeout_ms: s.toolTimeoutMs,
        last_error: s.lastError ?? null,
        tools: s.tools.map((t) => ({
          name: t.remoteName,
          exposed_name: t.name,
          title: t.title ?? null,
          description: t.description ?? null,
          input_schema: t.inputSchema,
          annotations: t.annotations ?? null,
          enforcement: t.enforcement,
          unenforced: t.unenforced ?? null,
        })),
      })),
    });
  });

  app.post("/v1/mcp/approvals/:id", async (c) => {
    const body = (await readJson(c, ctx)) as { approve?: unknown } | null;
    if (typeof body !== "object" || body === null || typeof body.approve !== "boolean") {
      throw new ApiError(400, "invalid_request_error", "'approve' must be true or false.", { param: "approve", code: "invalid_value" });
    }
    const id = c.req.param("id");
    if (!ctx.approvals.answer(id, body.approve)) {
      throw new ApiError(404, "not_found_error", `No MCP call waits for approval '${id}' (it was answered, timed out, or its run ended).`, { param: "id", code: "approval_not_found" });
    }
    return c.json({ id, object: "mcp_approval", approve: body.approve });
  });
}

/**
 * The agent loop for a request with MCP tools: 400s for what an MCP run cannot combine with (function
 * tools, JSON mode, `n` > 1), then the run, each model turn observed by `generation` (metrics).
 */
export function mcpRun(
  ctx: RouteContext,
  backend: ServerBackend,
  generation: Generation,
  mcp: McpRequestTools,
  request: ChatRequest,
  approve?: AgentOptions["approve"],
): AsyncGenerator<AgentEvent, void, undefined> {
  const toolset = ctx.mcp;
  const service = backend.agentChat;
  if (toolset === undefined || service === undefined) throw new ApiError(500, "server_error", "This backend cannot run MCP tools.", { code: "internal_error" });
  const tools = toolset.agentTools(mcp.selection);
  let toolChoice: AgentToolChoice = "auto";
  const choice = request.toolChoice;
  if (choice !== undefined) {
    if (choice.type === "function") {
      if (!tools.some((t) => t.name === choice.name)) {
        throw new ApiError(400, "invalid_request_error", `tool_choice names '${choice.name}', which is not one of the request's MCP tools.`, { param: "tool_choice", code: "invalid_value" });
      }
      toolChoice = { name: choice.name };
    } else toolChoice = choice.type;
  }
  if (tools.length === 0 && toolChoice !== "none") toolChoice = "none";
  return runAgent({
    engine: backend.engine,
    service,
    tools,
    messages: request.messages,
    maxDepth: MCP_MAX_TOOL_ROUNDS,
    toolChoice,
    ...(request.parallelToolCalls === undefined ? {} : { parallelToolCalls: request.parallelToolCalls }),
    ...(request.maxTokens === undefined ? {} : { maxTokens: request.maxTokens }),
    ...(request.sampling === undefined ? {} : { sampling: request.sampling }),
    signal: generation.signal,
    observeTurn: (events) => generation.observe(0, events),
    ...(approve === undefined ? {} : { approve }),
  });
}

/** 400s for a request that mixes MCP tools with what the MCP run does not do. */
export function checkMcpCombination(request: ChatRequest, n: number): void {
  if ((request.tools ?? []).length > 0) {
    throw new ApiError(400, "invalid_request_error", "Tools of type 'mcp' cannot be combined with function tools in one request (the server runs MCP calls itself).", { param: "tools", code: "unsupported_value" });
  }
  if (request.responseFormat !== undefined && request.responseFormat.type !== "text") {
    throw new ApiError(400, "invalid_request_error", "Tools of type 'mcp' cannot be combined with JSON mode.", { param: "response_format", code: "unsupported_value" });
  }
  if (n > 1) throw new ApiError(400, "invalid_request_error", "Tools of type 'mcp' need n = 1.", { param: "n", code: "unsupported_value" });
}
