/**
 * Tool-call grammars, generic over the format's {@link ToolCallSyntax} (a format declares its syntax
 * as data; `src/hermes/dialect.ts` is Hermes's). One call is
 *
 * ```text
 * <open><afterOpen>{"<nameKey>": "<one of the tool names>", "<argumentsKey>": <that tool's parameters>}<beforeClose><close>
 * ```
 *
 * The name comes first and selects the arguments grammar (an alternation over tools), so the
 * arguments always match the schema of the tool that was named. {@link toolCallsConstraint} builds
 * every shape a chat format needs from syntax + tools + `{minCalls, maxCalls, lazy}`:
 *
 * - eager (`lazy: false`): the calls from the first token, separated by `between.text`;
 * - lazy: free text until `open`; the grammar's root then matches the text AFTER the first `open`
 *   (it comes with `lazyTriggers: [open]`), calls separated by up to `between.maxWhitespace`
 *   characters of `between.whitespace`.
 *
 * `otherNames` (default: on when lazy, i.e. `tool_choice: auto`; off when eager, i.e. `required` or a
 * named tool): a call may also name a tool that is NOT declared, and its arguments are then any JSON
 * object. The grammar never rewrites the model's own choice of tool into a declared one; the parser
 * reports the undeclared call (docs/decisions/0096-tool-call-integrity.md). A declared name still
 * selects that tool's arguments schema: "any other name" is the complement of the declared names
 * ({@link addOtherNameRule}), so no text is both.
 */
import type { GrammarConstraint, ToolCallSyntax, ToolGrammarSpec } from "./constraint.js";
import { alt, chars, EMPTY, lit, ref, rep, seq, type GbnfExpr } from "./gbnf/ast.js";
import { CodePointSet } from "./gbnf/charset.js";
import { GbnfBuilder } from "./gbnf/builder.js";
import { JsonSchemaGrammarError } from "./errors.js";
import { addJsonSchemaRules, jsonObjectGbnf, jsonSchemaToGbnf, type JsonSchemaGbnf, type JsonSchemaGrammarOptions } from "./json-schema/convert.js";

export type { ToolGrammarSpec, ToolCallSyntax } from "./constraint.js";

const NO_PARAMETERS = { type: "object", properties: {} };

/** The fixed texts around the name and the arguments of one call, derived from the syntax. */
export interface ToolCallTexts {
  /** From the open tag through the quote that opens the name, e.g. `<tool_call>\n{"name": "`. */
  readonly beforeName: string;
  /** After the name's closing quote through the arguments key, e.g. `", "arguments": `. */
  readonly beforeArguments: string;
  /** After the arguments through the close tag, e.g. `}\n</tool_call>`. */
  readonly afterArguments: string;
}

/** The literal texts of a call in `syntax`. */
export function toolCallTexts(syntax: ToolCallSyntax): ToolCallTexts {
  const e = syntax.envelope;
  return {
    beforeName: `${syntax.open}${syntax.afterOpen}{${JSON.stringify(e.nameKey)}${e.keySeparator}"`,
    beforeArguments: `"${e.itemSeparator}${JSON.stringify(e.argumentsKey)}${e.keySeparator}`,
    afterArguments: `}${syntax.beforeClose}${syntax.close}`,
  };
}

/** Render one call as the syntax writes it (arguments given as JSON text). */
export function formatToolCall(syntax: ToolCallSyntax, name: string, argumentsJson: string): string {
  const t = toolCallTexts(syntax);
  return `${t.beforeName}${JSON.stringify(name).slice(1, -1)}${t.beforeArguments}${argumentsJson}${t.afterArguments}`;
}

/**
 * One grammar branch per tool: `<name>", "arguments": <that tool's parameters>` — the part of a call
 * after the name's opening quote up to (not including) the closing `}`. Throws
 * {@link JsonSchemaGrammarError} (message prefixed with the tool name) for a schema it cannot
 * convert, and for an empty tool list or a missing or duplicate name.
 */
