/**
 * GBNF (llama.cpp dialect) abstract syntax: expressions, rules, and a printer that writes text
 * llama.cpp's `llama_grammar_parser` accepts. Pure data, no dependencies.
 *
 * Dialect notes (llama.cpp `src/llama-grammar.cpp`):
 * - rule names are `[a-zA-Z0-9-]+`; a rule is `name ::= alternatives` on one logical line;
 * - literals `"..."` and classes `[...]`/`[^...]` with escapes `\x.. \u.... \U........ \t \r \n \\ \" \[ \]`;
 * - `.` is any code point; postfix `? * + {n} {n,} {n,m}`; `(...)` groups; `#` comments;
 * - matching is per Unicode code point (UTF-8 decoded).
 */
import { CodePointSet, type CodePointRange } from "./charset.js";

export type GbnfExpr =
  | { readonly type: "literal"; readonly text: string }
  | { readonly type: "char-class"; readonly negated: boolean; readonly ranges: readonly CodePointRange[] }
  | { readonly type: "any-char" }
  | { readonly type: "rule-ref"; readonly name: string }
  | { readonly type: "sequence"; readonly items: readonly GbnfExpr[] }
  | { readonly type: "alternation"; readonly options: readonly GbnfExpr[] }
  | {
      readonly type: "repetition";
      readonly item: GbnfExpr;
      readonly min: number;
      /** Undefined = unbounded. */
      readonly max: number | undefined;
    };

export interface GbnfRule {
  readonly name: string;
  readonly expr: GbnfExpr;
}

/** A grammar: rules in definition order. A later rule with the same name replaces an earlier one (as in llama.cpp). */
export interface GbnfGrammar {
  readonly rules: readonly GbnfRule[];
}

/** Rule names allowed by llama.cpp. */
export const RULE_NAME_PATTERN = /^[a-zA-Z0-9-]+$/;

// ---------------------------------------------------------------------------------------------
// Constructors (with light simplification so printed grammars stay small and valid)
// ---------------------------------------------------------------------------------------------

export const EMPTY: GbnfExpr = { type: "sequence", items: [] };

export function lit(text: string): GbnfExpr {
  return text === "" ? EMPTY : { type: "literal", text };
}

export function ref(name: string): GbnfExpr {
  return { type: "rule-ref", name };
}

export function anyChar(): GbnfExpr {
  return { type: "any-char" };
}

/** A positive character class from a code-point set (a single code point becomes a literal). */
export function charsOf(set: CodePointSet): GbnfExpr {
  const single = set.single;
  if (single !== undefined) return lit(String.fromCodePoint(single));
  return { type: "char-class", negated: false, ranges: set.ranges };
}

/** A character class written as `[...]` from a string like `a-zA-Z_` (ranges with `-`). */
export function chars(spec: string, negated = false): GbnfExpr {
  const cps = [...spec].map((c) => c.codePointAt(0) as number);
  const ranges: [number, number][] = [];
  for (let i = 0; i < cps.length; i++) {
    const a = cps[i] as number;
    if (cps[i + 1] === 0x2d && i + 2 < cps.length) {
      ranges.push([a, cps[i + 2] as number]);
      i += 2;
    } else {
      ranges.push([a, a]);
    }
  }
  return { type: "char-class", negated, ranges };
}

export function isEmptyExpr(e: GbnfExpr): boolean {
  return (e.type === "sequence" && e.items.every(isEmptyExpr)) || (e.type === "literal" && e.text === "");
}

export function seq(...items: GbnfExpr[]): GbnfExpr {
  return seqOf(items);
}

/** {@link seq} over an array (no spread: safe for any length). */
export function seqOf(items: readonly GbnfExpr[]): GbnfExpr {
  const flat: GbnfExpr[] = [];
  for (const item of items) {
    if (item.type === "sequence") for (const x of item.items) flat.push(x);
    else if (!isEmptyExpr(item)) flat.push(item);
  }
  // merge adjacent literals
  const merged: GbnfExpr[] = [];
  for (const item of flat) {
    const last = merged[merged.length - 1];
    if (item.type === "literal" && last !== undefined && last.type === "literal") {
      merged[merged.length - 1] = { type: "literal", text: last.text + item.text };
    } else {
      merged.push(item);
    }
  }
  if (merged.length === 1) return merged[0] as GbnfExpr;
  return { type: "sequence", items: merged };
}

export function alt(...options: GbnfExpr[]): GbnfExpr {
  return altOf(options);
}

/** {@link alt} over an array (no spread: safe for any length). */
export function altOf(options: readonly GbnfExpr[]): GbnfExpr {
  const flat: GbnfExpr[] = [];
  const seen = new Set<string>();
  for (const o of options) {
    for (const x of o.type === "alternation" ? o.options : [o]) {
      // printed text is cached per node, so deduplicating is linear in the options' size
      const key = printExpr(x);
      if (seen.has(key)) continue;
      seen.add(key);
      flat.push(x);
    }
  }
  if (flat.length === 1) return flat[0] as GbnfExpr;
  return { type: "alternation", options: flat };
}

