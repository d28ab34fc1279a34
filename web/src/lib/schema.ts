/**
 * JSON-mode result check: the reply must parse as JSON and, when a schema was given, match it.
 * Validation uses `@cfworker/json-schema` (drafts 4–2020-12, no `eval`, small) rather than Ajv, whose
 * code generation would add tens of kilobytes to the page (decision 0131).
 */
import { Validator, type Schema } from "@cfworker/json-schema";
import type { JsonCheck } from "./model.js";

/** Check `text` as JSON against `schema` (`null`: only that it parses). At most 5 errors are listed. */
export function checkJson(text: string, schema: Record<string, unknown> | null): JsonCheck {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: "json-invalid", errors: [`Not valid JSON: ${error instanceof Error ? error.message : String(error)}`] };
  }
  if (schema === null) return { kind: "json-valid", schemaChecked: false };
  let result;
  try {
    result = new Validator(schema as Schema, "2020-12", false).validate(value);
  } catch (error) {
    return { kind: "json-invalid", errors: [`The schema could not be used: ${error instanceof Error ? error.message : String(error)}`] };
  }
  if (result.valid) return { kind: "json-valid", schemaChecked: true };
  // Leaf errors (the deepest locations) say the most; cfworker also lists each enclosing keyword.
  const errors = result.errors
    .filter((e, _i, all) => !all.some((o) => o !== e && o.keywordLocation.startsWith(`${e.keywordLocation}/`)))
    .slice(0, 5)
    .map((e) => `${e.instanceLocation === "#" ? "(root)" : e.instanceLocation}: ${e.error}`);
  return { kind: "json-invalid", errors: errors.length > 0 ? errors : ["Does not match the schema."] };
}
