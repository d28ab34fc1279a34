/**
 * Tool calling and JSON that are always valid: grammars for every tool choice (lazy for `auto`),
 * ajv validation, the agent loop and JSON mode. See docs/agent.md.
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
} from "./loop.js";
export { generateJson, extractJsonAnswer, type JsonModeOptions, type JsonModeResult } from "./json-mode.js";
export { lazyToolCallGrammar, forcedToolCallGrammar, jsonModeGrammar, jsonOrToolCallsGrammar, TOOL_CALL_TRIGGER, type LazyToolCallGrammarOptions, type ForcedToolCallGrammarOptions } from "./grammars.js";
export { createToolConstraints, type ToolConstraintOptions } from "./constraints.js";
export { JsonValidator, InvalidSchemaError, formatIssues, type ValidationIssue, type ValidationResult } from "./validate.js";
export { loadToolsModule, toolsFromModule, ToolsModuleError } from "./load-tools.js";
