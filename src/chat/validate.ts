/**
 * JSON Schema validation with ajv (+ ajv-formats), compiled once per schema: tool arguments before a
 * tool runs (and before calls are returned), JSON-mode answers before they are printed.
 *
 * Draft: a schema whose `$schema` names draft-04/06/07 is checked with ajv's draft-07 class, any
 * other with the 2020-12 class (zod 4 and OpenAI schemas); a schema the 2020-12 class rejects
 * (e.g. draft-07 tuple `items: [...]`) is retried with draft-07.
 */
import AjvModule, { type ErrorObject, type ValidateFunction } from "ajv";
import Ajv2020Module from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

const Ajv = AjvModule.default;
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;

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

/** Validators by schema; one instance can be shared (compiled functions are cached by schema text). */
export class JsonValidator {
  readonly #draft7 = new Ajv({ strict: false, allErrors: true });
  readonly #draft2020 = new Ajv2020({ strict: false, allErrors: true });
  readonly #cache = new Map<string, ValidateFunction>();

  constructor() {
    addFormats(this.#draft7);
    addFormats(this.#draft2020);
  }

  /** The compiled validator for `schema`. Throws {@link InvalidSchemaError}. */
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
    // ajv keeps schemas with an `$id` registered; compile a copy without it so the same id can come back.
    const { $id: _id, $schema: _schema, ...body } = schema;
    const order = draft7First ? [this.#draft7, this.#draft2020] : [this.#draft2020, this.#draft7];
    let firstError: unknown;
    for (const ajv of order) {
      try {
        return ajv.compile(body);
      } catch (error) {
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
