/** Talaria's HTTP surface over the mock engine, with plain fetch + eventsource-parser. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHermesMockEngine as createMockEngine } from "../support/hermes-mock.js";
import { ChatService } from "../../src/chat/service.js";
import { createHermesChatFormat } from "../../src/chat/hermes-format.js";
import { startServer } from "../../src/server/server.js";
import { readMetrics, startMockServer, type MockServer, readSse } from "./server-helpers.js";

const GEN = "<|im_start|>assistant\n";

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}


function replyFor(prompt: string): string | undefined {
  const m = /user\n(.*)<\|im_end\|>\n<\|im_start\|>assistant\n$/s.exec(prompt);
  if (m === null) return undefined;
  const q = m[1] ?? "";
  if (q.startsWith("echo ")) return `You said: ${q.slice(5)}`;
  if (q === "long") return "z".repeat(2000);
  return undefined;
}

describe("talaria serve HTTP (mock engine)", () => {
  let server: MockServer;
  beforeAll(async () => {
    server = await startMockServer({
      engine: { script: replyFor, tokenDelayMs: 1, sequences: 8, contextSize: 512 },
      server: { parallel: 8, maxQueue: 4, bodyLimitBytes: 64 * 1024 },
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it("GET /health is 200 when ready; unknown routes are OpenAI-shaped 404s", async () => {
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const missing = await fetch(`${server.url}/v1/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { type: string } }).error.type).toBe("not_found_error");
  });

  it("invalid JSON, wrong fields and oversized bodies are 400/400/413 with OpenAI's error shape", async () => {
    const badJson = await post(`${server.url}/v1/chat/completions`, "{not json");
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toEqual({
      error: { message: "The request body is not valid JSON.", type: "invalid_request_error", param: null, code: "invalid_json" },
    });
    const badField = await post(`${server.url}/v1/chat/completions`, { model: "m", messages: [{ role: "wizard", content: "x" }] });
    expect(badField.status).toBe(400);
    const body = (await badField.json()) as { error: { param: string; message: string } };
    expect(body.error.param).toBe("messages[0].role");
    expect(body.error.message).toContain("messages[0].role");
    const noMessages = await post(`${server.url}/v1/chat/completions`, { model: "m" });
    expect(((await noMessages.json()) as { error: { param: string } }).error.param).toBe("messages");
    const huge = await post(`${server.url}/v1/chat/completions`, { model: "m", messages: [{ role: "user", content: "x".repeat(100_000) }] });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: { code: string } }).error.code).toBe("request_too_large");
  });

  it("a prompt longer than the context is 400 context_length_exceeded", async () => {
    const r = await post(`${server.url}/v1/chat/completions`, { model: "m", messages: [{ role: "user", content: "y".repeat(600) }] });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe("context_length_exceeded");
  });

  it("no stack traces or paths in 500s", async () => {
    const engine = createMockEngine({ script: () => "x" });
    const chat = new ChatService({ engine, format: createHermesChatFormat() });
    const broken = new ChatService({ engine, format: { ...createHermesChatFormat(), render: () => { throw new Error("boom at /secret/file.ts:12"); } } });
    const s = await startServer({ backend: { engine, chat: broken }, modelId: "m", port: 0, log: () => undefined });
    try {
      const r = await post(`${s.url}/v1/chat/completions`, { model: "m", messages: [{ role: "user", content: "x" }] });
      expect(r.status).toBe(500);
      const text = await r.text();
      expect(text).not.toContain("secret");
      expect(text).not.toContain("boom");
      expect(JSON.parse(text)).toMatchObject({ error: { type: "server_error" } });
      void chat;
    } finally {
      await s.close();
    }
  });

  it("8 concurrent streams all complete, each with its own correct text", async () => {
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        post(`${server.url}/v1/chat/completions`, {
          model: "m",
          stream: true,
          stream_options: { include_usage: true },
          messages: [{ role: "user", content: `echo stream number ${i}` }],
        }),
      ),
    );
    const results = await Promise.all(responses.map(readSse));
    results.forEach((events, i) => {
      expect(events.at(-1)).toBe("[DONE]");
      const chunks = events.slice(0, -1) as Array<{ choices: Array<{ delta: { content?: string }; finish_reason: string | null }>; usage?: unknown }>;
      const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
      expect(text).toBe(`You said: stream number ${i}`);
      expect(chunks.filter((c) => c.choices[0]?.finish_reason === "stop")).toHaveLength(1);
      expect(chunks.at(-1)?.usage).toMatchObject({ completion_tokens: text.length + 1 });
    });
    const m = await readMetrics(server.url);
    expect(m.get("talaria:num_requests_running")).toBe(0);
    expect(m.get("talaria:num_sequences_busy")).toBe(0);
    expect(m.get('talaria:request_success_total{finished_reason="stop"}')).toBeGreaterThanOrEqual(8);
    expect(m.get("talaria:time_to_first_token_seconds_count")).toBeGreaterThanOrEqual(8);
  });

  it("a client disconnecting mid-stream frees its sequence (seen in /metrics)", async () => {
    const controller = new AbortController();
    const r = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "long" }] }),
      signal: controller.signal,
    });
    const reader = (r.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    await reader.read();
    const during = await readMetrics(server.url);
    expect(during.get("talaria:num_requests_running")).toBe(1);
    expect(during.get("talaria:num_sequences_busy")).toBe(1);
    const abortsBefore = during.get('talaria:request_success_total{finished_reason="abort"}') ?? 0;
    controller.abort();
    let after = await readMetrics(server.url);
    for (let i = 0; i < 100 && (after.get("talaria:num_sequences_busy") ?? 1) > 0; i++) {
      await new Promise((res) => setTimeout(res, 10));
      after = await readMetrics(server.url);
    }
    expect(after.get("talaria:num_sequences_busy")).toBe(0);
    expect(after.get("talaria:num_requests_running")).toBe(0);
    expect(after.get('talaria:request_success_total{finished_reason="abort"}')).toBe(abortsBefore + 1);
    // It stopped long before the 2000-token reply was done.
    expect(after.get("talaria:generation_tokens_total")! - (during.get("talaria:generation_tokens_total") ?? 0)).toBeLessThan(1500);
  });

  it("n = 2 returns two choices (non-streaming and streaming)", async () => {
    const r = await post(`${server.url}/v1/chat/completions`, { model: "m", n: 2, messages: [{ role: "user", content: "echo hi" }] });
    const body = (await r.json()) as { choices: Array<{ index: number; message: { content: string } }> };
    expect(body.choices.map((c) => [c.index, c.message.content])).toEqual([
      [0, "You said: hi"],
      [1, "You said: hi"],
    ]);
    const s = await post(`${server.url}/v1/chat/completions`, { model: "m", n: 2, stream: true, messages: [{ role: "user", content: "echo yo" }] });
    const events = (await readSse(s)).slice(0, -1) as Array<{ choices: Array<{ index: number; delta: { content?: string } }> }>;
    for (const index of [0, 1]) {
      const text = events.flatMap((e) => e.choices.filter((c) => c.index === index)).map((c) => c.delta.content ?? "").join("");
      expect(text).toBe("You said: yo");
    }
    const tooMany = await post(`${server.url}/v1/chat/completions`, { model: "m", n: 9, messages: [{ role: "user", content: "x" }] });
    expect(tooMany.status).toBe(400);
  });

  it("POST /v1/completions: raw prompt with special tokens honoured, max_tokens, stop, streaming, logprobs", async () => {
    const prompt = `<|im_start|>user\necho raw<|im_end|>\n${GEN}`;
    const r = await post(`${server.url}/v1/completions`, { model: "m", prompt, max_tokens: 100 });
    const body = (await r.json()) as { object: string; choices: Array<{ text: string; finish_reason: string }>; usage: { prompt_tokens: number } };
    expect(body.object).toBe("text_completion");
    expect(body.choices[0]).toMatchObject({ text: "You said: raw", finish_reason: "stop" });
    // <|im_start|> and <|im_end|> are single special tokens in the mock vocabulary.
    expect(body.usage.prompt_tokens).toBe(prompt.length - 2 * "<|im_start|>".length - "<|im_end|>".length + 3);
    const short = (await (await post(`${server.url}/v1/completions`, { model: "m", prompt, max_tokens: 3 })).json()) as typeof body;
    expect(short.choices[0]).toMatchObject({ text: "You", finish_reason: "length" });
    const stopped = (await (await post(`${server.url}/v1/completions`, { model: "m", prompt, stop: [":"] })).json()) as typeof body;
    expect(stopped.choices[0]).toMatchObject({ text: "You said", finish_reason: "stop" });
    const defaultLength = (await (await post(`${server.url}/v1/completions`, { model: "m", prompt: `<|im_start|>user\nlong<|im_end|>\n${GEN}` })).json()) as typeof body;
    expect(defaultLength.choices[0]?.text).toBe("z".repeat(16)); // OpenAI's default max_tokens for completions
    const s = await post(`${server.url}/v1/completions`, { model: "m", prompt, stream: true, logprobs: 1 });
    const events = (await readSse(s)).slice(0, -1) as Array<{ choices: Array<{ text: string; logprobs: { tokens: string[]; token_logprobs: number[] } | null }> }>;
    expect(events.map((e) => e.choices[0]?.text ?? "").join("")).toBe("You said: raw");
    expect(events[0]?.choices[0]?.logprobs?.token_logprobs[0]).toBeLessThan(0);
  });

  it("POST /v1/completions stream_options.include_usage: the last chunk has the request's usage (n = 2: prompt once, completions summed)", async () => {
    const prompt = `<|im_start|>user\necho raw<|im_end|>\n${GEN}`;
    // 3 special tokens; the reply "You said: raw" is 13 byte tokens, plus the end-of-turn token.
    const promptTokens = prompt.length - 2 * "<|im_start|>".length - "<|im_end|>".length + 3;
    const replyTokens = "You said: raw".length + 1;
    const whole = (await (await post(`${server.url}/v1/completions`, { model: "m", prompt, max_tokens: 100, n: 2 })).json()) as { usage: unknown };
    const s = await post(`${server.url}/v1/completions`, { model: "m", prompt, max_tokens: 100, n: 2, stream: true, stream_options: { include_usage: true } });
    const events = await readSse(s);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1) as Array<{ choices: unknown[]; usage?: unknown }>;
    for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();
    const last = chunks.at(-1) as { choices: unknown[]; usage: unknown };
    expect(last.choices).toEqual([]);
    const expected = { prompt_tokens: promptTokens, completion_tokens: 2 * replyTokens, total_tokens: promptTokens + 2 * replyTokens };
    expect(last.usage).toEqual(expected);
    expect(whole.usage).toEqual(expected);
  });

  it("/tokenize, /detokenize and /apply-template", async () => {
    const tok = (await (await post(`${server.url}/tokenize`, { content: "<|im_start|>hi" })).json()) as { tokens: number[]; count: number };
    expect(tok.tokens).toHaveLength(3);
    expect(tok.count).toBe(3);
    const pieces = (await (await post(`${server.url}/tokenize`, { content: "ab", with_pieces: true })).json()) as { tokens: Array<{ id: number; piece: string }> };
    expect(pieces.tokens).toEqual([
      { id: 97, piece: "a" },
      { id: 98, piece: "b" },
    ]);
    const detok = (await (await post(`${server.url}/detokenize`, { tokens: tok.tokens })).json()) as { content: string };
    expect(detok.content).toBe("<|im_start|>hi");
    const bad = await post(`${server.url}/detokenize`, { tokens: [99_999_999] });
    expect(bad.status).toBe(400);
    const applied = (await (
      await post(`${server.url}/apply-template`, { messages: [{ role: "system", content: "S" }, { role: "user", content: "U" }] })
    ).json()) as { prompt: string };
    expect(applied.prompt).toBe(`<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n${GEN}`);
  });

  it("GET /v1/models lists the one fixed model; /metrics exposes the talaria: families", async () => {
    const models = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: Array<{ id: string; max_model_len: number }> };
    expect(models.data).toHaveLength(1);
    expect(models.data[0]).toMatchObject({ id: "talaria-mock", max_model_len: 512 });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of [
      "talaria:num_requests_running",
      "talaria:num_requests_waiting",
      "talaria:prompt_tokens_total",
      "talaria:generation_tokens_total",
      "talaria:time_to_first_token_seconds",
      "talaria:time_per_output_token_seconds",
      "talaria:e2e_request_latency_seconds",
      "talaria:request_queue_time_seconds",
      "talaria:http_requests_total",
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });
});

describe("server lifecycle, auth, CORS, timeouts", () => {
  it("/health is 503 while the model loads, then 200; model routes are 503 meanwhile", async () => {
    const engine = createMockEngine({ script: () => "ok" });
    let resolve!: (b: { engine: typeof engine; chat: ChatService }) => void;
    const backend = new Promise<{ engine: typeof engine; chat: ChatService }>((r) => (resolve = r));
    const s = await startServer({ backend, modelId: "m", port: 0, log: () => undefined });
    try {
      const loading = await fetch(`${s.url}/health`);
      expect(loading.status).toBe(503);
      expect(((await loading.json()) as { error: { message: string } }).error.message).toBe("Loading model");
      expect((await post(`${s.url}/v1/chat/completions`, { model: "m", messages: [{ role: "user", content: "x" }] })).status).toBe(503);
      resolve({ engine, chat: new ChatService({ engine, format: createHermesChatFormat() }) });
      await new Promise((r) => setTimeout(r, 0));
      expect((await fetch(`${s.url}/health`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it("API key: every route but /health needs the Bearer token", async () => {
    const s = await startMockServer({ engine: { script: () => "ok" }, server: { apiKey: "secret-key" } });
    try {
      expect((await fetch(`${s.url}/health`)).status).toBe(200);
      // The web UI page is public (built: 200; not built: 503 with a page saying how to build it).
      const page = await fetch(`${s.url}/`);
      expect([200, 503]).toContain(page.status);
      expect(page.headers.get("content-type")).toContain("text/html");
      for (const path of ["/v1/models", "/metrics"]) {
        const r = await fetch(`${s.url}${path}`);
        expect(r.status).toBe(401);
        expect(r.headers.get("www-authenticate")).toContain("Bearer");
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe("invalid_api_key");
      }
      expect((await post(`${s.url}/tokenize`, { content: "x" }, { authorization: "Bearer wrong" })).status).toBe(401);
      expect((await fetch(`${s.url}/v1/models`, { headers: { authorization: "Bearer secret-key" } })).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it("CORS is off by default and answers the configured origin when on", async () => {
    const off = await startMockServer({ engine: { script: () => "ok" } });
    const on = await startMockServer({ engine: { script: () => "ok" }, server: { corsOrigins: ["https://app.example"], apiKey: "k" } });
    try {
      const plain = await fetch(`${off.url}/health`, { headers: { origin: "https://app.example" } });
      expect(plain.headers.get("access-control-allow-origin")).toBeNull();
      expect(plain.status).toBe(403); // a cross-origin request the CORS setting does not allow
      expect((await fetch(`${off.url}/health`)).status).toBe(200);
      const preflight = await fetch(`${on.url}/v1/chat/completions`, {
        method: "OPTIONS",
        headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-origin")).toBe("https://app.example");
      const other = await fetch(`${on.url}/health`, { headers: { origin: "https://evil.example" } });
      expect(other.headers.get("access-control-allow-origin")).toBeNull();
      expect(other.status).toBe(403);
      const allowed = await fetch(`${on.url}/health`, { headers: { origin: "https://app.example" } });
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example");
    } finally {
      await off.close();
      await on.close();
    }
  });

  it("the per-request timeout answers 504 and frees the sequence", async () => {
    const s = await startMockServer({ engine: { script: () => "w".repeat(1000), tokenDelayMs: 2, sequences: 1 }, server: { timeoutMs: 150 } });
    try {
      const r = await post(`${s.url}/v1/chat/completions`, { model: "m", messages: [{ role: "user", content: "x" }] });
      expect(r.status).toBe(504);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("timeout");
      const streamed = await post(`${s.url}/v1/chat/completions`, { model: "m", stream: true, messages: [{ role: "user", content: "x" }] });
      expect(streamed.status).toBe(200);
      const events = await readSse(streamed);
      expect(events.at(-1)).toMatchObject({ error: { code: "timeout" } });
      expect(s.engine.stats().sequencesBusy).toBe(0);
    } finally {
      await s.close();
    }
  });
});
