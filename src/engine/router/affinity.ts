/**
 * Prefix affinity: which replica has most likely cached a prompt's prefix. A prompt is cut into
 * fixed-size blocks and each block's hash chains the ones before it (as vLLM's prefix cache
 * hashes KV blocks), so two prompts share the first k hashes exactly when they share their first k
 * blocks. Each replica remembers the chained hashes of the prompts it was sent (size-capped LRU);
 * a new prompt's match on a replica is the number of its leading hashes found there. Pure.
 */
import { LruMap } from "../../util/lru.js";

/** Characters (or tokens) per block. Default 128. */
export const AFFINITY_BLOCK = 128;
/** Blocks hashed per prompt at most (a longer prompt's tail adds nothing to routing). Default 256. */
export const AFFINITY_MAX_BLOCKS = 256;

/** 32-bit FNV-1a over a string, continuing `seed`. */
function fnv1a(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The chained block hashes of a prompt's text (full blocks only). */
export function prefixHashes(text: string, block = AFFINITY_BLOCK, maxBlocks = AFFINITY_MAX_BLOCKS): number[] {
  const out: number[] = [];
  let h = 0x811c9dc5;
  for (let i = 0; i + block <= text.length && out.length < maxBlocks; i += block) {
    // Two independent 32-bit chains make a collision between different prefixes negligible.
    h = fnv1a(text.slice(i, i + block), h);
    out.push(h);
  }
  return out;
}

/** What one replica was sent recently. */
export class PrefixMemory {
  readonly #seen: LruMap<number, true>;

  /** @param capacity Block hashes remembered (LRU). Default 65,536. */
  constructor(capacity = 65_536) {
    this.#seen = new LruMap({ max: capacity });
  }

  /** How many leading blocks of `hashes` this replica has seen. */
  match(hashes: readonly number[]): number {
    let n = 0;
    while (n < hashes.length && this.#seen.get(hashes[n] as number) !== undefined) n++;
    return n;
  }

  remember(hashes: readonly number[]): void {
    for (const h of hashes) this.#seen.set(h, true);
  }

  clear(): void {
    this.#seen.clear();
  }
}
