/** JSON Schema validation with ajv (draft-07 / 2019 keywords, formats from ajv-formats), compiled once per schema. */
import AjvModule, { type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;

export interface SchemaIssue {
  /** ajv keyword: `type`, `enum`, `required`, `additionalProperties`, `minimum`, `format`, … */
  readonly keyword: string;
  /** JSON Pointer of the offending value, "" for the root. */
  readonly path: string;
  readonly message: string;
}

export class SchemaValidator {
  readonly #ajv = new Ajv({ strict: false, allErrors: true, validateSchema: true });
  readonly #cache = new Map<string, ValidateFunction>();

  constructor() {
    addFormats(this.#ajv);
  }

  /** Validates `value` against `schema`; throws when the schema itself is invalid. */
  validate(schema: unknown, value: unknown): SchemaIssue[] {
    const key = JSON.stringify(schema);
    let fn = this.#cache.get(key);
    if (fn === undefined) {
      fn = this.#ajv.compile(schema as object);
      this.#cache.set(key, fn);
    }
    if (fn(value)) return [];
    return (fn.errors ?? []).map((e: ErrorObject) => ({ keyword: e.keyword, path: e.instancePath, message: `${e.instancePath || "(root)"} ${e.message ?? e.keyword}` }));
  }
}
