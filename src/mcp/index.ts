/**
 * MCP (Model Context Protocol) servers as agent tools, through `@modelcontextprotocol/sdk`: the
 * `mcpServers` config, one connection per server, and the toolset the agent loop and the server use.
 * See docs/mcp.md.
 */
export { parseMcpConfig, readMcpConfig, McpConfigError, MCP_LABEL_PATTERN, DEFAULT_MCP_TOOL_TIMEOUT_S, DEFAULT_MCP_CONNECT_TIMEOUT_S, type McpServerConfig, type McpTransportConfig, type ParseMcpConfigOptions } from "./config.js";
export { McpConnection, McpConnectionError, type McpConnectionOptions, type McpConnectionState, type McpToolInfo } from "./connection.js";
export { mcpResultContent, mcpResultText, McpToolResultError } from "./result.js";
export { McpToolset, McpToolsetError, type McpServerSummary, type McpToolSelection, type McpToolSummary, type McpToolsetOptions } from "./toolset.js";
