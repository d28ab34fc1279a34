import { describe, expect, it } from "vitest";
import { commonPrefixLength, SequencePool } from "./sequence-pool.js";
import { EngineError } from "./types.js";

interface Slot {
  name: string;
  tokens: number[];
}

function pool(...caches: number[][]): SequencePool<Slot> {
  return new SequencePool(
    caches.map((tokens, i) => ({ name: `s${i}`, tokens })),
    (s) => s.tokens,
  );
}

describe("SequencePool", () => {
  it("picks the free slot with the longest common prefix", async () => {
    const p = pool([1, 2, 3], [1, 2, 9, 9], [7]);
    const lease = await p.acquire([1, 2, 9, 4]);
    expect(lease.slot.name).toBe("s1");
    expect(lease.commonPrefix).toBe(3);
    expect(p.busy).toBe(1);
  });

  it("prefers the shortest cache on ties", async () => {
    const p = pool([5, 5, 5], [6], []);
    expect((await p.acquire([1])).slot.name).toBe("s2");
  });

  it("queues FIFO when all slots are busy and hands over on release", async () => {
    const p = pool([]);
    const first = await p.acquire([1]);
    const order: string[] = [];
    const a = p.acquire([2]).then((l) => {
      order.push("a");
      return l;
    });
    const b = p.acquire([3]).then((l) => {
      order.push("b");
      return l;
    });
    expect(p.waiting).toBe(2);
    first.release();
    first.release(); // idempotent
    const la = await a;
    expect(order).toEqual(["a"]);
    expect(p.waiting).toBe(1);
    la.release();
    (await b).release();
    expect(order).toEqual(["a", "b"]);
    expect(p.busy).toBe(0);
  });

  it("removes an aborted waiter from the queue", async () => {
    const p = pool([]);
    const held = await p.acquire([]);
    const controller = new AbortController();
    const waiting = p.acquire([], controller.signal);
    const next = p.acquire([]);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: "aborted" });
    expect(p.waiting).toBe(1);
    held.release();
    await expect(next).resolves.toBeDefined();
  });

  it("rejects at once when the signal is already aborted", async () => {
    const p = pool([]);
    await expect(p.acquire([], AbortSignal.abort())).rejects.toBeInstanceOf(EngineError);
    expect(p.busy).toBe(0);
  });

  it("close rejects waiters and new acquisitions", async () => {
    const p = pool([]);
    await p.acquire([]);
    const w = p.acquire([]);
    p.close(new EngineError("disposed", "disposed"));
    await expect(w).rejects.toMatchObject({ code: "disposed" });
    await expect(p.acquire([])).rejects.toMatchObject({ code: "disposed" });
  });

  it("computes common prefixes", () => {
    expect(commonPrefixLength([1, 2, 3], [1, 2, 4])).toBe(2);
    expect(commonPrefixLength([], [1])).toBe(0);
    expect(commonPrefixLength([1, 2], [1, 2, 3])).toBe(2);
  });
});
