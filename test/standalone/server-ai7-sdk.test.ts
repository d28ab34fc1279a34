/**
 * The newest AI SDK major (`ai` 7 with `@ai-sdk/openai` 4, installed as `ai7` / `ai-sdk-openai4`; both
 * declare Node ≥ 22 and are run here on the Node this suite runs on) against an in-process Talaria
 * server over the mock engine: the default `openai("…")` provider (Responses API) with a tool loop,
 * and `openai.chat("…")` (chat completions).
 */
import { createOpenAI } from "ai-sdk-openai4";
import { generateText, stepCountIs, tool } from "ai7";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { PARIS_CALL, startMockServer, type MockServer } from "./server-helpers.js";

function script(prompt: string): string | undefined {
  if (prompt.includes("</tool_response>")) return /21/.test(prompt) ? "Paris: 21 degrees, sunny." : "tool result missing";
  if (prompt.includes("<tools>")) return PARIS_CALL;
  return undefined;
}

describe("AI SDK 7 → talaria serve (mock engine)", () => {
  let server: MockServer;
  beforeAll(async () => {
    server = await startMockServer({ engine: { script, tokenDelayMs: 0 } });
  });
  afterAll(async () => {
    await server.close();
  });

  for (const api of ["responses", "chat"] as const) {
    it(`generateText with a tool loop (${api === "responses" ? 'openai("…"): /v1/responses' : 'openai.chat("…"): /v1/chat/completions'})`, async () => {
      const openai = createOpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused" });
      const calls: unknown[] = [];
      const result = await generateText({
        model: api === "responses" ? openai("hermes") : openai.chat("hermes"),
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
  }
});
