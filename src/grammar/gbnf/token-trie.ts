/**
 * A model's vocabulary as a code-point trie, walked by a {@link GbnfRecognizer} to list every token a
 * grammar allows next — when that list is short. Engines use it to steer their sampler towards the
 * allowed tokens so that a grammar-constrained step rarely needs llama.cpp's whole-vocabulary mask
 * (docs/decisions/0185-allowed-token-preselection.md).
 *
 * The answer must be exact (the engine relies on it for the sampling distribution), so the walk gives
 * up rather than guess:
 * - where the grammar allows any code point ≥ U+0080 (a token may then end in a partial UTF-8
 *   character, which the trie, built from whole characters, cannot judge);
 * - when more than `limit` tokens are allowed, or more than `maxNodes` trie nodes are visited.
 *
 * Tokens are matched as llama.cpp's grammar matches them: the token's piece (special tokens rendered
 * as their text) one code point at a time; a token is allowed when every code point is accepted.
 * End-of-generation tokens are allowed exactly when the grammar may end.
 */
import type { CodePointSet } from "./charset.js";
import type { GbnfRecognizer, RecognizerState } from "./recognizer.js";

/** Why {@link TokenTrie.allowedTokens} gave no list. */
export type AllowedTokensRefusal = "non-ascii" | "too-many" | "too-costly";

/** The outcome of {@link TokenTrie.allowedTokens}. */
export type AllowedTokens =
  | { readonly kind: "tokens"; readonly tokens: readonly number[]; readonly visited: number }
  | { readonly kind: "refused"; readonly why: AllowedTokensRefusal; readonly visited: number };

export interface AllowedTokensOptions {
  /** Most tokens listed; more → refused ("too-many"). Default 512. */
  readonly limit?: number;
  /** Most trie nodes visited; more → refused ("too-costly"). Default 20,000. */
  readonly maxNodes?: number;
}

/** Tokens that cannot be put in a code-point trie (left out: the walk never lists them). */
export interface TokenTrieStats {
  readonly tokens: number;
  readonly nodes: number;
  /** Empty pieces, pieces starting with NUL, pieces that are not whole UTF-8 characters. */
  readonly skipped: number;
}

const NON_ASCII_FROM = 0x80;
/** More allowed first characters than this counts as a wide position (a string's contents). */
const WIDE_CHARSET = 24;
/** A wide position with more than this many times `limit` tokens below it is refused unwalked. */
const WIDE_BOUND_FACTOR = 8;
const REPLACEMENT = 0xfffd;

export class TokenTrie {
  /** Per node: first index into {@link #childCp}/{@link #childNode}, and the count. */
  readonly #childStart: Uint32Array;
  readonly #childCount: Uint32Array;
  /** Sorted per node. */
  readonly #childCp: Uint32Array;
  readonly #childNode: Uint32Array;
  /** Per node: tokens whose piece ends here. */
  readonly #tokenStart: Uint32Array;
  readonly #tokenCount: Uint32Array;
  readonly #tokens: Uint32Array;
  /** Per node: tokens in its subtree (itself included). */
  readonly #below: Uint32Array;
  readonly #endTokens: readonly number[];
  readonly stats: TokenTrieStats;

  private constructor(parts: {
    childStart: Uint32Array;
    childCount: Uint32Array;
    childCp: Uint32Array;
    childNode: Uint32Array;
    tokenStart: Uint32Array;
    tokenCount: Uint32Array;
    tokens: Uint32Array;
    below: Uint32Array;
    endTokens: readonly number[];
    stats: TokenTrieStats;
  }) {
    this.#childStart = parts.childStart;
    this.#childCount = parts.childCount;
    this.#childCp = parts.childCp;
    this.#childNode = parts.childNode;
    this.#tokenStart = parts.tokenStart;
    this.#tokenCount = parts.tokenCount;
    this.#tokens = parts.tokens;
    this.#below = parts.below;
    this.#endTokens = parts.endTokens;
    this.stats = parts.stats;
  }

  /**
   * Builds the trie from `(token, piece)` pairs. `endTokens` are the end-of-generation tokens (listed
   * only where the grammar may end; their pieces are not matched). A piece containing U+FFFD is taken
   * for a partial UTF-8 character and left out (the walk refuses wherever such a token could match).
   */
  static build(pieces: Iterable<readonly [token: number, piece: string]>, endTokens: Iterable<number>): TokenTrie {
    const steps = TokenTrie.#steps(pieces, endTokens);
    for (;;) {
      const r = steps.next();
      if (r.done === true) return r.value;
    }
  }

