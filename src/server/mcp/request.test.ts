import { describe, expect, it } from "vitest";
import type { McpServerSummary, McpToolset } from "../../mcp/index.js";
import { ApiError } from "../errors.js";
import { takeMcpTools } from "./request.js";

const tool = (server: string, name: string, readOnly = false) => ({
  name,
  remoteName: name,
  server,
  inputSchema: { type: "object" },
  enforcement: "grammar" as const,
  ...(readOnly ? { annotations: { readOnlyHint: true } } : {}),
});
const servers: McpServerSummary[] = [
  { label: "fs", state: "ready", transport: "stdio", toolTimeoutMs: 1000, tools: [tool("fs", "read", true), tool("fs", "write")] },
  { label: "web", state: "ready", transport: "http", toolTimeoutMs: 1000, tools: [tool("web", "fetch")] },
];
/** What takeMcpTools reads of a toolset: its servers and labels (the real toolset is tested on real servers). */
const toolset = { servers: () => servers, labels: ["fs", "web"] } as unknown as McpToolset;

const errorOf = (tools: unknown[]): ApiError => {
  try {
    takeMcpTools({ tools }, toolset, "always");
  } catch (error) {
    return error as ApiError;
  }
  throw new Error("no error");
};

describe("takeMcpTools", () => {
  it("leaves requests without MCP tools as they are", () => {
    const raw = { tools: [{ type: "function", function: { name: "f" } }] };
    expect(takeMcpTools(raw, undefined, "never")).toEqual({ body: raw });
  });

  it("selects servers and tools; keeps function tools for the API's own checks", () => {
    const fn = { type: "function", function: { name: "f" } };
    const { body, mcp } = takeMcpTools({ tools: [fn, { type: "mcp", server_label: "fs", allowed_tools: ["read"] }, { type: "mcp", server_label: "web" }] }, toolset, "never");
    expect(body).toEqual({ tools: [fn] });
    expect([...(mcp?.selection.entries() ?? [])]).toEqual([["fs", new Set(["read"])], ["web", "all"]]);
    expect(mcp?.needsApproval("fetch")).toBe(false);
  });

  it("require_approval: the default, always/never, and tool-name filters", () => {
    const approval = (entry: Record<string, unknown>, name: string, fallback: "always" | "never" = "always") =>
      takeMcpTools({ tools: [{ type: "mcp", server_label: "fs", ...entry }] }, toolset, fallback).mcp?.needsApproval(name);
    expect(approval({}, "read")).toBe(true);
    expect(approval({}, "read", "never")).toBe(false);
    expect(approval({ require_approval: "never" }, "write")).toBe(false);
    expect(approval({ require_approval: { never: { tool_names: ["read"] } } }, "read")).toBe(false);
    expect(approval({ require_approval: { never: { tool_names: ["read"] } } }, "write")).toBe(true);
    expect(approval({ require_approval: { always: { tool_names: ["write"] } } }, "read")).toBe(false);
    expect(approval({ require_approval: { always: { tool_names: ["write"] } } }, "write")).toBe(true);
  });

  it("allowed_tools read_only keeps the tools annotated readOnlyHint", () => {
    const { mcp } = takeMcpTools({ tools: [{ type: "mcp", server_label: "fs", allowed_tools: { read_only: true } }] }, toolset, "never");
    expect(mcp?.selection.get("fs")).toEqual(new Set(["read"]));
  });

  it("400s name the field: unknown labels and tools, locations and commands, bad shapes, no MCP configured", () => {
    expect(errorOf([{ type: "mcp", server_label: "shell" }])).toMatchObject({ status: 400, param: "tools[0].server_label", code: "unknown_mcp_server" });
    expect(errorOf([{ type: "mcp", server_label: "fs", server_url: "https://x" }])).toMatchObject({ param: "tools[0].server_url", code: "mcp_server_not_allowed" });
    expect(errorOf([{ type: "mcp", server_label: "fs", connector_id: "connector_gmail" }])).toMatchObject({ param: "tools[0].connector_id", code: "mcp_server_not_allowed" });
    expect(errorOf([{ type: "mcp", server_label: "fs", command: "sh" }])).toMatchObject({ param: "tools[0].command", code: "mcp_server_not_allowed" });
    expect(errorOf([{ type: "mcp", server_label: "fs", allowed_tools: ["rm"] }])).toMatchObject({ param: "tools[0].allowed_tools", code: "unknown_mcp_tool" });
    expect(errorOf([{ type: "mcp", server_label: "fs", require_approval: "sometimes" }])).toMatchObject({ param: "tools[0].require_approval", code: "invalid_value" });
    expect(errorOf([{ type: "mcp", server_label: "fs", extra: 1 }])).toMatchObject({ param: "tools[0]", code: "invalid_value" });
    expect(errorOf([{ type: "mcp", server_label: "fs" }, { type: "mcp", server_label: "fs" }])).toMatchObject({ param: "tools[1].server_label" });
    expect(() => takeMcpTools({ tools: [{ type: "mcp", server_label: "fs" }] }, undefined, "never")).toThrow(/no MCP servers configured/);
  });
});
