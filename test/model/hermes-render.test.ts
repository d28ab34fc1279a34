/** `talaria render --model`: BOS, tool_use template and profile come from the GGUF. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runRender } from "../../src/cli/commands/render.js";
import { ensureTestModel } from "../../src/testmodels/index.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "talaria-hermes-render-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("takes BOS and the profile from the model (Hermes 3 Llama-3.2 3B: tool results in the user role)", async () => {
  const model = await ensureTestModel({ kind: "scripted", reply: "ok" });
  const messages = path.join(dir, "m.json");
  await writeFile(
    messages,
    JSON.stringify([
      { role: "user", content: "hi" },
      { role: "assistant", tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "c", content: "42" },
    ]),
  );
  const out = await runRender({ messages, model, style: "card", jsonModeVariant: "code", generationPrompt: true, parts: false, threads: 1 });
  expect(out).toBe(
    '<|begin_of_text|><|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<tool_call>\n{"arguments": {}, "name": "f"}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n{"name": "f", "content": 42}\n</tool_response>\n<|im_end|>\n<|im_start|>assistant\n',
  );
  const hermes2 = await runRender({ messages, model, profile: "hermes-2-pro", style: "card", jsonModeVariant: "code", generationPrompt: false, parts: false, threads: 1 });
  expect(hermes2).toContain("<|im_start|>tool\n<tool_response>");
});