  /**
   * {@link build} in slices of about `sliceMs` (default 10 ms), yielding to the event loop between
   * them, so that building a 128k vocabulary (~0.5 s) never blocks a server.
   */
  static async buildInSlices(pieces: Iterable<readonly [token: number, piece: string]>, endTokens: Iterable<number>, sliceMs = 10): Promise<TokenTrie> {
    const steps = TokenTrie.#steps(pieces, endTokens);
    let sliceStart = performance.now();
    for (;;) {
      const r = steps.next();
      if (r.done === true) return r.value;
      if (performance.now() - sliceStart >= sliceMs) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
  }

  /** The build, yielding every 4,096 units of work. */
  static *#steps(pieces: Iterable<readonly [token: number, piece: string]>, endTokens: Iterable<number>): Generator<void, TokenTrie, void> {
    const ends = new Set(endTokens);
    const children: Map<number, number>[] = [new Map()];
    const tokensAt: number[][] = [[]];
    let tokens = 0;
    let skipped = 0;
    for (const [token, piece] of pieces) {
      if (ends.has(token)) continue;
      if (piece === "" || piece.charCodeAt(0) === 0 || piece.includes(String.fromCodePoint(REPLACEMENT))) {
        skipped++;
        continue;
      }
      let node = 0;
      for (const ch of piece) {
        const cp = ch.codePointAt(0) as number;
        const map = children[node] as Map<number, number>;
        let next = map.get(cp);
        if (next === undefined) {
          next = children.length;
          children.push(new Map());
          tokensAt.push([]);
          map.set(cp, next);
        }
        node = next;
      }
      (tokensAt[node] as number[]).push(token);
      tokens++;
      if (tokens % 4096 === 0) yield;
    }
    const n = children.length;
    const childStart = new Uint32Array(n);
    const childCount = new Uint32Array(n);
    const tokenStart = new Uint32Array(n);
    const tokenCount = new Uint32Array(n);
    const childCp = new Uint32Array(n - 1);
    const childNode = new Uint32Array(n - 1);
    const flat = new Uint32Array(tokens);
    let c = 0;
    let t = 0;
    for (let i = 0; i < n; i++) {
      const entries = [...(children[i] as Map<number, number>)].sort((a, b) => a[0] - b[0]);
      childStart[i] = c;
      childCount[i] = entries.length;
      for (const [cp, node] of entries) {
        childCp[c] = cp;
        childNode[c] = node;
        c++;
      }
      const at = tokensAt[i] as number[];
      tokenStart[i] = t;
      tokenCount[i] = at.length;
      for (const tok of at) flat[t++] = tok;
      if (i % 4096 === 4095) yield;
    }
    // children always have higher indices than their parent: one backward pass sums the subtrees
    const below = new Uint32Array(n);
    for (let i = n - 1; i >= 0; i--) {
      let sum = tokenCount[i] as number;
      const cs = childStart[i] as number;
      for (let k = 0; k < (childCount[i] as number); k++) sum += below[childNode[cs + k] as number] as number;
      below[i] = sum;
    }
    return new TokenTrie({
      below,
      childStart,
      childCount,
      childCp,
      childNode,
      tokenStart,
      tokenCount,
      tokens: flat,
      endTokens: [...ends],
      stats: { tokens, nodes: n, skipped },
    });
  }

  /**
   * Every token `recognizer` allows after `state`, or a refusal (see the module comment). The list
   * holds end-of-generation tokens when the grammar may end here.
   */
  allowedTokens(recognizer: GbnfRecognizer, state: RecognizerState, options: AllowedTokensOptions = {}): AllowedTokens {
    const limit = options.limit ?? 512;
    const maxNodes = options.maxNodes ?? 20_000;
    const out: number[] = [];
    if (state.isDead) return { kind: "tokens", tokens: out, visited: 0 };
    if (state.canEnd) out.push(...this.#endTokens);
    if (out.length > limit) return { kind: "refused", why: "too-many", visited: 0 };
    const allowedOf = (s: RecognizerState): CodePointSet => recognizer.allowedNext(s);
    // A cheap bound first: the tokens below the allowed first characters. Many allowed characters
    // with far more tokens below them than the limit (inside a string) refuse without walking.
    const first = allowedOf(state);
    if (first.size > WIDE_CHARSET) {
      let below = 0;
      const from = this.#childStart[0] as number;
      const end = from + (this.#childCount[0] as number);
      for (const [a, b] of first.ranges) {
        for (let i = lowerBound(this.#childCp, from, end, a); i < end && (this.#childCp[i] as number) <= b; i++) below += this.#below[this.#childNode[i] as number] as number;
      }
      if (below > WIDE_BOUND_FACTOR * limit) return { kind: "refused", why: "too-many", visited: 0 };
    }
    let visited = 0;
    const stack: { node: number; state: RecognizerState }[] = [{ node: 0, state }];
    for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
      const allowed = allowedOf(top.state);
      if (allowed.isEmpty) continue;
      const ranges = allowed.ranges;
      if ((ranges[ranges.length - 1] as readonly [number, number])[1] >= NON_ASCII_FROM) {
        return { kind: "refused", why: "non-ascii", visited };
      }
      const from = this.#childStart[top.node] as number;
      const count = this.#childCount[top.node] as number;
      // walk the allowed ranges against the sorted children (a merge: both are sorted)
      let i = from;
      const end = from + count;
      for (const [a, b] of ranges) {
        i = lowerBound(this.#childCp, i, end, a);
        for (; i < end && (this.#childCp[i] as number) <= b; i++) {
          const child = this.#childNode[i] as number;
          if (++visited > maxNodes) return { kind: "refused", why: "too-costly", visited };
          const next = recognizer.step(top.state, this.#childCp[i] as number);
          if (next.isDead) continue;
          const tc = this.#tokenCount[child] as number;
          if (tc > 0) {
            if (out.length + tc > limit) return { kind: "refused", why: "too-many", visited };
            const ts = this.#tokenStart[child] as number;
            for (let k = 0; k < tc; k++) out.push(this.#tokens[ts + k] as number);
          }
          if ((this.#childCount[child] as number) > 0) stack.push({ node: child, state: next });
        }
        if (i >= end) break;
      }
    }
    return { kind: "tokens", tokens: out, visited };
  }
}

/** First index in `arr[from, to)` whose value is ≥ `value`. */
function lowerBound(arr: Uint32Array, from: number, to: number, value: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((arr[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
