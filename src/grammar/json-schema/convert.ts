/**
 * JSON Schema → GBNF (llama.cpp dialect). Fails closed: a keyword it cannot enforce is a
 * {@link JsonSchemaGrammarError} naming the keyword and its JSON pointer, never a looser grammar.
 * Every string the produced grammar allows is valid against the schema (the grammar may allow
 * fewer strings than the schema, see docs/grammar.md for what is narrowed and why).
 */
import { alt, altOf, chars, charsOf, EMPTY, lit, printExpr, ref, rep, seq, seqOf, type GbnfExpr } from "../gbnf/ast.js";
import { GbnfBuilder } from "../gbnf/builder.js";
import { CodePointSet } from "../gbnf/charset.js";
import { formatPointer, JsonSchemaGrammarError } from "../errors.js";
import { formatGrammar, isSupportedFormat } from "./formats.js";
import { anyInteger, anyNumber, boundedInteger, boundedNumber, type NumericBounds } from "./numbers.js";
import { parsePattern, RegexSubsetError, type RegexNode } from "./regex.js";

/** Whitespace between JSON tokens. */
export type WhitespaceMode = "flexible" | "compact";

export interface JsonSchemaGrammarOptions {
  /**
   * Whitespace between JSON tokens. `"flexible"`: at each place JSON allows whitespace, nothing,
   * one space, or one newline followed by up to 20 spaces/tabs (bounded, so a model cannot loop
   * on whitespace). `"compact"`: none at all. Default `"flexible"`.
   */
  readonly whitespace?: WhitespaceMode;
  /**
   * OpenAI strict semantics: objects never get keys beyond their declared `properties`, whatever
   * `additionalProperties` says (absent, `true` or a schema). Default `false`.
   */
  readonly strict?: boolean;
  /**
   * Limits on the conversion (size, depth, work, time): a schema that would exceed one is a
   * {@link JsonSchemaGrammarError} (`too-large` / `too-deep`) naming the keyword and JSON pointer
   * where the budget ran out. Unset fields take {@link DEFAULT_GRAMMAR_BUDGET}'s values. When several
   * schemas are added to one builder (tool calls), they share one size, work and time budget.
   */
  readonly budget?: GrammarBudget;
}

/** Limits on a JSON Schema → GBNF conversion (docs/decisions/0052-grammar-budget.md). */
export interface GrammarBudget {
  /** Most bytes of GBNF text (all rules of the grammar being built). */
  readonly maxGrammarBytes?: number;
  /**
   * Deepest nesting: each subschema on the way from the root counts one level (a `$ref` target
   * too), and so does each level of a `const`/`enum` value.
   */
  readonly maxDepth?: number;
  /**
   * Most work units: roughly one per subschema visited, property, item, enum value, branch,
   * merged `allOf` member, pattern node and excluded-key trie node. Deterministic.
   */
  readonly maxWork?: number;
  /** Wall-clock deadline in milliseconds from the first schema added to a builder (checked every few thousand work units). */
  readonly maxConvertMs?: number;
}

/** The default budget: generous for real schemas, far below what stalls a server. */
export const DEFAULT_GRAMMAR_BUDGET: Readonly<Required<GrammarBudget>> = Object.freeze({
  maxGrammarBytes: 512 * 1024,
  maxDepth: 128,
  maxWork: 200_000,
  maxConvertMs: 2000,
});

export interface JsonSchemaToGbnfOptions extends JsonSchemaGrammarOptions {
  /** Prefix of every rule name (to embed the rules in a larger grammar). Default `""`. */
  readonly rulePrefix?: string;
  /** Name of the rule matching the whole value. Default `` `${rulePrefix}root` `` (so `"root"`). */
  readonly rootName?: string;
}

export interface JsonSchemaGbnf {
  /** GBNF text: one rule per line. */
  readonly gbnf: string;
  /** The rule that matches a value of the schema. */
  readonly rootRule: string;
}

/**
 * Converts a JSON Schema into a GBNF grammar whose sentences are JSON texts valid against it.
 * With default options the result is a complete grammar with start rule `root`.
 * Throws {@link JsonSchemaGrammarError}.
 */
export function jsonSchemaToGbnf(schema: unknown, options: JsonSchemaToGbnfOptions = {}): JsonSchemaGbnf {
  const prefix = options.rulePrefix ?? "";
  const builder = new GbnfBuilder({ prefix });
  const rootRule = addJsonSchemaRules(builder, schema, { ...options, ruleName: options.rootName ?? `${prefix}root` });
  const gbnf = builder.toString();
  const maxBytes = options.budget?.maxGrammarBytes ?? DEFAULT_GRAMMAR_BUDGET.maxGrammarBytes;
  if (gbnf.length > maxBytes) {
    throw new JsonSchemaGrammarError("too-large", `the grammar would exceed the size budget (${maxBytes} bytes) at #`, "#");
  }
  return { gbnf, rootRule };
}

export interface AddJsonSchemaOptions extends JsonSchemaGrammarOptions {
  /** Exact name of the rule matching a value (must be free). Default: a fresh name made from `ruleHint`. */
  readonly ruleName?: string;
  /** Base of the fresh rule name when `ruleName` is not given (prefixed, made unique). Default `"value"`. */
  readonly ruleHint?: string;
}

/**
 * Adds the rules of a schema to a {@link GbnfBuilder} (embedding it in a larger grammar) and
 * returns the name of the rule that matches a value. Rules are named under the builder's prefix;
 * helper rules with identical bodies are shared across schemas added to the same builder.
 */
export function addJsonSchemaRules(builder: GbnfBuilder, schema: unknown, options: AddJsonSchemaOptions = {}): string {
  return new SchemaConverter(builder, schema, options).convertRoot(options.ruleName, options.ruleHint ?? "value");
}

/** Grammar for any JSON object (OpenAI `json_object`). */
export function jsonObjectGbnf(options: JsonSchemaToGbnfOptions = {}): JsonSchemaGbnf {
  return jsonSchemaToGbnf({ type: "object" }, { ...options, strict: false });
}

// ---------------------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };
type Path = readonly (string | number)[];

type Limits = Readonly<Required<GrammarBudget>>;

/** Work and time spent on one builder, shared by every schema added to it. */
interface Meter {
  work: number;
  readonly start: number;
  /** Work count at which the clock is read next. */
  nextClock: number;
}

const meters = new WeakMap<GbnfBuilder, Meter>();
const CLOCK_EVERY = 4096;

function resolveBudget(budget: GrammarBudget | undefined): Limits {
  const pick = (k: keyof GrammarBudget): number => {
    const v = budget?.[k] ?? DEFAULT_GRAMMAR_BUDGET[k];
    if (typeof v !== "number" || Number.isNaN(v) || v < 0) throw new RangeError(`invalid grammar budget ${k}: ${String(v)}`);
    return v;
  };
  return { maxGrammarBytes: pick("maxGrammarBytes"), maxDepth: pick("maxDepth"), maxWork: pick("maxWork"), maxConvertMs: pick("maxConvertMs") };
}

/** Keywords whose next path segment is a name (not a keyword). */
const NAMED_CHILDREN = new Set(["properties", "$defs", "definitions"]);

/** The keyword through which a subschema at `path` is reached (`$ref` for `$defs` entries). */
function keywordOf(path: Path): string | undefined {
  let keyword: string | undefined;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (typeof seg !== "string") continue;
    keyword = seg;
    if (seg === "const" || seg === "enum") break;
    if (NAMED_CHILDREN.has(seg) || typeof path[i + 1] === "number") i++;
  }
  return keyword === "$defs" || keyword === "definitions" ? "$ref" : keyword;
}

const TYPES = ["string", "number", "integer", "boolean", "null", "object", "array"] as const;
type JsonType = (typeof TYPES)[number];

