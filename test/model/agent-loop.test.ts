/**
 * The agent loop through llama.cpp on scripted models: user → `<tool_call>` (under the lazy `auto`
 * grammar, jump-forward on) → the tool runs → its response is fed back in the profile's role → the
 * final answer. Both profiles (Hermes 2 Pro: `tool` role; Hermes 3 Llama-3.2 3B: `user` role),
 * detected from the GGUF metadata, and both GGUF types of the tool tags (CONTROL, USER_DEFINED).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTool, runAgentToEnd } from "../../src/agent/index.js";
import { createLlamaCppEngine, type LlamaCppEngine } from "../../src/engine/llama-cpp/index.js";
import type { Engine, GenerateRequest, TokenId } from "../../src/engine/types.js";
import { ensureTestModel } from "../../src/testmodels/index.js";

const CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call>';
const ANSWER = "It is 18 °C and sunny in Paris.";

const PROFILES = [
  { profile: "hermes-2-pro", role: "tool", metadata: { name: "Hermes 2 Pro Llama 3 70B", basename: "Hermes-2-Pro-Llama-3", sizeLabel: "70B" } },
  { profile: "hermes-3-llama-3.2-3b", role: "user", metadata: {} },
] as const;

/** Wraps an engine to keep every generation request (the prompts the loop sent). */
function recording(engine: Engine): { engine: Engine; requests: GenerateRequest[] } {
  const requests: GenerateRequest[] = [];
  const spy: Engine = {
    info: engine.info,
    capabilities: engine.capabilities,
    tokenize: (i, o) => engine.tokenize(i, o),
    detokenize: (t, o) => engine.detokenize(t, o),
    generate: (r) => {
      requests.push(r);
      return engine.generate(r);
    },
    loglikelihood: (r, o) => engine.loglikelihood(r, o),
    stats: () => engine.stats(),
    dispose: () => engine.dispose(),
  };
  return { engine: spy, requests };
}

for (const { profile, role, metadata } of PROFILES) {
  for (const toolTokenType of ["control", "user"] as const) {
    describe(`agent loop: ${profile}, tool tags ${toolTokenType}`, () => {
      let engine: LlamaCppEngine;
      beforeAll(async () => {
        const model = await ensureTestModel({ kind: "scripted", reply: `Let me check.\n${CALL}`, afterToolReply: ANSWER, toolTokenType, ...metadata });
        engine = await createLlamaCppEngine({ model, threads: 1, contextSize: 2048 });
      });
      afterAll(async () => engine?.dispose());

      it("calls the tool, feeds the response back in the profile's role and answers", async () => {
        const seen: unknown[] = [];
        const weather = defineTool({
          name: "get_weather",
          description: "Current weather for a city",
          parameters: z.object({ city: z.string(), unit: z.enum(["celsius", "fahrenheit"]) }),
          execute: (args) => {
            seen.push(args);
            return { city: args.city, temperature: 18, unit: args.unit, sky: "sunny" };
          },
        });
        const clock = defineTool({ name: "get_time", description: "Current time", execute: () => "12:00" });
        const { engine: spy, requests } = recording(engine);
        const result = await runAgentToEnd({ engine: spy, tools: [weather, clock], query: "What's the weather in Paris?", sampling: { temperature: 0 }, maxTokens: 64 });

        expect(result.reason).toBe("final-answer");
        expect(result.answer).toBe(ANSWER);
        expect(seen).toEqual([{ city: "Paris", unit: "celsius" }]);
        expect(result.steps).toBe(2);
        const types = result.events.map((e) => e.type).filter((t, i, all) => !(t === "text-delta" && all[i - 1] === "text-delta"));
        expect(types).toEqual(["step-start", "text-delta", "step-finish", "tool-call", "tool-result", "step-start", "text-delta", "step-finish", "final-answer", "finish"]);
        const text = result.events.filter((e) => e.type === "text-delta" && e.step === 1).map((e) => (e as { text: string }).text).join("");
        expect(text.trim()).toBe("Let me check.");

        // The profile was detected from the GGUF metadata, and the tool response went back in its role.
        expect(requests).toHaveLength(2);
        expect(requests[1]?.grammar?.lazyTriggers).toEqual(["<tool_call>"]);
        const second = await engine.detokenize(requests[1]?.prompt as TokenId[], { special: true });
        expect(second).toContain(
          `<|im_start|>${role}\n<tool_response>\n{"name": "get_weather", "content": {"city":"Paris","temperature":18,"unit":"celsius","sky":"sunny"}}\n</tool_response>\n<|im_end|>`,
        );
        expect(second).toContain('<tool_call>\n{"arguments": {"city": "Paris", "unit": "celsius"}, "name": "get_weather"}\n</tool_call>');
        // The tag tokens the loop rendered are single marker tokens (whatever their GGUF type).
        const ids = requests[1]?.prompt as TokenId[];
        expect(ids.filter((t) => t === engine.info.specialTokens.markers["<tool_response>"])).toHaveLength(1);
      });
    });
  }
}