export function rep(item: GbnfExpr, min: number, max: number | undefined): GbnfExpr {
  if (!Number.isInteger(min) || min < 0 || (max !== undefined && (!Number.isInteger(max) || max < min))) {
    throw new RangeError(`invalid repetition {${min},${max ?? ""}}`);
  }
  if (isEmptyExpr(item) || max === 0) return EMPTY;
  if (min === 1 && max === 1) return item;
  return { type: "repetition", item, min, max };
}

export function opt(item: GbnfExpr): GbnfExpr {
  return rep(item, 0, 1);
}

// ---------------------------------------------------------------------------------------------
// Printer
// ---------------------------------------------------------------------------------------------

function escapeCodePoint(cp: number, inClass: boolean): string {
  if (cp === 0x0a) return "\\n";
  if (cp === 0x0d) return "\\r";
  if (cp === 0x09) return "\\t";
  if (cp === 0x5c) return "\\\\";
  if (!inClass && cp === 0x22) return '\\"';
  if (inClass && (cp === 0x5d || cp === 0x5b || cp === 0x2d || cp === 0x5e)) {
    return `\\x${cp.toString(16).toUpperCase()}`;
  }
  if (cp < 0x20 || cp === 0x7f) return `\\x${cp.toString(16).toUpperCase().padStart(2, "0")}`;
  if (cp < 0x7f) return String.fromCodePoint(cp);
  if (cp <= 0xffff) return `\\u${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  return `\\U${cp.toString(16).toUpperCase().padStart(8, "0")}`;
}

function printLiteral(text: string): string {
  let out = '"';
  for (const ch of text) out += escapeCodePoint(ch.codePointAt(0) as number, false);
  return `${out}"`;
}

function printClass(negated: boolean, ranges: readonly CodePointRange[]): string {
  let out = negated ? "[^" : "[";
  for (const [a, b] of ranges) {
    out += escapeCodePoint(a, true);
    if (b !== a) out += `-${escapeCodePoint(b, true)}`;
  }
  return `${out}]`;
}

/**
 * Printed text of compound nodes without their outer parentheses, cached per node (expressions are
 * immutable): deduplicating alternatives, sharing rule bodies and measuring grammar size print the
 * same subtrees many times, which would otherwise be quadratic in the nesting.
 */
const printed = new WeakMap<GbnfExpr, string>();

/** Precedence: 0 = alternation, 1 = sequence, 2 = postfix operand. */
function printAt(e: GbnfExpr, prec: number): string {
  switch (e.type) {
    case "literal":
      return printLiteral(e.text);
    case "char-class":
      return printClass(e.negated, e.ranges);
    case "any-char":
      return ".";
    case "rule-ref":
      return e.name;
    case "sequence": {
      if (e.items.length === 0) return '""';
      const s = core(e);
      return prec >= 2 && e.items.length > 1 ? `(${s})` : s;
    }
    case "alternation": {
      const s = core(e);
      return prec >= 1 ? `(${s})` : s;
    }
    case "repetition": {
      let s = printed.get(e);
      if (s === undefined) {
        const inner = printAt(e.item, 2);
        // A literal of several characters is one symbol in llama.cpp, so "ab"? repeats "ab".
        const operand = (e.item.type === "alternation" || e.item.type === "sequence") && !printsInParentheses(e.item) ? `(${inner})` : inner;
        const { min, max } = e;
        let op: string;
        if (min === 0 && max === 1) op = "?";
        else if (min === 0 && max === undefined) op = "*";
        else if (min === 1 && max === undefined) op = "+";
        else if (max === min) op = `{${min}}`;
        else op = `{${min},${max ?? ""}}`;
        s = operand + op;
        printed.set(e, s);
      }
      return s;
    }
    default:
      return e satisfies never;
  }
}

/** The text of a (non-empty) sequence or an alternation without outer parentheses. */
function core(e: Extract<GbnfExpr, { type: "sequence" | "alternation" }>): string {
  let s = printed.get(e);
  if (s !== undefined) return s;
  if (e.type === "sequence") {
    s = e.items.map((x) => printAt(x, 2)).join(" ");
  } else {
    const parts = e.options.map((x) => (isEmptyExpr(x) ? "" : printAt(x, 1)));
    s = parts.join(" | ");
    // an empty first or last alternative leaves no dangling space ("| x", "x |")
    if (parts[0] === "" && s.startsWith(" ")) s = s.slice(1);
    if (parts[parts.length - 1] === "" && s.endsWith(" ")) s = s.slice(0, -1);
  }
  printed.set(e, s);
  return s;
}

/** Whether `printAt(e, 2)` of a group is already wrapped in one pair of parentheses. */
function printsInParentheses(e: GbnfExpr): boolean {
  if (e.type === "alternation") return true;
  if (e.type !== "sequence") return false;
  if (e.items.length > 1) return true;
  const only = e.items[0];
  return only !== undefined && printsInParentheses(only);
}

/** Prints one expression as GBNF. */
export function printExpr(e: GbnfExpr): string {
  return printAt(e, 0);
}

/** Prints a grammar as GBNF text, one rule per line. */
export function printGrammar(grammar: GbnfGrammar): string {
  return grammar.rules.map((r) => `${r.name} ::= ${printExpr(r.expr)}`).join("\n") + "\n";
}
