/**
 * `tool_choice: "none"` on a real llama.cpp engine: a scripted model whose reply IS a `<tool_call>`
 * block cannot open it (the tag, one token in Hermes vocabularies, is banned), so no call markup
 * reaches the content; with `auto` the same model calls the tool.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHermesChat } from "../../src/chat/hermes-chat.js";
import { collectChat, type ChatService } from "../../src/chat/service.js";
import { createLlamaCppEngine, type LlamaCppEngine } from "../../src/engine/llama-cpp/index.js";
import { ensureTestModel } from "../../src/testmodels/index.js";

const CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
const TOOLS = [{ name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }];

describe("tool_choice none bans the call-open tag (llama.cpp, scripted model)", () => {
  let engine: LlamaCppEngine;
  let chat: ChatService;
  beforeAll(async () => {
    engine = await createLlamaCppEngine({ model: await ensureTestModel({ kind: "scripted", reply: CALL }), threads: 1, sequences: 1, contextSize: 1024 });
    chat = createHermesChat(engine, { profile: "hermes-3" }).service;
  });
  afterAll(async () => {
    await engine.dispose();
  });

  it("auto: the model's call comes back as a tool call", async () => {
    const r = await collectChat(chat.stream(await chat.prepare({ messages: [{ role: "user", content: "weather?" }], tools: TOOLS, maxTokens: 40, sampling: { doSample: false } })));
    expect(r.toolCalls.map((c) => c.name)).toEqual(["get_weather"]);
  });

  it("none (asked for, or no tools at all): no <tool_call> markup in the content", async () => {
    for (const request of [
      { messages: [{ role: "user" as const, content: "weather?" }], tools: TOOLS, toolChoice: { type: "none" as const }, maxTokens: 40, sampling: { doSample: false } },
      { messages: [{ role: "user" as const, content: "weather?" }], maxTokens: 40, sampling: { doSample: false } },
    ]) {
      const r = await collectChat(chat.stream(await chat.prepare(request)));
      expect(r.toolCalls).toEqual([]);
      expect(r.content).not.toContain("<tool_call>");
      expect(r.toolCallErrors ?? []).toEqual([]);
    }
  });
});
