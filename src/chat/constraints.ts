/**
 * The one place where constrained decoding plugs into a chat request: from the request's tools,
 * `tool_choice` and `response_format`, produce the engine's {@link GrammarConstraint} (or none).
 *
 * The JSON Schema → GBNF converter lives in `src/grammar/`; {@link ConstraintBuilder} is the narrow
 * interface the chat service needs from it, so the service works (unconstrained) without one.
 */
import type { GrammarConstraint } from "../engine/types.js";
import type { ResponseFormat, ToolChoice, ToolDefinition } from "./types.js";

export interface ConstraintInput {
  /** Tools that are in the prompt (empty when `tool_choice` is `none`). */
  readonly tools: readonly ToolDefinition[];
  readonly toolChoice: ToolChoice;
  readonly responseFormat: ResponseFormat;
  readonly parallelToolCalls: boolean;
}

/**
 * Builds the grammar for a request. Returns undefined when the request needs no constraint. Throws
 * `ChatError` (`unsupported`, with `param` naming the schema) for a schema it cannot compile.
 */
export type ConstraintBuilder = (input: ConstraintInput) => GrammarConstraint | undefined;

/** No constrained decoding: `required`/named tool choice and JSON modes rely on the prompt alone. */
export const noConstraints: ConstraintBuilder = () => undefined;
