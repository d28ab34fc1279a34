/**
 * JSON Schema validation with ajv (+ ajv-formats): tool arguments before a tool runs (and before calls
 * are returned), JSON-mode answers before they are printed.
 *
 * Draft: a schema whose `$schema` names draft-04/06/07 is checked with ajv's draft-07 class, any
 * other with the 2020-12 class (zod 4 and OpenAI schemas); a schema the 2020-12 class rejects
 * (e.g. draft-07 tuple `items: [...]`) is retried with draft-07.
 *
 * Patterns (`pattern`, `patternProperties`, `propertyNames`) run on a linear-time engine
 * (`./linear-regexp.ts`), never a backtracking RegExp: one that needs backtracking (lookaround,
 * backreferences) is an {@link UnsupportedPatternError}. Memory is bounded: each schema is compiled in
 * its own ajv instance (a shared one keeps every schema it ever compiled) and a validator keeps the
 * {@link VALIDATOR_CACHE_SIZE} most recently used (docs/decisions/0053).
 */
import AjvModule, { type ErrorObject, type ValidateFunction } from "ajv";
import Ajv2020Module from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { LruMap } from "../util/lru.js";
import { UnsupportedRegexError, linearRegExpEngine } from "./linear-regexp.js";

const Ajv = AjvModule.default;
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;

/** Compiled validators a {@link JsonValidator} keeps (least recently used first out). */
export const VALIDATOR_CACHE_SIZE = 256;

export interface ValidationIssue {
  /** JSON Pointer of the offending value, "" for the root. */
  readonly path: string;
  /** ajv keyword: `type`, `required`, `enum`, `additionalProperties`, `format`, … */
  readonly keyword: string;
  /** Readable: `/city must be string`. */
  readonly message: string;
}

export type ValidationResult = { readonly valid: true } | { readonly valid: false; readonly issues: readonly ValidationIssue[] };

/** A schema ajv cannot compile. */
export class InvalidSchemaError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InvalidSchemaError";
  }
}

/**
 * A valid regex in `pattern` or a `patternProperties` key that the linear-time engine cannot run
 * (lookaround, backreferences, …): the schema can be neither enforced by a grammar nor validated safely.
 */
export class UnsupportedPatternError extends InvalidSchemaError {
  constructor(
    readonly pattern: string,
    /** JSON Pointer of the pattern inside the schema: `/properties/code/pattern`, `/patternProperties/^x`. */
    readonly schemaPath: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`pattern ${JSON.stringify(pattern)} at ${schemaPath === "" ? "(root)" : schemaPath}: ${reason}`, options);
    this.name = "UnsupportedPatternError";
  }
}

export type SchemaDraft = "draft-07" | "2020-12";

type AjvInstance = InstanceType<typeof Ajv>;

function newAjv(draft: SchemaDraft, validateSchema: boolean): AjvInstance {
  const options = { strict: false, allErrors: true, validateSchema, code: { regExp: linearRegExpEngine } } as const;
  const ajv = draft === "draft-07" ? new Ajv(options) : new Ajv2020(options);
  addFormats(ajv);
  return ajv;
}

/** One long-lived instance per draft checks schemas against the meta-schema (it compiles no user schema). */
const metaCheckers = new Map<SchemaDraft, AjvInstance>();

/**
 * Compile `schema` in a fresh ajv instance (checked against the draft's meta-schema first, as ajv's
 * `compile` does), so that the returned function is all that keeps it in memory. Patterns run on the
 * linear-time engine. Throws {@link UnsupportedPatternError}, or ajv's own error for an invalid schema.
 */
export function compileSchema(schema: object, draft: SchemaDraft): ValidateFunction {
  let meta = metaCheckers.get(draft);
  if (meta === undefined) {
    meta = newAjv(draft, true);
    metaCheckers.set(draft, meta);
  }
  if (meta.validateSchema(schema) !== true) throw new Error(`schema is invalid: ${meta.errorsText(meta.errors)}`);
  try {
    return newAjv(draft, false).compile(schema);
  } catch (error) {
    if (!(error instanceof UnsupportedRegexError)) throw error;
    throw new UnsupportedPatternError(error.pattern, findPattern(schema, error.pattern) ?? "", error.reason, { cause: error });
  }
}

/** Keywords whose values are data, not subschemas (a `pattern` key there is no pattern). */
const DATA_KEYWORDS = new Set(["const", "enum", "default", "examples", "required"]);
/** Keywords whose values map names to subschemas (the names are not keywords). */
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies"]);

