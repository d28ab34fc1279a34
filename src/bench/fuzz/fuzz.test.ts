import { describe, expect, it } from "vitest";
import { generateCase } from "./generator.js";
import { checkOutcome, findLeaks, openAIErrorViolation, parseSse } from "./checks.js";
import { GENERATION_ROUTES, type FuzzCase, type FuzzOutcome } from "./types.js";

const OPTIONS = { seed: 7, maxTokens: 8, modelId: "m", maxN: 2, routes: { responses: true, messages: true } } as const;
const utf8 = new TextDecoder("utf-8", { fatal: false });

function parse(c: FuzzCase): unknown {
  try {
    return c.body === undefined ? undefined : (JSON.parse(utf8.decode(c.body)) as unknown);
  } catch {
    return undefined;
  }
}

describe("fuzz leak patterns", () => {
  it("run in linear time on megabytes of word characters (a quadratic pattern would take hours here)", () => {
    const body = `${"a".repeat(2 * 1024 * 1024)} then src.ts:12`;
    expect(findLeaks(body, () => "").join(" ")).toContain("source position");
    expect(findLeaks("x".repeat(2 * 1024 * 1024), () => "")).toEqual([]);
  });
});

describe("fuzz generator", () => {
  it("case N of a seed is always the same request", () => {
    for (const id of [0, 1, 17, 999]) {
      const a = generateCase(id, OPTIONS);
      const b = generateCase(id, OPTIONS);
      expect(b).toEqual(a);
    }
    expect(generateCase(3, { ...OPTIONS, seed: 8 })).not.toEqual(generateCase(3, OPTIONS));
  });

  it("stays bounded: bodies ≤ 3 MB, and no acceptable generation body asks for more than max_tokens", () => {
    const categories = new Set<string>();
    for (let id = 0; id < 1500; id++) {
      const c = generateCase(id, OPTIONS);
      categories.add(c.category);
      expect(c.body?.length ?? 0).toBeLessThanOrEqual(3 * 1024 * 1024);
      const body = parse(c);
      if (!(GENERATION_ROUTES as readonly string[]).includes(c.route) || body === null || typeof body !== "object" || Array.isArray(body)) continue;
      const b = body as Record<string, unknown>;
      if (!("messages" in b || "prompt" in b || "input" in b)) continue;
      const bounds = ["max_tokens", "max_completion_tokens", "max_output_tokens"].filter((k) => k in b);
      expect(bounds.length, `case ${id} ${c.label}`).toBeGreaterThan(0);
      for (const k of bounds) {
        const v = b[k];
        if (typeof v === "number" && Number.isInteger(v) && v >= 1) expect(v, `case ${id} ${k}`).toBeLessThanOrEqual(8);
      }
    }
    expect(categories.size).toBe(11);
  });
});

describe("fuzz checks", () => {
  it("OpenAI's error shape, exactly", () => {
    const ok = { error: { message: "bad", type: "invalid_request_error", param: null, code: "invalid_value" } };
    expect(openAIErrorViolation(ok, 400)).toBeUndefined();
    expect(openAIErrorViolation({ error: { message: "bad", type: "invalid_request_error", code: null } }, 400)).toMatch(/param/);
    expect(openAIErrorViolation({ error: "bad" }, 400)).toMatch(/not an object/);
    expect(openAIErrorViolation({ message: "bad" }, 400)).toMatch(/no 'error'/);
    expect(openAIErrorViolation({ error: { ...ok.error, type: "weird" } }, 400)).toMatch(/not an OpenAI error type/);
    expect(openAIErrorViolation({ error: { ...ok.error, type: "server_error" } }, 400)).toMatch(/server_error/);
    expect(openAIErrorViolation({ ...ok, detail: 1 }, 400)).toMatch(/extra keys/);
  });

  it("finds stack traces and paths, but not text the request carried", () => {
    const stack = "Error: x\n    at f (/home/u/talaria/src/server/app.ts:10:5)";
    expect(findLeaks(JSON.stringify({ error: { message: stack } }), () => "")).not.toEqual([]);
    expect(findLeaks("Cannot read properties of undefined (reading 'window')", () => "")).not.toEqual([]);
    expect(findLeaks('{"error":{"message":"Unknown route: GET /src/x/y.ts:3"}}', () => "/src/x/y.ts:3")).toEqual([]);
    expect(findLeaks("all fine", () => "", ["/work/main"])).toEqual([]);
    expect(findLeaks("in /work/main/dist", () => "", ["/work/main"])).not.toEqual([]);
  });

  it("parses SSE and checks a stream's framing", () => {
    expect(parseSse('data: {"a":1}\n\n: keep-alive\n\ndata: [DONE]\n\n')).toEqual([{ data: '{"a":1}' }, { data: "[DONE]" }]);
    const c: FuzzCase = { id: 0, category: "valid", label: "", route: "chat", method: "POST", path: "/v1/chat/completions", headers: {}, upload: { kind: "length" }, expect: "ok", stream: true };
    const sse = (text: string): FuzzOutcome => ({ kind: "response", status: 200, headers: { "content-type": "text/event-stream" }, body: new TextEncoder().encode(text), bodyBytes: text.length, truncated: false, ms: 1 });
    expect(checkOutcome(c, sse('data: {"object":"chat.completion.chunk"}\n\ndata: [DONE]\n\n'))).toEqual([]);
    expect(checkOutcome(c, sse('data: {"object":"chat.completion.chunk"}\n\n')).map((r) => r.message)).toEqual(["stream ended without [DONE] or an error event"]);
    expect(checkOutcome(c, sse('data: {"error":{"message":"m","type":"timeout_error","param":null,"code":"timeout"}}\n\n'))).toEqual([]);
  });
});
