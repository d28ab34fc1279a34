/**
 * JSON Schema validation with ajv (draft-07 / 2019 keywords, formats from ajv-formats), compiled once per
 * schema (the 256 most recently used are kept). Patterns run on the chat layer's linear-time engine:
 * no backtracking on model output, and a pattern that needs it (lookaround, backreferences) throws like
 * any invalid schema (docs/decisions/0053).
 */
import type { ErrorObject, ValidateFunction } from "ajv";
import { compileSchema } from "../chat/validate.js";
import { LruMap } from "../util/lru.js";

export interface SchemaIssue {
  /** ajv keyword: `type`, `enum`, `required`, `additionalProperties`, `minimum`, `format`, … */
  readonly keyword: string;
  /** JSON Pointer of the offending value, "" for the root. */
  readonly path: string;
  readonly message: string;
}

export class SchemaValidator {
  readonly #cache = new LruMap<string, ValidateFunction>({ max: 256 });

  /** Validates `value` against `schema`; throws when the schema itself is invalid. */
  validate(schema: unknown, value: unknown): SchemaIssue[] {
    const key = JSON.stringify(schema);
    let fn = this.#cache.get(key);
    if (fn === undefined) {
      fn = compileSchema(schema as object, "draft-07");
      this.#cache.set(key, fn);
    }
    if (fn(value)) return [];
    return (fn.errors ?? []).map((e: ErrorObject) => ({ keyword: e.keyword, path: e.instancePath, message: `${e.instancePath || "(root)"} ${e.message ?? e.keyword}` }));
  }
}
