/** The Vercel AI SDK (`ai` + `@ai-sdk/openai-compatible`) against an in-process Talaria server. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateText, stepCountIs, streamText, tool } from "ai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { z } from "zod";
import { PARIS_CALL, startMockServer, type MockServer } from "./server-helpers.js";

function script(prompt: string): string | undefined {
  if (prompt.includes("<tool_response>")) {
    return /"temperature":\s*21/.test(prompt) ? "Paris: 21 degrees, sunny." : "tool result missing";
  }
  if (prompt.includes("<tools>")) return PARIS_CALL;
  if (prompt.endsWith("Tell me a story<|im_end|>\n<|im_start|>assistant\n")) return "Once upon a time, a model served tokens.";
  return undefined;
}

describe("Vercel AI SDK → talaria serve (mock engine)", () => {
  let server: MockServer;
  let provider: ReturnType<typeof createOpenAICompatible>;
  beforeAll(async () => {
    server = await startMockServer({ engine: { script } });
    provider = createOpenAICompatible({ name: "talaria", baseURL: `${server.url}/v1`, apiKey: "unused", includeUsage: true });
  });
  afterAll(async () => {
    await server.close();
  });

  it("generateText runs the tool loop to the final answer", async () => {
    const calls: unknown[] = [];
    const result = await generateText({
      model: provider("talaria-mock"),
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
      stopWhen: stepCountIs(4),
    });
    expect(calls).toEqual([{ city: "Paris" }]);
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0]?.finishReason).toBe("tool-calls");
    expect(result.text).toBe("Paris: 21 degrees, sunny.");
    expect(result.finishReason).toBe("stop");
  });

  it("streamText streams the text and reports usage", async () => {
    const result = streamText({ model: provider("talaria-mock"), prompt: "Tell me a story" });
    const parts: string[] = [];
    for await (const delta of result.textStream) parts.push(delta);
    expect(parts.length).toBeGreaterThan(5);
    expect(parts.join("")).toBe("Once upon a time, a model served tokens.");
    expect(await result.finishReason).toBe("stop");
    expect((await result.usage).outputTokens).toBeGreaterThan(0);
  });

  it("streamText with tools runs the loop too", async () => {
    const result = streamText({
      model: provider("talaria-mock"),
      prompt: "Weather?",
      tools: {
        get_weather: tool({
          description: "Current weather for a city",
          inputSchema: z.object({ city: z.string() }),
          execute: async () => ({ temperature: 21 }),
        }),
      },
      stopWhen: stepCountIs(3),
    });
    let text = "";
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe("Paris: 21 degrees, sunny.");
    expect((await result.steps).length).toBe(2);
  });
});