const SUPPORTED = new Set([
  "type",
  "enum",
  "const",
  "anyOf",
  "oneOf",
  "allOf",
  "$ref",
  "$defs",
  "definitions",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "prefixItems",
  "additionalItems",
  "minItems",
  "maxItems",
  "minLength",
  "maxLength",
  "pattern",
  "format",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "nullable",
]);

/** Keywords that do not constrain instances: ignored. Keys starting with `x-` are ignored too. */
export const ANNOTATION_KEYWORDS: ReadonlySet<string> = new Set([
  "title",
  "description",
  "examples",
  "example",
  "default",
  "$schema",
  "$id",
  "$comment",
  "$anchor",
  "$dynamicAnchor",
  "$vocabulary",
  "deprecated",
  "readOnly",
  "writeOnly",
  "contentMediaType",
  "contentEncoding",
  "contentSchema",
]);

/** Keywords ignored with a value that constrains nothing (e.g. `uniqueItems: false`). */
const NO_OP_VALUES: Readonly<Record<string, Json>> = { uniqueItems: false, minProperties: 0 };

const TYPE_KEYWORDS: Readonly<Record<string, JsonType>> = {
  properties: "object",
  required: "object",
  additionalProperties: "object",
  items: "array",
  prefixItems: "array",
  additionalItems: "array",
  minItems: "array",
  maxItems: "array",
  minLength: "string",
  maxLength: "string",
  pattern: "string",
  format: "string",
  minimum: "number",
  maximum: "number",
  exclusiveMinimum: "number",
  exclusiveMaximum: "number",
};

const STRUCTURAL = new Set(["$defs", "definitions"]);

