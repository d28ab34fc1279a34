/**
 * GBNF that other grammar engines read too. xgrammar (vLLM's default structured-output backend) reads
 * llama.cpp's GBNF except its any-character `.`; this rewrites `.` as the equivalent negated empty class
 * `[^]` (every other construct Talaria's builders emit is common to both). Pure.
 */
import { printGrammar, type GbnfExpr } from "./ast.js";
import { parseGbnf } from "./parse.js";

function rewrite(e: GbnfExpr): GbnfExpr {
  switch (e.type) {
    case "any-char":
      return { type: "char-class", negated: true, ranges: [] };
    case "sequence":
      return { type: "sequence", items: e.items.map(rewrite) };
    case "alternation":
      return { type: "alternation", options: e.options.map(rewrite) };
    case "repetition":
      return { ...e, item: rewrite(e.item) };
    case "literal":
    case "char-class":
    case "rule-ref":
      return e;
    default:
      return e satisfies never;
  }
}

/** `gbnf` with `.` written as `[^]`; unchanged text when it has no any-character. */
export function portableGbnf(gbnf: string): string {
  const grammar = parseGbnf(gbnf);
  let changed = false;
  const rules = grammar.rules.map((r) => {
    const expr = rewrite(r.expr);
    if (expr !== r.expr && JSON.stringify(expr) !== JSON.stringify(r.expr)) changed = true;
    return { name: r.name, expr };
  });
  return changed ? printGrammar({ rules }) : gbnf;
}
