/**
 * Constrained decoding grammars: JSON Schema → GBNF (llama.cpp dialect), tool-call grammars
 * generic over a format's tool-call syntax, constraints that carry their intent, and a pure GBNF parser/recognizer/sampler to check and drive them. No engine imports.
 */
export {
  jsonSchemaToGbnf,
  addJsonSchemaRules,
  jsonObjectGbnf,
  ANNOTATION_KEYWORDS,
  DEFAULT_GRAMMAR_BUDGET,
  type GrammarBudget,
  type JsonSchemaGbnf,
  type JsonSchemaGrammarOptions,
  type JsonSchemaToGbnfOptions,
  type AddJsonSchemaOptions,
  type WhitespaceMode,
} from "./json-schema/convert.js";
export { SUPPORTED_FORMATS, type SupportedFormat } from "./json-schema/formats.js";
export {
  toolCallGbnf,
  addToolCallRules,
  addToolCallBranches,
  addOtherNameRule,
  addOtherToolCallBranch,
  toolCallTexts,
  formatToolCall,
  toolCallsConstraint,
  jsonOrToolCallsConstraint,
  jsonSchemaConstraint,
  type ToolCallTexts,
  type ToolCallGrammarOptions,
  type ToolCallGbnfOptions,
  type ToolCallsConstraintOptions,
  type ToolCallRules,
} from "./tool-calls.js";
export { gbnfConstraint, type GrammarConstraint, type GrammarIntent, type ToolCallSyntax, type ToolGrammarSpec } from "./constraint.js";
export { JsonSchemaGrammarError, formatPointer, type JsonSchemaGrammarErrorCode } from "./errors.js";
export * as gbnf from "./gbnf/index.js";
export { GbnfBuilder, MAX_INLINE_REPETITION, type GbnfBuilderOptions } from "./gbnf/builder.js";
export { GbnfRecognizer, RecognizerState, type RecognizerOptions } from "./gbnf/recognizer.js";
export { TokenTrie, type AllowedTokens, type AllowedTokensOptions, type AllowedTokensRefusal, type TokenTrieStats } from "./gbnf/token-trie.js";
export { prefixGrammarWithTriggers } from "./gbnf/trigger-prefix.js";
export { portableGbnf } from "./gbnf/portable.js";
export { parseGbnf, GbnfSyntaxError } from "./gbnf/parse.js";
