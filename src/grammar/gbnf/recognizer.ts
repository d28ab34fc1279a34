/**
 * A GBNF recognizer: the stack machine of llama.cpp's `llama_grammar` (a set of pushdown stacks of
 * rule positions, advanced one code point at a time), in TypeScript.
 *
 * States are immutable values, so callers can keep them per token, branch, and compare them. The
 * questions the decoder needs are cheap: is this prefix viable ({@link RecognizerState.isDead}),
 * is it complete ({@link RecognizerState.canEnd}), which code points may come next
 * ({@link GbnfRecognizer.allowedNext}) and is the next one forced ({@link GbnfRecognizer.forcedNext},
 * {@link GbnfRecognizer.forcedText} for jump-forward decoding).
 *
 * Stacks are hash-consed (each distinct stack is one shared node with a numeric id), so a state is
 * a small sorted list of ids and transitions can be memoized.
 */
import type { GbnfGrammar } from "./ast.js";
import { CodePointSet } from "./charset.js";
import { compileGbnf, type CompiledGrammar, type CompileOptions, type Element } from "./compile.js";
import { parseGbnf } from "./parse.js";

interface StackNode {
  readonly id: number;
  /** Element position on top of the stack (-1 for the empty stack). */
  readonly pos: number;
  readonly next: StackNode | undefined;
}

/** A recognizer state: the set of live stacks after some input. */
export class RecognizerState {
  /** @internal Transitions taken from this state (code point → state), memoized by the recognizer. */
  readonly transitions = new Map<number, RecognizerState>();
  /** @internal The code points that may come next, once computed. */
  allowed: CodePointSet | undefined;

  /** @internal */
  constructor(
    /** @internal */ readonly stacks: readonly StackNode[],
    /** Identity of the state within its recognizer (equal keys = equal states). */
    readonly key: string,
  ) {}

  /** No continuation can be accepted: the input so far is not a viable prefix. */
  get isDead(): boolean {
    return this.stacks.length === 0;
  }

  /** The input so far is a complete sentence of the grammar (generation may stop here). */
  get canEnd(): boolean {
    return this.stacks.some((s) => s.pos === -1);
  }

  /** Number of parallel stacks (a measure of grammar ambiguity at this point). */
  get stackCount(): number {
    return this.stacks.length;
  }
}

export interface RecognizerOptions extends CompileOptions {
  /** Memoize up to this many transitions (state, code point). Default 100_000; 0 disables. */
  readonly transitionCacheSize?: number;
}

export class GbnfRecognizer {
  readonly grammar: CompiledGrammar;
  private readonly nodes = new Map<string, StackNode>();
  private nextId = 1;
  private readonly emptyStack: StackNode = { id: 0, pos: -1, next: undefined };
  /** Interned states by key (so transitions memoized on a state object are shared). */
  private readonly states = new Map<string, RecognizerState>();
  /** Memoized transitions so far (bounded by `cacheSize`). */
  private transitionCount = 0;
  private readonly cacheSize: number;
  private readonly initialState: RecognizerState;

  constructor(grammar: CompiledGrammar, options: { readonly transitionCacheSize?: number } = {}) {
    this.grammar = grammar;
    this.cacheSize = options.transitionCacheSize ?? 100_000;
    const out = new Map<number, StackNode>();
    const seen = new Set<number>();
    for (const start of grammar.alternatives[grammar.root] as readonly number[]) {
      this.advance(this.isEnd(start) ? this.emptyStack : this.push(this.emptyStack, start), out, seen);
    }
    this.initialState = this.makeState(out);
  }

  /** Parses, compiles and wraps GBNF text. Throws `GbnfSyntaxError`. */
  static fromText(gbnf: string, options: RecognizerOptions = {}): GbnfRecognizer {
    return GbnfRecognizer.fromGrammar(parseGbnf(gbnf), options);
  }

  static fromGrammar(grammar: GbnfGrammar, options: RecognizerOptions = {}): GbnfRecognizer {
    const compileOptions: CompileOptions = options.root === undefined ? {} : { root: options.root };
    const recognizerOptions = options.transitionCacheSize === undefined ? {} : { transitionCacheSize: options.transitionCacheSize };
    return new GbnfRecognizer(compileGbnf(grammar, compileOptions), recognizerOptions);
  }

  /** The state before any input. */
  initial(): RecognizerState {
    return this.initialState;
  }

