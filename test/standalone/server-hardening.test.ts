/**
 * Request limits and browser safety of the HTTP server, with real sockets (node:http), against the mock
 * engine: chunked uploads and their limit, 405s, JSON-only content types, the Host and Origin checks,
 * prompt-size limits checked before tokenizing, and deep JSON in tool fields.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { EngineError } from "../../src/engine/types.js";
import { startMockServer, type MockServer } from "./server-helpers.js";

interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/**
 * One request over node:http. `chunks` are written one `write()` each with no Content-Length, so Node
 * sends `Transfer-Encoding: chunked` (unless the caller sets Content-Length itself).
 */
function request(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; chunks?: readonly (string | Buffer)[] },
): Promise<RawResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, method: options.method ?? "POST", path: options.path, headers: options.headers ?? {} },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (d: Buffer) => parts.push(d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end();
  });
}

/** Split a string into `n` roughly equal pieces (each sent as its own chunk). */
function pieces(text: string, n = 3): string[] {
  const size = Math.ceil(text.length / n);
  return Array.from({ length: n }, (_, i) => text.slice(i * size, (i + 1) * size)).filter((p) => p !== "");
}

const JSON_HEADERS = { "content-type": "application/json" };

function errorOf(r: RawResponse): { message: string; type: string; param: string | null; code: string | null } {
  return (JSON.parse(r.body) as { error: { message: string; type: string; param: string | null; code: string | null } }).error;
}

const GEN = "<|im_start|>assistant\n";

describe("chunked request bodies and the body limit", () => {
  let server: MockServer;
  const LIMIT = 16 * 1024;
  beforeAll(async () => {
    server = await startMockServer({ engine: { script: () => "ok", contextSize: 4096 }, server: { bodyLimitBytes: LIMIT } });
  });
  afterAll(async () => {
    await server.close();
  });

  it("every POST route accepts a chunked body (no Content-Length)", async () => {
    const cases: Array<[string, unknown, (body: unknown) => void]> = [
      ["/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "hi" }] }, (b) => expect(b).toMatchObject({ choices: [{ message: { content: "ok" } }] })],
      ["/v1/completions", { model: "m", prompt: `<|im_start|>user\nhi<|im_end|>\n${GEN}`, max_tokens: 5 }, (b) => expect(b).toMatchObject({ choices: [{ text: "ok" }] })],
      ["/tokenize", { content: "ab" }, (b) => expect(b).toMatchObject({ tokens: [97, 98], count: 2 })],
      ["/detokenize", { tokens: [97, 98] }, (b) => expect(b).toMatchObject({ content: "ab" })],
      ["/apply-template", { messages: [{ role: "user", content: "U" }] }, (b) => expect(b).toMatchObject({ prompt: `<|im_start|>user\nU<|im_end|>\n${GEN}` })],
    ];
    for (const [path, body, check] of cases) {
      const r = await request(server.url, { path, headers: JSON_HEADERS, chunks: pieces(JSON.stringify(body)) });
      expect({ path, status: r.status }).toEqual({ path, status: 200 });
      check(JSON.parse(r.body));
    }
  });

  it("a chunked body is still limited: 413 once it passes the limit, before the client has finished sending", async () => {
    const u = new URL(server.url);
    const result = await new Promise<{ status: number; body: string; writtenBeforeResponse: number }>((resolve, reject) => {
      let written = 0;
      let responded = false;
      const req = http.request({ host: u.hostname, port: u.port, method: "POST", path: "/v1/chat/completions", headers: JSON_HEADERS }, (res) => {
        responded = true;
        const writtenBeforeResponse = written;
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString("utf8")));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body, writtenBeforeResponse });
          req.destroy();
        });
      });
      req.on("error", (error) => {
        if (!responded) reject(error);
      });
      req.write('{"model":"m","messages":[{"role":"user","content":"');
      const chunk = "x".repeat(4096);
      // Keep sending (up to 64 × the limit) and never end the body: only the limit can answer this request.
      const pump = (): void => {
        if (responded || written > 64 * LIMIT) return;
        written += chunk.length;
        if (req.write(chunk)) setImmediate(pump);
        else req.once("drain", pump);
      };
      pump();
    });
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body)).toMatchObject({ error: { type: "invalid_request_error", code: "request_too_large" } });
    expect(result.writtenBeforeResponse).toBeLessThan(64 * LIMIT);
  });

  it("a declared Content-Length over the limit is 413; the server keeps answering afterwards", async () => {
    const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "x".repeat(LIMIT) }] });
    const r = await request(server.url, { path: "/v1/chat/completions", headers: { ...JSON_HEADERS, "content-length": String(Buffer.byteLength(body)) }, chunks: [body] });
    expect(r.status).toBe(413);
    expect(errorOf(r).code).toBe("request_too_large");
    expect(errorOf(r).message).toContain(String(LIMIT));
    expect((await request(server.url, { method: "GET", path: "/health" })).status).toBe(200);
  });

  it("a chunked body exactly at the limit is accepted", async () => {
    const prefix = '{"content":"';
    const suffix = '"}';
    const body = prefix + "a".repeat(LIMIT - prefix.length - suffix.length) + suffix;
    expect(Buffer.byteLength(body)).toBe(LIMIT);
    const r = await request(server.url, { path: "/tokenize", headers: JSON_HEADERS, chunks: pieces(body, 5) });
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as { count: number }).count).toBe(LIMIT - prefix.length - suffix.length);
  });

  it("a client that hangs up mid-upload is not a server failure (no 500 counted, no stack logged)", async () => {
    const logged: string[] = [];
    const quiet = await startMockServer({ engine: { script: () => "ok" }, server: { log: (line) => logged.push(line) } });
    try {
      const u = new URL(quiet.url);
      await new Promise<void>((resolve) => {
        const req = http.request({ host: u.hostname, port: u.port, method: "POST", path: "/v1/chat/completions", headers: JSON_HEADERS });
        req.on("error", () => resolve());
        req.write('{"model": "m", "messages": [');
        setTimeout(() => {
          req.destroy();
          setTimeout(resolve, 200);
        }, 100);
      });
      const metrics = await (await fetch(`${quiet.url}/metrics`)).text();
      expect(metrics).not.toMatch(/talaria:http_requests_total\{[^}]*status="500"/);
      expect(logged.filter((line) => line.includes("failed"))).toEqual([]);
    } finally {
      await quiet.close();
    }
  });
});

