/**
 * The one place where constrained decoding plugs into a chat request: from the request's tools,
 * `tool_choice` and `response_format`, produce the engine's {@link GrammarConstraint} (or none).
 *
 * The JSON Schema → GBNF converter lives in `src/grammar/`; {@link ConstraintBuilder} is the narrow
 * interface the chat service needs from it, so the service works (unconstrained) without one.
 */
import type { GrammarConstraint } from "../engine/types.js";
import { JsonSchemaGrammarError, hermesToolCallGbnf, jsonObjectGbnf, jsonSchemaToGbnf } from "../grammar/index.js";
import { ChatError } from "./errors.js";
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

/**
 * Grammar constraints from `src/grammar/` (JSON Schema → GBNF):
 * - `tool_choice: required` → one or more Hermes tool calls (exactly one when `parallel_tool_calls` is false);
 * - `tool_choice: {function}` → exactly one call of that function;
 * - `response_format: json_object` / `json_schema` → a JSON value of the schema (`strict` → no undeclared keys),
 *   unless tools are offered under `auto` (the model must stay free to call them);
 * - `tool_choice: auto` is unconstrained (a lazy grammar for strict tools is not wired yet).
 *
 * A schema the converter cannot enforce is a 400 naming it (fail closed, never unconstrained).
 */
export function createGrammarConstraints(): ConstraintBuilder {
  return (input) => {
    const { toolChoice, tools, responseFormat } = input;
    if (toolChoice.type === "required" || toolChoice.type === "function") {
      const chosen = toolChoice.type === "function" ? tools.filter((t) => t.name === toolChoice.name) : tools;
      try {
        const { gbnf } = hermesToolCallGbnf(
          chosen.map((t) => ({ name: t.name, ...(t.parameters === undefined ? {} : { parameters: t.parameters }) })),
          {
            minCalls: 1,
            maxCalls: toolChoice.type === "function" || !input.parallelToolCalls ? 1 : Infinity,
            strict: chosen.every((t) => t.strict === true),
          },
        );
        return { gbnf };
      } catch (error) {
        if (!(error instanceof JsonSchemaGrammarError)) throw error;
        const index = tools.findIndex((t) => error.message.startsWith(`tool ${JSON.stringify(t.name)}:`));
        throw new ChatError(
          `Cannot enforce the tool parameters schema: ${describe(error)}`,
          "unsupported",
          index >= 0 ? `tools[${index}].function.parameters` : "tools",
          { cause: error },
        );
      }
    }
    if (responseFormat.type === "text" || (tools.length > 0 && toolChoice.type === "auto")) return undefined;
    try {
      if (responseFormat.type === "json_object") return { gbnf: jsonObjectGbnf().gbnf };
      return { gbnf: jsonSchemaToGbnf(responseFormat.schema, { strict: responseFormat.strict }).gbnf };
    } catch (error) {
      if (!(error instanceof JsonSchemaGrammarError)) throw error;
      throw new ChatError(`Cannot enforce response_format.json_schema: ${describe(error)}`, "unsupported", "response_format.json_schema.schema", {
        cause: error,
      });
    }
  };
}

function describe(error: JsonSchemaGrammarError): string {
  const where = error.keyword === undefined ? error.path : `keyword '${error.keyword}' at ${error.path}`;
  return `${error.message} (${where})`;
}
