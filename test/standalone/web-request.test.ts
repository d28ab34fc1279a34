/** The web UI's settings → request body, and its browser storage (web/src/lib/request.ts, storage.ts). */
import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, newConversation, titleFrom, unansweredToolCalls, type UiMessage } from "../../web/src/lib/model.js";
import { buildChatRequest, parseTools, settingsProblems, toWireMessages } from "../../web/src/lib/request.js";
import {
  CONVERSATIONS_KEY,
  SETTINGS_KEY,
  loadConversations,
  loadSettings,
  saveConversations,
  saveSettings,
  type KeyValueStore,
} from "../../web/src/lib/storage.js";

const call = { id: "call_1", type: "function" as const, function: { name: "get_weather", arguments: '{"city":"Paris"}' } };

const messages: UiMessage[] = [
  { id: "1", role: "user", content: "Weather?" },
  { id: "2", role: "assistant", content: "", toolCalls: [call], meta: { ttftMs: 5 } },
  { id: "3", role: "tool", toolCallId: "call_1", content: '{"temp": 21}' },
  { id: "4", role: "assistant", content: "Sunny." },
];

describe("buildChatRequest", () => {
  it("streams with usage, leaves empty sampling fields out, and sends the system prompt first", () => {
    const body = buildChatRequest({ systemPrompt: "Be brief.", messages: messages.slice(0, 1) }, DEFAULT_SETTINGS);
    expect(body).toEqual({
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Weather?" },
      ],
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("maps sampling fields, including the top_k and repetition_penalty extensions", () => {
    const body = buildChatRequest(
      { systemPrompt: "", messages: messages.slice(0, 1) },
      { ...DEFAULT_SETTINGS, model: "m", temperature: "0.7", topP: "0.9", topK: "40", maxTokens: "128", repetitionPenalty: "1.1" },
    );
    expect(body).toMatchObject({ model: "m", temperature: 0.7, top_p: 0.9, top_k: 40, max_tokens: 128, repetition_penalty: 1.1 });
  });

  it("sends tool calls and tool results in OpenAI wire form, without UI metadata", () => {
    expect(toWireMessages("", messages)).toEqual([
      { role: "user", content: "Weather?" },
      { role: "assistant", content: null, tool_calls: [call] },
      { role: "tool", tool_call_id: "call_1", content: '{"temp": 21}' },
      { role: "assistant", content: "Sunny." },
    ]);
  });

  it("drops an assistant turn that failed before producing anything", () => {
    expect(toWireMessages("", [{ id: "1", role: "user", content: "a" }, { id: "2", role: "assistant", content: "", meta: { error: "x" } }])).toEqual([
      { role: "user", content: "a" },
    ]);
  });

  it("adds tools and a json_schema response_format when enabled", () => {
    const body = buildChatRequest(
      { systemPrompt: "", messages: messages.slice(0, 1) },
      {
        ...DEFAULT_SETTINGS,
        toolsEnabled: true,
        toolsJson: '{"name": "f", "parameters": {"type": "object", "properties": {}}}',
        jsonMode: true,
        jsonSchema: '{"type": "object"}',
      },
    );
    expect(body.tools).toEqual([{ type: "function", function: { name: "f", parameters: { type: "object", properties: {} } } }]);
    expect(body.response_format).toEqual({ type: "json_schema", json_schema: { name: "response", schema: { type: "object" }, strict: true } });
    const plainJson = buildChatRequest({ systemPrompt: "", messages: [] }, { ...DEFAULT_SETTINGS, jsonMode: true });
    expect(plainJson.response_format).toEqual({ type: "json_object" });
  });

  it("refuses settings with problems, and names each problem's field", () => {
    const bad = { ...DEFAULT_SETTINGS, temperature: "3", topK: "1.5", maxTokens: "0", repetitionPenalty: "0", topP: "abc" };
    expect(Object.keys(settingsProblems(bad)).sort()).toEqual(["maxTokens", "repetitionPenalty", "temperature", "topK", "topP"]);
    expect(() => buildChatRequest({ systemPrompt: "", messages: [] }, bad)).toThrow();
    expect(settingsProblems({ ...DEFAULT_SETTINGS, toolsEnabled: true, toolsJson: "[{" })).toHaveProperty("toolsJson");
    // Tool text is only checked while tools are on.
    expect(settingsProblems({ ...DEFAULT_SETTINGS, toolsEnabled: false, toolsJson: "[{" })).toEqual({});
  });
});

describe("parseTools", () => {
  it("accepts an array of OpenAI tools, one tool, or bare functions", () => {
    const tool = { type: "function", function: { name: "a", description: "d", parameters: { type: "object" }, strict: true } };
    expect(parseTools(JSON.stringify([tool]))).toEqual([tool]);
    expect(parseTools(JSON.stringify(tool))).toEqual([tool]);
    expect(parseTools('{"name": "b"}')).toEqual([{ type: "function", function: { name: "b" } }]);
    expect(parseTools("")).toEqual([]);
  });

  it("reports missing names, wrong types and duplicates", () => {
    expect(parseTools('[{"type": "function", "function": {}}]')).toEqual({ problem: 'Tool 1 has no "name".' });
    expect(parseTools('[{"type": "retrieval", "function": {"name": "x"}}]')).toHaveProperty("problem");
    expect(parseTools('[{"name": "x"}, {"name": "x"}]')).toEqual({ problem: 'Two tools are named "x".' });
    expect(parseTools('[{"name": "x", "parameters": []}]')).toHaveProperty("problem");
  });
});

describe("conversation helpers", () => {
  it("titles a conversation by its first user line, shortened", () => {
    expect(titleFrom([{ id: "1", role: "user", content: "  First line\nsecond" }])).toBe("First line");
    expect(titleFrom([{ id: "1", role: "user", content: "x".repeat(60) }])).toBe(`${"x".repeat(47)}…`);
    expect(titleFrom([])).toBeNull();
  });

  it("lists the tool calls still waiting for an answer", () => {
    expect(unansweredToolCalls(messages.slice(0, 2), 1)).toEqual([call]);
    expect(unansweredToolCalls(messages, 1)).toEqual([]);
    expect(unansweredToolCalls(messages, 0)).toEqual([]);
  });
});

class MemoryStore implements KeyValueStore {
  readonly data = new Map<string, string>();
  getItem(key: string): string | null {
    return this.data.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.data.set(key, value);
  }
}

describe("storage", () => {
  it("round-trips conversations newest first", () => {
    const store = new MemoryStore();
    const older = { ...newConversation(1000), title: "older", messages };
    const newer = { ...newConversation(2000), title: "newer" };
    expect(saveConversations(store, [older, newer])).toBeNull();
    expect(loadConversations(store).map((c) => c.title)).toEqual(["newer", "older"]);
    expect(loadConversations(store)[1]?.messages).toEqual(messages);
  });

  it("survives corrupt or foreign data", () => {
    const store = new MemoryStore();
    store.setItem(CONVERSATIONS_KEY, "{not json");
    expect(loadConversations(store)).toEqual([]);
    store.setItem(CONVERSATIONS_KEY, JSON.stringify([{ id: 1 }, { ...newConversation(5), messages: [{ role: "robot" }] }]));
    expect(loadConversations(store)).toEqual([]);
    store.setItem(SETTINGS_KEY, JSON.stringify({ temperature: 7, topK: "40", jsonMode: "yes" }));
    expect(loadSettings(store)).toEqual({ ...DEFAULT_SETTINGS, topK: "40" });
  });

  it("reports a refused write instead of throwing", () => {
    const full: KeyValueStore = {
      getItem: () => null,
      setItem: () => {
        throw new Error("QuotaExceededError");
      },
    };
    expect(saveSettings(full, DEFAULT_SETTINGS)).toContain("QuotaExceededError");
  });
});
