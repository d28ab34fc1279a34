/**
 * A BFCL-style AST checker for function calls: the function name, required arguments, argument types
 * and enum values against the tool's JSON Schema (ajv), the values against the gold answers, parallel
 * calls matched in any order, and irrelevance = no call. Pure (ajv only). See docs/decisions/0072.
 */
import type { SchemaValidator } from "../schema-validator.js";
import type { CaseTool, ExpectedCall, FunctionCallingCase } from "./cases.js";

/** A call the model made: its name and its (parsed) arguments. */
export interface ModelCall {
  readonly name: string;
  readonly arguments: unknown;
}

export type CallErrorKind =
  /** The model called a function although none was wanted (irrelevance). */
  | "unexpected-call"
  /** Fewer or more calls than expected. */
  | "wrong-call-count"
  /** A `<tool_call>` block could not be parsed. */
  | "parse-error"
  | "wrong-function"
  | "arguments-not-object"
  /** A parameter the schema requires is absent. */
  | "missing-required"
  /** A parameter the schema does not declare. */
  | "unknown-argument"
  | "type-mismatch"
  | "enum-violation"
  /** Any other schema keyword (minimum, pattern, format, …). */
  | "schema-violation"
  /** A declared parameter the gold answer does not use. */
  | "unexpected-argument"
  /** A gold argument (not optional) is absent. */
  | "missing-argument"
  | "value-mismatch";

export interface CallError {
  readonly kind: CallErrorKind;
  readonly message: string;
  /** Index of the model call concerned, when one is. */
  readonly call?: number;
}

export interface FunctionCallCheck {
  readonly id: string;
  readonly category: FunctionCallingCase["category"];
  readonly pass: boolean;
  readonly errors: readonly CallError[];
}

/** BFCL's `standardize_string`: drop spaces and `,./-_*^`, lower-case, `'` → `"`. */
export function standardizeString(s: string): string {
  return s.replace(/[ ,./\-_*^]/g, "").toLowerCase().replaceAll("'", '"');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Whether a model value matches a gold value: strings after {@link standardizeString}, numbers by value
 * (an integer matches the equal float), arrays element-wise in order, objects key by key.
 */
export function valuesMatch(actual: unknown, expected: unknown): boolean {
  if (typeof expected === "string") return typeof actual === "string" && standardizeString(actual) === standardizeString(expected);
  if (typeof expected === "number") return typeof actual === "number" && actual === expected;
  if (typeof expected === "boolean" || expected === null) return actual === expected;
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => valuesMatch(actual[i], e));
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) return false;
    const ek = Object.keys(expected);
    const ak = Object.keys(actual);
    return ek.length === ak.length && ek.every((k) => Object.hasOwn(actual, k) && valuesMatch(actual[k], expected[k]));
  }
  return false;
}

const KEYWORD_KIND: Readonly<Record<string, CallErrorKind>> = {
  required: "missing-required",
  type: "type-mismatch",
  enum: "enum-violation",
  const: "enum-violation",
  additionalProperties: "unknown-argument",
};

/** Errors of one model call against one gold call (empty = the call is correct). */
export function checkCall(expected: ExpectedCall, actual: ModelCall, tools: readonly CaseTool[], validator: SchemaValidator, callIndex?: number): CallError[] {
  const at = callIndex === undefined ? {} : { call: callIndex };
  if (actual.name !== expected.name) {
    return [{ kind: "wrong-function", message: `called ${JSON.stringify(actual.name)}, expected ${JSON.stringify(expected.name)}`, ...at }];
  }
  const tool = tools.find((t) => t.function.name === actual.name);
  if (!isPlainObject(actual.arguments)) return [{ kind: "arguments-not-object", message: "the arguments are not an object", ...at }];
  const args = actual.arguments;
  const errors: CallError[] = [];
  const unknown = new Set<string>();

  if (tool !== undefined) {
    const properties = tool.function.parameters.properties;
    if (isPlainObject(properties)) {
      for (const k of Object.keys(args)) {
        if (!Object.hasOwn(properties, k)) {
          unknown.add(k);
          errors.push({ kind: "unknown-argument", message: `argument ${JSON.stringify(k)} is not a parameter of ${actual.name}`, ...at });
        }
      }
    }
    for (const issue of validator.validate(tool.function.parameters, args)) {
      const kind = KEYWORD_KIND[issue.keyword] ?? "schema-violation";
      if (kind === "unknown-argument") continue; // reported above, by name
      errors.push({ kind, message: issue.message, ...at });
    }
  }

  const optional = new Set(expected.optional ?? []);
  for (const [k, v] of Object.entries(args)) {
    if (unknown.has(k)) continue;
    const acceptable = expected.arguments[k];
    if (acceptable === undefined) {
      errors.push({ kind: "unexpected-argument", message: `argument ${JSON.stringify(k)} is not in the gold call`, ...at });
    } else if (!acceptable.some((e) => valuesMatch(v, e))) {
      errors.push({ kind: "value-mismatch", message: `${k} = ${JSON.stringify(v)}, expected one of ${JSON.stringify(acceptable)}`, ...at });
    }
  }
  for (const k of Object.keys(expected.arguments)) {
    if (!Object.hasOwn(args, k) && !optional.has(k)) errors.push({ kind: "missing-argument", message: `argument ${JSON.stringify(k)} is missing`, ...at });
  }
  return errors;
}

