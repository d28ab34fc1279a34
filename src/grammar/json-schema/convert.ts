/**
 * JSON Schema → GBNF (llama.cpp dialect). Fails closed: a keyword it cannot enforce is a
 * {@link JsonSchemaGrammarError} naming the keyword and its JSON pointer, never a looser grammar.
 * Every string the produced grammar allows is valid against the schema (the grammar may allow
 * fewer strings than the schema, see docs/grammar.md for what is narrowed and why).
 */
import { alt, chars, charsOf, EMPTY, lit, ref, rep, seq, type GbnfExpr } from "../gbnf/ast.js";
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
}

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
  return { gbnf: builder.toString(), rootRule };
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

/** Keys that constrain instances (not annotations, not `$defs`). */
function validationKeys(s: JsonObject): string[] {
  return Object.keys(s).filter((k) => !isIgnored(k) && !STRUCTURAL.has(k) && !(k in NO_OP_VALUES && stable(s[k] as Json) === stable(NO_OP_VALUES[k] as Json)));
}

function stable(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(",")}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stable(v[k] as Json)}`).join(",")}}`;
  return JSON.stringify(v);
}

function jsonTypeOf(v: Json): JsonType {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v as "string" | "boolean" | "object";
}

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
  return alt(...options);
}

interface TrieNode {
  terminal: boolean;
  readonly children: Map<number, TrieNode>;
}

class SchemaConverter {
  private readonly ws: GbnfExpr;
  private readonly strict: boolean;
  private readonly refNames = new Map<string, string>();

  constructor(
    private readonly b: GbnfBuilder,
    private readonly root: unknown,
    options: JsonSchemaGrammarOptions,
  ) {
    this.strict = options.strict ?? false;
    this.ws =
      (options.whitespace ?? "flexible") === "flexible"
        ? b.addRef("ws", alt(EMPTY, lit(" "), seq(lit("\n"), rep(chars(" \t"), 0, 20))))
        : EMPTY;
  }

  convertRoot(ruleName: string | undefined, hint: string): string {
    const name = ruleName === undefined ? this.b.reserve(hint) : this.b.reserveExact(ruleName);
    this.refNames.set("", name);
    const expr = this.visit(this.root, []);
    if (expr.type === "rule-ref" && expr.name === name) {
      throw new JsonSchemaGrammarError("invalid-ref", `circular $ref at #`, "#", "$ref");
    }
    this.b.define(name, expr);
    return name;
  }

  // ------------------------------------------------------------------------- errors & checks

  private err(code: JsonSchemaGrammarError["code"], message: string, path: Path, keyword?: string): JsonSchemaGrammarError {
    return new JsonSchemaGrammarError(code, `${message} at ${formatPointer(path)}`, formatPointer(path), keyword);
  }

  private checkKeywords(s: JsonObject, path: Path): void {
    for (const k of Object.keys(s)) {
      if (SUPPORTED.has(k) || isIgnored(k)) continue;
      if (k in NO_OP_VALUES && stable(s[k] as Json) === stable(NO_OP_VALUES[k] as Json)) continue;
      throw this.err("unsupported-keyword", `unsupported JSON Schema keyword "${k}"`, path, k);
    }
  }

  // ------------------------------------------------------------------------- primitives

  private stringChar(): GbnfExpr {
    const hex = chars("0-9a-fA-F");
    const nonSurrogateHex4 = alt(seq(chars("0-9a-cA-CeEfF"), rep(hex, 3, 3)), seq(chars("dD"), chars("0-7"), rep(hex, 2, 2)));
    return this.b.addRef(
      "char",
      alt(
        { type: "char-class", negated: true, ranges: [[0x22, 0x22], [0x5c, 0x5c], [0x7f, 0x7f], [0x00, 0x1f]] },
        seq(lit("\\"), alt(chars('"\\/bfnrt'), seq(lit("u"), nonSurrogateHex4))),
      ),
    );
  }

  private plainString(): GbnfExpr {
    return this.b.addRef("string", seq(lit('"'), rep(this.stringChar(), 0, undefined), lit('"')));
  }

  private sep(): GbnfExpr {
    return seq(this.ws, lit(","), this.ws);
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
      alt(object, array, this.plainString(), this.b.addRef("number", anyNumber()), lit("true"), lit("false"), lit("null")),
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
    const expr = this.visit(target, segments);
    if (expr.type === "rule-ref" && expr.name === name) {
      throw this.err("invalid-ref", `circular $ref ${JSON.stringify(refText)}`, path, "$ref");
    }
    this.b.define(name, expr);
    return ref(name);
  }