const escapePointer = (segment: string): string => segment.replace(/~/g, "~0").replace(/\//g, "~1");

/** JSON Pointer of the first `pattern` (or `patternProperties` key) equal to `pattern` in a schema. */
function findPattern(schema: unknown, pattern: string, at = ""): string | undefined {
  if (Array.isArray(schema)) {
    for (const [i, item] of schema.entries()) {
      const found = findPattern(item, pattern, `${at}/${i}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof schema !== "object" || schema === null) return undefined;
  for (const [key, value] of Object.entries(schema)) {
    const here = `${at}/${escapePointer(key)}`;
    if (DATA_KEYWORDS.has(key)) continue;
    if (key === "pattern" && value === pattern) return here;
    if (SCHEMA_MAPS.has(key) && typeof value === "object" && value !== null && !Array.isArray(value)) {
      if (key === "patternProperties" && Object.hasOwn(value, pattern)) return `${here}/${escapePointer(pattern)}`;
      for (const [name, sub] of Object.entries(value)) {
        const found = findPattern(sub, pattern, `${here}/${escapePointer(name)}`);
        if (found !== undefined) return found;
      }
      continue;
    }
    const found = findPattern(value, pattern, here);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * A JSON Pointer inside a request field, in OpenAI's dotted `param` form:
 * (`tools[0].function.parameters`, `/properties/a b/anyOf/1`) → `tools[0].function.parameters.properties["a b"].anyOf[1]`.
 */
export function pointerToParam(base: string, pointer: string): string {
  if (pointer === "") return base;
  let out = base;
  for (const raw of pointer.slice(1).split("/")) {
    const segment = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (/^(?:0|[1-9]\d*)$/.test(segment)) out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) out += `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

function describeIssue(e: ErrorObject): ValidationIssue {
  let message = `${e.instancePath || "(root)"} ${e.message ?? e.keyword}`;
  if (e.keyword === "additionalProperties") {
    const extra = (e.params as { additionalProperty?: string }).additionalProperty;
    if (extra !== undefined) message += `: ${JSON.stringify(extra)}`;
  } else if (e.keyword === "enum") {
    const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues;
    if (allowed !== undefined) message += `: ${allowed.map((v) => JSON.stringify(v)).join(", ")}`;
  }
  return { path: e.instancePath, keyword: e.keyword, message };
}

/**
 * Validators by schema; one instance can be shared. Compiled functions are cached by schema text, the
 * `cacheSize` most recently used (default {@link VALIDATOR_CACHE_SIZE}).
 */
export class JsonValidator {
  readonly #cache: LruMap<string, ValidateFunction>;

  constructor(options: { readonly cacheSize?: number } = {}) {
    this.#cache = new LruMap({ max: options.cacheSize ?? VALIDATOR_CACHE_SIZE });
  }

  /** Compiled validators held now (at most the cache size). */
  get cachedCount(): number {
    return this.#cache.size;
  }

  /** The compiled validator for `schema`. Throws {@link InvalidSchemaError} (or {@link UnsupportedPatternError}). */
  compile(schema: unknown): (value: unknown) => ValidationResult {
    if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
      if (schema === true) return () => ({ valid: true });
      throw new InvalidSchemaError("a JSON Schema must be an object");
    }
    const key = JSON.stringify(schema);
    let fn = this.#cache.get(key);
    if (fn === undefined) {
      fn = this.#compile(schema as Record<string, unknown>);
      this.#cache.set(key, fn);
    }
    const validate = fn;
    return (value) => (validate(value) === true ? { valid: true } : { valid: false, issues: (validate.errors ?? []).map(describeIssue) });
  }

  /** Validate once. Throws {@link InvalidSchemaError} for a bad schema. */
  validate(schema: unknown, value: unknown): ValidationResult {
    return this.compile(schema)(value);
  }

  #compile(schema: Record<string, unknown>): ValidateFunction {
    const declared = typeof schema["$schema"] === "string" ? (schema["$schema"] as string) : "";
    const draft7First = /draft-0[467]/.test(declared);
    // Draft chosen here, not by `$schema` (ajv knows only its own meta-schema URIs); `$id` dropped too.
    const { $id: _id, $schema: _schema, ...body } = schema;
    const order: readonly SchemaDraft[] = draft7First ? ["draft-07", "2020-12"] : ["2020-12", "draft-07"];
    let firstError: unknown;
    for (const draft of order) {
      try {
        return compileSchema(body, draft);
      } catch (error) {
        if (error instanceof UnsupportedPatternError) throw error; // the other draft cannot run it either
        firstError ??= error;
      }
    }
    throw new InvalidSchemaError(`invalid JSON Schema: ${firstError instanceof Error ? firstError.message : String(firstError)}`, { cause: firstError });
  }
}

/** One line per issue, for tool responses and CLI errors. */
export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => i.message).join("; ");
}