/** A perfect matching of gold calls to model calls over the `ok` matrix (backtracking; n is small). */
function perfectMatching(ok: readonly (readonly boolean[])[]): number[] | undefined {
  const n = ok.length;
  const used = new Array<boolean>(n).fill(false);
  const assign: number[] = [];
  const go = (i: number): boolean => {
    if (i === n) return true;
    for (let j = 0; j < n; j++) {
      if (used[j] || !(ok[i]?.[j] ?? false)) continue;
      used[j] = true;
      assign[i] = j;
      if (go(i + 1)) return true;
      used[j] = false;
    }
    return false;
  };
  return go(0) ? assign : undefined;
}

/**
 * Checks a case's model calls. `parseErrors` counts `<tool_call>` blocks the parser rejected; any
 * makes the case fail.
 */
export function checkFunctionCalls(testCase: FunctionCallingCase, calls: readonly ModelCall[], validator: SchemaValidator, parseErrors = 0): FunctionCallCheck {
  const result = (errors: CallError[]): FunctionCallCheck => ({ id: testCase.id, category: testCase.category, pass: errors.length === 0, errors });
  const errors: CallError[] = [];
  if (parseErrors > 0) errors.push({ kind: "parse-error", message: `${parseErrors} <tool_call> block(s) could not be parsed` });
  const expected = testCase.expected;
  if (expected.length === 0) {
    calls.forEach((c, i) => errors.push({ kind: "unexpected-call", message: `called ${JSON.stringify(c.name)} although no call was wanted`, call: i }));
    return result(errors);
  }
  if (calls.length !== expected.length) {
    errors.push({ kind: "wrong-call-count", message: `${calls.length} call(s), expected ${expected.length}` });
    // Still report what is wrong with the calls that are there.
  }
  const detail = expected.map((e) => calls.map((c, j) => checkCall(e, c, testCase.tools, validator, j)));
  if (calls.length === expected.length) {
    const matching = perfectMatching(detail.map((row) => row.map((errs) => errs.length === 0)));
    if (matching !== undefined) return result(errors);
  }
  // No perfect matching: for each gold call without a correct partner, report the closest call's errors
  // (same name first, then fewest errors), or that it is missing.
  const taken = new Set<number>();
  expected.forEach((e, i) => {
    const row = detail[i] as CallError[][];
    const perfect = row.findIndex((errs, j) => errs.length === 0 && !taken.has(j));
    if (perfect >= 0) {
      taken.add(perfect);
      return;
    }
    let best = -1;
    row.forEach((errs, j) => {
      if (taken.has(j)) return;
      const sameName = (calls[j] as ModelCall).name === e.name;
      if (best < 0) {
        best = j;
        return;
      }
      const bestSame = (calls[best] as ModelCall).name === e.name;
      if ((sameName && !bestSame) || (sameName === bestSame && errs.length < (row[best] as CallError[]).length)) best = j;
    });
    if (best < 0) return; // fewer calls than expected: already reported as wrong-call-count
    taken.add(best);
    errors.push(...(row[best] as CallError[]));
  });
  if (errors.length === 0) errors.push({ kind: "wrong-call-count", message: "the calls do not match the gold calls" });
  return result(errors);
}
