/**
 * Compiles a {@link GbnfGrammar} into the flat form llama.cpp's grammar engine runs: each rule is
 * a list of alternatives of terminal (code-point set) and rule-reference elements, with groups and
 * repetitions rewritten into generated rules exactly as `llama_grammar_parser` does
 * (`S{m,n}` → `S…S S'(n-m)`, `S'(k) ::= S S'(k-1) |`, `S* → S' ::= S S' |`).
 */
import type { GbnfExpr, GbnfGrammar } from "./ast.js";
import { CodePointSet } from "./charset.js";
import { GbnfSyntaxError } from "./parse.js";

/**
 * `end`: end of the rule's last alternative; `alt`: end of an alternative (another follows);
 * `ref`: reference to a rule; `chars`: one code point from a set.
 */

export type Element =
  | { readonly kind: "end" }
  | { readonly kind: "alt" }
  | { readonly kind: "ref"; readonly rule: number }
  | { readonly kind: "chars"; readonly set: CodePointSet };

export interface CompiledGrammar {
  /** All rules' elements, concatenated; a position is an index into this array. */
  readonly elements: readonly Element[];
  /** For each rule, the start positions of its alternatives. */
  readonly alternatives: readonly (readonly number[])[];
  /** Rule names (generated rules are named `<parent>_<n>` as in llama.cpp). */
  readonly ruleNames: readonly string[];
  readonly root: number;
}

export interface CompileOptions {
  /** Name of the start rule. Default `"root"`. */
  readonly root?: string;
}

type Item = { readonly kind: "ref"; readonly rule: number } | { readonly kind: "chars"; readonly set: CodePointSet };

/** Compiles a grammar. Throws {@link GbnfSyntaxError} on a missing root, undefined rules or left recursion. */
export function compileGbnf(grammar: GbnfGrammar, options: CompileOptions = {}): CompiledGrammar {
  const rootName = options.root ?? "root";
  const index = new Map<string, number>();
  const names: string[] = [];
  const bodies: (Item[][] | undefined)[] = [];
  for (const r of grammar.rules) {
    if (!index.has(r.name)) {
      index.set(r.name, names.length);
      names.push(r.name);
      bodies.push(undefined);
    }
  }
  const newRule = (base: string): number => {
    const id = names.length;
    names.push(`${base}_${id}`);
    bodies.push(undefined);
    return id;
  };

  const alternativesOf = (e: GbnfExpr): GbnfExpr[] => (e.type === "alternation" ? [...e.options] : [e]);

  const compileSeq = (e: GbnfExpr, base: string, out: Item[]): void => {
    switch (e.type) {
      case "literal":
        for (const ch of e.text) out.push({ kind: "chars", set: CodePointSet.single(ch.codePointAt(0) as number) });
        return;
      case "char-class": {
        const set = CodePointSet.of(e.ranges);
        out.push({ kind: "chars", set: e.negated ? set.complement() : set });
        return;
      }
      case "any-char":
        out.push({ kind: "chars", set: CodePointSet.ALL });
        return;
      case "rule-ref": {
        const id = index.get(e.name);
        if (id === undefined) throw new GbnfSyntaxError(`Undefined rule identifier '${e.name}'`, 0);
        out.push({ kind: "ref", rule: id });
        return;
      }
      case "sequence":
        for (const x of e.items) compileSeq(x, base, out);
        return;
      case "alternation": {
        const id = newRule(base);
        bodies[id] = e.options.map((o) => {
          const items: Item[] = [];
          compileSeq(o, base, items);
          return items;
        });
        out.push({ kind: "ref", rule: id });
        return;
      }
      case "repetition": {
        const symbol: Item[] = [];
        compileSeq(e.item, base, symbol);
        for (let i = 0; i < e.min; i++) for (const x of symbol) out.push(x);
        if (e.max === undefined) {
          const id = newRule(base);
          bodies[id] = [[...symbol, { kind: "ref", rule: id }], []];
          out.push({ kind: "ref", rule: id });
        } else {
          let last = -1;
          for (let i = 0; i < e.max - e.min; i++) {
            const id = newRule(base);
            bodies[id] = [i > 0 ? [...symbol, { kind: "ref", rule: last }] : [...symbol], []];
            last = id;
          }
          if (last >= 0) out.push({ kind: "ref", rule: last });
        }
        return;
      }
      default:
        e satisfies never;
    }
  };

  for (const r of grammar.rules) {
    const id = index.get(r.name) as number;
    bodies[id] = alternativesOf(r.expr).map((o) => {
      const items: Item[] = [];
      compileSeq(o, r.name, items);
      return items;
    });
  }
  const root = index.get(rootName);
  if (root === undefined) throw new GbnfSyntaxError(`grammar does not contain a root symbol '${rootName}'`, 0);

  // flatten
  const elements: Element[] = [];
  const alternatives: number[][] = [];
  bodies.forEach((alts) => {
    const starts: number[] = [];
    (alts ?? [[]]).forEach((items, i, all) => {
      starts.push(elements.length);
      for (const x of items) elements.push(x);
      elements.push(i === all.length - 1 ? { kind: "end" } : { kind: "alt" });
    });
    alternatives.push(starts);
  });

  const compiled: CompiledGrammar = { elements, alternatives, ruleNames: names, root };
  checkLeftRecursion(compiled);
  return compiled;
}

