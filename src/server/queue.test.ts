import { describe, expect, it } from "vitest";
import { AdmissionQueue } from "./queue.js";
import { QueueFullError } from "./errors.js";

describe("AdmissionQueue", () => {
  it("admits up to capacity, queues up to maxQueue, refuses beyond with QueueFullError", async () => {
    const q = new AdmissionQueue({ capacity: 2, maxQueue: 1 });
    const a = await q.acquire();
    const b = await q.acquire();
    expect(q.running).toBe(2);
    const c = q.acquire();
    expect(q.waiting).toBe(1);
    await expect(q.acquire()).rejects.toBeInstanceOf(QueueFullError);
    a.release();
    const ticketC = await c;
    expect(q.running).toBe(2);
    expect(q.waiting).toBe(0);
    b.release();
    ticketC.release();
    expect(q.running).toBe(0);
  });

  it("grants in FIFO order and does not let a small request overtake a big one", async () => {
    const q = new AdmissionQueue({ capacity: 2, maxQueue: 5 });
    const first = await q.acquire(1);
    const order: string[] = [];
    const big = q.acquire(2).then((t) => (order.push("big"), t));
    const small = q.acquire(1).then((t) => (order.push("small"), t));
    await Promise.resolve();
    expect(order).toEqual([]); // one slot is free but the head (big) does not fit
    first.release();
    const bigTicket = await big;
    expect(order).toEqual(["big"]);
    bigTicket.release();
    (await small).release();
    expect(order).toEqual(["big", "small"]);
  });

  it("removes an aborted waiter from the queue", async () => {
    const q = new AdmissionQueue({ capacity: 1, maxQueue: 2 });
    const held = await q.acquire();
    const controller = new AbortController();
    const waiting = q.acquire(1, controller.signal);
    expect(q.waiting).toBe(1);
    controller.abort(new Error("client gone"));
    await expect(waiting).rejects.toThrow("client gone");
    expect(q.waiting).toBe(0);
    held.release();
    expect(q.running).toBe(0);
  });

  it("release is idempotent and a weight above capacity is a RangeError", async () => {
    const q = new AdmissionQueue({ capacity: 1, maxQueue: 0 });
    const t = await q.acquire();
    await expect(q.acquire()).rejects.toBeInstanceOf(QueueFullError);
    t.release();
    t.release();
    expect(q.running).toBe(0);
    await expect(q.acquire(2)).rejects.toBeInstanceOf(RangeError);
  });

  it("suggests a Retry-After between 1 and 60 seconds", async () => {
    const q = new AdmissionQueue({ capacity: 1, maxQueue: 0 });
    expect(q.retryAfterSeconds()).toBe(1);
    const t = await q.acquire();
    await new Promise((r) => setTimeout(r, 20));
    t.release();
    const s = q.retryAfterSeconds();
    expect(s).toBeGreaterThanOrEqual(1);
    expect(s).toBeLessThanOrEqual(60);
  });
});
