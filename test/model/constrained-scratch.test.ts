import { afterAll, beforeAll, expect, it } from "vitest";
import { createLlamaCppEngine, type LlamaCppEngine } from "../../src/engine/llama-cpp/index.js";
import { renderPrompt } from "../../src/hermes/index.js";
import { ensureTestModel } from "../../src/testmodels/index.js";
import { forcedToolCallGrammar, lazyToolCallGrammar } from "../../src/agent/grammars.js";
import type { GenerateRequest } from "../../src/engine/types.js";

const CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
const tools = [{ name: "get_weather", description: "w", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }, { name: "get_time", description: "t", parameters: { type: "object", properties: {} } }];
let engine: LlamaCppEngine;
beforeAll(async () => {
  const model = await ensureTestModel({ kind: "scripted", reply: `Let me check.\n${CALL}` });
  engine = await createLlamaCppEngine({ model, threads: 1, contextSize: 2048 });
});
afterAll(async () => engine?.dispose());

async function run(req: GenerateRequest) {
  let text = ""; let fin: unknown; let n = 0;
  const t0 = performance.now();
  for await (const e of engine.generate(req)) { if (e.type === "text-delta") { text += e.text; n += e.tokens.length; } else fin = e; }
  return { text, fin, n, ms: performance.now() - t0 };
}
it("scratch", async () => {
  const prompt = renderPrompt({ messages: [{ role: "user", content: "Weather in Paris?" }], tools, bosToken: "<|begin_of_text|>" });
  for (const jumpForward of [false, true]) {
    console.log("free", jumpForward, await run({ prompt, maxTokens: 60, sampling: { temperature: 0 } }));
    console.log("lazy", jumpForward, await run({ prompt, maxTokens: 60, sampling: { temperature: 0 }, grammar: lazyToolCallGrammar(tools), jumpForward }));
    console.log("forced", jumpForward, await run({ prompt, maxTokens: 60, sampling: { temperature: 0 }, grammar: forcedToolCallGrammar(tools), jumpForward }));
  }
  expect(1).toBe(1);
});