/** Rules that can derive the empty string (transitively). Linear in the grammar's size. */
export function nullableRules(g: CompiledGrammar): boolean[] {
  const nullable = g.alternatives.map(() => false);
  // For each alternative made of rule references only: how many of them are not known nullable yet.
  const pending: number[] = [];
  const owner: number[] = [];
  const waiting: number[][] = g.alternatives.map(() => []); // rule -> alternatives that reference it
  const queue: number[] = [];
  g.alternatives.forEach((starts, r) => {
    for (const s of starts) {
      const refs: number[] = [];
      let terminal = false;
      for (let p = s; ; p++) {
        const el = g.elements[p] as Element;
        if (el.kind === "end" || el.kind === "alt") break;
        if (el.kind === "chars") {
          terminal = true;
          break;
        }
        refs.push(el.rule);
      }
      if (terminal) continue;
      const a = pending.length;
      pending.push(refs.length);
      owner.push(r);
      for (const q of refs) (waiting[q] as number[]).push(a);
      if (refs.length === 0 && !nullable[r]) {
        nullable[r] = true;
        queue.push(r);
      }
    }
  });
  for (let q = queue.pop(); q !== undefined; q = queue.pop()) {
    for (const a of waiting[q] as number[]) {
      pending[a] = (pending[a] as number) - 1;
      const r = owner[a] as number;
      if (pending[a] === 0 && !nullable[r]) {
        nullable[r] = true;
        queue.push(r);
      }
    }
  }
  return nullable;
}

/**
 * Rejects left recursion (a rule reachable from itself without consuming input), which would make
 * the stack machine loop; llama.cpp rejects such grammars too.
 */
function checkLeftRecursion(g: CompiledGrammar): void {
  const nullable = nullableRules(g);
  const firstRefs = g.alternatives.map((starts) => {
    const refs: number[] = [];
    for (const s of starts) {
      for (let p = s; ; p++) {
        const el = g.elements[p] as Element;
        if (el.kind !== "ref") break;
        refs.push(el.rule);
        if (!nullable[el.rule]) break;
      }
    }
    return refs;
  });
  const state = g.alternatives.map(() => 0); // 0 new, 1 in progress, 2 done
  // depth-first without recursion (a grammar may chain thousands of nullable rules)
  const stack: { rule: number; next: number }[] = [];
  g.alternatives.forEach((_, start) => {
    if (state[start] !== 0) return;
    state[start] = 1;
    stack.push({ rule: start, next: 0 });
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { rule: number; next: number };
      const refs = firstRefs[top.rule] as number[];
      if (top.next >= refs.length) {
        state[top.rule] = 2;
        stack.pop();
        continue;
      }
      const x = refs[top.next++] as number;
      if (state[x] === 2) continue;
      if (state[x] === 1) {
        throw new GbnfSyntaxError(`unsupported grammar, left recursion detected for nonterminal '${g.ruleNames[x]}'`, 0);
      }
      state[x] = 1;
      stack.push({ rule: x, next: 0 });
    }
  });
}