describe("methods: 405 with Allow on known paths, 404 on unknown ones", () => {
  let server: MockServer;
  beforeAll(async () => {
    server = await startMockServer({ engine: { script: () => "ok" } });
  });
  afterAll(async () => {
    await server.close();
  });

  it("a wrong method on a known path is an OpenAI-shaped 405 naming the allowed methods", async () => {
    const cases: Array<[string, string, string]> = [
      ["DELETE", "/v1/models/talaria-mock", "GET, HEAD, OPTIONS"],
      ["PUT", "/v1/chat/completions", "POST, OPTIONS"],
      ["GET", "/v1/chat/completions", "POST, OPTIONS"],
      ["PATCH", "/tokenize", "POST, OPTIONS"],
      ["POST", "/v1/models", "GET, HEAD, OPTIONS"],
      ["DELETE", "/health", "GET, HEAD, OPTIONS"],
    ];
    for (const [method, path, allow] of cases) {
      // Node's client sends a chunked body only for methods that usually have one.
      const r = await request(server.url, { method, path, headers: JSON_HEADERS, chunks: ["PUT", "PATCH", "POST"].includes(method) ? ["{}"] : [] });
      expect({ method, path, status: r.status, allow: r.headers.allow }).toEqual({ method, path, status: 405, allow });
      expect(errorOf(r)).toMatchObject({ type: "invalid_request_error", code: "method_not_allowed" });
      expect(errorOf(r).message).toContain(method);
    }
  });

  it("OPTIONS with CORS off is 204 with Allow; HEAD works on GET routes; unknown paths stay 404", async () => {
    const options = await request(server.url, { method: "OPTIONS", path: "/v1/chat/completions" });
    expect(options.status).toBe(204);
    expect(options.headers.allow).toBe("POST, OPTIONS");
    expect(options.headers["access-control-allow-origin"]).toBeUndefined();
    const head = await request(server.url, { method: "HEAD", path: "/health" });
    expect(head.status).toBe(200);
    for (const method of ["GET", "DELETE", "OPTIONS"]) {
      const r = await request(server.url, { method, path: "/v1/nope" });
      expect({ method, status: r.status }).toEqual({ method, status: 404 });
      expect(errorOf(r).type).toBe("not_found_error");
    }
  });
});

