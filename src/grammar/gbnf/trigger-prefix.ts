/**
 * Lazy grammars in llama.cpp's own convention. Talaria's lazy grammar (`GrammarConstraint.lazyTriggers`)
 * constrains the text AFTER the trigger; llama.cpp's (`grammar_lazy` + `grammar_triggers` in
 * llama-server) feeds the grammar the text FROM the trigger on, the trigger included. This turns the
 * first into the second: `root ::= ("<t1>" | "<t2>") <old root>`, the old root renamed (and every
 * reference to it). Pure.
 */
import { alt, lit, ref, seq, printGrammar, type GbnfExpr } from "./ast.js";
import { parseGbnf } from "./parse.js";

function renameRefs(e: GbnfExpr, from: string, to: string): GbnfExpr {
  switch (e.type) {
    case "rule-ref":
      return e.name === from ? { type: "rule-ref", name: to } : e;
    case "sequence":
      return { type: "sequence", items: e.items.map((i) => renameRefs(i, from, to)) };
    case "alternation":
      return { type: "alternation", options: e.options.map((o) => renameRefs(o, from, to)) };
    case "repetition":
      return { ...e, item: renameRefs(e.item, from, to) };
    case "literal":
    case "char-class":
    case "any-char":
      return e;
    default:
      return e satisfies never;
  }
}

/**
 * A grammar that accepts `trigger + x` for each trigger and each `x` the given grammar accepts.
 * @param gbnf GBNF with start rule `root`.
 * @param triggers Non-empty texts.
 */
export function prefixGrammarWithTriggers(gbnf: string, triggers: readonly string[]): string {
  const texts = triggers.filter((t) => t !== "");
  if (texts.length === 0) throw new RangeError("prefixGrammarWithTriggers needs at least one non-empty trigger");
  const grammar = parseGbnf(gbnf);
  const names = new Set(grammar.rules.map((r) => r.name));
  let renamed = "after-trigger";
  for (let i = 2; names.has(renamed); i++) renamed = `after-trigger-${i}`;
  const rules = grammar.rules.map((r) => ({ name: r.name === "root" ? renamed : r.name, expr: renameRefs(r.expr, "root", renamed) }));
  const prefix = texts.length === 1 ? lit(texts[0] as string) : alt(...texts.map((t) => lit(t)));
  return printGrammar({ rules: [{ name: "root", expr: seq(prefix, ref(renamed)) }, ...rules] });
}
