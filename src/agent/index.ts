/**
 * Tool calling and JSON that are always valid: the agent loop and JSON mode, on the chat service
 * (whose Hermes format owns the grammars and whose validator checks arguments). See docs/agent.md.
 */
export { defineTool, resolveTools, resultToContent, isToolLike, AgentToolError, type AgentTool, type ResolvedTool, type ToolExecutionContext } from "./tools.js";
export {
  runAgent,
  runAgentToEnd,
  AgentOptionsError,
  PARSE_ERROR_TOOL_NAME,
  type AgentOptions,
  type AgentEvent,
  type AgentFinishReason,
  type AgentRunResult,
  type AgentToolChoice,
  type ToolErrorKind,
  type ToolApprovalRequest,
} from "./loop.js";
export { generateJson, extractJsonAnswer, type JsonModeOptions, type JsonModeResult } from "./json-mode.js";
export { loadToolsModule, toolsFromModule, ToolsModuleError } from "./load-tools.js";
