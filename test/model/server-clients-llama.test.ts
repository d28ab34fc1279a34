/**
 * The Responses API and the Messages API end to end on generated GGUF models and the real llama.cpp
 * engine (`talaria serve` in-process): the `openai` SDK's `responses` (create, stream, function-call round
 * trip, `parse` with zod), the AI SDK's default `openai("…")` provider (`generateText` with a tool,
 * `generateObject`), the OpenAI Agents SDK (an agent with one function tool), and `@anthropic-ai/sdk`
 * (tool round trip, streamed forced tool; sampled at the SDK's default temperature, which the
 * scripted model's one-hot weights keep deterministic — @anthropic-ai/sdk 1.x has no sampling fields).
 */
import Anthropic from "@anthropic-ai/sdk";
import { createOpenAI } from "@ai-sdk/openai";
import { Agent, run, setDefaultOpenAIClient, setTracingDisabled, tool as agentTool } from "@openai/agents";
import { generateObject, generateText, stepCountIs, tool } from "ai";
import OpenAI from "openai";
import { zodTextFormat } from "openai/helpers/zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { runServe, type RunServeResult, type ServeFlags } from "../../src/cli/commands/serve.js";
import { ensureTestModel } from "../../src/testmodels/index.js";

const CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
const ANSWER = "It is 21°C and sunny in Paris.";
const JSON_REPLY = '{"city": "Paris", "temperature": 21}';
const WEATHER = { type: "function" as const, name: "get_weather", description: "Current weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false }, strict: true };

function flags(model: string): ServeFlags {
  return { model, host: "127.0.0.1", port: 0, parallel: 2, contextSize: 1024, threads: 1, gpu: "off", maxQueue: 8, timeout: 120, profile: "auto", style: "card" };
}

async function serve(model: string): Promise<RunServeResult> {
  const running = await runServe(flags(model), () => undefined);
  await running.engine;
  return running;
}

describe("Responses and Messages APIs on generated models (llama.cpp)", () => {
  let tools: RunServeResult;
  let json: RunServeResult;
  beforeAll(async () => {
    tools = await serve(await ensureTestModel({ kind: "scripted", reply: CALL, afterToolReply: ANSWER }));
    json = await serve(await ensureTestModel({ kind: "scripted", reply: JSON_REPLY }));
  });
  afterAll(async () => {
    await tools?.stop();
    await json?.stop();
  });

  it("openai responses: a function-call round trip, created and streamed", async () => {
    const client = new OpenAI({ baseURL: `${tools.server.url}/v1`, apiKey: "none", maxRetries: 0 });
    const first = await client.responses.create({ model: "m", input: "Weather in Paris?", tools: [WEATHER], temperature: 0 });
    const call = first.output.find((o) => o.type === "function_call");
    expect(call).toMatchObject({ name: "get_weather" });
    expect(JSON.parse((call as { arguments: string }).arguments)).toEqual({ city: "Paris" });
    const second = await client.responses.create({ model: "m", tools: [WEATHER], temperature: 0, previous_response_id: first.id, input: [{ type: "function_call_output", call_id: (call as { call_id: string }).call_id, output: "21°C, sunny" }] });
    expect(second.output_text).toBe(ANSWER);
    const stream = client.responses.stream({ model: "m", input: "Weather in Paris?", tools: [WEATHER], temperature: 0 });
    let args = "";
    for await (const e of stream) if (e.type === "response.function_call_arguments.delta") args += e.delta;
    expect(JSON.parse(args)).toEqual({ city: "Paris" });
  });

  it("openai responses.parse with zod, on a JSON model", async () => {
    const client = new OpenAI({ baseURL: `${json.server.url}/v1`, apiKey: "none", maxRetries: 0 });
    const r = await client.responses.parse({ model: "m", input: "Weather as JSON", temperature: 0, text: { format: zodTextFormat(z.object({ city: z.string(), temperature: z.number() }), "weather") } });
    expect(r.output_parsed).toEqual({ city: "Paris", temperature: 21 });
  });

  it("AI SDK openai('…'): generateText with a tool, and generateObject", async () => {
    const calls: unknown[] = [];
    const result = await generateText({
      model: createOpenAI({ baseURL: `${tools.server.url}/v1`, apiKey: "none" })("m"),
      prompt: "Weather in Paris?",
      temperature: 0,
      tools: { get_weather: tool({ description: "Current weather for a city", inputSchema: z.object({ city: z.string() }), execute: async (input) => (calls.push(input), "21°C, sunny") }) },
      stopWhen: stepCountIs(3),
    });
    expect(calls).toEqual([{ city: "Paris" }]);
    expect(result.text).toBe(ANSWER);
    const { object } = await generateObject({ model: createOpenAI({ baseURL: `${json.server.url}/v1`, apiKey: "none" })("m"), temperature: 0, schema: z.object({ city: z.string(), temperature: z.number() }), prompt: "Weather as JSON" });
    expect(object).toEqual({ city: "Paris", temperature: 21 });
  });

  it("OpenAI Agents SDK: an agent with one function tool", async () => {
    setTracingDisabled(true);
    setDefaultOpenAIClient(new OpenAI({ baseURL: `${tools.server.url}/v1`, apiKey: "none", maxRetries: 0 }) as never);
    const calls: unknown[] = [];
    const agent = new Agent({
      name: "Weather",
      model: "m",
      modelSettings: { temperature: 0 },
      tools: [agentTool({ name: "get_weather", description: "Current weather for a city", parameters: z.object({ city: z.string() }), execute: async (input) => (calls.push(input), "21°C, sunny") })],
    });
    const result = await run(agent, "Weather in Paris?");
    expect(calls).toEqual([{ city: "Paris" }]);
    expect(result.finalOutput).toBe(ANSWER);
  });

  it("@anthropic-ai/sdk: tool round trip, streamed and forced", async () => {
    const client = new Anthropic({ baseURL: tools.server.url, apiKey: "none", maxRetries: 0 });
    const tool = { name: "get_weather", description: "Current weather for a city", input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] } };
    const first = await client.messages.create({ model: "m", max_tokens: 128, tools: [tool], messages: [{ role: "user", content: "Weather in Paris?" }] });
    expect(first.stop_reason).toBe("tool_use");
    const use = first.content.find((b) => b.type === "tool_use") as { id: string; input: unknown };
    expect(use.input).toEqual({ city: "Paris" });
    const second = await client.messages.create({
      model: "m",
      max_tokens: 128,
      tools: [tool],
      messages: [{ role: "user", content: "Weather in Paris?" }, { role: "assistant", content: first.content }, { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "21°C, sunny" }] }],
    });
    expect(second.content).toEqual([{ type: "text", text: ANSWER }]);
    const forced = await client.messages.stream({ model: "m", max_tokens: 128, tools: [tool], tool_choice: { type: "tool", name: "get_weather" }, messages: [{ role: "user", content: "Weather in Paris?" }] }).finalMessage();
    expect(forced.content.find((b) => b.type === "tool_use")).toMatchObject({ name: "get_weather", input: { city: "Paris" } });
  });
});
