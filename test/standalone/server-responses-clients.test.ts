/**
 * The clients whose defaults call `POST /v1/responses`, against an in-process Talaria server over the
 * mock engine: the AI SDK's default OpenAI provider (`@ai-sdk/openai`, `openai("…")`: `generateText`
 * with a tool, `generateObject`) and the OpenAI Agents SDK (`@openai/agents`: an agent with one
 * function tool). Versions for Node 20 (docs/clients.md): @ai-sdk/openai 3, @openai/agents 0.12.
 */
import { createOpenAI } from "@ai-sdk/openai";
import { Agent, run, setDefaultOpenAIClient, setTracingDisabled, tool as agentTool } from "@openai/agents";
import { generateObject, generateText, stepCountIs, tool } from "ai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { PARIS_CALL, startMockServer, type MockServer } from "./server-helpers.js";

function script(prompt: string): string | undefined {
  if (prompt.includes("</tool_response>")) return /21/.test(prompt) ? "Paris: 21 degrees, sunny." : "tool result missing";
  if (prompt.includes("<tools>")) return PARIS_CALL;
  if (prompt.includes("Give the weather as JSON")) return '{"city": "Paris", "temperature": 21}';
  return undefined;
}

describe("clients that default to the Responses API → talaria serve (mock engine)", () => {
  let server: MockServer;
  beforeAll(async () => {
    server = await startMockServer({ engine: { script, tokenDelayMs: 0 } });
  });
  afterAll(async () => {
    await server.close();
  });

  it("AI SDK openai('…') (Responses API): generateText runs the tool loop to the final answer", async () => {
    const openai = createOpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused" });
    const calls: unknown[] = [];
    const result = await generateText({
      model: openai("hermes"),
      prompt: "What is the weather in Paris?",
      tools: {
        get_weather: tool({
          description: "Current weather for a city",
          inputSchema: z.object({ city: z.string() }),
          execute: async (input) => {
            calls.push(input);
            return { temperature: 21, sky: "sunny" };
          },
        }),
      },
      stopWhen: stepCountIs(3),
    });
    expect(calls).toEqual([{ city: "Paris" }]);
    expect(result.text).toBe("Paris: 21 degrees, sunny.");
  });

  it("AI SDK openai('…'): generateObject returns the schema's object", async () => {
    const openai = createOpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused" });
    const { object } = await generateObject({ model: openai("hermes"), schema: z.object({ city: z.string(), temperature: z.number() }), prompt: "Give the weather as JSON" });
    expect(object).toEqual({ city: "Paris", temperature: 21 });
  });

  it("OpenAI Agents SDK: an agent with one function tool answers after calling it", async () => {
    setTracingDisabled(true);
    setDefaultOpenAIClient(new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 }) as never);
    const calls: unknown[] = [];
    const agent = new Agent({
      name: "Weather",
      instructions: "Answer with the tool.",
      model: "hermes",
      tools: [
        agentTool({
          name: "get_weather",
          description: "Current weather for a city",
          parameters: z.object({ city: z.string() }),
          execute: async (input) => {
            calls.push(input);
            return "21 degrees, sunny";
          },
        }),
      ],
    });
    const result = await run(agent, "What is the weather in Paris?");
    expect(calls).toEqual([{ city: "Paris" }]);
    expect(result.finalOutput).toBe("Paris: 21 degrees, sunny.");
  });
});
