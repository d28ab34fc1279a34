/**
 * JSON-mode checking: the output must parse as JSON (the whole text, or a ```json fence as
 * Hermes-Function-Calling's jsonmode.py accepts), validate against the case's schema (ajv), and match
 * the gold object leaf by leaf (values compared as in the function-calling checker). Pure (ajv only).
 */
import { valuesMatch } from "../function-calling/checker.js";
import type { SchemaIssue, SchemaValidator } from "../schema-validator.js";
import type { JsonModeCase } from "./cases.js";

export interface ExtractedJson {
  readonly value: unknown;
  /** `json`: the whole output; `fenced`: the body of a ```json fence. */
  readonly source: "json" | "fenced";
}

/** Parses the model output as JSON, or the first ``` fence's body; undefined when neither parses. */
export function extractJson(output: string): ExtractedJson | undefined {
  const text = output.trim();
  try {
    return { value: JSON.parse(text) as unknown, source: "json" };
  } catch {
    // fall through to the fence
  }
  const fence = /```(?:json)?[ \t]*\r?\n?([\s\S]*?)```/.exec(text);
  if (fence?.[1] !== undefined) {
    try {
      return { value: JSON.parse(fence[1].trim()) as unknown, source: "fenced" };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The gold object's leaves as [JSON Pointer, value] (arrays are leaves, compared whole). */
export function goldLeaves(value: unknown, pointer = ""): Array<[string, unknown]> {
  if (!isPlainObject(value)) return [[pointer, value]];
  const out: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(value)) out.push(...goldLeaves(v, `${pointer}/${k.replaceAll("~", "~0").replaceAll("/", "~1")}`));
  return out;
}

function at(value: unknown, pointer: string): { found: boolean; value?: unknown } {
  let cur: unknown = value;
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (!isPlainObject(cur) || !Object.hasOwn(cur, key)) return { found: false };
    cur = cur[key];
  }
  return { found: true, value: cur };
}

export interface JsonModeCheck {
  readonly id: string;
  readonly parsed: boolean;
  readonly source?: ExtractedJson["source"];
  readonly schemaValid: boolean;
  readonly schemaIssues: readonly SchemaIssue[];
  /** Gold leaves matched / total. */
  readonly fieldsMatched: number;
  readonly fieldsTotal: number;
  /** Pointers of the gold leaves that did not match. */
  readonly mismatched: readonly string[];
  /** parsed && schemaValid && every gold leaf matched. */
  readonly pass: boolean;
}

export function checkJsonMode(testCase: JsonModeCase, output: string, validator: SchemaValidator): JsonModeCheck {
  const leaves = goldLeaves(testCase.expected);
  const extracted = extractJson(output);
  if (extracted === undefined) {
    return {
      id: testCase.id,
      parsed: false,
      schemaValid: false,
      schemaIssues: [],
      fieldsMatched: 0,
      fieldsTotal: leaves.length,
      mismatched: leaves.map(([p]) => p),
      pass: false,
    };
  }
  const issues = validator.validate(testCase.schema, extracted.value);
  const mismatched = leaves.filter(([pointer, gold]) => {
    const got = at(extracted.value, pointer);
    return !got.found || !valuesMatch(got.value, gold);
  });
  return {
    id: testCase.id,
    parsed: true,
    source: extracted.source,
    schemaValid: issues.length === 0,
    schemaIssues: issues,
    fieldsMatched: leaves.length - mismatched.length,
    fieldsTotal: leaves.length,
    mismatched: mismatched.map(([p]) => p),
    pass: issues.length === 0 && mismatched.length === 0,
  };
}
