/**
 * The newest `openai` major (7, installed as `openai7`; it declares Node ≥ 22 and is run here on the
 * Node this suite runs on) against an in-process Talaria server over the mock engine: chat (plain,
 * streamed, a tool call) and the Responses API (create, stream, a function call).
 */
import OpenAI from "openai7";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PARIS_CALL, WEATHER_TOOL, startMockServer, type MockServer } from "./server-helpers.js";

const GEN = "<|im_start|>assistant\n";

function script(prompt: string): string | undefined {
  if (prompt.includes("</tool_response>")) return "It is 21°C and sunny in Paris.";
  if (prompt.includes("<tools>")) return PARIS_CALL;
  if (prompt.endsWith(`Say hello<|im_end|>\n${GEN}`)) return "Hello from Talaria 👋";
  return undefined;
}

describe("openai 7 → talaria serve (mock engine)", () => {
  let server: MockServer;
  let client: OpenAI;
  beforeAll(async () => {
    server = await startMockServer({ engine: { script, tokenDelayMs: 0 } });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "none", maxRetries: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it("chat: plain, streamed and a tool call", async () => {
    const r = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "Say hello" }] });
    expect(r.choices[0]?.message.content).toBe("Hello from Talaria 👋");
    let text = "";
    for await (const chunk of await client.chat.completions.create({ model: "m", stream: true, messages: [{ role: "user", content: "Say hello" }] })) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("Hello from Talaria 👋");
    const t = await client.chat.completions.create({ model: "m", tools: [WEATHER_TOOL], messages: [{ role: "user", content: "Weather?" }] });
    expect(t.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("responses: create, stream and a function call", async () => {
    const r = await client.responses.create({ model: "m", input: "Say hello" });
    expect(r.output_text).toBe("Hello from Talaria 👋");
    const types: string[] = [];
    for await (const e of client.responses.stream({ model: "m", input: "Say hello" })) types.push(e.type);
    expect(types.at(-1)).toBe("response.completed");
    const f = await client.responses.create({ model: "m", input: "Weather?", tools: [{ type: "function", name: "get_weather", parameters: WEATHER_TOOL.function.parameters, strict: false }] });
    expect(f.output.find((o) => o.type === "function_call")).toMatchObject({ name: "get_weather" });
  });
});
