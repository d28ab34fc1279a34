/** The official `@anthropic-ai/sdk` against an in-process Talaria server over the mock engine (`/v1/messages`). */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PARIS_CALL, startMockServer, type MockServer } from "./server-helpers.js";

const GEN = "<|im_start|>assistant\n";

function script(prompt: string): string | undefined {
  if (prompt.includes("</tool_response>")) return "It is 21°C and sunny in Paris.";
  if (prompt.includes("<tools>")) return `Checking.\n${PARIS_CALL}`;
  if (prompt.endsWith(`Say hello<|im_end|>\n${GEN}`)) return "Hello from Talaria 👋 — stop here please";
  return undefined;
}

const WEATHER = {
  name: "get_weather",
  description: "Current weather for a city",
  input_schema: { type: "object" as const, properties: { city: { type: "string", description: "City name" } }, required: ["city"] },
};

describe("@anthropic-ai/sdk → talaria serve /v1/messages (mock engine)", () => {
  let server: MockServer;
  let client: Anthropic;

  beforeAll(async () => {
    server = await startMockServer({ engine: { script, tokenDelayMs: 0 }, server: { apiKey: "sk-ant-test" } });
    // The SDK sends the key as x-api-key.
    client = new Anthropic({ baseURL: server.url, apiKey: "sk-ant-test", maxRetries: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it("a plain message: text block, end_turn, usage", async () => {
    const m = await client.messages.create({ model: "hermes", max_tokens: 64, system: "Be brief.", messages: [{ role: "user", content: "Say hello" }] });
    expect(m.type).toBe("message");
    expect(m.role).toBe("assistant");
    expect(m.id).toMatch(/^msg_/);
    expect(m.content).toEqual([{ type: "text", text: "Hello from Talaria 👋 — stop here please" }]);
    expect(m.stop_reason).toBe("end_turn");
    expect(m.stop_sequence).toBeNull();
    expect(m.usage.output_tokens).toBeGreaterThan(0);
    expect(m.usage.input_tokens).toBeGreaterThan(0);
  });

  it("stop_sequences: stop_reason stop_sequence naming the sequence; max_tokens: stop_reason max_tokens", async () => {
    const m = await client.messages.create({ model: "hermes", max_tokens: 64, stop_sequences: ["stop here"], messages: [{ role: "user", content: "Say hello" }] });
    expect(m.stop_reason).toBe("stop_sequence");
    expect(m.stop_sequence).toBe("stop here");
    expect(m.content).toEqual([{ type: "text", text: "Hello from Talaria 👋 — " }]); // the text before the sequence, as written
    const short = await client.messages.create({ model: "hermes", max_tokens: 3, messages: [{ role: "user", content: "Say hello" }] });
    expect(short.stop_reason).toBe("max_tokens");
    expect(short.usage.output_tokens).toBe(3);
  });

  it("streaming: the documented event sequence, and the SDK's accumulated message", async () => {
    const stream = client.messages.stream({ model: "hermes", max_tokens: 64, messages: [{ role: "user", content: "Say hello" }] });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalMessage();
    expect(types[0]).toBe("message_start");
    expect(types).toContain("content_block_start");
    expect(types.filter((t) => t === "content_block_delta").length).toBeGreaterThan(1);
    expect(types.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    expect(final.content).toHaveLength(1);
    expect(final.content[0]).toMatchObject({ type: "text", text: "Hello from Talaria 👋 — stop here please" });
    expect(final.stop_reason).toBe("end_turn");
  });

  it("a tool round trip: tool_use block with parsed input, then the tool_result answered", async () => {
    const first = await client.messages.create({ model: "hermes", max_tokens: 128, tools: [WEATHER], messages: [{ role: "user", content: "Weather in Paris?" }] });
    expect(first.stop_reason).toBe("tool_use");
    const use = first.content.find((b) => b.type === "tool_use");
    expect(use).toMatchObject({ type: "tool_use", name: "get_weather", input: { city: "Paris" } });
    expect(first.content[0]).toEqual({ type: "text", text: "Checking." });
    const second = await client.messages.create({
      model: "hermes",
      max_tokens: 128,
      tools: [WEATHER],
      messages: [
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: (use as { id: string }).id, content: "21°C, sunny" }] },
      ],
    });
    expect(second.stop_reason).toBe("end_turn");
    expect(second.content).toEqual([{ type: "text", text: "It is 21°C and sunny in Paris." }]);
  });

  it("a forced tool (tool_choice tool), streamed: input_json_delta fragments form the input", async () => {
    const stream = client.messages.stream({ model: "hermes", max_tokens: 128, tools: [WEATHER], tool_choice: { type: "tool", name: "get_weather" }, messages: [{ role: "user", content: "Weather in Paris?" }] });
    const deltas: string[] = [];
    stream.on("inputJson", (partial) => deltas.push(partial));
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe("tool_use");
    const use = final.content.find((b) => b.type === "tool_use");
    expect(use).toMatchObject({ name: "get_weather", input: { city: "Paris" } });
    expect(deltas.join("")).toBe('{"city": "Paris"}');
  });

  it("count_tokens counts the prompt the message would use", async () => {
    const r = await client.messages.countTokens({ model: "hermes", messages: [{ role: "user", content: "Say hello" }] });
    const m = await client.messages.create({ model: "hermes", max_tokens: 4, messages: [{ role: "user", content: "Say hello" }] });
    expect(r.input_tokens).toBe(m.usage.input_tokens + (m.usage.cache_read_input_tokens ?? 0));
  });

  it("errors in Anthropic's shape: a wrong key is authentication_error, an image block a 400 naming it", async () => {
    const bad = new Anthropic({ baseURL: server.url, apiKey: "nope", maxRetries: 0 });
    await expect(bad.messages.create({ model: "hermes", max_tokens: 8, messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({ status: 401, error: { type: "error", error: { type: "authentication_error" } } });
    const image = client.messages.create({
      model: "hermes",
      max_tokens: 8,
      messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } }] }],
    });
    await expect(image).rejects.toMatchObject({ status: 400, error: { type: "error", error: { type: "invalid_request_error" } } });
    await expect(image).rejects.toThrow(/text only/);
    await expect(client.messages.create({ model: "hermes", messages: [{ role: "user", content: "hi" }] } as unknown as Anthropic.MessageCreateParamsNonStreaming)).rejects.toMatchObject({ status: 400 });
  });
});
