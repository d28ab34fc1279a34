/**
 * The Responses API's stored responses (`store: true`, the default): what `previous_response_id`,
 * `GET /v1/responses/{id}`, `DELETE` and `/input_items` read. In memory, bounded by count (least
 * recently used evicted) and by age; off with `--responses-store 0`. Not shared between server
 * processes and gone on restart (docs/server.md).
 */
import { LruMap } from "../../util/lru.js";
import type { InputItem } from "./schemas.js";

/** Defaults: 1,000 responses, one hour. */
export const RESPONSES_STORE_DEFAULTS = { maxEntries: 1000, ttlMs: 3_600_000 } as const;

export interface StoredResponse {
  /** The response object as returned. */
  readonly response: Readonly<Record<string, unknown>>;
  /** This request's own input items, with ids (what `/input_items` lists). */
  readonly input: readonly (InputItem & { readonly id: string })[];
  /** The whole conversation up to and including this response's output, for `previous_response_id`. */
  readonly conversation: readonly InputItem[];
  readonly storedAt: number;
}

export class ResponsesStore {
  readonly #map: LruMap<string, StoredResponse> | undefined;
  readonly #ttlMs: number;
  readonly #now: () => number;

  /** `maxEntries` 0 turns the store off. */
  constructor(options: { readonly maxEntries?: number; readonly ttlMs?: number; readonly now?: () => number } = {}) {
    const max = options.maxEntries ?? RESPONSES_STORE_DEFAULTS.maxEntries;
    this.#map = max > 0 ? new LruMap({ max }) : undefined;
    this.#ttlMs = options.ttlMs ?? RESPONSES_STORE_DEFAULTS.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.#map !== undefined;
  }

  put(id: string, entry: Omit<StoredResponse, "storedAt">): void {
    this.#map?.set(id, { ...entry, storedAt: this.#now() });
  }

  get(id: string): StoredResponse | undefined {
    const entry = this.#map?.get(id);
    if (entry === undefined) return undefined;
    if (this.#now() - entry.storedAt > this.#ttlMs) {
      this.#map?.delete(id);
      return undefined;
    }
    return entry;
  }

  delete(id: string): boolean {
    if (this.get(id) === undefined) return false;
    this.#map?.delete(id);
    return true;
  }
}
