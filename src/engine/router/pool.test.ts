import { describe, expect, it } from "vitest";
import { createMockEngine, type MockEngine } from "../mock/mock-engine.js";
import { EngineError, type Engine, type GenerateEvent, type GenerateRequest } from "../types.js";
import { prefixHashes, PrefixMemory } from "./affinity.js";
import { ReplicaPool, type Replica } from "./pool.js";

/** A mock replica that can be made to fail before its first token, or after it. */
function replica(name: string, reply = `from ${name}`): Replica & { mock: MockEngine; failBefore: boolean; failAfter: boolean; up: boolean; seen: string[] } {
  const mock = createMockEngine({ script: () => reply, tokenDelayMs: 0 });
  const r = {
    name,
    mock,
    failBefore: false,
    failAfter: false,
    up: true,
    seen: [] as string[],
    healthy: async () => r.up,
    engine: undefined as unknown as Engine,
  };
  const engine: Engine = {
    info: mock.info,
    capabilities: mock.capabilities,
    tokenize: (i, o) => mock.tokenize(i, o),
    detokenize: (t, o) => mock.detokenize(t, o),
    loglikelihood: (q, o) => mock.loglikelihood(q, o),
    stats: () => mock.stats(),
    dispose: () => mock.dispose(),
    async *generate(request: GenerateRequest): AsyncIterable<GenerateEvent> {
      r.seen.push(typeof request.prompt === "string" ? request.prompt : "?");
      if (r.failBefore) throw new EngineError(`${name} is down`, "backend_unavailable");
      let n = 0;
      for await (const e of mock.generate(request)) {
        if (r.failAfter && n++ === 1) throw new EngineError(`${name} broke`, "backend_failed");
        yield e;
      }
    },
  };
  r.engine = engine;
  return r;
}

async function text(pool: Engine, prompt: string): Promise<string> {
  let out = "";
  for await (const e of pool.generate({ prompt, maxTokens: 64 })) if (e.type === "text-delta") out += e.text;
  return out;
}

const longPrefix = `<|im_start|>system\n${"You are a helpful assistant with tools. ".repeat(40)}<|im_end|>\n`;

describe("prefix hashes", () => {
  it("two prompts share their first k hashes exactly when they share their first k blocks", () => {
    const a = prefixHashes(`${longPrefix}user: one`, 128);
    const b = prefixHashes(`${longPrefix}user: two, much longer ${"x".repeat(400)}`, 128);
    const shared = Math.floor(longPrefix.length / 128);
    expect(a.slice(0, shared)).toEqual(b.slice(0, shared));
    expect(prefixHashes(`X${longPrefix}`, 128)[0]).not.toBe(a[0]);
    const m = new PrefixMemory(1000);
    m.remember(a);
    expect(m.match(b)).toBeGreaterThanOrEqual(shared);
    expect(m.match(prefixHashes("something else entirely ".repeat(20), 128))).toBe(0);
  });
});

describe("ReplicaPool", () => {
  it("keeps a conversation prefix on the replica that saw it, and spreads other prompts by load", async () => {
    const a = replica("a");
    const b = replica("b");
    const pool = new ReplicaPool([a, b], { healthIntervalMs: 0 });
    const first = await text(pool, `${longPrefix}turn 1`);
    const again = await text(pool, `${longPrefix}turn 1 and turn 2`);
    expect(again).toBe(first);
    const stats = pool.replicas();
    expect(stats.reduce((n, s) => n + s.affinityHits, 0)).toBe(1);
    // While one replica is busy, a prompt with no known prefix goes to the other one.
    const slow = pool.generate({ prompt: `${longPrefix}turn 3`, maxTokens: 64 })[Symbol.asyncIterator]();
    await slow.next();
    const other = await text(pool, "an unrelated prompt without shared prefix");
    expect(other).not.toBe(first);
    while (!(await slow.next()).done) {}
    await pool.dispose();
  });

  it("fails over before the first token, ejects the failing replica, and re-admits it after a good health check", async () => {
    const a = replica("a");
    const b = replica("b");
    const logs: string[] = [];
    const pool = new ReplicaPool([a, b], { healthIntervalMs: 0, log: (l) => logs.push(l) });
    a.failBefore = true;
    b.failBefore = false;
    // Whichever replica is tried first, the answer comes from b.
    for (let i = 0; i < 4; i++) expect(await text(pool, `question ${i}`)).toBe("from b");
    const sa = pool.replicas().find((s) => s.name === "a");
    expect(sa?.healthy).toBe(false);
    expect(sa?.ejections).toBe(1);
    expect(logs.some((l) => l.includes("a ejected"))).toBe(true);
    // Ejected: no more requests go to a.
    const before = a.seen.length;
    await text(pool, "question 9");
    expect(a.seen.length).toBe(before);
    // a recovers: one good probe re-admits it.
    a.failBefore = false;
    await pool.probe();
    expect(pool.replicas().find((s) => s.name === "a")?.healthy).toBe(true);
    expect(logs.some((l) => l.includes("re-admitted"))).toBe(true);
    await pool.dispose();
  });

  it("a replica failing after its first token ends the stream with the error (never replayed elsewhere)", async () => {
    const a = replica("a");
    const b = replica("b");
    a.failAfter = true;
    b.failAfter = true;
    const pool = new ReplicaPool([a, b], { healthIntervalMs: 0 });
    await expect(text(pool, "q")).rejects.toMatchObject({ code: "backend_failed" });
    expect(a.seen.length + b.seen.length).toBe(1);
    await pool.dispose();
  });

  it("health checks eject after two failures in a row; with every replica down the request is backend_unavailable", async () => {
    const a = replica("a");
    const b = replica("b");
    const pool = new ReplicaPool([a, b], { healthIntervalMs: 0, ejectAfter: 2 });
    a.up = false;
    await pool.probe();
    expect(pool.replicas().find((s) => s.name === "a")?.healthy).toBe(true);
    await pool.probe();
    expect(pool.replicas().find((s) => s.name === "a")?.healthy).toBe(false);
    a.failBefore = true;
    b.failBefore = true;
    await expect(text(pool, "q")).rejects.toMatchObject({ code: "backend_unavailable" });
    expect(pool.stats().sequencesTotal).toBeGreaterThan(0);
    await pool.dispose();
  });

  it("states only the capabilities every replica has, and the smallest context", () => {
    const a = replica("a");
    const small = createMockEngine({ script: () => "x", contextSize: 256 });
    const pool = new ReplicaPool([a, { name: "s", engine: small }], { healthIntervalMs: 0 });
    expect(pool.info.contextSize).toBe(256);
    expect(pool.capabilities.grammar).toBe(a.engine.capabilities.grammar && small.capabilities.grammar);
    void pool.dispose();
  });
});
