/**
 * `talaria serve --backend` and the replica router in front of REAL llama.cpp `llama-server`
 * processes (scripts/llama-server.sh) on generated models: the Hermes tool loop and JSON schemas
 * through llama-server, prefix affinity and failover over two replicas (one killed mid-batch, then
 * restarted and re-admitted), and the openai / AI SDKs through the router. Skips when the binary is
 * missing, except under CI=true, where it fails.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import AjvModule from "ajv";
import { createParser } from "eventsource-parser";
import { generateText, stepCountIs, streamText, tool } from "ai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { z } from "zod";
import { createServeBackend, runServe, type RunServeResult, type ServeFlags } from "../../src/cli/commands/serve.js";
import { createRemoteEngine, type RemoteEngine } from "../../src/engine/remote/index.js";
import { ReplicaPool } from "../../src/engine/router/index.js";
import type { Engine, GenerateEvent, GenerateRequest } from "../../src/engine/types.js";
import { HERMES_DIALECT } from "../../src/hermes/dialect.js";
import { isPromptText, promptToString } from "../../src/prompt/text.js";
import { startServer, type RunningServer } from "../../src/server/server.js";
import { ensureTestModel } from "../../src/testmodels/index.js";
import { PARIS_CALL, WEATHER_TOOL } from "../standalone/server-helpers.js";
import { findLlamaServer, llamaServerRequired, startLlamaServer, type LlamaServerProcess } from "../support/llama-server.js";

const Ajv = AjvModule.default;
const found = findLlamaServer();
const ANSWER = "It is 21°C and sunny in Paris ☀";
const LLAMA = { parallel: 2, contextSize: 2048, threads: 1 } as const;

const serveFlags = (backend: string[]): ServeFlags => ({ backend, host: "127.0.0.1", port: 0, maxQueue: 16, timeout: 120, profile: "hermes-3", style: "card" });

async function serve(backend: string[]): Promise<{ running: RunServeResult; client: OpenAI; pool: Engine }> {
  const running = await runServe(serveFlags(backend), () => undefined);
  const pool = await running.engine;
  return { running, pool, client: new OpenAI({ baseURL: `${running.server.url}/v1`, apiKey: "none", maxRetries: 0, timeout: 60_000 }) };
}

/** Chat with the weather tool → a parsed call; send its result → the scripted answer (streamed with `stream`). */
async function toolRoundTrip(client: OpenAI, stream: boolean): Promise<void> {
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Paris?" }];
  let message: OpenAI.ChatCompletionMessage;
  if (stream) {
    const chunks = await client.chat.completions.create({ model: "m", messages, tools: [WEATHER_TOOL], temperature: 0, stream: true });
    const deltas: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finish: string | null | undefined;
    let content = "";
    for await (const c of chunks) {
      deltas.push(...(c.choices[0]?.delta.tool_calls ?? []));
      content += c.choices[0]?.delta.content ?? "";
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe("tool_calls");
    expect(content).not.toContain("<tool_call>");
    expect(deltas[0]).toMatchObject({ index: 0, type: "function", function: { name: "get_weather" } });
    const args = deltas.map((d) => d.function?.arguments ?? "").join("");
    message = { role: "assistant", content: null, refusal: null, tool_calls: [{ id: deltas[0]?.id as string, type: "function", function: { name: "get_weather", arguments: args } }] };
  } else {
    const first = await client.chat.completions.create({ model: "m", messages, tools: [WEATHER_TOOL], temperature: 0 });
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    message = first.choices[0]!.message;
    expect(message.content ?? "").toBe("");
  }
  const call = message.tool_calls?.[0];
  if (call?.type !== "function") throw new Error("expected a function tool call");
  expect(call.id).toMatch(/^call_/);
  expect(call.function.name).toBe("get_weather");
  expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris" });
  messages.push(message, { role: "tool", tool_call_id: call.id, content: '{"temperature": 21}' });
  if (stream) {
    const chunks = await client.chat.completions.create({ model: "m", messages, tools: [WEATHER_TOOL], temperature: 0, stream: true });
    const parts: string[] = [];
    for await (const c of chunks) if (c.choices[0]?.delta.content) parts.push(c.choices[0].delta.content);
    expect(parts.length).toBeGreaterThan(3);
    expect(parts.join("")).toBe(ANSWER);
  } else {
    const second = await client.chat.completions.create({ model: "m", messages, tools: [WEATHER_TOOL], temperature: 0 });
    expect(second.choices[0]?.message.content).toBe(ANSWER);
    expect(second.choices[0]?.finish_reason).toBe("stop");
  }
}

describe.skipIf("missing" in found && !llamaServerRequired())("talaria serve --backend in front of llama-server", () => {
  describe("scripted tool model", () => {
    const servers: LlamaServerProcess[] = [];
    const stops: (() => Promise<void>)[] = [];
    beforeAll(async () => {
      const model = await ensureTestModel({ kind: "scripted", reply: PARIS_CALL, afterToolReply: ANSWER });
      servers.push(...(await Promise.all([startLlamaServer({ model, ...LLAMA }), startLlamaServer({ model, ...LLAMA })])));
    });
    afterAll(async () => {
      for (const stop of stops) await stop();
      await Promise.all(servers.map((s) => s.kill()));
    });

    it("tool-call loop end to end through one llama-server (non-streaming and streaming)", async () => {
      const { running, client, pool } = await serve([servers[0]!.url]);
      stops.push(running.stop);
      expect(pool.info.metadata["talaria.backend.kind"]).toBe("llama-server");
      await toolRoundTrip(client, false);
      await toolRoundTrip(client, true);
    });

    it("the openai SDK and the AI SDK through the router over two llama-servers", async () => {
      const { running, client, pool } = await serve(servers.map((s) => s.url));
      stops.push(running.stop);
      if (!(pool instanceof ReplicaPool)) throw new Error("two --backend URLs should make a replica pool");
      await toolRoundTrip(client, false);
      await toolRoundTrip(client, true);

      const provider = createOpenAICompatible({ name: "talaria", baseURL: `${running.server.url}/v1`, apiKey: "unused", includeUsage: true });
      const calls: unknown[] = [];
      const weather = tool({
        description: "Current weather for a city",
        inputSchema: z.object({ city: z.string() }),
        execute: async (input) => {
          calls.push(input);
          return { temperature: 21 };
        },
      });
      const result = await generateText({ model: provider("m"), prompt: "What is the weather in Paris?", tools: { get_weather: weather }, stopWhen: stepCountIs(4) });
      expect(calls).toEqual([{ city: "Paris" }]);
      expect(result.steps.map((s) => s.finishReason)).toEqual(["tool-calls", "stop"]);
      expect(result.text).toBe(ANSWER);

      const streamed = streamText({ model: provider("m"), prompt: "Weather?", tools: { get_weather: weather }, stopWhen: stepCountIs(3) });
      const parts: string[] = [];
      for await (const delta of streamed.textStream) parts.push(delta);
      expect(parts.length).toBeGreaterThan(3);
      expect(parts.join("")).toBe(ANSWER);
      expect(await streamed.finishReason).toBe("stop");
      expect((await streamed.usage).outputTokens).toBeGreaterThan(0);
      expect(calls).toHaveLength(2);

      // 2 round trips and 2 tool loops: 8 chats, all answered by the two replicas.
      const stats = pool.replicas();
      expect(stats.map((s) => s.healthy)).toEqual([true, true]);
      expect(stats.reduce((n, s) => n + s.requests, 0)).toBe(8);
      expect(stats.reduce((n, s) => n + s.errors, 0)).toBe(0);
      expect(stats.reduce((n, s) => n + s.affinityHits, 0)).toBeGreaterThan(0);
    });
  });

  describe("random model", () => {
    const servers: LlamaServerProcess[] = [];
    const engines: RemoteEngine[] = [];
    let pool: ReplicaPool;
    let server: RunningServer;
    let single: RunServeResult | undefined;
    /** Which replicas each tagged request (`[req <tag>]` in its prompt) was sent to, and where it first produced output. */
    type Trace = { on: string[]; producedOn?: string };
    const traces = new Map<string, Trace>();
    const byRequest = new WeakMap<GenerateRequest, Trace>();
    const tagging: Promise<unknown>[] = [];
    const replicaLog: string[] = [];
    const serverLog: string[] = [];
    /** The chat service sends token ids: the tag is read back through whichever backend still answers. */
    const tagOf = async (r: GenerateRequest): Promise<string> => {
      const p = r.prompt;
      const text = typeof p === "string" ? p : isPromptText(p) ? promptToString(p) : await Promise.any(engines.map((e) => e.detokenize(p as readonly number[], { special: true })));
      return /\[req ([\w-]+)\]/.exec(text)?.[1] ?? "untagged";
    };
    /** The engine as the pool sees it, recording where each request went (everything else passes through). */
    const traced = (name: string, engine: RemoteEngine): Engine =>
      new Proxy(engine, {
        get(target, key) {
          if (key === "generate") {
            return async function* (request: GenerateRequest): AsyncIterable<GenerateEvent> {
              let t = byRequest.get(request);
              if (t === undefined) {
                const trace: Trace = { on: [] };
                byRequest.set(request, (t = trace));
                tagging.push(tagOf(request).then((tag) => traces.set(tag, trace)));
              }
              t.on.push(name);
              for await (const event of target.generate(request)) {
                if (event.type !== "warning") t.producedOn ??= name;
                yield event;
              }
            };
          }
          const value: unknown = Reflect.get(target, key, target);
          return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    const tagged = async (): Promise<void> => void (await Promise.all(tagging));

    let banned: Record<string, number> = {};
    const chat = (tag: string, extra: Record<string, unknown> = {}, system?: string): Record<string, unknown> => ({
      model: "m",
      messages: [...(system === undefined ? [] : [{ role: "system", content: system }]), { role: "user", content: `[req ${tag}] go on` }],
      temperature: 1,
      seed: 7,
      logit_bias: banned, // no end-of-generation or marker tokens: every answer runs to max_tokens
      ...extra,
    });
    const post = (body: unknown, signal = AbortSignal.timeout(90_000)): Promise<Response> =>
      fetch(`${server.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal });
    const metric = async (url: string, name: string): Promise<number> => Number(new RegExp(`^${name} (\\S+)`, "m").exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? NaN);
    const until = async (what: string, ok: () => boolean, ms: number): Promise<number> => {
      const start = Date.now();
      while (!ok()) {
        if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return Date.now() - start;
    };

    beforeAll(async () => {
      const model = await ensureTestModel({ kind: "random" });
      servers.push(...(await Promise.all([startLlamaServer({ model, ...LLAMA }), startLlamaServer({ model, ...LLAMA })])));
      engines.push(...(await Promise.all(servers.map((s) => createRemoteEngine({ url: s.url, kind: "auto", markerTexts: HERMES_DIALECT.markers, retries: 0 })))));
      pool = new ReplicaPool(
        engines.map((e) => ({ name: e.url, engine: traced(e.url, e), healthy: (signal) => e.healthy(signal), load: (signal) => e.load(signal) })),
        { healthIntervalMs: 300, log: (line) => replicaLog.push(line) },
      );
      const ids = [...pool.info.specialTokens.endOfGeneration, ...Object.values(pool.info.specialTokens.markers)];
      banned = Object.fromEntries(ids.map((id) => [String(id), -100]));
      server = await startServer({ backend: createServeBackend(pool, { profile: "hermes-3" }), modelId: "m", host: "127.0.0.1", port: 0, parallel: 16, maxQueue: 16, timeoutMs: 120_000, log: (l) => serverLog.push(l) });
    });
    afterAll(async () => {
      await single?.stop();
      await server?.close();
      await pool?.dispose();
      await Promise.all(servers.map((s) => s.kill()));
    });

    it("json_schema answers are valid through llama-server (temperature 1, several seeds)", async () => {
      const { running, client } = await serve([servers[0]!.url]);
      single = running;
      const schema = {
        type: "object",
        properties: {
          ok: { type: "boolean" },
          level: { type: "string", enum: ["low", "mid", "high"] },
          count: { type: "integer", minimum: 0, maximum: 99 },
          tags: { type: "array", items: { type: "string", enum: ["a", "b", "c"] }, maxItems: 3 },
        },
        required: ["ok", "level", "count", "tags"],
        additionalProperties: false,
      };
      const validate = new Ajv({ allErrors: true }).compile(schema);
      for (const seed of [1, 2, 3, 4, 5, 6]) {
        const r = await client.chat.completions.create({
          model: "m",
          seed,
          temperature: 1,
          max_tokens: 200,
          messages: [{ role: "user", content: "Report your status as JSON." }],
          response_format: { type: "json_schema", json_schema: { name: "status", schema, strict: true } },
        });
        expect(r.choices[0]?.finish_reason, `seed ${seed}`).toBe("stop");
        const value: unknown = JSON.parse(r.choices[0]?.message.content ?? "");
        expect(validate(value), `seed ${seed}: ${JSON.stringify(value)} ${JSON.stringify(validate.errors)}`).toBe(true);
      }
    });

    it("prefix affinity: requests sharing a long system prompt go to the replica that cached it", async () => {
      const system = (topic: string): string =>
        Array.from({ length: 24 }, (_, i) => `Rule ${i + 1} about ${topic}: answer briefly, cite the ${topic} handbook section ${i + 1}, never guess.`).join("\n");
      const groups = { a: system("lighthouses"), b: system("volcanoes") };
      expect(groups.a.length).toBeGreaterThan(2048);
      const before = pool.replicas();
      const promptTokens = await Promise.all(servers.map((s) => metric(s.url, "llamacpp:prompt_tokens_total")));
      const cached: Record<string, number[]> = { a: [], b: [] };
      for (const [g, text] of Object.entries(groups)) {
        for (let i = 0; i < 4; i++) {
          const r = (await (await post(chat(`${g}${i}`, { max_tokens: 4 }, text))).json()) as OpenAI.ChatCompletion;
          expect(r.choices[0]?.finish_reason).toBe("length");
          cached[g]!.push(r.usage?.prompt_tokens_details?.cached_tokens ?? -1);
        }
      }
      await tagged();
      const where = (g: string): string[] => [0, 1, 2, 3].flatMap((i) => traces.get(`${g}${i}`)?.on ?? []);
      const [onA, onB] = [where("a"), where("b")];
      expect(onA).toHaveLength(4);
      expect(new Set(onA).size).toBe(1);
      expect(new Set(onB).size).toBe(1);
      expect(onB[0]).not.toBe(onA[0]); // the second group starts on the replica with fewer requests, then stays
      // The 2nd..4th request of each group reuse the slot's cached prompt (≈ 600 tokens of system prompt).
      for (const g of ["a", "b"]) for (const n of cached[g]!.slice(1)) expect(n).toBeGreaterThan(500);
      const after = pool.replicas();
      const ia = engines.findIndex((e) => e.url === onA[0]);
      const ib = 1 - ia;
      expect(after[ia]!.affinityHits - before[ia]!.affinityHits).toBe(3);
      expect(after[ib]!.affinityHits - before[ib]!.affinityHits).toBe(3);
      // llama-server's own view: each replica evaluated its system prompt once, not four times.
      const processed = await Promise.all(servers.map(async (s, i) => (await metric(s.url, "llamacpp:prompt_tokens_total")) - (promptTokens[i] as number)));
      for (const n of processed) {
        expect(n).toBeGreaterThan(500);
        expect(n).toBeLessThan(1000);
      }
      // …and its /slots: on each replica one slot holds the group's prompt (`n_prompt_tokens`: the tokens in its cache).
      type Slot = { id: number; n_ctx: number; is_processing: boolean; id_task?: number; n_prompt_tokens?: number; params?: { n_predict?: number } };
      const slots = await Promise.all(servers.map(async (s) => (await (await fetch(`${s.url}/slots`)).json()) as Slot[]));
      for (const replica of slots) expect(replica.some((slot) => slot.params?.n_predict === 4 && (slot.n_prompt_tokens ?? 0) > 500), JSON.stringify(replica)).toBe(true);
    });

    it("a replica killed mid-batch: no request without a token is lost, its streams end with an error, it is ejected, then re-admitted", async () => {
      const maxTokens = 400;
      const streamTags = ["s0", "s1"];
      const streams = streamTags.map((tag) => {
        const events: unknown[] = [];
        let firstContent: () => void = () => undefined;
        const first = new Promise<void>((resolve) => (firstContent = resolve));
        const done = (async () => {
          try {
            const response = await post(chat(tag, { stream: true, max_tokens: maxTokens }));
            const parser = createParser({
              onEvent: (e) => {
                const data: unknown = e.data === "[DONE]" ? "[DONE]" : JSON.parse(e.data);
                events.push(data);
                if ((data as OpenAI.ChatCompletionChunk).choices?.[0]?.delta.content) firstContent();
              },
            });
            const decoder = new TextDecoder();
            for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
            return { tag, events, at: Date.now() };
          } finally {
            firstContent(); // a stream that fails early must not hang the test
          }
        })();
        return { tag, first, done };
      });
      await Promise.all(streams.map((s) => s.first)); // both streams are generating
      const plainTags = Array.from({ length: 8 }, (_, i) => `n${i}`);
      const plain = plainTags.map((tag) => post(chat(tag, { max_tokens: maxTokens })).then(async (r) => ({ tag, status: r.status, body: (await r.json()) as OpenAI.ChatCompletion & { error?: { code?: string } }, at: Date.now() })));
      await until("all 8 requests dispatched", () => plainTags.every((t) => traces.has(t)), 10_000);

      await tagged();
      const victimUrl = traces.get("s0")!.on[0] as string;
      const victim = servers.findIndex((s) => s.url === victimUrl);
      const before = pool.replicas();
      const killedAt = Date.now();
      await servers[victim]!.kill("SIGKILL");
      const [streamed, answered] = await Promise.all([Promise.all(streams.map((s) => s.done)), Promise.all(plain)]);
      await tagged();
      // Requests that had produced output on the victim (no output can come from it after the kill).
      const producedOnVictim = new Set([...streamTags, ...plainTags].filter((t) => traces.get(t)?.producedOn === victimUrl));

      for (const s of streamed) {
        const error = s.events.find((e): e is { error: { code?: string } } => typeof e === "object" && e !== null && "error" in e);
        if (producedOnVictim.has(s.tag)) {
          expect(error?.error.code, `${s.tag} was on the killed replica; its events ended ${JSON.stringify(s.events.slice(-1))}; server log: ${serverLog.join("\n").slice(0, 600)}`).toBe("backend_failed");
          expect(s.at - killedAt).toBeLessThan(5_000);
        } else {
          expect(error, `${s.tag} never produced on the killed replica`).toBeUndefined();
          expect(s.events.at(-1)).toBe("[DONE]");
        }
      }
      expect(producedOnVictim.has("s0")).toBe(true);
      let failedOver = 0;
      for (const a of answered) {
        const t = traces.get(a.tag)!;
        if (producedOnVictim.has(a.tag) && a.at > killedAt) {
          expect(a.status, `${a.tag} had produced on the killed replica`).toBe(502);
          expect(a.body.error?.code).toBe("backend_failed");
        } else {
          expect(a.status, `${a.tag} (sent to ${t.on.join(" → ")}) must not be lost`).toBe(200);
          expect(a.body.usage?.completion_tokens).toBe(maxTokens);
          if (t.on.length > 1) failedOver++;
        }
      }
      expect(failedOver).toBeGreaterThan(0); // some had been queued on the victim: they moved to the survivor
      const after = pool.replicas();
      expect(after[victim]!.healthy).toBe(false);
      expect(after[victim]!.ejections - before[victim]!.ejections).toBeGreaterThanOrEqual(1);
      expect(after[1 - victim]!.failovers - before[1 - victim]!.failovers).toBe(failedOver);
      expect(replicaLog.some((l) => l.includes(`${victimUrl} ejected`))).toBe(true);

      // Back up: re-admitted by the probes within a few intervals, then it takes requests again.
      await servers[victim]!.restart();
      await until("re-admission", () => pool.replicas()[victim]!.healthy, 1_500); // the first good probe (every 300 ms) re-admits it
      const served = pool.replicas()[victim]!.requests;
      const again = await Promise.all(["r0", "r1", "r2", "r3"].map(async (tag) => (await post(chat(tag, { max_tokens: 8 }))).status));
      expect(again).toEqual([200, 200, 200, 200]);
      await tagged();
      expect(pool.replicas()[victim]!.requests).toBeGreaterThan(served);
      expect(["r0", "r1", "r2", "r3"].filter((t) => traces.get(t)?.producedOn === victimUrl).length).toBeGreaterThan(0);
    });
  });
});
