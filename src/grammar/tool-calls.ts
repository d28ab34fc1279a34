/**
 * Grammars for Hermes tool calls:
 *
 * ```text
 * <tool_call>
 * {"name": "<one of the tool names>", "arguments": <that tool's parameters>}
 * </tool_call>
 * ```
 *
 * The name comes first and selects the arguments grammar (an alternation over tools), so the
 * arguments always match the schema of the tool that was named.
 */
import { alt, lit, ref, rep, seq, type GbnfExpr } from "./gbnf/ast.js";
import { GbnfBuilder } from "./gbnf/builder.js";
import { JsonSchemaGrammarError } from "./errors.js";
import { addJsonSchemaRules, type JsonSchemaGbnf, type JsonSchemaGrammarOptions } from "./json-schema/convert.js";

/** A tool as the grammar needs it: its name and its parameters' JSON Schema. */
export interface ToolGrammarSpec {
  readonly name: string;
  /** JSON Schema of the arguments object. Default: no parameters (`{}` only). */
  readonly parameters?: unknown;
}

/** The fixed text around a Hermes tool call (what Hermes models are trained to write). */
export const HERMES_TOOL_CALL = {
  open: '<tool_call>\n{"name": "',
  beforeArguments: '", "arguments": ',
  close: "}\n</tool_call>",
} as const;

export interface HermesToolCallGrammarOptions extends JsonSchemaGrammarOptions {
  /** Fewest calls. Default 1. */
  readonly minCalls?: number;
  /** Most calls (`Infinity` = no limit). Default 1; use more for parallel tool calls. */
  readonly maxCalls?: number;
  /** Text between consecutive calls. Default `"\n"`. */
  readonly separator?: string;
}

export interface ToolCallRules {
  /** Rule matching exactly one `<tool_call>…</tool_call>` block. */
  readonly call: string;
  /** Rule matching `minCalls`..`maxCalls` blocks joined by the separator. */
  readonly calls: string;
}

const NO_PARAMETERS = { type: "object", properties: {} };

/**
 * One grammar branch per tool: `<name>", "arguments": <that tool's parameters>` — the part of a call
 * after `{"name": "` up to (not including) the closing `}`. Shared by the eager and the lazy tool-call
 * grammars. Throws {@link JsonSchemaGrammarError} (message prefixed with the tool name) for a schema
 * it cannot convert, and for an empty tool list or a missing or duplicate name.
 */
export function addToolCallBranches(
  builder: GbnfBuilder,
  tools: readonly ToolGrammarSpec[],
  options: JsonSchemaGrammarOptions = {},
): GbnfExpr[] {
  if (tools.length === 0) throw new JsonSchemaGrammarError("invalid-schema", "no tools to call", "#");
  const seen = new Set<string>();
  const branches: GbnfExpr[] = [];
  for (const tool of tools) {
    if (typeof tool.name !== "string" || tool.name === "") throw new JsonSchemaGrammarError("invalid-schema", "a tool needs a non-empty name", "#");
    if (seen.has(tool.name)) throw new JsonSchemaGrammarError("invalid-schema", `duplicate tool name ${JSON.stringify(tool.name)}`, "#");
    seen.add(tool.name);
    let args: string;
    try {
      args = addJsonSchemaRules(builder, tool.parameters ?? NO_PARAMETERS, {
        ...(options.whitespace === undefined ? {} : { whitespace: options.whitespace }),
        ...(options.strict === undefined ? {} : { strict: options.strict }),
        ruleHint: `${tool.name}-arguments`,
      });
    } catch (e) {
      if (e instanceof JsonSchemaGrammarError) {
        throw new JsonSchemaGrammarError(e.code, `tool ${JSON.stringify(tool.name)}: ${e.message}`, e.path, e.keyword);
      }
      throw e;
    }
    const encodedName = JSON.stringify(tool.name).slice(1, -1);
    branches.push(seq(lit(encodedName + HERMES_TOOL_CALL.beforeArguments), ref(args)));
  }
  return branches;
}

/**
 * Adds tool-call rules to a builder (to embed them in a larger grammar, e.g. after free text).
 * Throws {@link JsonSchemaGrammarError} (message prefixed with the tool name) for a schema it
 * cannot convert, and for duplicate or empty tool lists.
 */
export function addHermesToolCallRules(
  builder: GbnfBuilder,
  tools: readonly ToolGrammarSpec[],
  options: HermesToolCallGrammarOptions = {},
): ToolCallRules {
  const branches = addToolCallBranches(builder, tools, options);
  const call = builder.add("tool-call", seq(lit(HERMES_TOOL_CALL.open), alt(...branches), lit(HERMES_TOOL_CALL.close)));
  const min = options.minCalls ?? 1;
  const max = options.maxCalls ?? 1;
  if (!Number.isInteger(min) || min < 0 || !(max === Infinity || (Number.isInteger(max) && max >= Math.max(min, 1)))) {
    throw new RangeError(`invalid call counts: minCalls ${min}, maxCalls ${max}`);
  }
  const more = seq(lit(options.separator ?? "\n"), ref(call));
  const rest = builder.repeat("tool-calls-more", more, Math.max(0, min - 1), max === Infinity ? undefined : max - 1);
  const some = seq(ref(call), rest);
  const calls = builder.add("tool-calls", min === 0 ? rep(some, 0, 1) : some);
  return { call, calls };
}

export interface HermesToolCallGbnfOptions extends HermesToolCallGrammarOptions {
  /** Name of the start rule. Default `"root"`. */
  readonly rootName?: string;
  /** Prefix of every other rule name. Default `""`. */
  readonly rulePrefix?: string;
}

/** A complete grammar for one or more Hermes tool calls (and nothing else). */
export function hermesToolCallGbnf(tools: readonly ToolGrammarSpec[], options: HermesToolCallGbnfOptions = {}): JsonSchemaGbnf {
  const builder = new GbnfBuilder({ prefix: options.rulePrefix ?? "" });
  const root = builder.reserveExact(options.rootName ?? "root");
  const { calls } = addHermesToolCallRules(builder, tools, options);
  builder.define(root, ref(calls));
  return { gbnf: builder.toString(), rootRule: root };
}