  // ------------------------------------------------------------------------- visit

  private visit(schema: unknown, path: Path): GbnfExpr {
    if (schema === true) return this.anyValue();
    if (schema === false) throw this.err("unsatisfiable", "schema false allows no value", path);
    if (!isObject(schema)) throw this.err("invalid-schema", "a schema must be an object or a boolean", path);
    this.checkKeywords(schema, path);
    const keys = validationKeys(schema);

    if ("$ref" in schema) {
      if (keys.length === 1) return this.refRule(schema["$ref"], path);
      const { $ref, ...rest } = schema;
      return this.visit(this.merge([{ $ref: $ref as Json }, rest], path), path);
    }
    if ("allOf" in schema) {
      const { allOf, ...rest } = schema;
      if (!Array.isArray(allOf) || allOf.length === 0) throw this.err("invalid-schema", "allOf must be a non-empty array", path, "allOf");
      return this.visit(this.merge([rest, ...allOf], path), path);
    }
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
      const rest: JsonObject = {};
      for (const [k, v] of Object.entries(schema)) if (k !== keyword && k !== "nullable") rest[k] = v;
      const hasRest = validationKeys(rest).length > 0;
      const options = branches.map((branch, i) =>
        this.visit(hasRest ? this.merge([rest, branch], [...path, keyword, i]) : branch, [...path, keyword, i]),
      );
      if (schema["nullable"] === true) options.push(lit("null"));
      return alt(...options);
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
    return alt(...options);
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
        values = values.filter((v) => e.some((x) => stable(x) === stable(v)));
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
    const options = values.map((v) => this.literalValue(v));
    if (schema["nullable"] === true) options.push(lit("null"));
    if (options.length === 0) throw this.err("unsatisfiable", `no ${keyword} value matches the schema`, path, keyword);
    return alt(...options);
  }

  /** One exact JSON value; objects and arrays get the same whitespace as everything else. */
  private literalValue(v: Json): GbnfExpr {
    if (Array.isArray(v)) {
      if (v.length === 0) return seq(lit("["), this.ws, lit("]"));
      const items = v.flatMap((x, i) => (i === 0 ? [this.literalValue(x)] : [this.sep(), this.literalValue(x)]));
      return seq(lit("["), this.ws, ...items, this.ws, lit("]"));
    }
    if (isObject(v)) {
      const keys = Object.keys(v);
      if (keys.length === 0) return seq(lit("{"), this.ws, lit("}"));
      const members = keys.flatMap((k, i) => {
        const kv = seq(lit(JSON.stringify(k)), this.ws, lit(":"), this.ws, this.literalValue(v[k] as Json));
        return i === 0 ? [kv] : [this.sep(), kv];
      });
      return seq(lit("{"), this.ws, ...members, this.ws, lit("}"));
    }
    return lit(JSON.stringify(v));
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
    if (!bounded) return integer ? this.b.addRef("integer", anyInteger()) : this.b.addRef("number", anyNumber());
    const expr = integer ? boundedInteger(bounds) : boundedNumber(bounds);
    if (expr === undefined) throw this.err("unsatisfiable", `no ${integer ? "integer" : "number"} satisfies the bounds`, path);
    return this.b.addRef(`${this.hint(path)}-${integer ? "int" : "num"}`, expr);
  }

  // ------------------------------------------------------------------------- strings

  private nonNegativeInt(schema: JsonObject, k: string, path: Path): number | undefined {
    const v = schema[k];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw this.err("invalid-schema", `${k} must be a non-negative integer`, path, k);
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
      const anyChars = rep(this.stringChar(), 0, undefined);
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
    return this.b.addRef(`string-${min}-${maxLength ?? "inf"}`, seq(lit('"'), this.b.repeat("string-chars", this.stringChar(), min, maxLength), lit('"')));
  }

