/**
 * `talaria serve --mcp` end to end: real MCP servers over stdio (@modelcontextprotocol/server-filesystem
 * confined to a temp dir, server-everything), a generated scripted model that calls an MCP tool, and the
 * official `openai` SDK: the chat API's `{"type": "mcp"}` extension (JSON and stream, live approvals,
 * Stop mid-call), the Responses API's documented `mcp` tool (list_tools / mcp_call items, the approval
 * round trip with previous_response_id), `GET /v1/mcp/servers`, and the security 400s.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runServe, type RunServeResult, type ServeFlags } from "../../src/cli/commands/serve.js";
import { ensureTestModel } from "../../src/testmodels/index.js";
import { everythingEntry, filesystemEntry } from "../support/mcp.js";

const READ = '<tool_call>\n{"name": "read_text_file", "arguments": {"path": "notes.txt"}}\n</tool_call>';
const ANSWER = "Your notes say Hermes 3 is a 3B model.";
const LONG = '<tool_call>\n{"name": "trigger-long-running-operation", "arguments": {"duration": 30, "steps": 30}}\n</tool_call>';

function flags(model: string, mcp: string): ServeFlags {
  return { model, mcp: [mcp], host: "127.0.0.1", port: 0, parallel: 1, contextSize: 4096, threads: 1, gpu: "off", maxQueue: 8, timeout: 120, profile: "auto", style: "card" };
}

interface SseEvent {
  readonly data: Record<string, unknown>;
}
/** The `data:` JSON objects of an SSE body as they arrive; `onEvent` may act mid-stream. */
async function readSse(response: Response, onEvent: (event: SseEvent) => void | Promise<void> = () => undefined): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let at: number;
    while ((at = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      const line = block.split("\n").find((l) => l.startsWith("data: "));
      if (line === undefined || line === "data: [DONE]") continue;
      const event = { data: JSON.parse(line.slice(6)) as Record<string, unknown> };
      out.push(event);
      await onEvent(event);
    }
  }
  return out;
}

let dir: string;
let config: string;
let running: RunServeResult;
let url: string;
let client: OpenAI;
const logs: string[] = [];
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "talaria-mcp-serve-"));
  await writeFile(path.join(dir, "notes.txt"), "Hermes 3 is a 3B model.\n");
  config = path.join(dir, "mcp.json");
  await writeFile(config, JSON.stringify({ mcpServers: { fs: filesystemEntry(dir), everything: everythingEntry(60) } }));
  const model = await ensureTestModel({ kind: "scripted", reply: READ, afterToolReply: ANSWER });
  running = await runServe(flags(model, config), (l) => logs.push(l));
  await running.engine;
  url = running.server.url;
  client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "none", maxRetries: 0 });
});
afterAll(async () => {
  await running?.stop();
});