describe("JSON routes need a JSON Content-Type", () => {
  let server: MockServer;
  beforeAll(async () => {
    server = await startMockServer({ engine: { script: () => "ok" } });
  });
  afterAll(async () => {
    await server.close();
  });

  it("text/plain, form encoding or no Content-Type → 415 naming the header, on every POST route", async () => {
    const body = JSON.stringify({ content: "x", tokens: [97], prompt: "x", messages: [{ role: "user", content: "x" }] });
    for (const path of ["/v1/chat/completions", "/v1/completions", "/tokenize", "/detokenize", "/apply-template"]) {
      for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", undefined]) {
        const headers: Record<string, string> = type === undefined ? {} : { "content-type": type };
        const r = await request(server.url, { path, headers, chunks: [body] });
        expect({ path, type, status: r.status }).toEqual({ path, type, status: 415 });
        expect(errorOf(r)).toMatchObject({ type: "invalid_request_error", code: "unsupported_media_type" });
        expect(errorOf(r).message).toContain("Content-Type");
      }
    }
  });

  it("application/json with a charset, and application/*+json, are accepted", async () => {
    for (const type of ["application/json; charset=utf-8", "Application/JSON", "application/vnd.api+json"]) {
      const r = await request(server.url, { path: "/tokenize", headers: { "content-type": type }, chunks: ['{"content":"ab"}'] });
      expect({ type, status: r.status }).toEqual({ type, status: 200 });
    }
  });
});

describe("Host and Origin checks", () => {
  it("bound to loopback: loopback names and IP addresses pass, other Host names are 403", async () => {
    const s = await startMockServer({ engine: { script: () => "ok" } });
    try {
      const port = s.port;
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, "localhost", `[::1]:${port}`, "LOCALHOST:1"]) {
        const r = await request(s.url, { method: "GET", path: "/health", headers: { host } });
        expect({ host, status: r.status }).toEqual({ host, status: 200 });
      }
      for (const host of [`evil.example:${port}`, "evil.example", `localhost.evil.example:${port}`, `127.0.0.1.evil.example:${port}`]) {
        const r = await request(s.url, { method: "GET", path: "/v1/models", headers: { host } });
        expect({ host, status: r.status }).toEqual({ host, status: 403 });
        expect(errorOf(r)).toMatchObject({ type: "permission_error", code: "host_not_allowed" });
        expect(errorOf(r).message).toContain("--allowed-hosts");
      }
      // POSTs too (a rebinding page would POST).
      const post = await request(s.url, { path: "/tokenize", headers: { ...JSON_HEADERS, host: `evil.example:${port}` }, chunks: ['{"content":"x"}'] });
      expect(post.status).toBe(403);
    } finally {
      await s.close();
    }
  });

  it("allowedHosts adds names (any port); '*' accepts every Host; a wildcard bind accepts any unless told", async () => {
    const listed = await startMockServer({ engine: { script: () => "ok" }, server: { allowedHosts: ["talaria.lan"] } });
    const any = await startMockServer({ engine: { script: () => "ok" }, server: { allowedHosts: ["*"] } });
    const wildcard = await startMockServer({ engine: { script: () => "ok" }, server: { host: "0.0.0.0" } });
    const wildcardListed = await startMockServer({ engine: { script: () => "ok" }, server: { host: "0.0.0.0", allowedHosts: ["talaria.lan"] } });
    try {
      const get = (s: MockServer, host: string): Promise<RawResponse> =>
        request(`http://127.0.0.1:${s.port}`, { method: "GET", path: "/health", headers: { host } });
      expect((await get(listed, "talaria.lan:9999")).status).toBe(200);
      expect((await get(listed, "Talaria.LAN.")).status).toBe(200);
      expect((await get(listed, "localhost")).status).toBe(200);
      expect((await get(listed, "other.lan")).status).toBe(403);
      expect((await get(any, "anything.example")).status).toBe(200);
      expect((await get(wildcard, "anything.example")).status).toBe(200);
      expect((await get(wildcardListed, "talaria.lan")).status).toBe(200);
      expect((await get(wildcardListed, "10.1.2.3:8080")).status).toBe(200);
      expect((await get(wildcardListed, "anything.example")).status).toBe(403);
    } finally {
      await Promise.all([listed.close(), any.close(), wildcard.close(), wildcardListed.close()]);
    }
  });

  it("a cross-origin request is 403 unless --cors-origin allows it; same-origin requests (the web UI) pass", async () => {
    const off = await startMockServer({ engine: { script: () => "ok" } });
    const on = await startMockServer({ engine: { script: () => "ok" }, server: { corsOrigins: ["https://app.example"] } });
    try {
      const body = ['{"model":"m","messages":[{"role":"user","content":"hi"}]}'];
      const self = `http://127.0.0.1:${off.port}`;
      const same = await request(off.url, { path: "/v1/chat/completions", headers: { ...JSON_HEADERS, origin: self }, chunks: body });
      expect(same.status).toBe(200);
      const sameByName = await request(off.url, {
        path: "/v1/chat/completions",
        headers: { ...JSON_HEADERS, host: `localhost:${off.port}`, origin: `http://localhost:${off.port}` },
        chunks: body,
      });
      expect(sameByName.status).toBe(200);
      for (const origin of ["https://evil.example", `http://127.0.0.1:${off.port + 1}`, `http://localhost:${off.port}`, "null", "file://"]) {
        const r = await request(off.url, { path: "/v1/chat/completions", headers: { ...JSON_HEADERS, origin }, chunks: body });
        expect({ origin, status: r.status }).toEqual({ origin, status: 403 });
        expect(errorOf(r)).toMatchObject({ type: "permission_error", code: "origin_not_allowed" });
        expect(errorOf(r).message).toContain("--cors-origin");
      }
      const allowed = await request(on.url, { path: "/v1/chat/completions", headers: { ...JSON_HEADERS, origin: "https://app.example" }, chunks: body });
      expect(allowed.status).toBe(200);
      expect(allowed.headers["access-control-allow-origin"]).toBe("https://app.example");
      const preflight = await request(on.url, {
        method: "OPTIONS",
        path: "/v1/chat/completions",
        headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers["access-control-allow-origin"]).toBe("https://app.example");
      const other = await request(on.url, { path: "/v1/chat/completions", headers: { ...JSON_HEADERS, origin: "https://evil.example" }, chunks: body });
      expect(other.status).toBe(403);
      // The page itself, fetched same-origin, is still served.
      const page = await request(off.url, { method: "GET", path: "/", headers: { origin: self } });
      expect([200, 503]).toContain(page.status);
    } finally {
      await off.close();
      await on.close();
    }
  });
});