  private regexToGbnf(n: RegexNode, hint: string, path: Path): GbnfExpr {
    switch (n.type) {
      case "chars":
        if (n.set.intersect(CodePointSet.of([[0xd800, 0xdfff]]).complement()).isEmpty) {
          throw this.err("unsupported-pattern", "unsupported pattern: empty character class", path, "pattern");
        }
        return jsonCharsOf(n.set);
      case "sequence":
        return seq(...n.items.map((x) => this.regexToGbnf(x, hint, path)));
      case "alternation":
        return alt(...n.options.map((x) => this.regexToGbnf(x, hint, path)));
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
    const entries: { key: string; schema: Json; path: Path; required: boolean }[] = Object.entries(props).map(([key, s]) => ({
      key,
      schema: s,
      path: [...path, "properties", key],
      required: (required as string[]).includes(key),
    }));
    for (const r of new Set(required as string[])) {
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
    const kvs = entries.map((e) =>
      this.b.addRef(`${hint}-${e.key}-kv`, seq(lit(JSON.stringify(e.key)), this.ws, lit(":"), this.ws, this.visit(e.schema, e.path))),
    );
    const extraKv =
      extraValue === undefined
        ? undefined
        : this.b.addRef(
            `${hint}-extra-kv`,
            seq(entries.length === 0 ? this.plainString() : this.keyNotIn(entries.map((e) => e.key)), this.ws, lit(":"), this.ws, extraValue),
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
    }
    const nonEmpty: (GbnfExpr | undefined)[] = new Array<GbnfExpr | undefined>(n + 1);
    nonEmpty[n] = extraKv === undefined ? undefined : seq(extraKv, tails[n] as GbnfExpr);
    for (let i = n - 1; i >= 0; i--) {
      const first = seq(kvs[i] as GbnfExpr, tails[i + 1] as GbnfExpr);
      const later = nonEmpty[i + 1];
      nonEmpty[i] = (entries[i] as { required: boolean }).required || later === undefined ? first : alt(first, later);
    }
    const members = nonEmpty[0];
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
  private keyNotIn(keys: readonly string[]): GbnfExpr {
    const KEY_CHARS = RAW_STRING_CHARS.union(CodePointSet.fromChars('"\\\b\f\n\r\t'));
    const rootNode: TrieNode = { terminal: false, children: new Map() };
    for (const key of keys) {
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
    const build = (node: TrieNode): GbnfExpr => {
      const options: GbnfExpr[] = [];
      if (!node.terminal) options.push(lit('"'));
      const childSet = CodePointSet.of([...node.children.keys()].map((cp): [number, number] => [cp, cp]));
      for (const [cp, child] of node.children) options.push(seq(lit(encodeStringChar(cp)), build(child)));
      const others = KEY_CHARS.subtract(childSet);
      if (!others.isEmpty) options.push(seq(jsonCharsOf(others), anyTail));
      return alt(...options);
    };
    return this.b.addRef("key-other", seq(lit('"'), build(rootNode)));
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
    const prefixExprs = prefix.slice(0, maxItems ?? k).map((s, i) => this.visit(s, [...path, Array.isArray(items) ? "items" : "prefixItems", i]));
    const restExpr = rest === false ? undefined : this.visit(rest, restPath);
    const sep = this.sep();
    const M = maxItems;
    const kk = prefixExprs.length;

    // Tail(j): elements j.. after j elements were written (j >= 1)
    const tail = (j: number): GbnfExpr => {
      if (M !== undefined && j >= M) return EMPTY;
      if (j < kk) {
        const more = seq(sep, prefixExprs[j] as GbnfExpr, tail(j + 1));
        return j < minItems ? more : rep(more, 0, 1);
      }
      if (restExpr === undefined) return EMPTY;
      const restItem = this.b.addRef(`${hint}-item`, restExpr);
      return this.b.repeat(`${hint}-items`, seq(sep, restItem), Math.max(0, minItems - j), M === undefined ? undefined : M - j);
    };
    let nonEmpty: GbnfExpr | undefined;
    if (M === 0) nonEmpty = undefined;
    else if (kk > 0) nonEmpty = seq(prefixExprs[0] as GbnfExpr, tail(1));
    else if (restExpr !== undefined) nonEmpty = seq(this.b.addRef(`${hint}-item`, restExpr), tail(1));
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
            for (const [pk, ps] of Object.entries(v)) properties.set(pk, [...(properties.get(pk) ?? []), ps]);
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
            out["enum"] = Array.isArray(prev) ? prev.filter((x) => list.some((y) => stable(y) === stable(x))) : list;
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
            if (k in out && stable(out[k] as Json) !== stable(v)) {
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

