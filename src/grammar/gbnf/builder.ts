/**
 * Builds GBNF grammars from expressions: allocates collision-free rule names under a prefix,
 * shares identical rule bodies, and rewrites repetitions into forms llama.cpp accepts:
 * - a repeated item that is not a single symbol (literal, class, `.`, rule reference) is hoisted
 *   into its own rule, so llama.cpp's repetition expansion never multiplies nested rules
 *   (its `MAX_REPETITION_THRESHOLD` check);
 * - counts above {@link MAX_INLINE_REPETITION} are split into blocks (llama.cpp rejects a minimum
 *   above 2000 and silently turns a maximum above 2000 into "unbounded"), nested so that any count
 *   costs O(log count) rules.
 *
 * It keeps a running count of the grammar's size ({@link GbnfBuilder.bytes}) so that a caller can
 * stop early (see the converter's budget, docs/decisions/0052-grammar-budget.md).
 */
import {
  alt,
  altOf,
  printExpr,
  printGrammar,
  ref,
  rep,
  RULE_NAME_PATTERN,
  seq,
  seqOf,
  type GbnfExpr,
  type GbnfGrammar,
  type GbnfRule,
} from "./ast.js";

/** Largest repetition count written as `{n,m}`; larger counts are split into blocks of this size. */
export const MAX_INLINE_REPETITION = 1000;

export interface GbnfBuilderOptions {
  /** Prefix of every rule name this builder allocates (embedding in a larger grammar). Default `""`. */
  readonly prefix?: string;
  /** Largest count written as `{n,m}` (at least 2). Default {@link MAX_INLINE_REPETITION}; smaller values exist for tests. */
  readonly maxInlineRepetition?: number;
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
  private readonly inline: number;
  private readonly rules = new Map<string, GbnfExpr | undefined>();
  private readonly byBody = new Map<string, string>();
  /** Next suffix to try per base name (names are never released, so earlier suffixes stay taken). */
  private readonly nextSuffix = new Map<string, number>();
  private size = 0;

  constructor(options: GbnfBuilderOptions = {}) {
    this.prefix = options.prefix ?? "";
    this.inline = options.maxInlineRepetition ?? MAX_INLINE_REPETITION;
    if (!Number.isInteger(this.inline) || this.inline < 2 || this.inline > MAX_INLINE_REPETITION) {
      throw new RangeError(`invalid maxInlineRepetition ${this.inline}: use 2..${MAX_INLINE_REPETITION}`);
    }
    if (this.prefix !== "" && !/^[a-zA-Z0-9-]*$/.test(this.prefix)) {
      throw new RangeError(`invalid GBNF rule prefix ${JSON.stringify(this.prefix)}: use [a-zA-Z0-9-]`);
    }
  }

  /** Whether a rule name (full, including prefix) is taken. */
  has(name: string): boolean {
    return this.rules.has(name);
  }

  /**
   * Size of the grammar so far in bytes (the GBNF text of the rules defined so far: names, `::=`,
   * bodies, newlines; the text is ASCII). Normalization in {@link toString} may add a few rules.
   */
  get bytes(): number {
    return this.size;
  }

  /** The body of a rule (undefined when the name is free or only reserved). */
  body(name: string): GbnfExpr | undefined {
    return this.rules.get(name);
  }

  /** Reserves a fresh rule name derived from `hint` (prefixed, sanitized, made unique). */
  reserve(hint: string): string {
    const base = this.prefix + sanitizeRuleName(hint);
    let name = base;
    let i = this.nextSuffix.get(base) ?? 1;
    if (this.rules.has(name)) {
      while (this.rules.has(`${base}-${i}`)) i++;
      name = `${base}-${i}`;
      this.nextSuffix.set(base, i + 1);
    }
    this.rules.set(name, undefined);
    return name;
  }