describe("prompt size is bounded before tokenizing", () => {
  let server: MockServer;
  const CONTEXT = 512;
  const MAX_CHARS = CONTEXT * 16;
  beforeAll(async () => {
    server = await startMockServer({ engine: { script: () => "ok", contextSize: CONTEXT } });
  });
  afterAll(async () => {
    await server.close();
  });

  it("over contextSize × 16 characters → 400 context_length_exceeded naming the field, without calling the tokenizer", async () => {
    const tokenize = vi.spyOn(server.engine, "tokenize");
    try {
      const cases: Array<[string, unknown, string]> = [
        ["/v1/completions", { model: "m", prompt: "x".repeat(MAX_CHARS + 1) }, "prompt"],
        ["/v1/completions", { model: "m", prompt: ["x".repeat(MAX_CHARS + 1)] }, "prompt"],
        ["/tokenize", { content: "x".repeat(MAX_CHARS + 1) }, "content"],
        ["/tokenize", { prompt: "x".repeat(MAX_CHARS + 1) }, "prompt"],
        ["/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "x".repeat(MAX_CHARS / 2) }, { role: "user", content: "y".repeat(MAX_CHARS / 2 + 1) }] }, "messages"],
        [
          "/v1/chat/completions",
          { model: "m", messages: [{ role: "user", content: [{ type: "text", text: "x".repeat(MAX_CHARS) }, { type: "text", text: "y" }] }] },
          "messages",
        ],
        // Tool definitions are prompt text too.
        ["/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "hi" }], tools: [{ type: "function", function: { name: "f", description: "d".repeat(MAX_CHARS) } }] }, "messages"],
        // /apply-template refuses what the chat route would refuse.
        ["/apply-template", { messages: [{ role: "user", content: "x".repeat(MAX_CHARS + 1) }] }, "messages"],
      ];
      for (const [path, body, param] of cases) {
        const r = await request(server.url, { path, headers: JSON_HEADERS, chunks: [JSON.stringify(body)] });
        expect({ path, param, status: r.status }).toEqual({ path, param, status: 400 });
        expect(errorOf(r)).toMatchObject({ type: "invalid_request_error", code: "context_length_exceeded", param });
        expect(errorOf(r).message).toContain(String(MAX_CHARS));
      }
      expect(tokenize).not.toHaveBeenCalled();
      // At the limit the text reaches the tokenizer (and the context check that counts tokens).
      const atLimit = await request(server.url, { path: "/tokenize", headers: JSON_HEADERS, chunks: [JSON.stringify({ content: "x".repeat(MAX_CHARS) })] });
      expect(atLimit.status).toBe(200);
      expect((JSON.parse(atLimit.body) as { count: number }).count).toBe(MAX_CHARS);
      expect(tokenize).toHaveBeenCalledTimes(1);
    } finally {
      tokenize.mockRestore();
    }
  });
});

describe("an engine failing mid-stream", () => {
  it("ends the SSE stream with an OpenAI-shaped error event (not a silent close)", async () => {
    const server = await startMockServer({ engine: { script: () => "a long enough reply to stream in pieces" } });
    const generate = server.engine.generate.bind(server.engine);
    server.engine.generate = async function* (request) {
      let n = 0;
      for await (const event of generate(request)) {
        if (event.type === "text-delta" && ++n === 3) throw new EngineError("the backend broke", "backend_failed");
        yield event;
      }
    };
    try {
      const r = await request(server.url, { path: "/v1/chat/completions", headers: JSON_HEADERS, chunks: [JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] })] });
      expect(r.status).toBe(200);
      const events = r.body.split("\n\n").filter((e) => e.startsWith("data: ")).map((e) => e.slice(6));
      const last = JSON.parse(events[events.length - 1] as string) as { error?: { code?: string; type?: string } };
      expect(last.error).toMatchObject({ code: "backend_failed", type: "server_error" });
      expect(events.slice(0, -1).some((e) => e.includes('"content"'))).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe("detokenize is bounded", () => {
  it("more than max(65,536, contextSize × 4) ids → 400 naming 'tokens', without calling the detokenizer", async () => {
    const server = await startMockServer({ engine: { script: () => "ok", contextSize: 512 } });
    const detokenize = vi.spyOn(server.engine, "detokenize");
    try {
      const over = await request(server.url, { path: "/detokenize", headers: JSON_HEADERS, chunks: [JSON.stringify({ tokens: new Array(65_537).fill(97) })] });
      expect(over.status).toBe(400);
      expect(errorOf(over)).toMatchObject({ param: "tokens", code: "invalid_value" });
      expect(detokenize).not.toHaveBeenCalled();
      const at = await request(server.url, { path: "/detokenize", headers: JSON_HEADERS, chunks: [JSON.stringify({ tokens: new Array(65_536).fill(97) })] });
      expect(at.status).toBe(200);
    } finally {
      detokenize.mockRestore();
      await server.close();
    }
  });
});

describe("huge and deeply nested inputs are 400s, not 500s", () => {
  it("a user message of 1,000,000 characters that fits the context is answered (no argument-spread overflow)", async () => {
    const logs: string[] = [];
    const s = await startMockServer({
      engine: { script: () => "ok", contextSize: 2_000_000 },
      server: { bodyLimitBytes: 4 * 1024 * 1024, log: (m) => logs.push(m) },
    });
    try {
      const body = JSON.stringify({ model: "m", max_tokens: 2, messages: [{ role: "user", content: "x".repeat(1_000_000) }] });
      const r = await request(s.url, { path: "/v1/chat/completions", headers: JSON_HEADERS, chunks: pieces(body, 8) });
      expect(logs).toEqual([]);
      expect(r.status).toBe(200);
      expect((JSON.parse(r.body) as { usage: { prompt_tokens: number } }).usage.prompt_tokens).toBeGreaterThan(1_000_000);
    } finally {
      await s.close();
    }
  });

  it("tool call arguments, tool parameters and schemas nested deeper than 128 levels → 400 naming the field", async () => {
    const logs: string[] = [];
    const s = await startMockServer({ engine: { script: () => "ok", contextSize: 1_000_000 }, server: { bodyLimitBytes: 1024 * 1024, log: (m) => logs.push(m) } });
    try {
      const deep = (depth: number): string => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
      const user = '{"role":"user","content":"hi"}';
      const cases: Array<[string, string, string]> = [
        [
          "/v1/chat/completions",
          `{"messages":[${user},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":${deep(10_000)}}}]},{"role":"tool","tool_call_id":"c1","content":"x"}]}`,
          "messages[1].tool_calls[0].function.arguments",
        ],
        [
          "/apply-template",
          `{"messages":[${user},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":${deep(10_000)}}}]}]}`,
          "messages[1].tool_calls[0].function.arguments",
        ],
        ["/v1/chat/completions", `{"messages":[${user}],"tools":[{"type":"function","function":{"name":"f","parameters":${deep(10_000)}}}]}`, "tools[0].function.parameters"],
        [
          "/v1/chat/completions",
          `{"messages":[${user}],"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":${deep(10_000)}}}}`,
          "response_format.json_schema.schema",
        ],
      ];
      for (const [path, body, param] of cases) {
        const r = await request(s.url, { path, headers: JSON_HEADERS, chunks: [body] });
        expect({ path, param, status: r.status }).toEqual({ path, param, status: 400 });
        expect(errorOf(r)).toMatchObject({ type: "invalid_request_error", code: "invalid_value", param });
        expect(errorOf(r).message).toContain("128");
      }
      // 128 levels are fine.
      const ok = await request(s.url, {
        path: "/apply-template",
        headers: JSON_HEADERS,
        chunks: [`{"messages":[${user},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":${deep(127)}}}]}]}`],
      });
      expect(ok.status).toBe(200);
      expect(logs).toEqual([]);
    } finally {
      await s.close();
    }
  });
});

describe("max_tokens default and limit (--max-tokens-default, --max-tokens-limit)", () => {
  let server: MockServer;
  let unbounded: MockServer;
  const LONG = "z".repeat(300);
  beforeAll(async () => {
    server = await startMockServer({ engine: { script: () => LONG, contextSize: 4096 }, server: { maxTokensDefault: 20, maxTokensLimit: 50 } });
    unbounded = await startMockServer({ engine: { script: () => LONG, contextSize: 4096 }, server: { maxTokensDefault: Infinity } });
  });
  afterAll(async () => {
    await server?.close();
    await unbounded?.close();
  });
  const chat = (url: string, extra: Record<string, unknown> = {}) =>
    request(url, {
      path: "/v1/chat/completions",
      headers: JSON_HEADERS,
      chunks: [JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }], ...extra })],
    });

  it("a chat request without max_tokens stops at the default", async () => {
    const r = await chat(server.url);
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body) as { choices: { finish_reason: string }[]; usage: { completion_tokens: number } };
    expect(body.choices[0]?.finish_reason).toBe("length");
    expect(body.usage.completion_tokens).toBe(20);
    const free = JSON.parse((await chat(unbounded.url)).body) as { choices: { finish_reason: string }[]; usage: { completion_tokens: number } };
    expect(free.choices[0]?.finish_reason).toBe("stop");
    expect(free.usage.completion_tokens).toBeGreaterThan(20);
  });

  it("a request's own max_tokens up to the limit is honoured; above it a 400 names the field", async () => {
    const ok = JSON.parse((await chat(server.url, { max_tokens: 40 })).body) as { usage: { completion_tokens: number } };
    expect(ok.usage.completion_tokens).toBe(40);
    const over = await chat(server.url, { max_tokens: 51 });
    expect(over.status).toBe(400);
    expect(errorOf(over)).toMatchObject({ param: "max_tokens", code: "invalid_value" });
    const overNew = await chat(server.url, { max_completion_tokens: 500 });
    expect(errorOf(overNew).param).toBe("max_completion_tokens");
    const completions = await request(server.url, {
      path: "/v1/completions",
      headers: JSON_HEADERS,
      chunks: [JSON.stringify({ model: "m", prompt: "hi", max_tokens: 51 })],
    });
    expect(completions.status).toBe(400);
    expect(errorOf(completions).param).toBe("max_tokens");
  });
});
