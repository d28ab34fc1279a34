/** The official `openai` SDK's Responses API (`client.responses`) against an in-process Talaria server over the mock engine. */
import OpenAI from "openai";
import { zodTextFormat } from "openai/helpers/zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { PARIS_CALL, startMockServer, type MockServer } from "./server-helpers.js";

const GEN = "<|im_start|>assistant\n";

function script(prompt: string): string | undefined {
  if (prompt.includes("</tool_response>")) return "It is 21°C and sunny in Paris.";
  if (prompt.includes("<tools>")) return `Checking.\n${PARIS_CALL}`;
  if (prompt.includes("What did I just say?")) return prompt.includes("My name is Ada") ? "You said your name is Ada." : "I do not know.";
  if (prompt.endsWith(`My name is Ada.<|im_end|>\n${GEN}`)) return "Nice to meet you, Ada.";
  if (prompt.endsWith(`Say hello<|im_end|>\n${GEN}`)) return "Hello from Talaria 👋";
  return undefined;
}

const WEATHER = {
  type: "function" as const,
  name: "get_weather",
  description: "Current weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false },
  strict: true,
};

describe("openai SDK responses → talaria serve /v1/responses (mock engine)", () => {
  let server: MockServer;
  let client: OpenAI;

  beforeAll(async () => {
    server = await startMockServer({ engine: { script, tokenDelayMs: 0 }, server: { apiKey: "sk-test" } });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it("responses.create: a message output item, output_text, usage, status completed", async () => {
    const r = await client.responses.create({ model: "hermes", input: "Say hello", instructions: "Be brief." });
    expect(r.object).toBe("response");
    expect(r.id).toMatch(/^resp_/);
    expect(r.status).toBe("completed");
    expect(r.output_text).toBe("Hello from Talaria 👋");
    expect(r.output).toHaveLength(1);
    expect(r.output[0]).toMatchObject({ type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text: "Hello from Talaria 👋" }] });
    expect(r.usage?.output_tokens).toBeGreaterThan(0);
    expect(r.usage?.total_tokens).toBe((r.usage?.input_tokens ?? 0) + (r.usage?.output_tokens ?? 0));
    expect(r.instructions).toBe("Be brief.");
  });

  it("responses.stream: events in the documented order with increasing sequence numbers", async () => {
    const stream = client.responses.stream({ model: "hermes", input: "Say hello" });
    const events: { type: string; sequence_number: number }[] = [];
    for await (const e of stream) events.push(e);
    const final = await stream.finalResponse();
    const types = events.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]);
    expect(types.filter((t) => t === "response.output_text.delta").length).toBeGreaterThan(1);
    expect(types.slice(-4)).toEqual(["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(final.output).toMatchObject([{ type: "message", content: [{ type: "output_text", text: "Hello from Talaria 👋" }] }]);
    expect(final.status).toBe("completed");
  });

  it("a function-call round trip: function_call item, then function_call_output answered", async () => {
    const first = await client.responses.create({ model: "hermes", tools: [WEATHER], input: "Weather in Paris?" });
    const call = first.output.find((o) => o.type === "function_call");
    expect(call).toMatchObject({ type: "function_call", name: "get_weather", status: "completed" });
    expect(JSON.parse((call as { arguments: string }).arguments)).toEqual({ city: "Paris" });
    expect(first.output[0]).toMatchObject({ type: "message", content: [{ text: "Checking." }] });
    const second = await client.responses.create({
      model: "hermes",
      tools: [WEATHER],
      input: [{ role: "user", content: "Weather in Paris?" }, ...first.output, { type: "function_call_output", call_id: (call as { call_id: string }).call_id, output: "21°C, sunny" }],
    });
    expect(second.output_text).toBe("It is 21°C and sunny in Paris.");
  });

  it("streamed function call: arguments deltas and done events", async () => {
    const stream = client.responses.stream({ model: "hermes", tools: [WEATHER], tool_choice: { type: "function", name: "get_weather" }, input: "Weather in Paris?" });
    let args = "";
    const types: string[] = [];
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === "response.function_call_arguments.delta") args += e.delta;
    }
    expect(JSON.parse(args)).toEqual({ city: "Paris" });
    expect(types).toContain("response.function_call_arguments.done");
    const final = await stream.finalResponse();
    expect(final.output.filter((o) => o.type === "function_call")).toHaveLength(1);
  });

  it("store + previous_response_id continue a conversation; GET, input_items and DELETE", async () => {
    const first = await client.responses.create({ model: "hermes", input: "My name is Ada." });
    expect(first.output_text).toBe("Nice to meet you, Ada.");
    const second = await client.responses.create({ model: "hermes", input: "What did I just say?", previous_response_id: first.id });
    expect(second.output_text).toBe("You said your name is Ada.");
    expect(second.previous_response_id).toBe(first.id);
    const got = await client.responses.retrieve(first.id);
    expect(got.id).toBe(first.id);
    const items = await client.responses.inputItems.list(second.id);
    expect(items.data.map((i) => (i as { type?: string }).type ?? "message")).toEqual(["message"]);
    const deleted = await client.responses.delete(first.id);
    expect(deleted).toMatchObject({ id: first.id, object: "response", deleted: true });
    await expect(client.responses.retrieve(first.id)).rejects.toMatchObject({ status: 404 });
    await expect(client.responses.create({ model: "hermes", input: "x", previous_response_id: "resp_missing" })).rejects.toMatchObject({ status: 400, param: "previous_response_id" });
    const unstored = await client.responses.create({ model: "hermes", input: "Say hello", store: false });
    await expect(client.responses.retrieve(unstored.id)).rejects.toMatchObject({ status: 404 });
  });

  it("responses.parse with a zod text format: valid JSON parsed by the SDK", async () => {
    const Answer = z.object({ city: z.string(), sunny: z.boolean() });
    const server2 = await startMockServer({ engine: { script: () => '{"city": "Paris", "sunny": true}', tokenDelayMs: 0 } });
    try {
      const c2 = new OpenAI({ baseURL: `${server2.url}/v1`, apiKey: "x", maxRetries: 0 });
      const r = await c2.responses.parse({ model: "hermes", input: "Weather as JSON", text: { format: zodTextFormat(Answer, "answer") } });
      expect(r.output_parsed).toEqual({ city: "Paris", sunny: true });
    } finally {
      await server2.close();
    }
  });

  it("unsupported fields are 400s naming them: a built-in tool, a reasoning item, an image", async () => {
    await expect(client.responses.create({ model: "hermes", input: "x", tools: [{ type: "web_search_preview" }] })).rejects.toMatchObject({ status: 400, param: "tools[0].type" });
    await expect(client.responses.create({ model: "hermes", input: [{ type: "reasoning", id: "rs_1", summary: [] }] as never })).rejects.toMatchObject({ status: 400, param: "input[0].type" });
    await expect(
      client.responses.create({ model: "hermes", input: [{ role: "user", content: [{ type: "input_image", image_url: "data:image/png;base64,AAAA", detail: "auto" }] }] }),
    ).rejects.toMatchObject({ status: 400, param: "input[0].content[0].type" });
  });
});
