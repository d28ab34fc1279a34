/**
 * Keeping plain text plain. llama.cpp matches USER_DEFINED added tokens (and, in some vocabularies,
 * Hermes markers such as `<tool_call>` are USER_DEFINED) even when special-token parsing is off, so
 * a plain prompt part that spells such a token's text would become that token: a prompt-injection
 * gap. The fix: cut plain text right after the first character of every occurrence of a guarded
 * token text and tokenize the pieces separately, so no piece can contain the whole text. The text
 * itself is unchanged; only its tokenization differs (`<` + `tool_call>` instead of the tag token).
 * Pure.
 */

/** A compiled set of token texts that plain text must never tokenize into. */
export class PlainTextGuard {
  readonly #texts: readonly string[];
  readonly #pattern: RegExp | undefined;

  /** @param texts Token texts to guard (empty strings and single characters are ignored: they cannot be split). */
  constructor(texts: Iterable<string>) {
    const unique = [...new Set([...texts].filter((t) => [...t].length >= 2))].sort((a, b) => b.length - a.length);
    this.#texts = unique;
    this.#pattern = unique.length === 0 ? undefined : new RegExp(unique.map(escapeRegExp).join("|"), "gu");
  }

  /** The guarded texts, longest first. */
  get texts(): readonly string[] {
    return this.#texts;
  }

  /**
   * Split `text` so that no piece contains a guarded text: a cut after the first code point of every
   * occurrence (overlapping occurrences included). Returns `[text]` when nothing needs cutting.
   */
  split(text: string): string[] {
    if (text.length < 2 || !this.matches(text)) return [text];
    const cuts = new Set<number>();
    // Overlapping occurrences: restart the search one code unit after each match start.
    for (const guarded of this.#texts) {
      let from = 0;
      for (;;) {
        const at = text.indexOf(guarded, from);
        if (at < 0) break;
        const first = text.codePointAt(at) as number;
        cuts.add(at + (first > 0xffff ? 2 : 1));
        from = at + 1;
      }
    }
    if (cuts.size === 0) return [text];
    const sorted = [...cuts].sort((a, b) => a - b);
    const pieces: string[] = [];
    let last = 0;
    for (const cut of sorted) {
      pieces.push(text.slice(last, cut));
      last = cut;
    }
    pieces.push(text.slice(last));
    return pieces.filter((p) => p !== "");
  }

  /** Whether `text` contains any guarded text (cheap pre-check). */
  matches(text: string): boolean {
    if (this.#pattern === undefined) return false;
    this.#pattern.lastIndex = 0;
    return this.#pattern.test(text);
  }
}

/** `text` as a literal in a regular expression. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