function isObject(x: unknown): x is JsonObject {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function isIgnored(key: string): boolean {
  return ANNOTATION_KEYWORDS.has(key) || key.startsWith("x-");
}

/** Whether `s[k]` is a keyword value that constrains nothing (the values are primitives). */
function isNoOp(s: JsonObject, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(NO_OP_VALUES, k) && s[k] === NO_OP_VALUES[k];
}

/** Keys that constrain instances (not annotations, not `$defs`). */
function validationKeys(s: JsonObject): string[] {
  return Object.keys(s).filter((k) => !isIgnored(k) && !STRUCTURAL.has(k) && !isNoOp(s, k));
}

/** Thrown by {@link serialize} for a value nested deeper than its limit. */
class ValueTooDeep extends Error {}

/**
 * JSON text of a value: with sorted keys (`sortKeys`, to compare values) or in their order (to key
 * schemas, where property order matters). Throws {@link ValueTooDeep} beyond `limit` levels.
 */
function serialize(v: Json, sortKeys: boolean, limit: number): string {
  if (limit < 0) throw new ValueTooDeep();
  if (Array.isArray(v)) return `[${v.map((x) => serialize(x, sortKeys, limit - 1)).join(",")}]`;
  if (isObject(v)) {
    const keys = sortKeys ? Object.keys(v).sort() : Object.keys(v);
    return `{${keys.map((k) => `${JSON.stringify(k)}:${serialize(v[k] as Json, sortKeys, limit - 1)}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

function jsonTypeOf(v: Json): JsonType {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v as "string" | "boolean" | "object";
}

/** Raw string characters as one grammar class: anything but `"`, `\\`, controls and DEL. */
const RAW_CHAR_CLASS: GbnfExpr = { type: "char-class", negated: true, ranges: [[0x22, 0x22], [0x5c, 0x5c], [0x7f, 0x7f], [0x00, 0x1f]] };

/** Raw string characters: anything but `"`, `\`, controls, DEL (and surrogates). */
const RAW_STRING_CHARS = CodePointSet.of([
  [0, 0x1f],
  [0x22, 0x22],
  [0x5c, 0x5c],
  [0x7f, 0x7f],
  [0xd800, 0xdfff],
]).complement();

const SHORT_ESCAPES: Readonly<Record<number, string>> = { 0x22: '\\"', 0x5c: "\\\\", 0x08: "\\b", 0x0c: "\\f", 0x0a: "\\n", 0x0d: "\\r", 0x09: "\\t" };

/** The one encoding the grammar uses for a decoded character inside a JSON string. */
function encodeStringChar(cp: number): string {
  const short = SHORT_ESCAPES[cp];
  if (short !== undefined) return short;
  if (cp < 0x20 || cp === 0x7f) return `\\u${cp.toString(16).padStart(4, "0")}`;
  return String.fromCodePoint(cp);
}

/** Grammar for one decoded character from `set`, as it appears inside a JSON string. */
function jsonCharsOf(set: CodePointSet): GbnfExpr {
  const options: GbnfExpr[] = [];
  const raw = set.intersect(RAW_STRING_CHARS);
  if (!raw.isEmpty) options.push(charsOf(raw));
  const special = set.subtract(RAW_STRING_CHARS).subtract(CodePointSet.of([[0xd800, 0xdfff]]));
  for (const [a, b] of special.ranges) for (let cp = a; cp <= b; cp++) options.push(lit(encodeStringChar(cp)));
  return altOf(options);
}

interface TrieNode {
  terminal: boolean;
  readonly children: Map<number, TrieNode>;
}

class SchemaConverter {
  private readonly ws: GbnfExpr;
  private readonly strict: boolean;
  /** Rule of each `$ref` target (by JSON pointer) and of each schema merged with `allOf`/`$ref` siblings (by its JSON text). */
  private readonly refNames = new Map<string, string>();
  /** JSON pointer of the schema behind each of those rules (to name a `$ref` cycle). */
  private readonly refPointers = new Map<string, string>();
  /** Conversions of merged schemas that are not recursive (by JSON text), so repeats cost nothing. */
  private readonly mergedExprs = new Map<string, GbnfExpr>();
  /** Rules of merged schemas that are referenced while they are being converted. */
  private readonly recursive = new Set<string>();
  private readonly limits: Limits;
  private readonly meter: Meter;
  private depth = 0;

  constructor(
    private readonly b: GbnfBuilder,
    private readonly root: unknown,
    options: JsonSchemaGrammarOptions,
  ) {
    this.limits = resolveBudget(options.budget);
    let meter = meters.get(b);
    if (meter === undefined) {
      meter = { work: 0, start: performance.now(), nextClock: CLOCK_EVERY };
      meters.set(b, meter);
    }
    this.meter = meter;
    this.strict = options.strict ?? false;
    this.ws =
      (options.whitespace ?? "flexible") === "flexible"
        ? b.addRef("ws", alt(EMPTY, lit(" "), seq(lit("\n"), rep(chars(" \t"), 0, 20))))
        : EMPTY;
  }

  convertRoot(ruleName: string | undefined, hint: string): string {
    const name = ruleName === undefined ? this.b.reserve(hint) : this.b.reserveExact(ruleName);
    this.refNames.set("", name);
    this.refPointers.set(name, "#");
    const expr = this.visit(this.root, []);
    if (expr.type === "rule-ref" && expr.name === name) {
      throw new JsonSchemaGrammarError("invalid-ref", `circular $ref at #`, "#", "$ref");
    }
    this.b.define(name, expr);
    this.tick(0, [], undefined);
    this.checkRefCycles();
    return name;
  }

  // ------------------------------------------------------------------------- budget

  /**
   * Counts `units` of work and checks the budget (work, grammar size so far, and every
   * {@link CLOCK_EVERY} units the deadline). `path`/`keyword`: where the budget would run out.
   */
  private tick(units: number, path: Path, keyword: string | undefined = keywordOf(path)): void {
    const m = this.meter;
    m.work += units;
    const { maxWork, maxGrammarBytes, maxConvertMs } = this.limits;
    if (m.work > maxWork) throw this.err("too-large", `converting the schema needs more than the work budget (${maxWork} units)`, path, keyword);
    if (this.b.bytes > maxGrammarBytes) throw this.err("too-large", `the grammar would exceed the size budget (${maxGrammarBytes} bytes)`, path, keyword);
    if (m.work >= m.nextClock) {
      m.nextClock = m.work + CLOCK_EVERY;
      if (performance.now() - m.start > maxConvertMs) throw this.err("too-large", `converting the schema takes longer than the time budget (${maxConvertMs} ms)`, path, keyword);
    }
  }

  /** Checks the size budget for an inline expression that is not a rule yet (its printed text is cached). */
  private checkInline(expr: GbnfExpr, path: Path, keyword: string | undefined): GbnfExpr {
    if (this.b.bytes + printExpr(expr).length > this.limits.maxGrammarBytes) {
      throw this.err("too-large", `the grammar would exceed the size budget (${this.limits.maxGrammarBytes} bytes)`, path, keyword);
    }
    return expr;
  }

  private enter(path: Path, keyword: string | undefined): void {
    if (++this.depth > this.limits.maxDepth) {
      throw this.err("too-deep", `schema nested deeper than ${this.limits.maxDepth} levels`, path, keyword);
    }
  }

  /** Canonical JSON text of a value (sorted keys) for comparisons. */
  private stable(v: Json, path: Path, keyword: string): string {
    try {
      return serialize(v, true, this.limits.maxDepth);
    } catch (e) {
      if (e instanceof ValueTooDeep) throw this.err("too-deep", `value nested deeper than ${this.limits.maxDepth} levels`, path, keyword);
      throw e;
    }
  }

  /**
   * Rejects `$ref` cycles without an object or array in between (`a: {$ref: b}, b: {$ref: a}`, or
   * through `anyOf`): their rules would be left-recursive, which GBNF cannot run. A cycle that passes
   * through an object member or an array item is fine (its rule references come after a `{`/`[`).
   */
  private checkRefCycles(): void {
    const nullable = new Map<string, boolean>();
    const exprNullable = (e: GbnfExpr, budget: number): boolean => {
      switch (e.type) {
        case "literal":
        case "char-class":
        case "any-char":
          return false;
        case "rule-ref": {
          const known = nullable.get(e.name);
          if (known !== undefined) return known;
          const body = this.b.body(e.name);
          // in progress, unknown or too deep to follow: assume not nullable (may miss a cycle, never invents one)
          if (body === undefined || budget <= 0) return false;
          nullable.set(e.name, false);
          const n = exprNullable(body, budget - 1);
          nullable.set(e.name, n);
          return n;
        }
        case "sequence":
          return e.items.every((x) => exprNullable(x, budget));
        case "alternation":
          return e.options.some((x) => exprNullable(x, budget));
        case "repetition":
          return e.min === 0 || exprNullable(e.item, budget);
        default:
          return e satisfies never;
      }
    };
    const heads = (e: GbnfExpr, out: string[]): void => {
      switch (e.type) {
        case "rule-ref":
          out.push(e.name);
          return;
        case "sequence":
          for (const x of e.items) {
            heads(x, out);
            if (!exprNullable(x, 64)) return;
          }
          return;
        case "alternation":
          for (const x of e.options) heads(x, out);
          return;
        case "repetition":
          heads(e.item, out);
          return;
        default:
          return;
      }
    };
    const headsOf = (name: string): string[] => {
      const out: string[] = [];
      const body = this.b.body(name);
      if (body !== undefined) heads(body, out);
      return out;
    };
    const state = new Map<string, "open" | "done">();
    for (const start of this.refPointers.keys()) {
      if (state.has(start)) continue;
      const stack: { name: string; next: string[]; i: number }[] = [{ name: start, next: headsOf(start), i: 0 }];
      state.set(start, "open");
      while (stack.length > 0) {
        const top = stack[stack.length - 1] as { name: string; next: string[]; i: number };
        const n = top.next[top.i++];
        if (n === undefined) {
          state.set(top.name, "done");
          stack.pop();
          continue;
        }
        const st = state.get(n);
        if (st === "done") continue;
        if (st === "open") {
          const cycle = stack.slice(stack.findIndex((f) => f.name === n)).map((f) => f.name);
          const pointers = cycle.map((r) => this.refPointers.get(r)).filter((x): x is string => x !== undefined);
          const at = pointers[pointers.length - 1] ?? "#";
          const first = pointers[0] ?? "#";
          throw new JsonSchemaGrammarError(
            "invalid-ref",
            `circular $ref ${[...pointers, first].join(" → ")} with no object or array in between (the grammar would be left-recursive) at ${at}`,
            at,
            "$ref",
          );
        }
        state.set(n, "open");
        stack.push({ name: n, next: headsOf(n), i: 0 });
      }
    }
  }

  // ------------------------------------------------------------------------- errors & checks

  private err(code: JsonSchemaGrammarError["code"], message: string, path: Path, keyword?: string | undefined): JsonSchemaGrammarError {
    return new JsonSchemaGrammarError(code, `${message} at ${formatPointer(path)}`, formatPointer(path), keyword);
  }

  private checkKeywords(s: JsonObject, path: Path): void {
    for (const k of Object.keys(s)) {
      if (SUPPORTED.has(k) || isIgnored(k)) continue;
      if (isNoOp(s, k)) continue;
      throw this.err("unsupported-keyword", `unsupported JSON Schema keyword "${k}"`, path, k);
    }
  }

  // ------------------------------------------------------------------------- primitives

  /** Helper rules with a fixed body, built and added once per converter. */
  private readonly helpers = new Map<string, GbnfExpr>();

  private helper(hint: string, body: () => GbnfExpr): GbnfExpr {
    let r = this.helpers.get(hint);
    if (r === undefined) {
      r = this.b.addRef(hint, body());
      this.helpers.set(hint, r);
    }
    return r;
  }

  /** One escape sequence inside a JSON string: `\\` then a short escape or `u` and 4 hex digits (no lone surrogates). */
  private stringEscape(): GbnfExpr {
    return this.helper("escape", () => {
      const hex = chars("0-9a-fA-F");
      const nonSurrogateHex4 = alt(seq(chars("0-9a-cA-CeEfF"), rep(hex, 3, 3)), seq(chars("dD"), chars("0-7"), rep(hex, 2, 2)));
      return seq(lit("\\"), alt(chars('"\\/bfnrt'), seq(lit("u"), nonSurrogateHex4)));
    });
  }

  /** One decoded character inside a JSON string: a raw character or an escape (for counted lengths). */
  private stringChar(): GbnfExpr {
    return this.helper("char", () => alt(RAW_CHAR_CLASS, this.stringEscape()));
  }

  /**
   * Any string contents: runs of raw characters as one character class, escapes apart
   * (`[^"\\…]* (escape [^"\\…]*)*`) rather than a repeated alternation, which mask engines such as
   * xgrammar (vLLM's) handle far faster (docs/decisions/0185).
   */
  private stringContents(): GbnfExpr {
    return this.helper("chars", () => seq(rep(RAW_CHAR_CLASS, 0, undefined), rep(seq(this.stringEscape(), rep(RAW_CHAR_CLASS, 0, undefined)), 0, undefined)));
  }

  private plainString(): GbnfExpr {
    return this.helper("string", () => seq(lit('"'), this.stringContents(), lit('"')));
  }

  private sepExpr: GbnfExpr | undefined;

  private sep(): GbnfExpr {
    return (this.sepExpr ??= seq(this.ws, lit(","), this.ws));
  }

  private anyValue(): GbnfExpr {
    if (this.anyValueName !== undefined) return ref(this.anyValueName);
    const name = this.b.reserve("value-any");
    this.anyValueName = name;
    const value = ref(name);
    const member = seq(this.plainString(), this.ws, lit(":"), this.ws, value);
    const object = this.b.addRef(
      "object-any",
      seq(lit("{"), this.ws, rep(seq(member, rep(seq(this.sep(), member), 0, undefined), this.ws), 0, 1), lit("}")),
    );
    const array = this.b.addRef(
      "array-any",
      seq(lit("["), this.ws, rep(seq(value, rep(seq(this.sep(), value), 0, undefined), this.ws), 0, 1), lit("]")),
    );
    this.b.define(
      name,
      alt(object, array, this.plainString(), this.helper("number", anyNumber), lit("true"), lit("false"), lit("null")),
    );
    return value;
  }
  private anyValueName: string | undefined;

  // ------------------------------------------------------------------------- refs

  private resolvePointer(refText: unknown, path: Path): { target: unknown; key: string; segments: string[] } {
    if (typeof refText !== "string") throw this.err("invalid-schema", `$ref must be a string`, path, "$ref");
    if (!refText.startsWith("#")) {
      throw this.err("unsupported-ref", `unsupported $ref ${JSON.stringify(refText)} (only local "#/..." references)`, path, "$ref");
    }
    let pointer: string;
    try {
      pointer = decodeURIComponent(refText.slice(1));
    } catch {
      throw this.err("invalid-ref", `invalid $ref ${JSON.stringify(refText)}`, path, "$ref");
    }
    if (pointer !== "" && !pointer.startsWith("/")) {
      throw this.err("unsupported-ref", `unsupported $ref ${JSON.stringify(refText)} (anchors are not supported)`, path, "$ref");
    }
    const segments = pointer === "" ? [] : pointer.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
    let target: unknown = this.root;
    for (const seg of segments) {
      if (Array.isArray(target) && /^(0|[1-9][0-9]*)$/.test(seg)) target = target[Number(seg)];
      else if (isObject(target) && Object.prototype.hasOwnProperty.call(target, seg)) target = target[seg];
      else target = undefined;
      if (target === undefined) throw this.err("invalid-ref", `invalid $ref ${JSON.stringify(refText)}: no such location`, path, "$ref");
    }
    return { target, key: pointer, segments };
  }

  private refRule(refText: unknown, path: Path): GbnfExpr {
    const { target, key, segments } = this.resolvePointer(refText, path);
    const known = this.refNames.get(key);
    if (known !== undefined) return ref(known);
    const name = this.b.reserve(segments[segments.length - 1] ?? "root");
    this.refNames.set(key, name);
    this.refPointers.set(name, formatPointer(segments));
    const expr = this.visit(target, segments);
    if (expr.type === "rule-ref" && expr.name === name) {
      throw this.err("invalid-ref", `circular $ref ${JSON.stringify(refText)}`, path, "$ref");
    }
    this.b.define(name, expr);
    return ref(name);
  }

  /**
   * A schema with `allOf` or with `$ref` next to other keywords, merged into one schema and
   * converted into a rule of its own, shared by every occurrence of the same schema: a recursive
   * schema that refers to itself this way (`parent: {allOf: [{$ref: "#/$defs/node"}]}`) then
   * becomes a recursive rule instead of an endless expansion.
   */
  private mergedRule(schema: JsonObject, path: Path): GbnfExpr {
    let key: string;
    try {
      // a schema level is up to three JSON levels (`properties` → name → schema)
      key = `merged:${serialize(schema, false, 3 * this.limits.maxDepth + 8)}`;
    } catch (e) {
      if (e instanceof ValueTooDeep) throw this.err("too-deep", `schema nested deeper than ${this.limits.maxDepth} levels`, path, "$ref" in schema ? "$ref" : "allOf");
      throw e;
    }
    // keying costs the schema's size: counted, so nested merged schemas cannot make it quadratic unnoticed
    this.tick(key.length >> 6, path, "$ref" in schema ? "$ref" : "allOf");
    const done = this.mergedExprs.get(key);
    if (done !== undefined) return done;
    const known = this.refNames.get(key);
    if (known !== undefined) {
      this.recursive.add(known);
      return ref(known);
    }
    const name = this.b.reserve(this.hint(path));
    this.refNames.set(key, name);
    this.refPointers.set(name, formatPointer(path));
    let merged: JsonObject;
    if ("$ref" in schema) {
      const { $ref, ...rest } = schema;
      merged = this.merge([{ $ref: $ref as Json }, rest], path);
    } else {
      const { allOf, ...rest } = schema;
      if (!Array.isArray(allOf) || allOf.length === 0) throw this.err("invalid-schema", "allOf must be a non-empty array", path, "allOf");
      merged = this.merge([rest, ...allOf], path);
    }
    const expr = this.visit(merged, path);
    if (!this.recursive.has(name)) {
      // not recursive: no rule of its own; a later identical schema reuses the expression
      this.refNames.delete(key);
      this.refPointers.delete(name);
      this.b.release(name);
      this.mergedExprs.set(key, expr);
      return expr;
    }
    if (expr.type === "rule-ref" && expr.name === name) {
      throw this.err("invalid-ref", "circular $ref", path, "$ref");
    }
    this.b.define(name, expr);
    return ref(name);
  }

  // ------------------------------------------------------------------------- visit

  private visit(schema: unknown, path: Path): GbnfExpr {
    const keyword = keywordOf(path);
    this.enter(path, keyword);
    try {
      this.tick(1, path, keyword);
      return this.visitSchema(schema, path);
    } finally {
      this.depth--;
    }
  }

  private visitSchema(schema: unknown, path: Path): GbnfExpr {
    if (schema === true) return this.anyValue();
    if (schema === false) throw this.err("unsatisfiable", "schema false allows no value", path);
    if (!isObject(schema)) throw this.err("invalid-schema", "a schema must be an object or a boolean", path);
    this.checkKeywords(schema, path);
    const keys = validationKeys(schema);

    if ("$ref" in schema && keys.length === 1) return this.refRule(schema["$ref"], path);
    if ("$ref" in schema || "allOf" in schema) return this.mergedRule(schema, path);
    if ("anyOf" in schema || "oneOf" in schema) {
      if ("anyOf" in schema && "oneOf" in schema) {
        const { anyOf, oneOf, ...rest } = schema;
        return this.visit(this.merge([rest, { anyOf: anyOf as Json }, { oneOf: oneOf as Json }], path), path);
      }
      const keyword = "anyOf" in schema ? "anyOf" : "oneOf";
      const branches = schema[keyword];
      if (!Array.isArray(branches) || branches.length === 0) {
        throw this.err("invalid-schema", `${keyword} must be a non-empty array`, path, keyword);
      }
      this.tick(branches.length, path, keyword);
      const rest: JsonObject = {};
      for (const [k, v] of Object.entries(schema)) if (k !== keyword && k !== "nullable") rest[k] = v;
      const hasRest = validationKeys(rest).length > 0;
      const options = branches.map((branch, i) =>
        this.visit(hasRest ? this.merge([rest, branch], [...path, keyword, i]) : branch, [...path, keyword, i]),
      );
      if (schema["nullable"] === true) options.push(lit("null"));
      return this.checkInline(altOf(options), path, keyword);
    }
    if ("const" in schema || "enum" in schema) return this.visitEnum(schema, path);

    const types = this.typesOf(schema, path);
    if (types === undefined) return this.anyValue();
    const options: GbnfExpr[] = [];
    for (const t of types) {
      switch (t) {
        case "null":
          options.push(lit("null"));
          break;
        case "boolean":
          options.push(alt(lit("true"), lit("false")));
          break;
        case "integer":
          if (!types.includes("number")) options.push(this.visitNumber(schema, path, true));
          break;
        case "number":
          options.push(this.visitNumber(schema, path, false));
          break;
        case "string":
          options.push(this.visitString(schema, path));
          break;
        case "object":
          options.push(this.visitObject(schema, path));
          break;
        case "array":
          options.push(this.visitArray(schema, path));
          break;
        default:
          t satisfies never;
      }
    }
    return altOf(options);
  }

  /** Declared or inferred types (undefined = any JSON value). `nullable: true` adds null. */
  private typesOf(schema: JsonObject, path: Path): JsonType[] | undefined {
    const nullable = schema["nullable"];
    if (nullable !== undefined && typeof nullable !== "boolean") throw this.err("invalid-schema", "nullable must be a boolean", path, "nullable");
    let types: JsonType[];
    const t = schema["type"];
    if (t !== undefined) {
      const list = Array.isArray(t) ? t : [t];
      if (list.length === 0) throw this.err("unsatisfiable", "empty type array", path, "type");
      for (const x of list) {
        if (typeof x !== "string" || !(TYPES as readonly string[]).includes(x)) {
          throw this.err("invalid-schema", `invalid type ${JSON.stringify(x)}`, path, "type");
        }
      }
      types = [...new Set(list as JsonType[])];
    } else {
      const inferred = new Set<JsonType>();
      for (const k of Object.keys(schema)) {
        const ty = TYPE_KEYWORDS[k];
        if (ty !== undefined) inferred.add(ty);
      }
      if (inferred.size === 0) return undefined; // any JSON value (null included)
      types = [...inferred];
    }
    if (nullable === true && !types.includes("null")) types.push("null");
    return types;
  }

  // ------------------------------------------------------------------------- enum / const

  private visitEnum(schema: JsonObject, path: Path): GbnfExpr {
    const keyword = "const" in schema ? "const" : "enum";
    for (const k of validationKeys(schema)) {
      if (k !== "const" && k !== "enum" && k !== "type" && k !== "nullable") {
        throw this.err("unsupported-value", `keyword "${k}" alongside ${keyword} is not supported`, path, k);
      }
    }
    let values: Json[];
    if ("const" in schema) {
      values = [schema["const"] as Json];
      if ("enum" in schema) {
        const e = schema["enum"];
        if (!Array.isArray(e)) throw this.err("invalid-schema", "enum must be an array", path, "enum");
        const c = this.stable(values[0] as Json, [...path, "const"], "const");
        values = e.some((x) => this.stable(x, [...path, "enum"], "enum") === c) ? values : [];
      }
    } else {
      const e = schema["enum"];
      if (!Array.isArray(e)) throw this.err("invalid-schema", "enum must be an array", path, "enum");
      values = e;
    }
    const types = schema["type"] === undefined ? undefined : this.typesOf(schema, path);
    if (types !== undefined) {
      values = values.filter((v) => {
        const t = jsonTypeOf(v);
        return types.includes(t) || (t === "integer" && types.includes("number"));
      });
    }
    this.tick(values.length, path, keyword);
    const options = values.map((v, i) => this.literalValue(v, keyword === "const" ? [...path, "const"] : [...path, "enum", i]));
    if (schema["nullable"] === true) options.push(lit("null"));
    if (options.length === 0) throw this.err("unsatisfiable", `no ${keyword} value matches the schema`, path, keyword);
    return this.checkInline(altOf(options), path, keyword);
  }

  /**
   * One exact JSON value; objects and arrays get the same whitespace as everything else. `path`
   * (the `const` or `enum` entry) is where a value nested too deeply is reported.
   */
  private literalValue(v: Json, path: Path): GbnfExpr {
    if (!Array.isArray(v) && !isObject(v)) return lit(JSON.stringify(v));
    const keyword = keywordOf(path);
    this.enter(path, keyword);
    try {
      if (Array.isArray(v)) {
        this.tick(v.length, path, keyword);
        if (v.length === 0) return seq(lit("["), this.ws, lit("]"));
        const items = v.flatMap((x, i) => (i === 0 ? [this.literalValue(x, path)] : [this.sep(), this.literalValue(x, path)]));
        return seqOf([lit("["), this.ws, ...items, this.ws, lit("]")]);
      }
      const keys = Object.keys(v);
      this.tick(keys.length, path, keyword);
      if (keys.length === 0) return seq(lit("{"), this.ws, lit("}"));
      const members = keys.flatMap((k, i) => {
        const kv = seq(lit(JSON.stringify(k)), this.ws, lit(":"), this.ws, this.literalValue(v[k] as Json, path));
        return i === 0 ? [kv] : [this.sep(), kv];
      });
      return seqOf([lit("{"), this.ws, ...members, this.ws, lit("}")]);
    } finally {
      this.depth--;
    }
  }

  // ------------------------------------------------------------------------- numbers

  private visitNumber(schema: JsonObject, path: Path, integer: boolean): GbnfExpr {
    const num = (k: string): number | undefined => {
      const v = schema[k];
      if (v === undefined || typeof v === "boolean") return undefined;
      if (typeof v !== "number" || !Number.isFinite(v)) throw this.err("invalid-schema", `${k} must be a number`, path, k);
      return v;
    };
    let minimum = num("minimum");
    let maximum = num("maximum");
    let exclusiveMinimum = num("exclusiveMinimum");
    let exclusiveMaximum = num("exclusiveMaximum");
    // draft-04 boolean form
    if (schema["exclusiveMinimum"] === true) {
      if (minimum === undefined) throw this.err("invalid-schema", "exclusiveMinimum: true needs minimum", path, "exclusiveMinimum");
      exclusiveMinimum = minimum;
      minimum = undefined;
    }
    if (schema["exclusiveMaximum"] === true) {
      if (maximum === undefined) throw this.err("invalid-schema", "exclusiveMaximum: true needs maximum", path, "exclusiveMaximum");
      exclusiveMaximum = maximum;
      maximum = undefined;
    }
    const bounds: NumericBounds = {
      ...(minimum === undefined ? {} : { minimum }),
      ...(maximum === undefined ? {} : { maximum }),
      ...(exclusiveMinimum === undefined ? {} : { exclusiveMinimum }),
      ...(exclusiveMaximum === undefined ? {} : { exclusiveMaximum }),
    };
    const bounded = Object.keys(bounds).length > 0;
    if (!bounded) return integer ? this.helper("integer", anyInteger) : this.helper("number", anyNumber);
    const expr = integer ? boundedInteger(bounds) : boundedNumber(bounds);
    if (expr === undefined) throw this.err("unsatisfiable", `no ${integer ? "integer" : "number"} satisfies the bounds`, path);
    return this.b.addRef(`${this.hint(path)}-${integer ? "int" : "num"}`, expr);
  }

  // ------------------------------------------------------------------------- strings

  private nonNegativeInt(schema: JsonObject, k: string, path: Path): number | undefined {
    const v = schema[k];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw this.err("invalid-schema", `${k} must be a non-negative integer`, path, k);
    // larger counts lose integer precision; any count up to this costs O(log n) rules (see GbnfBuilder.repeat)
    if (v > Number.MAX_SAFE_INTEGER) throw this.err("unsupported-value", `${k} above ${Number.MAX_SAFE_INTEGER} is not supported`, path, k);
    return v;
  }

  private visitString(schema: JsonObject, path: Path): GbnfExpr {
    const minLength = this.nonNegativeInt(schema, "minLength", path);
    const maxLength = this.nonNegativeInt(schema, "maxLength", path);
    const format = schema["format"];
    const pattern = schema["pattern"];
    const lengths = minLength !== undefined || maxLength !== undefined;
    if (format !== undefined) {
      if (typeof format !== "string") throw this.err("invalid-schema", "format must be a string", path, "format");
      if (!isSupportedFormat(format)) throw this.err("unsupported-format", `unsupported format ${JSON.stringify(format)}`, path, "format");
      for (const k of ["pattern", "minLength", "maxLength"]) {
        if (k in schema) throw this.err("unsupported-value", `"${k}" together with "format" is not supported`, path, k);
      }
      return this.b.addRef(`string-${format}`, seq(lit('"'), formatGrammar(format), lit('"')));
    }
    if (pattern !== undefined) {
      if (typeof pattern !== "string") throw this.err("invalid-schema", "pattern must be a string", path, "pattern");
      if (lengths) {
        throw this.err("unsupported-value", `"${minLength !== undefined ? "minLength" : "maxLength"}" together with "pattern" is not supported`, path, minLength !== undefined ? "minLength" : "maxLength");
      }
      let parsed;
      try {
        parsed = parsePattern(pattern);
      } catch (e) {
        if (e instanceof RegexSubsetError) throw this.err("unsupported-pattern", `unsupported pattern: ${e.message}`, path, "pattern");
        throw e;
      }
      const hint = `${this.hint(path)}-pattern`;
      const anyChars = this.stringContents();
      const body = seq(
        parsed.anchoredStart ? EMPTY : anyChars,
        this.regexToGbnf(parsed.node, hint, path),
        parsed.anchoredEnd ? EMPTY : anyChars,
      );
      return this.b.addRef(hint, seq(lit('"'), body, lit('"')));
    }
    if (!lengths) return this.plainString();
    const min = minLength ?? 0;
    if (maxLength !== undefined && maxLength < min) throw this.err("unsatisfiable", "maxLength is below minLength", path, "maxLength");
    const counted = maxLength === undefined ? seq(this.b.repeat("string-chars", this.stringChar(), min, min), this.stringContents()) : this.b.repeat("string-chars", this.stringChar(), min, maxLength);
    return this.b.addRef(`string-${min}-${maxLength ?? "inf"}`, seq(lit('"'), counted, lit('"')));
  }

  private regexToGbnf(n: RegexNode, hint: string, path: Path): GbnfExpr {
    this.tick(1, path, "pattern");
    switch (n.type) {
      case "chars":
        if (n.set.intersect(CodePointSet.of([[0xd800, 0xdfff]]).complement()).isEmpty) {
          throw this.err("unsupported-pattern", "unsupported pattern: empty character class", path, "pattern");
        }
        return jsonCharsOf(n.set);
      case "sequence":
        return seqOf(n.items.map((x) => this.regexToGbnf(x, hint, path)));
      case "alternation":
        return altOf(n.options.map((x) => this.regexToGbnf(x, hint, path)));
      case "repetition":
        return this.b.repeat(hint, this.regexToGbnf(n.item, hint, path), n.min, n.max);
      default:
        return n satisfies never;
    }
  }

  // ------------------------------------------------------------------------- objects

  private hint(path: Path): string {
    for (let i = path.length - 1; i >= 0; i--) {
      const seg = path[i];
      if (typeof seg === "string" && !["properties", "items", "anyOf", "oneOf", "allOf", "$defs", "definitions", "prefixItems", "additionalProperties"].includes(seg)) {
        return seg;
      }
    }
    return "root";
  }

  private visitObject(schema: JsonObject, path: Path): GbnfExpr {
    const props = schema["properties"] ?? {};
    if (!isObject(props)) throw this.err("invalid-schema", "properties must be an object", path, "properties");
    const required = schema["required"] ?? [];
    if (!Array.isArray(required) || !required.every((r) => typeof r === "string")) {
      throw this.err("invalid-schema", "required must be an array of strings", path, "required");
    }
    const addl = schema["additionalProperties"];
    if (addl !== undefined && typeof addl !== "boolean" && !isObject(addl)) {
      throw this.err("invalid-schema", "additionalProperties must be a boolean or a schema", path, "additionalProperties");
    }
    const requiredSet = new Set(required as string[]);
    const entries: { key: string; schema: Json; path: Path; required: boolean }[] = Object.entries(props).map(([key, s]) => ({
      key,
      schema: s,
      path: [...path, "properties", key],
      required: requiredSet.has(key),
    }));
    for (const r of requiredSet) {
      if (Object.prototype.hasOwnProperty.call(props, r)) continue;
      if (addl === false || this.strict) {
        throw this.err("unsatisfiable", `required property ${JSON.stringify(r)} is not allowed (not in properties)`, path, "required");
      }
      entries.push({ key: r, schema: isObject(addl) ? addl : true, path: [...path, "additionalProperties"], required: true });
    }

    // what extra keys may follow the declared ones
    let extraValue: GbnfExpr | undefined;
    if (!this.strict && addl !== false) {
      // absent additionalProperties means "any keys" only for an object that declares nothing
      if (addl === true || (addl === undefined && schema["properties"] === undefined && entries.length === 0)) extraValue = this.anyValue();
      else if (isObject(addl)) extraValue = this.visit(addl, [...path, "additionalProperties"]);
    }

    const hint = this.hint(path);
    const kvs = entries.map((e) => {
      const kv = this.b.addRef(`${hint}-${e.key}-kv`, seq(lit(JSON.stringify(e.key)), this.ws, lit(":"), this.ws, this.visit(e.schema, e.path)));
      this.tick(1, e.path, "properties");
      return kv;
    });
    const extraKv =
      extraValue === undefined
        ? undefined
        : this.b.addRef(
            `${hint}-extra-kv`,
            seq(entries.length === 0 ? this.plainString() : this.keyNotIn(entries.map((e) => e.key), [...path, "additionalProperties"]), this.ws, lit(":"), this.ws, extraValue),
          );
    const n = entries.length;
    const sep = this.sep();

    // T(i): members i.. after at least one was written; NF(i): at least one member from i on.
    const tails: GbnfExpr[] = new Array<GbnfExpr>(n + 1);
    tails[n] = extraKv === undefined ? EMPTY : rep(seq(sep, extraKv), 0, undefined);
    for (let i = n - 1; i >= 0; i--) {
      const kv = kvs[i] as GbnfExpr;
      const next = tails[i + 1] as GbnfExpr;
      const body = (entries[i] as { required: boolean }).required ? seq(sep, kv, next) : seq(rep(seq(sep, kv), 0, 1), next);
      // tails[0] is never referenced (the first member is written without a separator)
      tails[i] = i === 0 ? EMPTY : i === n - 1 && extraKv === undefined ? body : this.b.addRef(`${hint}-tail-${i}`, body);
      this.tick(1, (entries[i] as { path: Path }).path, "properties");
    }
    // The members start with the first one written: any optional member up to the first required
    // one (inclusive), or an extra member when all declared ones are optional. One alternation,
    // built once (a chain of nested alternations would be quadratic to flatten).
    const firsts: GbnfExpr[] = [];
    let i = 0;
    for (; i < n; i++) {
      firsts.push(seq(kvs[i] as GbnfExpr, tails[i + 1] as GbnfExpr));
      if ((entries[i] as { required: boolean }).required) break;
    }
    if (i === n && extraKv !== undefined) firsts.push(seq(extraKv, tails[n] as GbnfExpr));
    const members = firsts.length === 0 ? undefined : altOf(firsts);
    const anyRequired = entries.some((e) => e.required);
    let body: GbnfExpr;
    if (members === undefined) body = seq(lit("{"), this.ws, lit("}"));
    else if (anyRequired) body = seq(lit("{"), this.ws, members, this.ws, lit("}"));
    else body = seq(lit("{"), this.ws, rep(seq(members, this.ws), 0, 1), lit("}"));
    return this.b.addRef(hint === "root" ? "object" : `${hint}-object`, body);
  }

  /**
   * A JSON string key that is none of `keys`. Keys use no `\u` escapes, so each decoded
   * character has one spelling and the exclusion is exact.
   */
  private keyNotIn(keys: readonly string[], path: Path): GbnfExpr {
    const KEY_CHARS = RAW_STRING_CHARS.union(CodePointSet.fromChars('"\\\b\f\n\r\t'));
    const rootNode: TrieNode = { terminal: false, children: new Map() };
    for (const key of keys) {
      this.tick(1, path, "additionalProperties");
      let node = rootNode;
      let ok = true;
      for (const ch of key) {
        const cp = ch.codePointAt(0) as number;
        if (!KEY_CHARS.has(cp)) {
          ok = false; // this key cannot be spelled by the key grammar anyway
          break;
        }
        let child = node.children.get(cp);
        if (child === undefined) {
          child = { terminal: false, children: new Map() };
          node.children.set(cp, child);
        }
        node = child;
      }
      if (ok) node.terminal = true;
    }
    const keyChar = this.b.addRef("key-char", jsonCharsOf(KEY_CHARS));
    const anyTail = this.b.addRef("key-tail", seq(rep(keyChar, 0, undefined), lit('"')));
    const ESCAPED = KEY_CHARS.subtract(RAW_STRING_CHARS);
    let escape: GbnfExpr | undefined;
    // One decoded key character from `set` (most of KEY_CHARS): a negated class when shorter, the
    // escapes through one shared rule, so each trie node costs a few dozen bytes.
    const keyCharsOf = (set: CodePointSet): GbnfExpr => {
      const options: GbnfExpr[] = [];
      const raw = set.intersect(RAW_STRING_CHARS);
      if (!raw.isEmpty) {
        const positive = charsOf(raw);
        const negated: GbnfExpr = { type: "char-class", negated: true, ranges: raw.complement().ranges };
        options.push(printExpr(negated).length < printExpr(positive).length ? negated : positive);
      }
      const special = set.intersect(ESCAPED);
      if (special.equals(ESCAPED)) options.push((escape ??= this.b.addRef("key-escape", jsonCharsOf(ESCAPED))));
      else if (!special.isEmpty) options.push(jsonCharsOf(special));
      return altOf(options);
    };
    // Bottom-up over the trie without recursion (keys may be long); every HOIST levels a node
    // becomes a rule, so no rule body nests deeper than that (and printing stays linear).
    const HOIST = 8;
    const order: { node: TrieNode; depth: number }[] = [];
    const todo: { node: TrieNode; depth: number }[] = [{ node: rootNode, depth: 0 }];
    for (let t = todo.pop(); t !== undefined; t = todo.pop()) {
      order.push(t);
      for (const child of t.node.children.values()) todo.push({ node: child, depth: t.depth + 1 });
    }
    const exprs = new Map<TrieNode, GbnfExpr>();
    const restByChildren = new Map<string, GbnfExpr | null>();
    for (let k = order.length - 1; k >= 0; k--) {
      const { node, depth } = order[k] as { node: TrieNode; depth: number };
      this.tick(1, path, "additionalProperties");
      const options: GbnfExpr[] = [];
      if (!node.terminal) options.push(lit('"'));
      for (const [cp, child] of node.children) options.push(seq(lit(encodeStringChar(cp)), exprs.get(child) as GbnfExpr));
      // "a character none of the children starts with, then any key tail": one rule per set of children
      const childKey = [...node.children.keys()].join(",");
      let rest = restByChildren.get(childKey);
      if (rest === undefined) {
        const others = KEY_CHARS.subtract(CodePointSet.of([...node.children.keys()].map((cp): [number, number] => [cp, cp])));
        rest = others.isEmpty ? null : this.b.addRef("key-other-rest", seq(keyCharsOf(others), anyTail));
        restByChildren.set(childKey, rest);
      }
      if (rest !== null) options.push(rest);
      for (const child of node.children.values()) exprs.delete(child);
      const expr = altOf(options);
      // the subtree's text so far (printing is cached, so this is paid once)
      if (this.b.bytes + printExpr(expr).length > this.limits.maxGrammarBytes) {
        throw this.err("too-large", `the grammar would exceed the size budget (${this.limits.maxGrammarBytes} bytes)`, path, "additionalProperties");
      }
      exprs.set(node, depth > 0 && depth % HOIST === 0 ? this.b.addRef("key-other-part", expr) : expr);
    }
    return this.b.addRef("key-other", seq(lit('"'), exprs.get(rootNode) as GbnfExpr));
  }

  // ------------------------------------------------------------------------- arrays

  private visitArray(schema: JsonObject, path: Path): GbnfExpr {
    let prefix: Json[] = [];
    let rest: Json | undefined;
    let restPath: Path;
    const items = schema["items"];
    if (Array.isArray(items)) {
      if ("prefixItems" in schema) throw this.err("invalid-schema", "items as an array together with prefixItems", path, "items");
      prefix = items;
      rest = schema["additionalItems"];
      restPath = [...path, "additionalItems"];
    } else {
      if ("additionalItems" in schema) throw this.err("unsupported-value", `"additionalItems" without an items array`, path, "additionalItems");
      const p = schema["prefixItems"];
      if (p !== undefined) {
        if (!Array.isArray(p)) throw this.err("invalid-schema", "prefixItems must be an array", path, "prefixItems");
        prefix = p;
      }
      rest = items;
      restPath = [...path, "items"];
    }
    // absent items after declared prefixItems: no further items (like absent additionalProperties)
    if (rest === undefined) rest = prefix.length > 0 ? false : true;
    const minItems = this.nonNegativeInt(schema, "minItems", path) ?? 0;
    let maxItems = this.nonNegativeInt(schema, "maxItems", path);
    const k = prefix.length;
    if (rest === false) maxItems = Math.min(maxItems ?? k, k);
    if (maxItems !== undefined && maxItems < minItems) {
      throw this.err("unsatisfiable", "array length bounds allow no array", path, "minItems");
    }
    const hint = this.hint(path);
    const prefixKeyword = Array.isArray(items) ? "items" : "prefixItems";
    const prefixExprs = prefix.slice(0, maxItems ?? k).map((s, i) => this.visit(s, [...path, prefixKeyword, i]));
    const restExpr = rest === false ? undefined : this.visit(rest, restPath);
    const sep = this.sep();
    const M = maxItems;
    const kk = prefixExprs.length;

    // Tail(j): elements j.. after j elements were written (j >= 1), built from the last one back
    // (no recursion: tuples may be long); every HOIST prefix items a tail becomes a rule, so no
    // rule body nests deeper than that.
    const HOIST = 32;
    const restTail = (j: number): GbnfExpr => {
      if ((M !== undefined && j >= M) || restExpr === undefined) return EMPTY;
      const restItem = this.b.addRef(`${hint}-item`, restExpr);
      return this.b.repeat(`${hint}-items`, seq(sep, restItem), Math.max(0, minItems - j), M === undefined ? undefined : M - j);
    };
    let tail1 = M === 0 ? EMPTY : restTail(Math.max(kk, 1));
    for (let j = kk - 1; j >= 1; j--) {
      const more = seq(sep, prefixExprs[j] as GbnfExpr, tail1);
      tail1 = j < minItems ? more : rep(more, 0, 1);
      if ((kk - j) % HOIST === 0) tail1 = this.b.addRef(`${hint}-tail-${j}`, tail1);
      this.tick(1, [...path, prefixKeyword, j], prefixKeyword);
    }
    let nonEmpty: GbnfExpr | undefined;
    if (M === 0) nonEmpty = undefined;
    else if (kk > 0) nonEmpty = seq(prefixExprs[0] as GbnfExpr, tail1);
    else if (restExpr !== undefined) nonEmpty = seq(this.b.addRef(`${hint}-item`, restExpr), tail1);
    let body: GbnfExpr;
    if (nonEmpty === undefined) {
      if (minItems > 0) throw this.err("unsatisfiable", "minItems cannot be met", path, "minItems");
      body = seq(lit("["), this.ws, lit("]"));
    } else if (minItems > 0) body = seq(lit("["), this.ws, nonEmpty, this.ws, lit("]"));
    else body = seq(lit("["), this.ws, rep(seq(nonEmpty, this.ws), 0, 1), lit("]"));
    return this.b.addRef(hint === "root" ? "array" : `${hint}-array`, body);
  }

  // ------------------------------------------------------------------------- allOf merging

  /**
   * Intersection of schemas as one schema: `$ref`s and nested `allOf`s at the top are resolved,
   * `anyOf`/`oneOf` distributed over the other members, properties merged (a property declared by
   * several members gets their `allOf`), `additionalProperties: false` of a member removes the
   * properties it does not declare, bounds tightened, enums intersected. Anything it cannot merge
   * exactly is an `unsupported-value` error.
   */
  private merge(members: readonly unknown[], path: Path, depth = 0): JsonObject {
    if (depth > 32) throw this.err("unsupported-value", "allOf/$ref nesting too deep (circular?)", path, "allOf");
    const flat: JsonObject[] = [];
    const expand = (m: unknown, d: number): void => {
      if (d > 32) throw this.err("unsupported-value", "allOf/$ref nesting too deep (circular?)", path, "allOf");
      this.tick(1, path, "allOf");
      if (m === true) return;
      if (m === false) throw this.err("unsatisfiable", "schema false allows no value", path, "allOf");
      if (!isObject(m)) throw this.err("invalid-schema", "a schema must be an object or a boolean", path, "allOf");
      this.checkKeywords(m, path);
      const rest: JsonObject = { ...m };
      if ("$ref" in m) {
        delete rest["$ref"];
        expand(this.resolvePointer(m["$ref"], path).target, d + 1);
      }
      if ("allOf" in m) {
        delete rest["allOf"];
        const all = m["allOf"];
        if (!Array.isArray(all)) throw this.err("invalid-schema", "allOf must be an array", path, "allOf");
        for (const x of all) expand(x, d + 1);
      }
      if (rest["nullable"] === true && rest["type"] !== undefined) {
        const t = rest["type"];
        rest["type"] = [...(Array.isArray(t) ? t : [t]), "null"];
      }
      delete rest["nullable"];
      flat.push(rest);
    };
    for (const m of members) expand(m, 0);

    const branching = flat.findIndex((m) => "anyOf" in m || "oneOf" in m);
    if (branching >= 0) {
      const m = flat[branching] as JsonObject;
      const keyword = "anyOf" in m ? "anyOf" : "oneOf";
      const branches = m[keyword];
      if (!Array.isArray(branches) || branches.length === 0) throw this.err("invalid-schema", `${keyword} must be a non-empty array`, path, keyword);
      const mrest: JsonObject = { ...m };
      delete mrest[keyword];
      const others = flat.filter((_, i) => i !== branching);
      this.tick(branches.length * flat.length, path, keyword);
      return { anyOf: branches.map((br) => this.merge([...others, mrest, br], path, depth + 1)) };
    }

    const out: JsonObject = {};
    let types: Set<string> | undefined;
    const properties = new Map<string, Json[]>();
    const required = new Set<string>();
    let additionalFalse = false;
    let additionalTrue = false;
    const allowedBy: Set<string>[] = [];
    for (const m of flat) {
      for (const [k, v] of Object.entries(m)) {
        if (isIgnored(k) || STRUCTURAL.has(k)) continue;
        switch (k) {
          case "type": {
            const list = new Set((Array.isArray(v) ? v : [v]).map(String));
            if (types === undefined) types = list;
            else {
              const next = new Set<string>();
              for (const t of types) {
                if (list.has(t)) next.add(t);
                else if (t === "number" && list.has("integer")) next.add("integer");
                else if (t === "integer" && list.has("number")) next.add("integer");
              }
              types = next;
            }
            break;
          }
          case "properties":
            if (!isObject(v)) throw this.err("invalid-schema", "properties must be an object", path, "properties");
            for (const [pk, ps] of Object.entries(v)) {
              const list = properties.get(pk);
              if (list === undefined) properties.set(pk, [ps]);
              else list.push(ps);
            }
            this.tick(Object.keys(v).length, path, "allOf");
            break;
          case "required":
            if (!Array.isArray(v)) throw this.err("invalid-schema", "required must be an array", path, "required");
            for (const r of v) required.add(String(r));
            break;
          case "additionalProperties":
            if (v === false) {
              additionalFalse = true;
              allowedBy.push(new Set(Object.keys(isObject(m["properties"]) ? m["properties"] : {})));
            } else if (v === true) additionalTrue = true;
            else throw this.err("unsupported-value", "additionalProperties as a schema inside allOf is not supported", path, "additionalProperties");
            break;
          case "enum":
          case "const": {
            const list = k === "const" ? [v] : Array.isArray(v) ? v : [];
            const prev = out["enum"];
            if (Array.isArray(prev)) {
              this.tick(prev.length + list.length, path, k);
              const keep = new Set(list.map((y) => this.stable(y, path, k)));
              out["enum"] = prev.filter((x) => keep.has(this.stable(x, path, k)));
            } else out["enum"] = list;
            break;
          }
          case "minimum":
          case "exclusiveMinimum":
          case "minLength":
          case "minItems":
            if (typeof v !== "number") throw this.err("unsupported-value", `"${k}" of this form inside allOf is not supported`, path, k);
            out[k] = typeof out[k] === "number" ? Math.max(out[k] as number, v) : v;
            break;
          case "maximum":
          case "exclusiveMaximum":
          case "maxLength":
          case "maxItems":
            if (typeof v !== "number") throw this.err("unsupported-value", `"${k}" of this form inside allOf is not supported`, path, k);
            out[k] = typeof out[k] === "number" ? Math.min(out[k] as number, v) : v;
            break;
          case "items":
            if (Array.isArray(v)) throw this.err("unsupported-value", "items arrays inside allOf are not supported", path, k);
            out["items"] = "items" in out ? { allOf: [out["items"] as Json, v] } : v;
            break;
          default:
            if (k in out && this.stable(out[k] as Json, path, k) !== this.stable(v, path, k)) {
              throw this.err("unsupported-value", `conflicting "${k}" values inside allOf are not supported`, path, k);
            }
            out[k] = v;
        }
      }
    }
    if (types !== undefined) {
      if (types.size === 0) throw this.err("unsatisfiable", "allOf members have no type in common", path, "allOf");
      out["type"] = [...types];
    }
    if (properties.size > 0 || required.size > 0 || additionalFalse) {
      const props: JsonObject = {};
      for (const [pk, list] of properties) {
        if (allowedBy.some((set) => !set.has(pk))) {
          if (required.has(pk)) throw this.err("unsatisfiable", `required property ${JSON.stringify(pk)} is excluded by additionalProperties: false`, path, "allOf");
          continue;
        }
        props[pk] = list.length === 1 ? (list[0] as Json) : { allOf: list };
      }
      for (const r of required) {
        if (!(r in props) && (additionalFalse || allowedBy.length > 0)) {
          throw this.err("unsatisfiable", `required property ${JSON.stringify(r)} is excluded by additionalProperties: false`, path, "allOf");
        }
      }
      if (properties.size > 0) out["properties"] = props;
      if (required.size > 0) out["required"] = [...required];
      if (additionalFalse) out["additionalProperties"] = false;
      else if (additionalTrue) out["additionalProperties"] = true;
    } else if (additionalTrue) out["additionalProperties"] = true;
    return out;
  }
}

