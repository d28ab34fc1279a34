import { afterAll, beforeAll, expect, it } from "vitest";
import { createLlamaCppEngine, type LlamaCppEngine } from "../../src/engine/llama-cpp/index.js";
import { renderPrompt } from "../../src/hermes/index.js";
import { ensureTestModel } from "../../src/testmodels/index.js";
import { lazyToolCallGrammar } from "../../src/agent/grammars.js";
import type { GenerateRequest } from "../../src/engine/types.js";

const SCRIPT =
  'Checking both.\n<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>\n<tool_call>\n{"name": "get_weather", "arguments": {"city": 42, "unit": "celsius"}}\n</tool_call>';
const tools = [{ name: "get_weather", description: "w", parameters: { type: "object", properties: { city: { type: "string", maxLength: 10 }, unit: { enum: ["celsius", "fahrenheit"] } }, required: ["city", "unit"], additionalProperties: false } }, { name: "get_time", description: "t", parameters: { type: "object", properties: {}, additionalProperties: false } }];
let engine: LlamaCppEngine;
beforeAll(async () => {
  const model = await ensureTestModel({ kind: "scripted", reply: SCRIPT });
  engine = await createLlamaCppEngine({ model, threads: 1, contextSize: 2048 });
});
afterAll(async () => engine?.dispose());

async function run(req: GenerateRequest) {
  const toks: string[] = []; let fin: unknown;
  for await (const e of engine.generate(req)) { if (e.type === "text-delta") toks.push(...e.tokens.map((t) => JSON.stringify(t.text))); else fin = e; }
  return { toks: toks.join(" "), fin };
}
it("scratch", async () => {
  const prompt = renderPrompt({ messages: [{ role: "user", content: "Weather in Paris?" }], tools, style: "template", bosToken: "<|begin_of_text|>" });
  for (const jumpForward of [false, true]) {
    console.log("lazy", jumpForward, await run({ prompt, maxTokens: 96, sampling: { temperature: 0 }, grammar: lazyToolCallGrammar(tools), jumpForward }));
  }
  console.log("free", await run({ prompt, maxTokens: 96, sampling: { temperature: 0 } }));
  expect(1).toBe(1);
});
