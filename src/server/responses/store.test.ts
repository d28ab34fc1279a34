import { describe, expect, it } from "vitest";
import { ResponsesStore } from "./store.js";

const entry = (n: number) => ({ response: { id: `r${n}` }, input: [], conversation: [] });

describe("ResponsesStore", () => {
  it("keeps at most maxEntries (least recently used evicted) and forgets entries older than the TTL", () => {
    let now = 0;
    const store = new ResponsesStore({ maxEntries: 2, ttlMs: 1000, now: () => now });
    store.put("a", entry(1));
    store.put("b", entry(2));
    expect(store.get("a")).toBeDefined(); // a is now the most recent
    store.put("c", entry(3));
    expect(store.get("b")).toBeUndefined();
    expect(store.get("a")).toBeDefined();
    now = 1001;
    expect(store.get("a")).toBeUndefined();
    expect(store.delete("c")).toBe(false);
  });

  it("maxEntries 0 stores nothing", () => {
    const store = new ResponsesStore({ maxEntries: 0 });
    store.put("a", entry(1));
    expect(store.enabled).toBe(false);
    expect(store.get("a")).toBeUndefined();
  });
});
