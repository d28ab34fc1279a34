/**
 * A size-capped map that forgets its least recently used entry: for caches keyed by request content
 * (schemas, grammars), which must not grow with every distinct request (docs/decisions/0053).
 *
 * Map-based: a Map iterates in insertion order, so re-inserting on use keeps the oldest entry first.
 */
export interface LruMapOptions<K, V> {
  /** Most entries kept (an integer >= 1). */
  readonly max: number;
  /** Told about each entry evicted to make room (not about `delete`/`clear`/overwrites by `set`). */
  readonly onEvict?: (key: K, value: V) => void;
}

export class LruMap<K, V> {
  readonly max: number;
  readonly #map = new Map<K, V>();
  readonly #onEvict: ((key: K, value: V) => void) | undefined;

  constructor(options: LruMapOptions<K, V>) {
    if (!Number.isInteger(options.max) || options.max < 1) throw new RangeError(`LruMap max must be an integer >= 1 (got ${options.max})`);
    this.max = options.max;
    this.#onEvict = options.onEvict;
  }

  get size(): number {
    return this.#map.size;
  }

  /** The value for `key`, which becomes the most recently used. */
  get(key: K): V | undefined {
    if (!this.#map.has(key)) return undefined;
    const value = this.#map.get(key) as V;
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }

  /** The value for `key`, leaving its recency alone. */
  peek(key: K): V | undefined {
    return this.#map.get(key);
  }

  /** Whether `key` is present (its recency is left alone). */
  has(key: K): boolean {
    return this.#map.has(key);
  }

  /** Store `value` as the most recently used entry, evicting the least recently used beyond `max`. */
  set(key: K, value: V): this {
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.max) {
      const oldest = this.#map.keys().next().value as K;
      const evicted = this.#map.get(oldest) as V;
      this.#map.delete(oldest);
      this.#onEvict?.(oldest, evicted);
    }
    return this;
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
  }

  /** Keys from least to most recently used. */
  keys(): IterableIterator<K> {
    return this.#map.keys();
  }
}