const FS = { type: "mcp", server_label: "fs", allowed_tools: ["read_text_file"] } as const;
const post = (route: string, body: unknown): Promise<Response> => fetch(`${url}${route}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("talaria serve --mcp: the chat API extension", () => {
  it("lists the configured servers and tools, and logged the schema it cannot enforce", async () => {
    const res = await fetch(`${url}/v1/mcp/servers`);
    const body = (await res.json()) as { data: { server_label: string; state: string; tools: { name: string; enforcement: string }[] }[] };
    expect(body.data.map((s) => [s.server_label, s.state])).toEqual([["fs", "ready"], ["everything", "ready"]]);
    expect(body.data[0]?.tools.map((t) => t.name)).toContain("read_text_file");
    expect(body.data[1]?.tools.find((t) => t.name === "gzip-file-as-resource")?.enforcement).toBe("validation");
    expect(logs.some((l) => l.includes('tool "gzip-file-as-resource": its input schema cannot be enforced'))).toBe(true);
    expect(JSON.stringify(body)).not.toContain(dir); // no command lines or paths leak
  });

  it("JSON: the server runs the call; the reply carries the answer and the call with its output", async () => {
    const completion = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "What do my notes say?" }], tools: [FS as never], temperature: 0 });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe("stop");
    expect(choice?.message.content).toBe(ANSWER);
    expect(choice?.message.tool_calls ?? []).toEqual([]);
    const calls = (choice?.message as unknown as { mcp_calls: Record<string, unknown>[] }).mcp_calls;
    expect(calls).toEqual([expect.objectContaining({ server_label: "fs", name: "read_text_file", arguments: '{"path": "notes.txt"}', status: "completed", output: "Hermes 3 is a 3B model.\n", error: null })]);
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it("stream: the call in progress, then completed, then the answer", async () => {
    const stream = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "What do my notes say?" }], tools: [FS as never], temperature: 0, stream: true });
    const calls: Record<string, unknown>[] = [];
    let text = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { content?: string; mcp_call?: Record<string, unknown> } | undefined;
      if (delta?.mcp_call !== undefined) calls.push(delta.mcp_call);
      text += delta?.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(calls.map((c) => c["status"])).toEqual(["in_progress", "completed"]);
    expect(calls[1]?.["output"]).toBe("Hermes 3 is a 3B model.\n");
    expect(text).toBe(ANSWER);
    expect(finish).toBe("stop");
  });

  it("require_approval always: a live approval request; approving runs the call, denying tells the model", async () => {
    for (const approve of [true, false]) {
      const res = await post("/v1/chat/completions", { messages: [{ role: "user", content: "Notes?" }], tools: [{ ...FS, require_approval: "always" }], temperature: 0, stream: true });
      expect(res.status).toBe(200);
      const events = await readSse(res, async (e) => {
        const delta = (e.data["choices"] as { delta: Record<string, unknown> }[] | undefined)?.[0]?.delta;
        const request = delta?.["mcp_approval_request"] as { id: string } | undefined;
        if (request !== undefined) {
          const answer = await post(`/v1/mcp/approvals/${request.id}`, { approve });
          expect(answer.status).toBe(200);
        }
      });
      const deltas = events.map((e) => (e.data["choices"] as { delta: Record<string, unknown> }[])[0]?.delta ?? {});
      expect(deltas.some((d) => d["mcp_approval_request"] !== undefined)).toBe(true);
      const last = deltas.filter((d) => d["mcp_call"] !== undefined).pop()?.["mcp_call"] as Record<string, unknown>;
      if (approve) expect(last).toMatchObject({ status: "completed", output: "Hermes 3 is a 3B model.\n" });
      else expect(last).toMatchObject({ status: "failed", error: "the call of read_text_file was not approved by the user" });
    }
    expect((await post("/v1/mcp/approvals/mcpr_unknown", { approve: true })).status).toBe(404);
  });

  it("security: unconfigured labels, server URLs and commands are 400s naming the field", async () => {
    const cases: [unknown, string, string][] = [
      [{ type: "mcp", server_label: "shell" }, "tools[0].server_label", "unknown_mcp_server"],
      [{ type: "mcp", server_label: "fs", server_url: "https://evil.example/mcp" }, "tools[0].server_url", "mcp_server_not_allowed"],
      [{ type: "mcp", server_label: "fs", command: "rm", args: ["-rf", "/"] }, "tools[0].command", "mcp_server_not_allowed"],
      [{ type: "mcp", server_label: "fs", allowed_tools: ["format_disk"] }, "tools[0].allowed_tools", "unknown_mcp_tool"],
    ];
    for (const [tool, param, code] of cases) {
      for (const route of ["/v1/chat/completions", "/v1/responses"]) {
        const body = route === "/v1/responses" ? { input: "hi", tools: [tool] } : { messages: [{ role: "user", content: "hi" }], tools: [tool] };
        const res = await post(route, body);
        expect(res.status, `${route} ${param}`).toBe(400);
        expect(((await res.json()) as { error: unknown }).error).toMatchObject({ param, code });
      }
    }
  });
});

describe("talaria serve --mcp: the Responses API's mcp tool", () => {
  it("require_approval never: mcp_list_tools, mcp_call and the message", async () => {
    const response = await client.responses.create({ model: "m", input: "What do my notes say?", tools: [{ ...FS, require_approval: "never" } as never], temperature: 0 });
    expect(response.output.map((i) => i.type)).toEqual(["mcp_list_tools", "mcp_call", "message"]);
    const list = response.output[0] as { server_label: string; tools: { name: string }[] };
    expect(list.server_label).toBe("fs");
    expect(list.tools.map((t) => t.name)).toEqual(["read_text_file"]);
    expect(response.output[1]).toMatchObject({ server_label: "fs", name: "read_text_file", output: "Hermes 3 is a 3B model.\n", error: null });
    expect(response.output_text).toBe(ANSWER);
  });

  it("streams the documented mcp events", async () => {
    const stream = await client.responses.create({ model: "m", input: "Notes?", tools: [{ ...FS, require_approval: "never" } as never], temperature: 0, stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const expected = ["response.created", "response.in_progress", "response.mcp_list_tools.in_progress", "response.mcp_list_tools.completed", "response.mcp_call_arguments.delta", "response.mcp_call_arguments.done", "response.mcp_call.in_progress", "response.mcp_call.completed", "response.output_text.delta", "response.completed"];
    let at = -1;
    for (const t of expected) {
      const next = types.indexOf(t, at + 1);
      expect(next, t).toBeGreaterThan(at);
      at = next;
    }
  });

  it("the default require_approval (always): an approval request, then the approved call and the answer with previous_response_id", async () => {
    const first = await client.responses.create({ model: "m", input: "What do my notes say?", tools: [FS as never], temperature: 0 });
    expect(first.output.map((i) => i.type)).toEqual(["mcp_list_tools", "mcp_approval_request"]);
    const request = first.output[1] as { id: string; name: string; arguments: string };
    expect(request).toMatchObject({ name: "read_text_file", arguments: '{"path": "notes.txt"}' });
    const second = await client.responses.create({
      model: "m",
      previous_response_id: first.id,
      input: [{ type: "mcp_approval_response", approval_request_id: request.id, approve: true } as never],
      tools: [FS as never],
      temperature: 0,
    });
    const call = second.output.find((i) => i.type === "mcp_call") as Record<string, unknown> | undefined;
    expect(call).toMatchObject({ approval_request_id: request.id, output: "Hermes 3 is a 3B model.\n" });
    expect(second.output_text).toBe(ANSWER);
    const bad = await post("/v1/responses", { previous_response_id: first.id, input: [{ type: "mcp_approval_response", approval_request_id: "mcpr_nope", approve: true }], tools: [FS] });
    expect(bad.status).toBe(400);
  });
});

describe("talaria serve --mcp: Stop", () => {
  let slow: RunServeResult;
  beforeAll(async () => {
    const model = await ensureTestModel({ kind: "scripted", reply: LONG, afterToolReply: ANSWER });
    slow = await runServe(flags(model, config), () => undefined);
    await slow.engine;
  });
  afterAll(async () => {
    await slow?.stop();
  });

  it("a client that leaves mid-call ends the run and the in-flight call; the server answers the next request", async () => {
    const abort = new AbortController();
    const started = Date.now();
    const res = await fetch(`${slow.server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "Go" }], tools: [{ type: "mcp", server_label: "everything", allowed_tools: ["trigger-long-running-operation"] }], stream: true }),
      signal: abort.signal,
    });
    await readSse(res, (e) => {
      const delta = (e.data["choices"] as { delta: Record<string, unknown> }[] | undefined)?.[0]?.delta;
      if ((delta?.["mcp_call"] as { status?: string } | undefined)?.status === "in_progress") abort.abort();
    }).catch(() => undefined);
    expect(Date.now() - started).toBeLessThan(20_000);
    // The one sequence is free again at once (the run did not wait for the 30 s operation).
    const health = await fetch(`${slow.server.url}/health`);
    expect(health.status).toBe(200);
    const next = await fetch(`${slow.server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }], max_tokens: 4 }),
      signal: AbortSignal.timeout(15_000),
    });
    expect(next.status).toBe(200);
  });
});
