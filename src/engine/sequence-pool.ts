/**
 * A pool of sequence slots with a FIFO, AbortSignal-aware waiting queue and prefix-aware slot
 * choice: a request gets the free slot whose cached tokens share the longest prefix with its
 * prompt (ties: the slot with the fewest cached tokens, so longer caches survive). Pure: the slot
 * type and how to read its cached tokens are injected.
 */
import { EngineError } from "./types.js";

export interface Lease<S> {
  readonly slot: S;
  /** Length of the common prefix between the slot's cached tokens and the prompt at acquire time. */
  readonly commonPrefix: number;
  /** Give the slot back (idempotent). */
  release(): void;
}

interface Waiter<S> {
  readonly prompt: readonly number[];
  readonly resolve: (lease: Lease<S>) => void;
  readonly reject: (error: unknown) => void;
  readonly cleanup: () => void;
}

/** Length of the common prefix of two token lists. */
export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export class SequencePool<S> {
  readonly #slots: readonly S[];
  readonly #tokensOf: (slot: S) => readonly number[];
  readonly #free: Set<S>;
  readonly #waiters: Array<Waiter<S>> = [];
  #closed: Error | undefined;

  constructor(slots: readonly S[], tokensOf: (slot: S) => readonly number[]) {
    if (slots.length === 0) throw new RangeError("a sequence pool needs at least one slot");
    this.#slots = slots;
    this.#tokensOf = tokensOf;
    this.#free = new Set(slots);
  }

  get total(): number {
    return this.#slots.length;
  }

  get busy(): number {
    return this.#slots.length - this.#free.size;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Wait for a free slot (FIFO). Rejects with an `AbortError`-named {@link EngineError} (`aborted`)
   * when the signal fires while waiting, and with the close error after {@link close}.
   */
  acquire(prompt: readonly number[], signal?: AbortSignal): Promise<Lease<S>> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    if (signal?.aborted === true) return Promise.reject(abortError());
    if (this.#free.size > 0 && this.#waiters.length === 0) return Promise.resolve(this.#take(prompt));
    return new Promise<Lease<S>>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(abortError());
      };
      const waiter: Waiter<S> = {
        prompt,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Reject every waiter and refuse new acquisitions. */
  close(error: Error): void {
    this.#closed = error;
    for (const w of this.#waiters.splice(0)) {
      w.cleanup();
      w.reject(error);
    }
  }

  #take(prompt: readonly number[]): Lease<S> {
    let best: S | undefined;
    let bestCommon = -1;
    let bestLength = Infinity;
    for (const slot of this.#slots) {
      if (!this.#free.has(slot)) continue;
      const tokens = this.#tokensOf(slot);
      const common = commonPrefixLength(tokens, prompt);
      if (common > bestCommon || (common === bestCommon && tokens.length < bestLength)) {
        best = slot;
        bestCommon = common;
        bestLength = tokens.length;
      }
    }
    if (best === undefined) throw new Error("internal: no free slot");
    const slot = best;
    this.#free.delete(slot);
    let released = false;
    return {
      slot,
      commonPrefix: bestCommon,
      release: () => {
        if (released) return;
        released = true;
        this.#free.add(slot);
        this.#dispatch();
      },
    };
  }

  #dispatch(): void {
    while (this.#free.size > 0 && this.#waiters.length > 0) {
      const waiter = this.#waiters.shift() as Waiter<S>;
      waiter.cleanup();
      waiter.resolve(this.#take(waiter.prompt));
    }
  }
}

function abortError(): EngineError {
  return new EngineError("the request was aborted", "aborted");
}