export function addToolCallBranches(
  builder: GbnfBuilder,
  syntax: ToolCallSyntax,
  tools: readonly ToolGrammarSpec[],
  options: JsonSchemaGrammarOptions = {},
): GbnfExpr[] {
  if (tools.length === 0) throw new JsonSchemaGrammarError("invalid-schema", "no tools to call", "#");
  const { beforeArguments } = toolCallTexts(syntax);
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
        ...(options.budget === undefined ? {} : { budget: options.budget }),
        ruleHint: `${tool.name}-arguments`,
      });
    } catch (e) {
      if (e instanceof JsonSchemaGrammarError) {
        throw new JsonSchemaGrammarError(e.code, `tool ${JSON.stringify(tool.name)}: ${e.message}`, e.path, e.keyword);
      }
      throw e;
    }
    const encodedName = JSON.stringify(tool.name).slice(1, -1);
    branches.push(seq(lit(encodedName + beforeArguments), ref(args)));
  }
  return branches;
}

/** Code points an undeclared name may not contain: `"`, `\\` (no escapes, so its text is its value) and controls. */
const NOT_IN_OTHER_NAME: readonly (readonly [number, number])[] = [
  [0x00, 0x1f],
  [0x22, 0x22],
  [0x5c, 0x5c],
];

interface NameTrieNode {
  terminal: boolean;
  readonly children: Map<number, NameTrieNode>;
}

/**
 * A rule matching the text of any JSON string body (between the quotes) that is NOT one of the
 * `encodedNames` and not empty: the complement of the names' trie. At each trie node the text may
 * end (when the node's prefix is not a name itself, and not empty), go on with a character that is no
 * child of the node (then anything), or take a child and recurse. One rule per trie node, so the
 * grammar is linear in the total length of the names; it has no escapes (`\\`), so the decoded name
 * is the text and can never equal a declared name written differently.
 */
export function addOtherNameRule(builder: GbnfBuilder, encodedNames: readonly string[]): string {
  const root: NameTrieNode = { terminal: false, children: new Map() };
  for (const name of encodedNames) {
    let node = root;
    for (const ch of name) {
      const cp = ch.codePointAt(0) as number;
      let next = node.children.get(cp);
      if (next === undefined) {
        next = { terminal: false, children: new Map() };
        node.children.set(cp, next);
      }
      node = next;
    }
    node.terminal = true;
  }
  const nameChar: GbnfExpr = { type: "char-class", negated: true, ranges: CodePointSet.of(NOT_IN_OTHER_NAME).ranges };
  const anyRest = builder.repeat("tool-other-name-rest", nameChar, 0, undefined);
  const ruleOf = (node: NameTrieNode, isRoot: boolean): string => {
    const excluded = CodePointSet.of([...NOT_IN_OTHER_NAME, ...[...node.children.keys()].map((cp) => [cp, cp] as const)]);
    const options: GbnfExpr[] = [seq({ type: "char-class", negated: true, ranges: excluded.ranges }, anyRest)];
    for (const [cp, child] of node.children) options.push(seq(lit(String.fromCodePoint(cp)), ref(ruleOf(child, false))));
    // Not a name and not empty: the name may end here (an empty alternative, as in `ws ::= | " "`).
    return builder.add("tool-other-name", node.terminal || isRoot ? alt(...options) : alt(EMPTY, ...options));
  };
  return ruleOf(root, true);
}

/**
 * The branch of a call naming a tool that is none of `tools`: `<other name>", "arguments": <any JSON
 * object>` (the part after the name's opening quote up to, not including, the closing `}`).
 */
export function addOtherToolCallBranch(builder: GbnfBuilder, syntax: ToolCallSyntax, tools: readonly ToolGrammarSpec[], options: JsonSchemaGrammarOptions = {}): GbnfExpr {
  const name = addOtherNameRule(
    builder,
    tools.map((t) => JSON.stringify(t.name).slice(1, -1)),
  );
  const args = addJsonSchemaRules(builder, { type: "object" }, {
    ...(options.whitespace === undefined ? {} : { whitespace: options.whitespace }),
    ...(options.budget === undefined ? {} : { budget: options.budget }),
    ruleHint: "other-tool-arguments",
  });
  return seq(ref(name), lit(toolCallTexts(syntax).beforeArguments), ref(args));
}

/** The declared tools' branches, plus the undeclared-name branch when `otherNames`. */
function callBranches(builder: GbnfBuilder, syntax: ToolCallSyntax, tools: readonly ToolGrammarSpec[], otherNames: boolean, options: JsonSchemaGrammarOptions): GbnfExpr {
  const branches = addToolCallBranches(builder, syntax, tools, options);
  return otherNames ? alt(...branches, addOtherToolCallBranch(builder, syntax, tools, options)) : alt(...branches);
}

