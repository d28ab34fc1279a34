/**
 * A seeded random walk over a GBNF grammar: expands rules top-down, choosing alternatives and
 * repetition counts at random, and switches to the shortest completions once the output passes a
 * length budget, so every walk terminates. Every string it returns is a sentence of the grammar
 * (by construction), which makes it a test oracle for grammar converters: whatever the grammar
 * allows must be valid.
 */
import type { GbnfExpr, GbnfGrammar } from "./ast.js";
import { CodePointSet } from "./charset.js";
import { mulberry32 } from "../../util/random.js";

/** A small seeded PRNG (mulberry32), returning floats in [0, 1). */
export const seededRandom: (seed: number) => () => number = mulberry32;

export interface SampleOptions {
  /** Start rule. Default `"root"`. */
  readonly root?: string;
  /** After this many code points, take the shortest way to the end. Default 300. */
  readonly budget?: number;
  /** Extra repetitions beyond the minimum are drawn from 0..this. Default 5. */
  readonly maxExtraRepetitions?: number;
}

/** Characters tried first for negated classes and `.`: mostly printable ASCII, a few non-ASCII ones. */
const POOL = [
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.,:;!?@#/()'\"\\{}[]<>=+*&%$~`^|",
  "é",
  "ß",
  "中",
  "😀",
  "\u00a0",
  "\u2028",
  "\t",
  "\n",
].map((c) => c.codePointAt(0) as number);

export class GrammarSampler {
  private readonly rules = new Map<string, GbnfExpr>();
  private readonly minLen = new Map<string, number>();
  private readonly classCache = new Map<GbnfExpr, CodePointSet>();

  constructor(grammar: GbnfGrammar) {
    for (const r of grammar.rules) this.rules.set(r.name, r.expr);
    for (const name of this.rules.keys()) this.minLen.set(name, Infinity);
    let changed = true;
    while (changed) {
      changed = false;
      for (const [name, expr] of this.rules) {
        const n = this.exprMinLen(expr);
        if (n < (this.minLen.get(name) as number)) {
          this.minLen.set(name, n);
          changed = true;
        }
      }
    }
    for (const [name, n] of this.minLen) {
      if (n === Infinity) throw new Error(`GBNF rule '${name}' derives no finite string`);
    }
  }

  /** One random sentence of the grammar. */
  sample(random: () => number, options: SampleOptions = {}): string {
    const root = options.root ?? "root";
    const expr = this.rules.get(root);
    if (expr === undefined) throw new Error(`no rule '${root}'`);
    const ctx: Ctx = {
      random,
      budget: options.budget ?? 300,
      extra: options.maxExtraRepetitions ?? 5,
      out: [],
      length: 0,
    };
    this.walk(expr, ctx);
    return ctx.out.join("");
  }

  private exprMinLen(e: GbnfExpr): number {
    switch (e.type) {
      case "literal":
        return [...e.text].length;
      case "char-class":
      case "any-char":
        return 1;
      case "rule-ref":
        return this.minLen.get(e.name) ?? Infinity;
      case "sequence":
        return e.items.reduce((n, x) => n + this.exprMinLen(x), 0);
      case "alternation":
        return Math.min(...e.options.map((x) => this.exprMinLen(x)));
      case "repetition":
        return e.min === 0 ? 0 : e.min * this.exprMinLen(e.item);
      default:
        return e satisfies never;
    }
  }

  private walk(e: GbnfExpr, ctx: Ctx): void {
    const closing = ctx.length >= ctx.budget;
    switch (e.type) {
      case "literal":
        ctx.out.push(e.text);
        ctx.length += [...e.text].length;
        return;
      case "char-class":
      case "any-char": {
        const cp = this.pickChar(e, ctx.random);
        ctx.out.push(String.fromCodePoint(cp));
        ctx.length++;
        return;
      }
      case "rule-ref": {
        const r = this.rules.get(e.name);
        if (r === undefined) throw new Error(`undefined rule '${e.name}'`);
        this.walk(r, ctx);
        return;
      }
      case "sequence":
        for (const x of e.items) this.walk(x, ctx);
        return;
      case "alternation": {
        let options = e.options;
        if (closing) {
          const lens = options.map((o) => this.exprMinLen(o));
          const best = Math.min(...lens);
          options = options.filter((_, i) => lens[i] === best);
        }
        this.walk(options[Math.floor(ctx.random() * options.length)] as GbnfExpr, ctx);
        return;
      }
      case "repetition": {
        let n = e.min;
        if (!closing) {
          const r = ctx.random();
          if (e.max !== undefined && e.max <= 64 && r < 0.15) n = e.max;
          else n = e.min + Math.floor(ctx.random() * (ctx.extra + 1));
          if (e.max !== undefined) n = Math.min(n, e.max);
        }
        for (let i = 0; i < n; i++) {
          // once over budget, stop optional repetitions early
          if (i >= e.min && ctx.length >= ctx.budget) break;
          this.walk(e.item, ctx);
        }
        return;
      }
      default:
        e satisfies never;
    }
  }

  private pickChar(e: GbnfExpr, random: () => number): number {
    let set = this.classCache.get(e);
    if (set === undefined) {
      if (e.type === "any-char") set = CodePointSet.ALL;
      else if (e.type === "char-class") {
        const s = CodePointSet.of(e.ranges);
        set = e.negated ? s.complement() : s;
      } else throw new Error("internal: not a class");
      // code points that cannot stand alone in UTF-8 text
      set = set.subtract(CodePointSet.of([[0xd800, 0xdfff]]));
      this.classCache.set(e, set);
    }
    if (set.isEmpty) throw new Error("empty character class");
    // small classes: uniform over the class; large ones: prefer the readable pool
    if (set.size > 200) {
      const pool = POOL.filter((cp) => set.has(cp));
      if (pool.length > 0 && random() < 0.95) return pool[Math.floor(random() * pool.length)] as number;
    }
    const r = set.ranges[Math.floor(random() * set.ranges.length)] as readonly [number, number];
    return r[0] + Math.floor(random() * (r[1] - r[0] + 1));
  }
}

interface Ctx {
  readonly random: () => number;
  readonly budget: number;
  readonly extra: number;
  readonly out: string[];
  length: number;
}
