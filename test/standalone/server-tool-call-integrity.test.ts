/**
 * Tool-call integrity on the HTTP surface (docs/decisions/0096-tool-call-integrity.md): a block that
 * produced no call — an undeclared tool, a malformed block — keeps its raw text in `content` (a call cut
 * off by max_tokens after its name comes back as a call, with finish_reason length) and is reported in the choice's `tool_call_errors`, non-streaming and
 * streaming (its own chunk, before the finish chunk). The server runs the Hermes chat service over
 * the mock engine, with the grammar on (as `talaria serve` does), so `tool_choice: auto` uses the lazy
 * grammar.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { createHermesMockEngine } from "../support/hermes-mock.js";
import { ChatService } from "../../src/chat/service.js";
import { createHermesChatFormat } from "../../src/chat/hermes-format.js";
import { startServer, type RunningServer } from "../../src/server/server.js";
import { WEATHER_TOOL, readSse } from "./server-helpers.js";

const DELETE = '<tool_call>\n{"name": "delete_everything", "arguments": {"confirm": true}}\n</tool_call>';
const BROKEN = '<tool_call>\n{"name": "get_weather", "arguments": {"city": :!!!}}\n</tool_call>';
const RAMBLE = `<tool_call>\n{"name": "get_weather", "arguments": {"city": ":${"!".repeat(300)}`;

function script(prompt: string): string | undefined {
  const m = /user\n(.*)<\|im_end\|>\n<\|im_start\|>assistant\n$/s.exec(prompt);
  switch (m?.[1]) {
    case "delete":
      return `On it.\n${DELETE}`;
    case "broken":
      return BROKEN;
    case "ramble":
      return RAMBLE;
    default:
      return undefined;
  }
}

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}


type Chunk = { choices: Array<{ index: number; delta: { content?: string; tool_calls?: unknown[] }; finish_reason: string | null; tool_call_errors?: unknown[] }> };

describe("tool_call_errors on /v1/chat/completions (mock engine, grammar on)", () => {
  let server: RunningServer;
  const ask = (content: string, extra: Record<string, unknown> = {}) => ({ model: "m", messages: [{ role: "user", content }], tools: [WEATHER_TOOL], ...extra });

  beforeAll(async () => {
    const engine = createHermesMockEngine({ script, sequences: 2, contextSize: 2048 });
    const chat = new ChatService({ engine, format: createHermesChatFormat(), constrained: true });
    server = await startServer({ modelId: "talaria-mock", host: "127.0.0.1", port: 0, parallel: 2, log: () => undefined, backend: { engine, chat } });
  });
  afterAll(async () => {
    await server.close();
  });

  it("non-streaming: an undeclared tool is no call; its raw text is content; the error is on the choice; finish stop", async () => {
    const body = (await (await post(`${server.url}/v1/chat/completions`, ask("delete"))).json()) as Record<string, any>;
    const choice = body.choices[0];
    expect(choice.message.tool_calls).toBeUndefined();
    expect(choice.message.content).toBe(`On it.\n${DELETE}`);
    expect(choice.finish_reason).toBe("stop");
    expect(choice.tool_call_errors).toEqual([
      { kind: "unknown_tool", name: "delete_everything", raw: DELETE, closed: true, message: 'the model called "delete_everything", which is not a declared tool' },
    ]);
  });

  it("streaming: the raw text as content deltas, then a chunk with the error, then the finish chunk", async () => {
    const chunks = (await readSse(await post(`${server.url}/v1/chat/completions`, ask("delete", { stream: true })))) as Array<Chunk | "[DONE]">;
    expect(chunks.at(-1)).toBe("[DONE]");
    const data = chunks.filter((c): c is Chunk => c !== "[DONE]");
    expect(data.some((c) => c.choices[0]?.delta.tool_calls !== undefined)).toBe(false);
    expect(data.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(`On it.\n${DELETE}`);
    const at = data.findIndex((c) => c.choices[0]?.tool_call_errors !== undefined);
    expect(data[at]?.choices[0]).toEqual({
      index: 0,
      delta: {},
      logprobs: null,
      finish_reason: null,
      tool_call_errors: [expect.objectContaining({ kind: "unknown_tool", name: "delete_everything", raw: DELETE, closed: true })],
    });
    const finish = data.findIndex((c) => c.choices[0]?.finish_reason != null);
    expect(at).toBeGreaterThan(0);
    expect(finish).toBeGreaterThan(at);
    expect(data[finish]?.choices[0]?.finish_reason).toBe("stop");
    expect(data.filter((c) => c.choices[0]?.tool_call_errors !== undefined)).toHaveLength(1);
  });

  it("a call cut off by max_tokens: the call with the arguments so far (reported invalid), finish length, no markup in content, both ways", async () => {
    const body = (await (await post(`${server.url}/v1/chat/completions`, ask("ramble", { max_tokens: 80 }))).json()) as Record<string, any>;
    const choice = body.choices[0];
    expect(choice.finish_reason).toBe("length");
    expect(choice.message.tool_calls).toHaveLength(1);
    expect(choice.message.tool_calls[0].function.name).toBe("get_weather");
    expect(choice.message.tool_calls[0].function.arguments.startsWith('{"city": ":!!')).toBe(true);
    expect(choice.message.content ?? "").not.toContain("<tool_call>");
    expect(choice.tool_call_errors).toBeUndefined();
    expect(choice.validation_errors).toEqual([expect.objectContaining({ target: "tool_call", name: "get_weather" })]);

    const chunks = (await readSse(await post(`${server.url}/v1/chat/completions`, ask("ramble", { max_tokens: 80, stream: true })))) as Array<Chunk | "[DONE]">;
    const data = chunks.filter((c): c is Chunk => c !== "[DONE]");
    expect(data.flatMap((c) => c.choices[0]?.tool_call_errors ?? [])).toEqual([]);
    expect(data.map((c) => (c.choices[0]?.delta as { content?: string } | undefined)?.content ?? "").join("")).not.toContain("<tool_call>");
    expect(data.at(-1)?.choices[0]?.finish_reason).toBe("length");
  });

  it("without a grammar: a malformed block stays in content verbatim and is reported, both ways", async () => {
    // Under auto the grammar would keep the arguments JSON; an unconstrained server gets the block verbatim.
    const engine = createHermesMockEngine({ script, sequences: 1 });
    const chat = new ChatService({ engine, format: createHermesChatFormat() });
    const plain = await startServer({ modelId: "m", host: "127.0.0.1", port: 0, parallel: 1, log: () => undefined, backend: { engine, chat } });
    try {
      const body = (await (await post(`${plain.url}/v1/chat/completions`, ask("broken"))).json()) as Record<string, any>;
      expect(body.choices[0].message.content).toBe(BROKEN);
      expect(body.choices[0].tool_call_errors).toEqual([expect.objectContaining({ kind: "invalid_json", raw: BROKEN, closed: true })]);
      expect(body.choices[0].finish_reason).toBe("stop");
      const chunks = (await readSse(await post(`${plain.url}/v1/chat/completions`, ask("broken", { stream: true })))) as Array<Chunk | "[DONE]">;
      const errors = chunks.flatMap((c) => (c === "[DONE]" ? [] : (c.choices[0]?.tool_call_errors ?? [])));
      expect(errors).toEqual([expect.objectContaining({ kind: "invalid_json", raw: BROKEN })]);
    } finally {
      await plain.close();
    }
  });

  it("the openai SDK's stream helper accepts the extra chunk: the final message holds the raw text", async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "none", maxRetries: 0 });
    const stream = client.chat.completions.stream({ model: "m", messages: [{ role: "user", content: "delete" }], tools: [WEATHER_TOOL] });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe(`On it.\n${DELETE}`);
    expect(final.choices[0]?.message.tool_calls ?? []).toEqual([]);
    expect(final.choices[0]?.finish_reason).toBe("stop");
  });
});