export interface ToolCallGrammarOptions extends JsonSchemaGrammarOptions {
  /** Fewest calls. Default 1. */
  readonly minCalls?: number;
  /** Most calls (`Infinity` = no limit). Default 1; use more for parallel tool calls. */
  readonly maxCalls?: number;
  /** Also accept calls of undeclared names (arguments: any JSON object). Default false. */
  readonly otherNames?: boolean;
}

export interface ToolCallRules {
  /** Rule matching exactly one call, tags included. */
  readonly call: string;
  /** Rule matching `minCalls`..`maxCalls` calls joined by `between.text`. */
  readonly calls: string;
}

function checkCounts(min: number, max: number): void {
  if (!Number.isInteger(min) || min < 0 || !(max === Infinity || (Number.isInteger(max) && max >= Math.max(min, 1)))) {
    throw new RangeError(`invalid call counts: minCalls ${min}, maxCalls ${max}`);
  }
}

/**
 * Adds eager tool-call rules to a builder (to embed them in a larger grammar). Throws
 * {@link JsonSchemaGrammarError} (message prefixed with the tool name) for a schema it cannot
 * convert, and for duplicate or empty tool lists.
 */
export function addToolCallRules(
  builder: GbnfBuilder,
  syntax: ToolCallSyntax,
  tools: readonly ToolGrammarSpec[],
  options: ToolCallGrammarOptions = {},
): ToolCallRules {
  const min = options.minCalls ?? 1;
  const max = options.maxCalls ?? 1;
  checkCounts(min, max);
  const texts = toolCallTexts(syntax);
  const branches = callBranches(builder, syntax, tools, options.otherNames ?? false, options);
  const call = builder.add("tool-call", seq(lit(texts.beforeName), branches, lit(texts.afterArguments)));
  const more = seq(lit(syntax.between.text), ref(call));
  const rest = builder.repeat("tool-calls-more", more, Math.max(0, min - 1), max === Infinity ? undefined : max - 1);
  const some = seq(ref(call), rest);
  const calls = builder.add("tool-calls", min === 0 ? rep(some, 0, 1) : some);
  return { call, calls };
}

export interface ToolCallGbnfOptions extends ToolCallGrammarOptions {
  /** Name of the start rule. Default `"root"`. */
  readonly rootName?: string;
  /** Prefix of every other rule name. Default `""`. */
  readonly rulePrefix?: string;
}

/** A complete eager grammar for one or more tool calls (and nothing else). */
export function toolCallGbnf(syntax: ToolCallSyntax, tools: readonly ToolGrammarSpec[], options: ToolCallGbnfOptions = {}): JsonSchemaGbnf {
  const builder = new GbnfBuilder({ prefix: options.rulePrefix ?? "" });
  const root = builder.reserveExact(options.rootName ?? "root");
  const { calls } = addToolCallRules(builder, syntax, tools, options);
  builder.define(root, ref(calls));
  return { gbnf: builder.toString(), rootRule: root };
}

interface LazyCallRules {
  /** A call after its open tag. */
  readonly body: string;
  /** Zero or more further calls (whitespace, tag, body), up to `maxCalls - 1`. */
  readonly more: GbnfExpr;
}

function addLazyCallRules(
  builder: GbnfBuilder,
  syntax: ToolCallSyntax,
  tools: readonly ToolGrammarSpec[],
  maxCalls: number,
  otherNames: boolean,
  options: JsonSchemaGrammarOptions,
): LazyCallRules {
  if (!(maxCalls === Infinity || (Number.isInteger(maxCalls) && maxCalls >= 1))) throw new RangeError(`invalid maxCalls ${maxCalls}`);
  const texts = toolCallTexts(syntax);
  const branches = callBranches(builder, syntax, tools, otherNames, options);
  const body = builder.add("tool-call-body", seq(lit(texts.beforeName.slice(syntax.open.length)), branches, lit(texts.afterArguments)));
  const separator = builder.add("tool-call-separator", rep(chars(syntax.between.whitespace), 0, syntax.between.maxWhitespace));
  const another = seq(ref(separator), lit(syntax.open), ref(body));
  const more = builder.repeat("tool-calls-more", another, 0, maxCalls === Infinity ? undefined : maxCalls - 1);
  return { body, more };
}

