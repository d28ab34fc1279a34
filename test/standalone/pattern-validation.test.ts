/**
 * Issue 16 (ReDoS): JSON Schema patterns are checked in linear time, and a pattern that needs
 * backtracking is a 400 naming it, over HTTP (docs/decisions/0053).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockServer, type MockServer } from "./server-helpers.js";

// A backtracking RegExp needs seconds (~10 s here) for "^(a|a)+$" on this (doubling with each character): a regression
// fails in bounded time. The linear engine: well under a millisecond.
const EVIL_INPUT = `${"a".repeat(27)}!`;
let server: MockServer;

beforeAll(async () => {
  server = await startMockServer({
    engine: {
      // The long argument only for the test that times it (the others must fail fast on a regression).
      script: (prompt) => {
        const code = prompt.includes("(a|a)") ? EVIL_INPUT : "aaa";
        return prompt.includes("<tools>") ? `<tool_call>\n{"name": "lookup", "arguments": {"code": "${code}"}}\n</tool_call>` : `{"code": "${code}"}`;
      },
    },
  });
});

afterAll(async () => {
  await server?.close();
});

function tool(pattern: string) {
  return {
    type: "function" as const,
    function: { name: "lookup", parameters: { type: "object", properties: { code: { type: "string", pattern } }, required: ["code"] } },
  };
}

async function chat(body: Record<string, unknown>): Promise<{ status: number; json: Record<string, any> }> {
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "talaria-mock", messages: [{ role: "user", content: "look it up" }], ...body }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

describe("pattern validation over HTTP", () => {
  it("a lookahead pattern in a tool's parameters is a 400 naming the pattern and its path", async () => {
    const { status, json } = await chat({ tools: [tool("^(?=a)(a+)+$")], tool_choice: "auto" });
    expect(status).toBe(400);
    expect(json.error.type).toBe("invalid_request_error");
    expect(json.error.code).toBe("unsupported_value");
    expect(json.error.param).toBe("tools[0].function.parameters.properties.code.pattern");
    expect(json.error.message).toContain("'pattern'");
    expect(json.error.message).toContain('"^(?=a)(a+)+$"');
    expect(json.error.message).toMatch(/lookahead/);
  });

  it("so is a backreference in response_format's schema", async () => {
    const schema = { type: "object", properties: { code: { type: "string", pattern: "^(a)\\1$" } } };
    const { status, json } = await chat({ response_format: { type: "json_schema", json_schema: { name: "r", schema } } });
    expect(status).toBe(400);
    expect(json.error.param).toBe("response_format.json_schema.schema.properties.code.pattern");
    expect(json.error.message).toMatch(/backreference/);
  });

  it("a catastrophic-for-backtracking pattern is checked at once on a long argument, and /health stays responsive", async () => {
    const started = performance.now();
    const pending = chat({ tools: [tool("^(a|a)+$")], tool_choice: "auto" });
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    const { status, json } = await pending;
    expect(status).toBe(200);
    const choice = json.choices[0];
    expect(choice.message.tool_calls[0].function.name).toBe("lookup");
    expect(choice.validation_errors[0].message).toMatch(/must match pattern/);
    expect(performance.now() - started).toBeLessThan(5_000); // measured: ~0.3 s

  });
});
