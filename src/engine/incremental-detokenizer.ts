/**
 * Streaming detokenization with UTF-8 hold-back.
 *
 * Byte-level vocabularies (Llama 3) split multi-byte characters such as emoji over several tokens.
 * Decoding such a token alone yields U+FFFD replacement characters. This module keeps the tokens of
 * an incomplete character pending and releases their text once the character is complete (the
 * decoded text no longer ends in U+FFFD), or after `maxPendingTokens` tokens, whichever comes first
 * (so a genuinely invalid byte sequence still comes out, as U+FFFD).
 *
 * The decoder is injected: `decode(tokens, previous)` must return the text of `tokens` as it
 * continues `previous` (for llama.cpp: `model.detokenize(tokens, special, previous)`). Pure.
 */

export type ContextualDecoder = (tokens: readonly number[], previous: readonly number[]) => string;

const REPLACEMENT = "\uFFFD";

export interface IncrementalDetokenizerOptions {
  /** Tokens of context that precede the first pushed token (e.g. the prompt's tail). Default none. */
  readonly previous?: readonly number[];
  /** Give up waiting for a character to complete after this many tokens. Default 4 (UTF-8 is at most 4 bytes). */
  readonly maxPendingTokens?: number;
  /** How many tokens of context to pass to the decoder. Default 16. */
  readonly contextTokens?: number;
}

export class IncrementalDetokenizer {
  readonly #decode: ContextualDecoder;
  readonly #maxPending: number;
  readonly #contextSize: number;
  #previous: number[];
  #pending: number[] = [];

  constructor(decode: ContextualDecoder, options: IncrementalDetokenizerOptions = {}) {
    this.#decode = decode;
    this.#maxPending = options.maxPendingTokens ?? 4;
    this.#contextSize = options.contextTokens ?? 16;
    this.#previous = (options.previous ?? []).slice(-this.#contextSize);
  }

  /** Tokens whose text is still held back. */
  get pending(): readonly number[] {
    return this.#pending;
  }

  /** Push one token; returns the text that became final (possibly ""). */
  push(token: number): string {
    this.#pending.push(token);
    const text = this.#decode(this.#pending, this.#previous);
    if (text.endsWith(REPLACEMENT) && this.#pending.length < this.#maxPending) return "";
    this.#commit();
    return text;
  }

  /** Release pending text (end of generation). */
  flush(): string {
    if (this.#pending.length === 0) return "";
    const text = this.#decode(this.#pending, this.#previous);
    this.#commit();
    return text;
  }

  #commit(): void {
    this.#previous = [...this.#previous, ...this.#pending].slice(-this.#contextSize);
    this.#pending = [];
  }
}

/**
 * A UTF-8 byte decoder for byte-per-token vocabularies (the mock engine's): decodes bytes with
 * U+FFFD for invalid or incomplete sequences, like llama.cpp's detokenizer does.
 */
export function decodeUtf8Bytes(bytes: readonly number[]): string {
  return new TextDecoder("utf-8", { fatal: false }).decode(Uint8Array.from(bytes));
}
