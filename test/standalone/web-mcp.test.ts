/** The web UI's MCP logic (web/src/lib/mcp.ts) and its use in requests and storage, under Node. */
import { describe, expect, it } from "vitest";
import { applyChunk, chunkHasOutput, emptyStreamState, type StreamState } from "../../web/src/lib/chunks.js";
import {
  DEFAULT_MCP_SETTINGS,
  answerMcpApproval,
  applyMcpChunk,
  isMcpCall,
  mcpToolEntries,
  needsAnswer,
  parseMcpServers,
  readMcpSettings,
  replySegments,
  settleMcpCalls,
  toolEnabled,
  withServerEnabled,
  withToolEnabled,
  type McpCall,
} from "../../web/src/lib/mcp.js";
import { DEFAULT_SETTINGS, type Conversation } from "../../web/src/lib/model.js";
import { buildChatRequest, mcpConflicts, toWireMessages } from "../../web/src/lib/request.js";
import { CONVERSATIONS_KEY, MCP_SETTINGS_KEY, loadConversations, loadMcpSettings, saveConversations, saveMcpSettings, type KeyValueStore } from "../../web/src/lib/storage.js";

function memoryStore(): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

function chunk(delta: Record<string, unknown>, finish: string | null = null): Record<string, unknown> {
  return { id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
}

/** Run chunks through both accumulators, as the page does. */
function run(chunks: readonly unknown[]): { state: StreamState; calls: readonly McpCall[] } {
  let state = emptyStreamState();
  let calls: readonly McpCall[] = [];
  for (const c of chunks) {
    state = applyChunk(state, c);
    calls = applyMcpChunk(calls, c, state.content.length);
  }
  return { state, calls };
}

const ARGS = '{"path": "notes.txt"}';
const inProgress = { id: "call_1", server_label: "fs", name: "read_text_file", arguments: ARGS, status: "in_progress", output: null, error: null };

const SERVERS_BODY = {
  object: "list",
  data: [
    {
      object: "mcp_server",
      server_label: "fs",
      state: "ready",
      transport: "stdio",
      server_name: "secure-filesystem-server",
      tool_timeout_ms: 60000,
      last_error: null,
      tools: [
        { name: "read_text_file", exposed_name: "read_text_file", title: "Read", description: "Read a file", input_schema: { type: "object" }, annotations: null, enforcement: "grammar", unenforced: null },
        { name: "write_file", exposed_name: "write_file", title: null, description: null, input_schema: {}, annotations: null, enforcement: "validation", unenforced: { keyword: "oneOf", path: "#/x", message: "oneOf is not supported" } },
        { name: "" },
      ],
    },
    { object: "mcp_server", server_label: "everything", state: "failed", transport: "stdio", server_name: null, last_error: "exited", tools: [{ name: "echo" }] },
    { object: "mcp_server", state: "ready" },
    "junk",
  ],
};

describe("parseMcpServers", () => {
  it("reads labels, states and tools (enforcement and why), dropping malformed entries", () => {
    const servers = parseMcpServers(SERVERS_BODY);
    expect(servers.map((s) => [s.label, s.state, s.tools.map((t) => t.name)])).toEqual([
      ["fs", "ready", ["read_text_file", "write_file"]],
      ["everything", "failed", ["echo"]],
    ]);
    expect(servers[0]?.serverName).toBe("secure-filesystem-server");
    expect(servers[0]?.tools[1]).toMatchObject({ enforcement: "validation", unenforced: "oneOf is not supported", title: null });
    expect(servers[0]?.tools[0]).toMatchObject({ enforcement: "grammar", unenforced: null, title: "Read", description: "Read a file" });
    expect(servers[1]).toMatchObject({ lastError: "exited", serverName: null });
    expect(parseMcpServers({ object: "list", data: [] })).toEqual([]);
    expect(parseMcpServers(null)).toEqual([]);
  });
});

describe("MCP settings → request entries", () => {
  const servers = parseMcpServers(SERVERS_BODY);

  it("sends nothing until a server is enabled; then its enabled tools, with require_approval", () => {
    expect(mcpToolEntries(servers, DEFAULT_MCP_SETTINGS)).toEqual([]);
    let settings = withServerEnabled(DEFAULT_MCP_SETTINGS, "fs", true);
    expect(mcpToolEntries(servers, settings)).toEqual([{ type: "mcp", server_label: "fs", allowed_tools: ["read_text_file", "write_file"], require_approval: "always" }]);
    settings = withToolEnabled(settings, "fs", "write_file", false);
    expect(toolEnabled(settings, "fs", "write_file")).toBe(false);
    expect(mcpToolEntries(servers, { ...settings, requireApproval: false })).toEqual([
      { type: "mcp", server_label: "fs", allowed_tools: ["read_text_file"], require_approval: "never" },
    ]);
    // Every tool off: no entry for the server. A remembered tool the server no longer lists is not sent.
    const none = withToolEnabled(settings, "fs", "read_text_file", false);
    expect(mcpToolEntries(servers, none)).toEqual([]);
    const both = withServerEnabled(withToolEnabled(settings, "fs", "write_file", true), "everything", true);
    expect(mcpToolEntries(servers, both).map((e) => [e.server_label, e.allowed_tools])).toEqual([
      ["fs", ["read_text_file", "write_file"]],
      ["everything", ["echo"]],
    ]);
    expect(mcpToolEntries([], both)).toEqual([]);
  });

  it("is remembered in storage, read defensively", () => {
    const store = memoryStore();
    expect(loadMcpSettings(store)).toEqual(DEFAULT_MCP_SETTINGS);
    const settings = withToolEnabled(withServerEnabled(DEFAULT_MCP_SETTINGS, "fs", true), "fs", "write_file", false);
    saveMcpSettings(store, { ...settings, requireApproval: false });
    expect(loadMcpSettings(store)).toEqual({ servers: { fs: { enabled: true, disabledTools: ["write_file"] } }, requireApproval: false });
    store.data.set(MCP_SETTINGS_KEY, "{not json");
    expect(loadMcpSettings(store)).toEqual(DEFAULT_MCP_SETTINGS);
    expect(readMcpSettings({ servers: { fs: "x", ev: { enabled: "yes", disabledTools: [1, "a"] } }, requireApproval: "no" })).toEqual({
      servers: { ev: { enabled: false, disabledTools: ["a"] } },
      requireApproval: true,
    });
  });

  it("MCP entries replace the function tools and JSON mode in the request", () => {
    const conversation = { systemPrompt: "", messages: [{ id: "1", role: "user" as const, content: "Notes?" }] };
    const settings = {
      ...DEFAULT_SETTINGS,
      toolsEnabled: true,
      toolsJson: '[{"type": "function", "function": {"name": "get_weather"}}]',
      jsonMode: true,
    };
    const entries = mcpToolEntries(servers, withServerEnabled(DEFAULT_MCP_SETTINGS, "fs", true));
    const body = buildChatRequest(conversation, settings, entries);
    expect(body.tools).toEqual(entries);
    expect(body.response_format).toBeUndefined();
    expect(mcpConflicts(settings, true)).toEqual({ functionTools: true, jsonMode: true });
    expect(mcpConflicts(settings, false)).toEqual({ functionTools: false, jsonMode: false });
    // Without MCP entries, as before.
    const plain = buildChatRequest(conversation, settings);
    expect(plain.tools).toEqual([{ type: "function", function: { name: "get_weather" } }]);
    expect(plain.response_format).toEqual({ type: "json_object" });
  });
});

describe("applyMcpChunk: call cards from the stream", () => {
  it("a call in progress, then completed with its output, then the answer text; no tool_calls", () => {
    const { state, calls } = run([
      chunk({ role: "assistant", content: "" }),
      chunk({ mcp_call: inProgress }),
      chunk({ mcp_call: { ...inProgress, status: "completed", output: "Hermes 3 is a 3B model.\n" } }),
      chunk({ content: "Your notes say " }),
      chunk({ content: "Hermes 3 is a 3B model." }),
      chunk({}, "stop"),
    ]);
    expect(state.content).toBe("Your notes say Hermes 3 is a 3B model.");
    expect(state.toolCalls).toEqual([]);
    expect(state.finishReason).toBe("stop");
    expect(calls).toEqual([
      { id: "call_1", serverLabel: "fs", name: "read_text_file", arguments: ARGS, status: "completed", output: "Hermes 3 is a 3B model.\n", error: null, approval: null, textOffset: 0 },
    ]);
  });

  it("an approval request marks the call; the answer is recorded; a denied call ends failed", () => {
    let { calls } = run([chunk({ mcp_call: inProgress }), chunk({ mcp_approval_request: { id: "mcpr_1", call_id: "call_1", server_label: "fs", name: "read_text_file", arguments: ARGS } })]);
    expect(calls[0]).toMatchObject({ status: "awaiting_approval", approval: { id: "mcpr_1", answer: null, problem: null } });
    expect(needsAnswer(calls[0] as McpCall)).toBe(true);
    calls = answerMcpApproval(calls, "mcpr_1", "deny");
    expect(calls[0]?.approval).toEqual({ id: "mcpr_1", answer: "deny", problem: null });
    expect(needsAnswer(calls[0] as McpCall)).toBe(false);
    calls = answerMcpApproval(calls, "mcpr_other", "approve");
    expect(calls[0]?.approval?.answer).toBe("deny");
    calls = applyMcpChunk(calls, chunk({ mcp_call: { ...inProgress, status: "failed", error: "the call of read_text_file was not approved by the user" } }), 0);
    expect(calls).toEqual([
      {
        id: "call_1",
        serverLabel: "fs",
        name: "read_text_file",
        arguments: ARGS,
        status: "failed",
        output: null,
        error: "the call of read_text_file was not approved by the user",
        approval: { id: "mcpr_1", answer: "deny", problem: null },
        textOffset: 0,
      },
    ]);
    // A problem reaching the server is kept with the answer.
    const late = answerMcpApproval(calls, "mcpr_1", "approve", "Too late");
    expect(late[0]?.approval).toEqual({ id: "mcpr_1", answer: "approve", problem: "Too late" });
  });

  it("an approval request for a call not seen yet adds it", () => {
    const { calls } = run([chunk({ mcp_approval_request: { id: "mcpr_2", call_id: "call_9", server_label: "everything", name: "echo", arguments: "{}" } })]);
    expect(calls).toEqual([
      { id: "call_9", serverLabel: "everything", name: "echo", arguments: "{}", status: "awaiting_approval", output: null, error: null, approval: { id: "mcpr_2", answer: null, problem: null }, textOffset: 0 },
    ]);
  });

  it("keeps calls in arrival order, each at the text length where it appeared; updates keep their place", () => {
    const second = { ...inProgress, id: "call_2", name: "list_directory", arguments: '{"path": "."}' };
    const { state, calls } = run([
      chunk({ content: "Let me look." }),
      chunk({ mcp_call: inProgress }),
      chunk({ mcp_call: { ...inProgress, status: "completed", output: "a" } }),
      chunk({ content: " And the folder." }),
      chunk({ mcp_call: second }),
      chunk({ mcp_call: { ...second, status: "failed", error: "denied" } }),
      chunk({ content: " Done." }),
    ]);
    expect(calls.map((c) => [c.id, c.status, c.textOffset])).toEqual([
      ["call_1", "completed", 12],
      ["call_2", "failed", 28],
    ]);
    expect(replySegments(state.content, calls).map((s) => (s.kind === "text" ? s.text : `[${s.call.id}]`))).toEqual([
      "Let me look.",
      "[call_1]",
      " And the folder.",
      "[call_2]",
      " Done.",
    ]);
  });

  it("ignores chunks without MCP fields, malformed objects and other choices", () => {
    const before: readonly McpCall[] = [];
    expect(applyMcpChunk(before, chunk({ content: "x" }), 1)).toBe(before);
    expect(applyMcpChunk(before, chunk({ mcp_call: "nope" }), 0)).toBe(before);
    expect(applyMcpChunk(before, chunk({ mcp_call: { status: "completed" } }), 0)).toBe(before);
    expect(applyMcpChunk(before, chunk({ mcp_approval_request: { id: "mcpr_1" } }), 0)).toBe(before);
    expect(applyMcpChunk(before, { choices: [{ index: 1, delta: { mcp_call: inProgress } }] }, 0)).toBe(before);
    expect(applyMcpChunk(before, null, 0)).toBe(before);
    // An unknown status keeps the last one.
    const calls = applyMcpChunk(applyMcpChunk(before, chunk({ mcp_call: inProgress }), 0), chunk({ mcp_call: { ...inProgress, status: "weird" } }), 0);
    expect(calls[0]?.status).toBe("in_progress");
  });

  it("counts MCP calls and approval requests as output for the time to first output", () => {
    expect(chunkHasOutput(chunk({ mcp_call: inProgress }))).toBe(true);
    expect(chunkHasOutput(chunk({ mcp_approval_request: { id: "mcpr_1", call_id: "call_1" } }))).toBe(true);
  });

  it("settles calls still open when the reply ended as cancelled", () => {
    const { calls } = run([
      chunk({ mcp_call: { ...inProgress, status: "completed", output: "x" } }),
      chunk({ mcp_call: { ...inProgress, id: "call_2" } }),
      chunk({ mcp_call: { ...inProgress, id: "call_3" } }),
      chunk({ mcp_approval_request: { id: "mcpr_3", call_id: "call_3", server_label: "fs", name: "read_text_file", arguments: ARGS } }),
    ]);
    expect(settleMcpCalls(calls).map((c) => c.status)).toEqual(["completed", "cancelled", "cancelled"]);
    expect(needsAnswer(settleMcpCalls(calls)[2] as McpCall)).toBe(false);
  });
});

describe("replySegments", () => {
  const call = (id: string, textOffset: number): McpCall => ({ id, serverLabel: "fs", name: "t", arguments: "{}", status: "completed", output: "", error: null, approval: null, textOffset });

  it("is the text alone without calls, and clamps offsets to the text", () => {
    expect(replySegments("Hello", [])).toEqual([{ kind: "text", text: "Hello" }]);
    expect(replySegments("", [])).toEqual([]);
    expect(replySegments("", [call("a", 0)])).toEqual([{ kind: "call", call: call("a", 0) }]);
    expect(replySegments("Hi", [call("a", 99)]).map((s) => s.kind)).toEqual(["text", "call"]);
  });
});

describe("conversations with MCP calls in storage", () => {
  it("keep their cards in their final state across a reload; bad stored calls are dropped; never sent back", () => {
    const store = memoryStore();
    const good: McpCall = {
      id: "call_1",
      serverLabel: "fs",
      name: "read_text_file",
      arguments: ARGS,
      status: "completed",
      output: "Hermes 3 is a 3B model.\n",
      error: null,
      approval: { id: "mcpr_1", answer: "approve", problem: null },
      textOffset: 0,
    };
    const conversation: Conversation = {
      id: "c1",
      title: "Notes",
      titleEdited: false,
      systemPrompt: "",
      createdAt: 1,
      updatedAt: 2,
      messages: [
        { id: "u", role: "user", content: "Notes?" },
        { id: "a", role: "assistant", content: "Your notes say Hermes 3 is a 3B model.", mcpCalls: [good], meta: { finishReason: "stop" } },
      ],
    };
    expect(saveConversations(store, [conversation])).toBeNull();
    expect(loadConversations(store)).toEqual([conversation]);
    expect(isMcpCall(good)).toBe(true);
    expect(isMcpCall({ ...good, status: "cancelled" })).toBe(true);
    expect(isMcpCall({ ...good, status: "exploded" })).toBe(false);
    expect(isMcpCall({ ...good, approval: { id: 1 } })).toBe(false);

    const stored = JSON.parse(store.data.get(CONVERSATIONS_KEY) ?? "[]") as { messages: Record<string, unknown>[] }[];
    const assistant = stored[0]?.messages[1] as Record<string, unknown>;
    assistant["mcpCalls"] = [good, { id: 3 }, "junk"];
    store.data.set(CONVERSATIONS_KEY, JSON.stringify(stored));
    const loaded = loadConversations(store);
    expect(loaded).toHaveLength(1);
    const message = loaded[0]?.messages[1];
    expect(message?.role === "assistant" ? message.mcpCalls : undefined).toEqual([good]);

    // The history sent with the next request is the text only.
    expect(toWireMessages("", conversation.messages)).toEqual([
      { role: "user", content: "Notes?" },
      { role: "assistant", content: "Your notes say Hermes 3 is a 3B model." },
    ]);
    // A reply stopped before any text (only a cancelled call) is not part of the history.
    expect(toWireMessages("", [conversation.messages[0]!, { id: "b", role: "assistant", content: "", mcpCalls: [{ ...good, status: "cancelled" }] }])).toEqual([
      { role: "user", content: "Notes?" },
    ]);
  });
});