  /** Frees a reserved name that was never defined (its suffix may be handed out again). */
  release(name: string): void {
    if (!this.rules.has(name) || this.rules.get(name) !== undefined) throw new RangeError(`GBNF rule ${JSON.stringify(name)} is not reserved`);
    this.rules.delete(name);
    const m = /^(.*)-([1-9][0-9]*)$/.exec(name);
    if (m !== null) {
      const base = m[1] as string;
      const i = Number(m[2]);
      const next = this.nextSuffix.get(base);
      if (next !== undefined && i < next) this.nextSuffix.set(base, i);
    }
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
    this.size += name.length + printExpr(expr).length + 6 + hoistedBytes(name, expr);
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
    this.size += name.length + body.length + 6 + hoistedBytes(name, expr);
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
    const B = this.inline;
    if (min <= B && (max === undefined || max <= B)) return rep(atom, min, max);
    const exact = (n: number): GbnfExpr => {
      if (n <= B) return rep(atom, n, n);
      const block = this.addRef(`${hint}-block`, rep(atom, B, B));
      return seq(this.repeat(`${hint}-blocks`, block, Math.floor(n / B), Math.floor(n / B)), rep(atom, n % B, n % B));
    };
    if (max === undefined) return seq(exact(min), rep(atom, 0, undefined));
    return seq(exact(min), this.upTo(hint, atom, max - min));
  }

  /** `atom{0,m}` for any m, in O(log m) rules. */
  private upTo(hint: string, atom: GbnfExpr, m: number): GbnfExpr {
    const B = this.inline;
    if (m <= B) return rep(atom, 0, m);
    const q = Math.floor(m / B);
    const r = m % B;
    const block = this.addRef(`${hint}-block`, rep(atom, B, B));
    const below = this.addRef(`${hint}-below`, rep(atom, 0, B - 1));
    // lengths 0..qB-1: up to q-1 blocks then fewer than B atoms; lengths qB..qB+r: q blocks then up to r atoms.
    const fewer = seq(this.repeat(`${hint}-blocks`, block, 0, q - 1), below);
    const most = seq(this.repeat(`${hint}-blocks`, block, q, q), rep(atom, 0, r));
    return this.addRef(`${hint}-upto-${m}`, alt(fewer, most));
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
      // an unchanged node is returned as is, so its printed text (cached per node) is reused
      case "sequence": {
        const out = seqOf(e.items.map((x) => this.normalize(hint, x)));
        return out.type === "sequence" && sameItems(out.items, e.items) ? e : out;
      }
      case "alternation": {
        const out = altOf(e.options.map((x) => this.normalize(hint, x)));
        return out.type === "alternation" && sameItems(out.options, e.options) ? e : out;
      }
      case "repetition": {
        const item = this.normalize(hint, e.item);
        if (isAtomic(item) && e.min <= this.inline && (e.max ?? 0) <= this.inline) {
          return item === e.item ? e : rep(item, e.min, e.max);
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

/** About the bytes {@link GbnfBuilder.rulesList} adds for `e` by hoisting repeated items into rules. */
function hoistedBytes(hint: string, e: GbnfExpr): number {
  switch (e.type) {
    case "sequence":
      return e.items.reduce((n, x) => n + hoistedBytes(hint, x), 0);
    case "alternation":
      return e.options.reduce((n, x) => n + hoistedBytes(hint, x), 0);
    case "repetition": {
      const inner = hoistedBytes(hint, e.item);
      if (isAtomic(e.item) && e.min <= MAX_INLINE_REPETITION && (e.max ?? 0) <= MAX_INLINE_REPETITION) return inner;
      // the item moves into a rule `<hint>-item-N ::= item` and is referenced by that name
      return inner + 2 * (hint.length + 8);
    }
    default:
      return 0;
  }
}

function sameItems(a: readonly GbnfExpr[], b: readonly GbnfExpr[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function isAtomic(e: GbnfExpr): boolean {
  return e.type === "literal" || e.type === "char-class" || e.type === "any-char" || e.type === "rule-ref";
}

