/**
 * Incremental stop-string matching over streamed text.
 *
 * Text arrives in pieces (one detokenized token at a time). A stop string may span several pieces
 * and may contain spaces, so the matcher works on text, not tokens: it releases text as soon as it
 * can no longer be the start of a stop string, and holds back the longest tail that still could be.
 * Pure; no dependencies.
 */

export interface StopMatchResult {
  /** Text that is final and may be emitted now. */
  readonly text: string;
  /** The stop string that matched, when one did. Text after it is discarded. */
  readonly stop?: string;
}

export class StopStringMatcher {
  readonly #stops: readonly string[];
  #held = "";
  #stopped = false;

  /** @param stops Non-empty stop strings. Empty strings are rejected (they would match everywhere). */
  constructor(stops: readonly string[]) {
    for (const s of stops) {
      if (s.length === 0) throw new RangeError("stop strings must be non-empty");
    }
    this.#stops = [...new Set(stops)];
  }

  /** True once a stop string matched; later input is ignored. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Text currently held back because it could be the start of a stop string. */
  get held(): string {
    return this.#held;
  }

  /** Feed the next piece of text. */
  push(piece: string): StopMatchResult {
    if (this.#stopped) return { text: "" };
    const buffer = this.#held + piece;
    if (this.#stops.length === 0) {
      this.#held = "";
      return { text: buffer };
    }
    // Earliest match wins; at the same index the longest stop string wins.
    let matchIndex = -1;
    let matched: string | undefined;
    for (const stop of this.#stops) {
      const index = buffer.indexOf(stop);
      if (index < 0) continue;
      if (matchIndex < 0 || index < matchIndex || (index === matchIndex && stop.length > (matched?.length ?? 0))) {
        matchIndex = index;
        matched = stop;
      }
    }
    if (matched !== undefined) {
      this.#stopped = true;
      this.#held = "";
      return { text: buffer.slice(0, matchIndex), stop: matched };
    }
    const hold = longestStopPrefixSuffix(buffer, this.#stops);
    this.#held = buffer.slice(buffer.length - hold);
    return { text: buffer.slice(0, buffer.length - hold) };
  }

  /** End of input: release whatever was held back (it never completed a stop string). */
  flush(): string {
    const rest = this.#held;
    this.#held = "";
    return this.#stopped ? "" : rest;
  }
}

/** Length of the longest suffix of `text` that is a proper prefix of one of `stops`. */
export function longestStopPrefixSuffix(text: string, stops: readonly string[]): number {
  let best = 0;
  for (const stop of stops) {
    const max = Math.min(stop.length - 1, text.length);
    for (let len = max; len > best; len--) {
      if (text.endsWith(stop.slice(0, len))) {
        best = len;
        break;
      }
    }
  }
  return best;
}
