/**
 * Builds GBNF grammars from expressions: allocates collision-free rule names under a prefix,
 * shares identical rule bodies, and rewrites repetitions into forms llama.cpp accepts:
 * - a repeated item that is not a single symbol (literal, class, `.`, rule reference) is hoisted
 *   into its own rule, so llama.cpp's repetition expansion never multiplies nested rules
 *   (its `MAX_REPETITION_THRESHOLD` check);
 * - counts above {@link MAX_INLINE_REPETITION} are split into blocks (llama.cpp rejects a minimum
 *   above 2000 and silently turns a maximum above 2000 into "unbounded").
 */
import {
  alt,
  printExpr,
  printGrammar,
  ref,
  rep,
  RULE_NAME_PATTERN,
  seq,
  type GbnfExpr,
  type GbnfGrammar,
  type GbnfRule,
} from "./ast.js";

/** Largest repetition count written as `{n,m}`; larger counts are split into blocks of this size. */
export const MAX_INLINE_REPETITION = 1000;

export interface GbnfBuilderOptions {
  /** Prefix of every rule name this builder allocates (embedding in a larger grammar). Default `""`. */
  readonly prefix?: string;
}

/** Turns any text into a llama.cpp rule-name fragment (`[a-zA-Z0-9-]`). */
export function sanitizeRuleName(text: string): string {
  const s = text
    .replace(/[^a-zA-Z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "");
  return s === "" ? "r" : s;
}

export class GbnfBuilder {
  readonly prefix: string;
  private readonly rules = new Map<string, GbnfExpr | undefined>();
  private readonly byBody = new Map<string, string>();

  constructor(options: GbnfBuilderOptions = {}) {
    this.prefix = options.prefix ?? "";
    if (this.prefix !== "" && !/^[a-zA-Z0-9-]*$/.test(this.prefix)) {
      throw new RangeError(`invalid GBNF rule prefix ${JSON.stringify(this.prefix)}: use [a-zA-Z0-9-]`);
    }
  }

  /** Whether a rule name (full, including prefix) is taken. */
  has(name: string): boolean {
    return this.rules.has(name);
  }

  /** Reserves a fresh rule name derived from `hint` (prefixed, sanitized, made unique). */
  reserve(hint: string): string {
    const base = this.prefix + sanitizeRuleName(hint);
    let name = base;
    for (let i = 1; this.rules.has(name); i++) name = `${base}-${i}`;
    this.rules.set(name, undefined);
    return name;
  }

  /**
   * Reserves an exact rule name (no prefix added, no uniquifying). Throws when taken or invalid.
   * Use for entry points such as `root`.
   */
  reserveExact(name: string): string {
    if (!RULE_NAME_PATTERN.test(name)) throw new RangeError(`invalid GBNF rule name ${JSON.stringify(name)}`);
    if (this.rules.has(name)) throw new RangeError(`GBNF rule ${JSON.stringify(name)} is already defined`);
    this.rules.set(name, undefined);
    return name;
  }

  /** Sets the body of a reserved rule. */
  define(name: string, expr: GbnfExpr): string {
    if (!this.rules.has(name)) throw new RangeError(`GBNF rule ${JSON.stringify(name)} was not reserved`);
    if (this.rules.get(name) !== undefined) throw new RangeError(`GBNF rule ${JSON.stringify(name)} defined twice`);
    this.rules.set(name, expr);
    return name;
  }

  /**
   * Adds a rule named after `hint` and returns its name; when a rule with the same body already
   * exists, returns that rule's name instead.
   */
  add(hint: string, expr: GbnfExpr): string {
    const body = printExpr(expr);
    const existing = this.byBody.get(body);
    if (existing !== undefined) return existing;
    const name = this.reserve(hint);
    this.rules.set(name, expr);
    this.byBody.set(body, name);
    return name;
  }

  /** `add` returning a reference expression. */
  addRef(hint: string, expr: GbnfExpr): GbnfExpr {
    return ref(this.add(hint, expr));
  }

  /**
   * A repetition of `item` between `min` and `max` times (max undefined = unbounded), in a form
   * llama.cpp accepts exactly (see the module comment).
   */
  repeat(hint: string, item: GbnfExpr, min: number, max: number | undefined): GbnfExpr {
    if (max !== undefined && max < min) throw new RangeError(`invalid repetition {${min},${max}}`);
    if (max === 0) return seq();
    const atom = isAtomic(item) ? item : this.addRef(`${hint}-item`, item);
    const B = MAX_INLINE_REPETITION;
    if (min <= B && (max === undefined || max <= B)) return rep(atom, min, max);
    const exact = (n: number): GbnfExpr => {
      if (n <= B) return rep(atom, n, n);
      const block = this.addRef(`${hint}-block`, rep(atom, B, B));
      return seq(this.repeat(`${hint}-blocks`, block, Math.floor(n / B), Math.floor(n / B)), rep(atom, n % B, n % B));
    };
    if (max === undefined) return seq(exact(min), rep(atom, 0, undefined));
    return seq(exact(min), this.upTo(hint, atom, max - min));
  }

  private upTo(hint: string, atom: GbnfExpr, m: number): GbnfExpr {
    const B = MAX_INLINE_REPETITION;
    if (m <= B) return rep(atom, 0, m);
    const block = this.addRef(`${hint}-block`, rep(atom, B, B));
    const below = this.addRef(`${hint}-below`, rep(atom, 0, B - 1));
    // up(m) ::= block up(m - B) | atom{0,B-1}: lengths B..m through the first branch, 0..B-1 through the second.
    return this.addRef(`${hint}-upto-${m}`, alt(seq(block, this.upTo(hint, atom, m - B)), below));
  }

  /**
   * The rules defined so far, in definition order, normalized for llama.cpp (repeated items are
   * single symbols, counts within {@link MAX_INLINE_REPETITION}). Throws when a reserved rule has no body.
   */
  rulesList(): GbnfRule[] {
    const done = new Set<string>();
    for (let changed = true; changed; ) {
      changed = false;
      for (const [name, expr] of [...this.rules]) {
        if (done.has(name)) continue;
        if (expr === undefined) throw new RangeError(`GBNF rule ${JSON.stringify(name)} was reserved but never defined`);
        done.add(name);
        this.rules.set(name, this.normalize(name, expr));
        changed = true;
      }
    }
    return [...this.rules].map(([name, expr]) => ({ name, expr: expr as GbnfExpr }));
  }

  private normalize(hint: string, e: GbnfExpr): GbnfExpr {
    switch (e.type) {
      case "sequence":
        return seq(...e.items.map((x) => this.normalize(hint, x)));
      case "alternation":
        return alt(...e.options.map((x) => this.normalize(hint, x)));
      case "repetition": {
        const item = this.normalize(hint, e.item);
        if (isAtomic(item) && e.min <= MAX_INLINE_REPETITION && (e.max ?? 0) <= MAX_INLINE_REPETITION) {
          return rep(item, e.min, e.max);
        }
        return this.repeat(hint, item, e.min, e.max);
      }
      default:
        return e;
    }
  }

  grammar(): GbnfGrammar {
    return { rules: this.rulesList() };
  }

  /** GBNF text of every rule. */
  toString(): string {
    return printGrammar(this.grammar());
  }
}

function isAtomic(e: GbnfExpr): boolean {
  return e.type === "literal" || e.type === "char-class" || e.type === "any-char" || e.type === "rule-ref";
}

