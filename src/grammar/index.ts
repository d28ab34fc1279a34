/**
 * Constrained decoding grammars: JSON Schema → GBNF (llama.cpp dialect), Hermes tool-call
 * grammars, and a pure GBNF parser/recognizer/sampler to check and drive them. No engine imports.
 */
export {
  jsonSchemaToGbnf,
  addJsonSchemaRules,
  jsonObjectGbnf,
  ANNOTATION_KEYWORDS,
  type JsonSchemaGbnf,
  type JsonSchemaGrammarOptions,
  type JsonSchemaToGbnfOptions,
  type AddJsonSchemaOptions,
  type WhitespaceMode,
} from "./json-schema/convert.js";
export { SUPPORTED_FORMATS, type SupportedFormat } from "./json-schema/formats.js";
export {
  hermesToolCallGbnf,
  addHermesToolCallRules,
  HERMES_TOOL_CALL,
  addToolCallBranches,
  type ToolGrammarSpec,
  type HermesToolCallGrammarOptions,
  type HermesToolCallGbnfOptions,
  type ToolCallRules,
} from "./tool-calls.js";
export { JsonSchemaGrammarError, formatPointer, type JsonSchemaGrammarErrorCode } from "./errors.js";
export * as gbnf from "./gbnf/index.js";
export { GbnfBuilder, MAX_INLINE_REPETITION, type GbnfBuilderOptions } from "./gbnf/builder.js";
export { GbnfRecognizer, RecognizerState, type RecognizerOptions } from "./gbnf/recognizer.js";
export { parseGbnf, GbnfSyntaxError } from "./gbnf/parse.js";
