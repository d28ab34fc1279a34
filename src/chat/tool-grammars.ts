/**
 * Grammars for tool calling and JSON mode, as engine {@link GrammarConstraint}s (used by
 * `constraints.ts`; re-exported by `src/agent`):
 *
 * - `auto`: a LAZY grammar. The output is free until the model writes `<tool_call>`; the grammar then
 *   constrains the text after it to `\n{"name": <a declared tool>, "arguments": <its schema>}\n</tool_call>`,
 *   followed by either the end or (parallel calls) a little whitespace and another `<tool_call>` + call.
 * - `required` / a named tool: every call forced from the first token, in Hermes's own
 *   `<tool_call>` format (`hermesToolCallGbnf`).
 * - JSON mode: the schema's grammar, or any JSON object; with tools under `auto`, either the JSON
 *   value or tool calls (an eager grammar, so both stay valid).
 *
 * Pure (src/grammar only).
 */
import type { GrammarConstraint } from "../engine/types.js";
import {
  GbnfBuilder,
  HERMES_TOOL_CALL,
  JsonSchemaGrammarError,
  addJsonSchemaRules,
  addToolCallBranches,
  gbnf as g,
  hermesToolCallGbnf,
  jsonObjectGbnf,
  jsonSchemaToGbnf,
  type JsonSchemaGrammarOptions,
  type ToolGrammarSpec,
} from "../grammar/index.js";

/** The text that starts a Hermes tool call (the lazy grammar's trigger). */
export const TOOL_CALL_TRIGGER = "<tool_call>";

/** What follows the trigger in a call: `HERMES_TOOL_CALL.open` without the tag. */
const BODY_OPEN = HERMES_TOOL_CALL.open.slice(TOOL_CALL_TRIGGER.length);

export interface LazyToolCallGrammarOptions extends JsonSchemaGrammarOptions {
  /** Most calls in one reply (`Infinity` = no limit). Default `Infinity`; 1 for `parallel_tool_calls: false`. */
  readonly maxCalls?: number;
}

interface CallRules {
  /** `\n{"name": …, "arguments": …}\n</tool_call>`: a call after its `<tool_call>` tag. */
  readonly body: string;
  /** Zero or more further calls (separator, tag, body), up to `maxCalls - 1`. */
  readonly more: g.GbnfExpr;
}

function addCallRules(builder: GbnfBuilder, tools: readonly ToolGrammarSpec[], options: LazyToolCallGrammarOptions): CallRules {
  const maxCalls = options.maxCalls ?? Infinity;
  if (!(maxCalls === Infinity || (Number.isInteger(maxCalls) && maxCalls >= 1))) throw new RangeError(`invalid maxCalls ${maxCalls}`);
  const branches = addToolCallBranches(builder, tools, options);
  const body = builder.add("tool-call-body", g.seq(g.lit(BODY_OPEN), g.alt(...branches), g.lit(HERMES_TOOL_CALL.close)));
  const separator = builder.add("tool-call-separator", g.rep(g.chars(" \t\n"), 0, 2));
  const another = g.seq(g.ref(separator), g.lit(TOOL_CALL_TRIGGER), g.ref(body));
  const more = builder.repeat("tool-calls-more", another, 0, maxCalls === Infinity ? undefined : maxCalls - 1);
  return { body, more };
}

/**
 * The lazy grammar for `tool_choice: "auto"`: its root matches the text AFTER the first `<tool_call>`
 * (it comes with `lazyTriggers: ["<tool_call>"]`). Between calls: up to two whitespace characters.
 * Throws {@link JsonSchemaGrammarError} for a tool schema the converter cannot enforce (the message
 * names the tool) and for an empty or duplicate tool list.
 */
export function lazyToolCallGrammar(tools: readonly ToolGrammarSpec[], options: LazyToolCallGrammarOptions = {}): GrammarConstraint {
  const builder = new GbnfBuilder();
  const root = builder.reserveExact("root");
  const { body, more } = addCallRules(builder, tools, options);
  builder.define(root, g.seq(g.ref(body), more));
  return { gbnf: builder.toString(), lazyTriggers: [TOOL_CALL_TRIGGER] };
}

/**
 * JSON mode with tools under `auto`: the reply is either a JSON value of `schema` (any JSON object
 * when undefined) or one or more tool calls. Eager (active from the first token).
 */
export function jsonOrToolCallsGrammar(
  schema: unknown,
  tools: readonly ToolGrammarSpec[],
  options: LazyToolCallGrammarOptions & { readonly jsonStrict?: boolean } = {},
): GrammarConstraint {
  const builder = new GbnfBuilder();
  const root = builder.reserveExact("root");
  const { body, more } = addCallRules(builder, tools, options);
  const json = addJsonSchemaRules(builder, schema ?? { type: "object" }, {
    ...(options.whitespace === undefined ? {} : { whitespace: options.whitespace }),
    strict: schema === undefined ? false : options.jsonStrict === true,
    ruleHint: "response",
  });
  builder.define(root, g.alt(g.ref(json), g.seq(g.lit(TOOL_CALL_TRIGGER), g.ref(body), more)));
  return { gbnf: builder.toString() };
}

export interface ForcedToolCallGrammarOptions extends JsonSchemaGrammarOptions {
  /** Most calls (`Infinity` = no limit). Default 1. */
  readonly maxCalls?: number;
}

/** The grammar for `tool_choice: "required"` or a named tool (pass just that tool): calls from the first token. */
export function forcedToolCallGrammar(tools: readonly ToolGrammarSpec[], options: ForcedToolCallGrammarOptions = {}): GrammarConstraint {
  return { gbnf: hermesToolCallGbnf(tools, { ...options, minCalls: 1, maxCalls: options.maxCalls ?? 1 }).gbnf };
}

/** JSON mode: a value of `schema`, or any JSON object without one. */
export function jsonModeGrammar(schema?: unknown, options: JsonSchemaGrammarOptions = {}): GrammarConstraint {
  return { gbnf: schema === undefined ? jsonObjectGbnf(options).gbnf : jsonSchemaToGbnf(schema, options).gbnf };
}