export interface ToolCallsConstraintOptions extends JsonSchemaGrammarOptions {
  /** Fewest calls (eager only; a lazy grammar is inactive until the model opens a call). Default 1. */
  readonly minCalls?: number;
  /** Most calls (`Infinity` = no limit). Default 1. */
  readonly maxCalls?: number;
  /** Free text until the open tag (`tool_choice: auto`). Default false. */
  readonly lazy?: boolean;
  /**
   * Also accept a call of a name that is none of `tools` (its arguments: any JSON object), so the
   * model's choice of tool is kept and reported instead of rewritten. Default: `lazy` (on for
   * `tool_choice: auto`; off for `required` / a named tool, where the client demands a declared tool).
   */
  readonly otherNames?: boolean;
}

/**
 * Tool calls in `syntax` as a {@link GrammarConstraint} (intent `tool-calls`). Throws
 * {@link JsonSchemaGrammarError} for a tool schema the converter cannot enforce (the message names
 * the tool) and for an empty or duplicate tool list; `RangeError` for impossible counts.
 */
export function toolCallsConstraint(syntax: ToolCallSyntax, tools: readonly ToolGrammarSpec[], options: ToolCallsConstraintOptions = {}): GrammarConstraint {
  const lazy = options.lazy ?? false;
  const minCalls = lazy ? 1 : (options.minCalls ?? 1);
  const maxCalls = options.maxCalls ?? 1;
  const strict = options.strict ?? false;
  const otherNames = options.otherNames ?? lazy;
  const intent = { type: "tool-calls", syntax, tools, minCalls, maxCalls, lazy, strict, otherNames } as const;
  if (!lazy) return { intent, gbnf: toolCallGbnf(syntax, tools, { ...options, minCalls, maxCalls, otherNames }).gbnf };
  const builder = new GbnfBuilder();
  const root = builder.reserveExact("root");
  const { body, more } = addLazyCallRules(builder, syntax, tools, maxCalls, otherNames, options);
  builder.define(root, seq(ref(body), more));
  return { intent, gbnf: builder.toString(), lazyTriggers: [syntax.open] };
}

/**
 * JSON mode with tools under `auto`: the reply is either a JSON value of `schema` (any JSON object
 * when undefined) or one or more tool calls. Eager (active from the first token). As `auto`, calls
 * may name undeclared tools unless `otherNames: false`.
 */
export function jsonOrToolCallsConstraint(
  syntax: ToolCallSyntax,
  schema: unknown,
  tools: readonly ToolGrammarSpec[],
  options: JsonSchemaGrammarOptions & { readonly maxCalls?: number; readonly jsonStrict?: boolean; readonly otherNames?: boolean } = {},
): GrammarConstraint {
  const maxCalls = options.maxCalls ?? Infinity;
  const otherNames = options.otherNames ?? true;
  const builder = new GbnfBuilder();
  const root = builder.reserveExact("root");
  const { body, more } = addLazyCallRules(builder, syntax, tools, maxCalls, otherNames, options);
  const jsonStrict = schema === undefined ? false : options.jsonStrict === true;
  const json = addJsonSchemaRules(builder, schema ?? { type: "object" }, {
    ...(options.whitespace === undefined ? {} : { whitespace: options.whitespace }),
    ...(options.budget === undefined ? {} : { budget: options.budget }),
    strict: jsonStrict,
    ruleHint: "response",
  });
  builder.define(root, alt(ref(json), seq(lit(syntax.open), ref(body), more)));
  return {
    intent: {
      type: "tool-calls",
      syntax,
      tools,
      minCalls: 1,
      maxCalls,
      lazy: false,
      strict: options.strict ?? false,
      otherNames,
      orJson: { ...(schema === undefined ? {} : { schema }), strict: jsonStrict },
    },
    gbnf: builder.toString(),
  };
}

/** JSON mode as a {@link GrammarConstraint} (intent `json-schema`): a value of `schema`, or any JSON object without one. */
export function jsonSchemaConstraint(schema?: unknown, options: JsonSchemaGrammarOptions = {}): GrammarConstraint {
  const strict = schema === undefined ? false : options.strict === true;
  return {
    intent: { type: "json-schema", ...(schema === undefined ? {} : { schema }), strict },
    gbnf: schema === undefined ? jsonObjectGbnf(options).gbnf : jsonSchemaToGbnf(schema, options).gbnf,
  };
}
