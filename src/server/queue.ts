/**
 * Admission control: at most `capacity` sequences generate at once (the engine's `--parallel`), at most
 * `maxQueue` requests wait for one, in FIFO order; beyond that a request is refused at once
 * ({@link QueueFullError} → 429 with `Retry-After`). A request that needs several sequences (`n` > 1)
 * takes that many slots.
 */
import { QueueFullError } from "./errors.js";

export interface AdmissionQueueOptions {
  /** Slots (sequences) that may run at once. Must be >= 1. */
  readonly capacity: number;
  /** Requests that may wait for a slot; 0 = refuse whenever all slots are busy. */
  readonly maxQueue: number;
}

export interface AdmissionTicket {
  /** Give the slots back (idempotent). */
  release(): void;
  /** Milliseconds spent waiting in the queue. */
  readonly queuedMs: number;
}

interface Waiter {
  readonly weight: number;
  readonly enqueuedAt: number;
  readonly resolve: (ticket: AdmissionTicket) => void;
  readonly reject: (reason: unknown) => void;
  readonly cleanup: () => void;
}

export class AdmissionQueue {
  readonly capacity: number;
  readonly maxQueue: number;
  #running = 0;
  #runningRequests = 0;
  readonly #waiters: Waiter[] = [];
  /** Exponentially weighted mean time a ticket is held, for `Retry-After`. */
  #meanHoldMs = 0;

  constructor(options: AdmissionQueueOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) throw new RangeError("capacity must be an integer >= 1");
    if (!Number.isInteger(options.maxQueue) || options.maxQueue < 0) throw new RangeError("maxQueue must be an integer >= 0");
    this.capacity = options.capacity;
    this.maxQueue = options.maxQueue;
  }

  /** Requests holding slots. */
  get running(): number {
    return this.#runningRequests;
  }

  /** Requests waiting for slots. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Seconds a refused client should wait: about one mean request time per capacity's worth of queue. */
  retryAfterSeconds(): number {
    const rounds = (this.#waiters.length + 1) / this.capacity;
    return Math.min(60, Math.max(1, Math.ceil((this.#meanHoldMs * rounds) / 1000)));
  }

  /**
   * Wait for `weight` slots. Rejects with {@link QueueFullError} when the queue is full, with
   * `RangeError` when `weight` exceeds the capacity, and with the signal's reason when it aborts.
   */
  acquire(weight = 1, signal?: AbortSignal): Promise<AdmissionTicket> {
    if (weight > this.capacity) return Promise.reject(new RangeError(`needs ${weight} slots; capacity is ${this.capacity}`));
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    const now = performance.now();
    if (this.#waiters.length === 0 && this.#running + weight <= this.capacity) {
      return Promise.resolve(this.#grant(weight, now));
    }
    if (this.#waiters.length >= this.maxQueue) return Promise.reject(new QueueFullError(this.retryAfterSeconds()));
    return new Promise<AdmissionTicket>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal?.reason);
        this.#drain();
      };
      const waiter: Waiter = {
        weight,
        enqueuedAt: now,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #grant(weight: number, enqueuedAt: number): AdmissionTicket {
    this.#running += weight;
    this.#runningRequests++;
    const grantedAt = performance.now();
    let released = false;
    return {
      queuedMs: grantedAt - enqueuedAt,
      release: () => {
        if (released) return;
        released = true;
        this.#running -= weight;
        this.#runningRequests--;
        const held = performance.now() - grantedAt;
        this.#meanHoldMs = this.#meanHoldMs === 0 ? held : 0.8 * this.#meanHoldMs + 0.2 * held;
        this.#drain();
      },
    };
  }

  /** Grant waiting requests in FIFO order while the head fits (no overtaking, so nobody starves). */
  #drain(): void {
    for (;;) {
      const head = this.#waiters[0];
      if (head === undefined || this.#running + head.weight > this.capacity) return;
      this.#waiters.shift();
      head.cleanup();
      head.resolve(this.#grant(head.weight, head.enqueuedAt));
    }
  }
}
