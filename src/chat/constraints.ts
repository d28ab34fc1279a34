/**
 * The one place where constrained decoding plugs into a chat request: from the request's tools,
 * `tool_choice` and `response_format`, produce the engine's {@link GrammarConstraint} (or none),
 * in a chat format's own {@link ToolCallSyntax}. A format calls {@link createGrammarConstraints}
 * with its syntax (`ChatFormat.constraints`), so a format is never paired with another's grammar.
 *
 * The grammars themselves are `src/grammar/`'s (generic over the syntax).
 */
import type { GrammarConstraint } from "../engine/types.js";
import {
  JsonSchemaGrammarError,
  type GrammarBudget,
  jsonOrToolCallsConstraint,
  jsonSchemaConstraint,
  toolCallsConstraint,
  type ToolCallSyntax,
} from "../grammar/index.js";
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

/** The arguments of a tool whose schema is only validated (`argumentsConstraint: "json-object"`). */
const ANY_OBJECT: Readonly<Record<string, unknown>> = { type: "object" };

/** No constrained decoding: `required`/named tool choice and JSON modes rely on the prompt alone. */
export const noConstraints: ConstraintBuilder = () => undefined;

export interface GrammarConstraintsOptions {
  /**
   * `tool_choice: auto` when a tool's schema uses a keyword the grammar cannot enforce:
   * `"unconstrained"` (the reply is free; arguments are still validated) or `"error"` (a 400 naming
   * the schema, as for `required`). Default `"unconstrained"` (OpenAI does not promise `auto` calls
   * match non-strict schemas).
   */
  readonly autoFallback?: "unconstrained" | "error";
  /** Told when `auto` falls back to unconstrained decoding. Default: nothing. */
  readonly onUnconstrained?: (reason: string) => void;
  /**
   * Limits on building one request's grammar (size, depth, work, time; `DEFAULT_GRAMMAR_BUDGET`
   * for unset fields). A schema over budget is a 400 naming it, under `auto` too
   * (docs/decisions/0052-grammar-budget.md).
   */
  readonly budget?: GrammarBudget;
}

/**
 * Grammar constraints from `src/grammar/` (JSON Schema → GBNF) for tool calls written in `syntax`:
 * - `tool_choice: required` → one or more Hermes tool calls (exactly one when `parallel_tool_calls` is false);
 * - `tool_choice: {function}` → exactly one call of that function;
 * - `tool_choice: auto` with tools → a LAZY grammar: free text until `<tool_call>`, then only
 *   well-formed calls (one when `parallel_tool_calls` is false): a declared tool's arguments valid
 *   against its schema, or an undeclared name with any JSON object, which is kept as the model wrote
 *   it and reported by the parser (never rewritten into a declared tool; docs/decisions/0096);
 *   with `response_format` json as well → an eager grammar: the JSON value or tool calls;
 * - `response_format: json_object` / `json_schema` → a JSON value of the schema (`strict` → no undeclared keys).
 *
 * A schema the converter cannot enforce is a 400 naming it (fail closed), except under `auto`
 * (see {@link GrammarConstraintsOptions.autoFallback}).
 */
export function createGrammarConstraints(syntax: ToolCallSyntax, options: GrammarConstraintsOptions = {}): ConstraintBuilder {
  const budget = options.budget === undefined ? {} : { budget: options.budget };
  return (input) => {
    const { toolChoice, tools, responseFormat } = input;
    const specs = (list: readonly ToolDefinition[]) =>
      list.map((t) =>
        t.argumentsConstraint === "json-object" ? { name: t.name, parameters: ANY_OBJECT } : { name: t.name, ...(t.parameters === undefined ? {} : { parameters: t.parameters }) },
      );
    const toolError = (error: JsonSchemaGrammarError): ChatError => {
      const index = tools.findIndex((t) => error.message.startsWith(`tool ${JSON.stringify(t.name)}:`));
      return new ChatError(`Cannot enforce the tool parameters schema: ${describe(error)}`, "unsupported", index >= 0 ? `tools[${index}].function.parameters` : "tools", {
        cause: error,
      });
    };
    if (toolChoice.type === "required" || toolChoice.type === "function") {
      const chosen = toolChoice.type === "function" ? tools.filter((t) => t.name === toolChoice.name) : tools;
      try {
        return toolCallsConstraint(syntax, specs(chosen), {
          minCalls: 1,
          maxCalls: toolChoice.type === "function" || !input.parallelToolCalls ? 1 : Infinity,
          strict: chosen.every((t) => t.strict === true),
          ...budget,
        });
      } catch (error) {
        if (!(error instanceof JsonSchemaGrammarError)) throw error;
        throw toolError(error);
      }
    }
    if (toolChoice.type === "auto" && tools.length > 0) {
      const callOptions = { maxCalls: input.parallelToolCalls ? Infinity : 1, strict: tools.every((t) => t.strict === true), ...budget };
      try {
        if (responseFormat.type === "text") return toolCallsConstraint(syntax, specs(tools), { ...callOptions, lazy: true });
        return jsonOrToolCallsConstraint(syntax, responseFormat.type === "json_schema" ? responseFormat.schema : undefined, specs(tools), {
          ...callOptions,
          jsonStrict: responseFormat.type === "json_schema" && responseFormat.strict,
        });
      } catch (error) {
        if (!(error instanceof JsonSchemaGrammarError)) throw error;
        const isToolError = tools.some((t) => error.message.startsWith(`tool ${JSON.stringify(t.name)}:`));
        if (!isToolError) throw responseFormatError(error);
        // over budget is the request's size, not a keyword the grammar lacks: never silently unconstrained
        if (options.autoFallback === "error" || error.code === "too-large" || error.code === "too-deep") throw toolError(error);
        options.onUnconstrained?.(`tool_choice auto is unconstrained: ${error.message}`);
        return undefined;
      }
    }
    if (responseFormat.type === "text") return undefined;
    try {
      if (responseFormat.type === "json_object") return jsonSchemaConstraint(undefined, budget);
      return jsonSchemaConstraint(responseFormat.schema, { strict: responseFormat.strict, ...budget });
    } catch (error) {
      if (!(error instanceof JsonSchemaGrammarError)) throw error;
      throw responseFormatError(error);
    }
  };
}

function responseFormatError(error: JsonSchemaGrammarError): ChatError {
  return new ChatError(`Cannot enforce response_format.json_schema: ${describe(error)}`, "unsupported", "response_format.json_schema.schema", {
    cause: error,
  });
}

function describe(error: JsonSchemaGrammarError): string {
  const where = error.keyword === undefined ? error.path : `keyword '${error.keyword}' at ${error.path}`;
  return `${error.message} (${where})`;
}
