import { describe, expect, it } from "vitest";
import { LruMap } from "./lru.js";

describe("LruMap", () => {
  it("keeps at most max entries, evicting the least recently used and telling onEvict", () => {
    const evicted: Array<[string, number]> = [];
    const lru = new LruMap<string, number>({ max: 3, onEvict: (k, v) => evicted.push([k, v]) });
    lru.set("a", 1).set("b", 2).set("c", 3);
    expect(lru.get("a")).toBe(1); // a is now the most recent: b is the oldest
    lru.set("d", 4);
    expect(evicted).toEqual([["b", 2]]);
    expect([...lru.keys()]).toEqual(["c", "a", "d"]);
    expect(lru.size).toBe(3);
    expect(lru.get("b")).toBeUndefined();
    for (let i = 0; i < 100; i++) lru.set(`k${i}`, i);
    expect(lru.size).toBe(3);
    expect([...lru.keys()]).toEqual(["k97", "k98", "k99"]);
    expect(evicted).toHaveLength(101);
  });

  it("set on an existing key overwrites and refreshes without evicting; peek and has leave recency alone", () => {
    const evicted: string[] = [];
    const lru = new LruMap<string, number>({ max: 2, onEvict: (k) => evicted.push(k) });
    lru.set("a", 1).set("b", 2).set("a", 10);
    expect(evicted).toEqual([]);
    expect([...lru.keys()]).toEqual(["b", "a"]);
    expect(lru.peek("b")).toBe(2);
    expect(lru.has("b")).toBe(true);
    lru.set("c", 3); // b is still the oldest
    expect(evicted).toEqual(["b"]);
    expect(lru.get("a")).toBe(10);
  });

  it("stores undefined values, deletes and clears without telling onEvict", () => {
    const evicted: string[] = [];
    const lru = new LruMap<string, number | undefined>({ max: 2, onEvict: (k) => evicted.push(k) });
    lru.set("u", undefined).set("v", 1);
    expect(lru.has("u")).toBe(true);
    lru.get("u");
    lru.set("w", 2);
    expect([...lru.keys()]).toEqual(["u", "w"]);
    expect(lru.delete("u")).toBe(true);
    lru.clear();
    expect(lru.size).toBe(0);
    expect(evicted).toEqual(["v"]);
  });

  it("rejects a max that is not a positive integer", () => {
    expect(() => new LruMap({ max: 0 })).toThrow(RangeError);
    expect(() => new LruMap({ max: 1.5 })).toThrow(RangeError);
  });
});