  /** The state after one more code point (a dead state when it is not allowed). */
  step(state: RecognizerState, codePoint: number): RecognizerState {
    if (state.isDead) return state;
    const cached = state.transitions.get(codePoint);
    if (cached !== undefined) return cached;
    const out = new Map<number, StackNode>();
    const seen = new Set<number>();
    for (const stack of state.stacks) {
      if (stack.pos === -1) continue;
      const el = this.grammar.elements[stack.pos] as Element;
      if (el.kind !== "chars" || !el.set.has(codePoint)) continue;
      const rest = stack.next as StackNode;
      const after = stack.pos + 1;
      this.advance(this.isEnd(after) ? rest : this.push(rest, after), out, seen);
    }
    const next = this.makeState(out);
    if (this.cacheSize > 0) {
      if (this.transitionCount >= this.cacheSize) {
        // forget: states made from now on start with empty transition maps
        this.states.clear();
        this.transitionCount = 0;
      }
      state.transitions.set(codePoint, next);
      this.transitionCount++;
    }
    return next;
  }

  /** The state after `text` (iterated by code point). Stops early once dead. */
  feed(state: RecognizerState, text: string): RecognizerState {
    let s = state;
    for (const ch of text) {
      s = this.step(s, ch.codePointAt(0) as number);
      if (s.isDead) return s;
    }
    return s;
  }

  /** Whether `text` is a complete sentence of the grammar. */
  accepts(text: string): boolean {
    return this.feed(this.initialState, text).canEnd;
  }

  /** Whether `text` can be extended to a sentence of the grammar (or already is one). */
  isViablePrefix(text: string): boolean {
    return !this.feed(this.initialState, text).isDead;
  }

  /** The code points that may come next (empty when only the end, or nothing, may come). */
  allowedNext(state: RecognizerState): CodePointSet {
    if (state.allowed !== undefined) return state.allowed;
    let set = CodePointSet.EMPTY;
    for (const stack of state.stacks) {
      if (stack.pos === -1) continue;
      const el = this.grammar.elements[stack.pos] as Element;
      if (el.kind === "chars") set = set.union(el.set);
    }
    state.allowed = set;
    return set;
  }

  /** The next code point when exactly one may come and the input may not end here; else undefined. */
  forcedNext(state: RecognizerState): number | undefined {
    if (state.isDead || state.canEnd) return undefined;
    return this.allowedNext(state).single;
  }

  /**
   * The longest text the grammar forces from this state (each step exactly one code point allowed
   * and ending not allowed), up to `maxLength` code points. Used for jump-forward decoding.
   */
  forcedText(state: RecognizerState, maxLength = 256): { readonly text: string; readonly state: RecognizerState } {
    let text = "";
    let s = state;
    for (let i = 0; i < maxLength; i++) {
      const cp = this.forcedNext(s);
      if (cp === undefined) break;
      text += String.fromCodePoint(cp);
      s = this.step(s, cp);
    }
    return { text, state: s };
  }

  // -------------------------------------------------------------------------------------------

  private isEnd(pos: number): boolean {
    const k = (this.grammar.elements[pos] as Element).kind;
    return k === "end" || k === "alt";
  }

  private push(next: StackNode, pos: number): StackNode {
    const key = `${pos}:${next.id}`;
    let node = this.nodes.get(key);
    if (node === undefined) {
      node = { id: this.nextId++, pos, next };
      this.nodes.set(key, node);
    }
    return node;
  }

  /**
   * Expands a stack until its top is a terminal (or it is empty), collecting results in `out`.
   * Iterative: a grammar may chain thousands of rules that can be skipped (optional members).
   */
  private advance(start: StackNode, out: Map<number, StackNode>, seen: Set<number>): void {
    const todo: StackNode[] = [start];
    for (let stack = todo.pop(); stack !== undefined; stack = todo.pop()) {
      if (seen.has(stack.id)) continue;
      seen.add(stack.id);
      if (stack.pos === -1) {
        out.set(stack.id, stack);
        continue;
      }
      const el = this.grammar.elements[stack.pos] as Element;
      if (el.kind === "chars") {
        out.set(stack.id, stack);
        continue;
      }
      if (el.kind !== "ref") throw new Error("internal: stack top at end of sequence");
      const base = stack.next as StackNode;
      const after = stack.pos + 1;
      const rest = this.isEnd(after) ? base : this.push(base, after);
      const starts = this.grammar.alternatives[el.rule] as readonly number[];
      for (let i = starts.length - 1; i >= 0; i--) {
        const s = starts[i] as number;
        todo.push(this.isEnd(s) ? rest : this.push(rest, s));
      }
    }
  }

  private makeState(out: Map<number, StackNode>): RecognizerState {
    const stacks = [...out.values()].sort((a, b) => a.id - b.id);
    const key = stacks.map((s) => s.id).join(",");
    const known = this.states.get(key);
    if (known !== undefined) return known;
    const state = new RecognizerState(stacks, key);
    if (this.cacheSize > 0) this.states.set(key, state);
    return state;
  }
}
