/** Typed errors of the JSON Schema → GBNF converter. */

export type JsonSchemaGrammarErrorCode =
  /** A keyword the converter does not support (or does not know): it fails closed. */
  | "unsupported-keyword"
  /** A supported keyword with a value or combination the converter cannot enforce. */
  | "unsupported-value"
  /** A `pattern` outside the supported regex subset. */
  | "unsupported-pattern"
  /** A `format` the converter has no grammar for. */
  | "unsupported-format"
  /** A `$ref` that is not a local JSON pointer (`#...`). */
  | "unsupported-ref"
  /** A `$ref` whose target does not exist. */
  | "invalid-ref"
  /** Not a JSON Schema (wrong value types). */
  | "invalid-schema"
  /** No JSON value can satisfy the schema (as far as the converter can tell). */
  | "unsatisfiable"
  /** The grammar would exceed the size, work or time budget (see `GrammarBudget`). */
  | "too-large"
  /** Schemas (or a `const`/`enum` value) nested deeper than the budget's `maxDepth`. */
  | "too-deep";

/**
 * A schema the converter cannot turn into a grammar. `path` is a JSON pointer into the schema
 * (`#/properties/x`); `keyword` names the keyword at fault when there is one.
 */
export class JsonSchemaGrammarError extends Error {
  readonly code: JsonSchemaGrammarErrorCode;
  readonly path: string;
  readonly keyword: string | undefined;

  constructor(code: JsonSchemaGrammarErrorCode, message: string, path: string, keyword?: string) {
    super(message);
    this.name = "JsonSchemaGrammarError";
    this.code = code;
    this.path = path;
    this.keyword = keyword;
  }
}

/** Formats path segments as a JSON pointer fragment: `#`, `#/properties/a~1b`. */
export function formatPointer(segments: readonly (string | number)[]): string {
  return segments.length === 0
    ? "#"
    : `#/${segments.map((s) => String(s).replace(/~/g, "~0").replace(/\//g, "~1")).join("/")}`;
}
