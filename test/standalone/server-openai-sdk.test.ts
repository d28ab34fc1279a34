/** The official `openai` SDK against an in-process Talaria server over the mock engine. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { PARIS_CALL, WEATHER_TOOL, startMockServer, type MockServer } from "./server-helpers.js";

const GEN = "<|im_start|>assistant\n";

function script(prompt: string): string | undefined {
  if (prompt.includes("</tool_response>")) {
    // Both tool-result roles are accepted here; the role itself is checked in its own test.
    return "It is 21°C and sunny in Paris.";
  }
  if (prompt.includes("<tools>")) return `Checking.\n${PARIS_CALL}`;
  if (prompt.endsWith(`Say hello<|im_end|>\n${GEN}`)) return "Hello from Talaria 👋";
  if (prompt.endsWith(`json please<|im_end|>\n${GEN}`)) return '{"answer": 42}';
  return undefined;
}

describe("openai SDK → talaria serve (mock engine)", () => {
  let server: MockServer;
  let client: OpenAI;

  beforeAll(async () => {
    server = await startMockServer({ engine: { script, tokenDelayMs: 0 }, server: { apiKey: "sk-test" } });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it("completions with echo and logprobs: the prompt's tokens first (the first without a value), text_offset across prompt and reply", async () => {
    const prompt = "<|im_start|>user\nSay hello<|im_end|>\n<|im_start|>assistant\n";
    const r = await client.completions.create({ model: "m", prompt, max_tokens: 5, echo: true, logprobs: 1 });
    const choice = r.choices[0];
    const lp = choice?.logprobs;
    expect(choice?.text.startsWith(prompt)).toBe(true);
    const tokens = lp?.tokens ?? [];
    expect(tokens.join("")).toBe(choice?.text);
    expect(lp?.token_logprobs?.[0]).toBeNull();
    expect(lp?.token_logprobs?.slice(1).every((v) => typeof v === "number")).toBe(true);
    let offset = 0;
    tokens.forEach((t, i) => {
      expect(lp?.text_offset?.[i]).toBe(offset);
      offset += t.length;
    });
    // Streamed: the offsets continue across chunks.
    const stream = await client.completions.create({ model: "m", prompt, max_tokens: 5, echo: true, logprobs: 1, stream: true });
    const offsets: number[] = [];
    let text = "";
    for await (const chunk of stream) {
      const l = chunk.choices[0]?.logprobs;
      offsets.push(...(l?.text_offset ?? []));
      text += chunk.choices[0]?.text ?? "";
    }
    expect(text).toBe(choice?.text);
    expect(offsets).toEqual(lp?.text_offset);
  });

  it("a tool call cut by max_tokens comes back as tool_calls with the arguments so far and finish_reason length (no markup in content)", async () => {
    const tools = [WEATHER_TOOL];
    const messages = [{ role: "user" as const, content: "Weather in Paris?" }];
    // The mock's tokens are bytes: "Checking.\n" + the call's first 50 bytes stop inside the arguments.
    const r = await client.chat.completions.create({ model: "m", messages, tools, max_tokens: 60 });
    expect(r.choices[0]?.finish_reason).toBe("length");
    const calls = r.choices[0]?.message.tool_calls ?? [];
    expect(calls.map((c) => (c.type === "function" ? c.function.name : ""))).toEqual(["get_weather"]);
    expect(r.choices[0]?.message.content ?? "").not.toContain("<tool_call>");
    const streamed = await client.chat.completions.create({ model: "m", messages, tools, max_tokens: 60, stream: true });
    let content = "";
    const names: string[] = [];
    let finish: string | null | undefined;
    for await (const chunk of streamed) {
      content += chunk.choices[0]?.delta.content ?? "";
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) if (call.function?.name) names.push(call.function.name);
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(names).toEqual(["get_weather"]);
    expect(finish).toBe("length");
    expect(content).not.toContain("<tool_call>");
  });

  it("an image or audio content part is a 400 saying this model takes text only", async () => {
    const image = client.chat.completions.create({ model: "m", messages: [{ role: "user", content: [{ type: "text", text: "what is this?" }, { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } }] }] });
    await expect(image).rejects.toMatchObject({ status: 400, param: "messages[0].content[1].type" });
    await expect(image).rejects.toThrow(/text only/);
    const audio = client.chat.completions.create({ model: "m", messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "AAAA", format: "wav" } }] }] });
    await expect(audio).rejects.toMatchObject({ status: 400, param: "messages[0].content[0].type" });
  });

  it("non-streaming chat", async () => {
    const r = await client.chat.completions.create({ model: "anything", messages: [{ role: "user", content: "Say hello" }] });
    expect(r.object).toBe("chat.completion");
    expect(r.model).toBe("talaria-mock");
    expect(r.choices[0]?.message).toMatchObject({ role: "assistant", content: "Hello from Talaria 👋" });
    expect(r.choices[0]?.finish_reason).toBe("stop");
    expect(r.usage?.completion_tokens).toBeGreaterThan(0);
    expect(r.usage?.total_tokens).toBe((r.usage?.prompt_tokens ?? 0) + (r.usage?.completion_tokens ?? 0));
  });

  it("streaming chat: role first, content deltas, finish, usage, [DONE]", async () => {
    const stream = await client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "Say hello" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe("Hello from Talaria 👋");
    const finishes = chunks.filter((c) => c.choices[0]?.finish_reason != null);
    expect(finishes).toHaveLength(1);
    expect(finishes[0]?.choices[0]?.finish_reason).toBe("stop");
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.completion_tokens).toBeGreaterThan(0);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  for (const profile of ["hermes-3", "hermes-3-llama-3.2-3b"] as const) {
    it(`full tool round trip, profile ${profile} (non-streaming)`, async () => {
      const s = await startMockServer({
        engine: {
          script: (p) => {
            const role = profile === "hermes-3" ? "tool" : "user";
            if (p.includes(`<|im_start|>${role}\n<tool_response>`)) return "It is 21°C and sunny in Paris.";
            if (p.includes("</tool_response>")) return "WRONG ROLE";
            return p.includes("<tools>") ? PARIS_CALL : undefined;
          },
        },
        format: { profile },
      });
      try {
        const c = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "none", maxRetries: 0 });
        const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Paris?" }];
        const first = await c.chat.completions.create({ model: "m", messages, tools: [WEATHER_TOOL] });
        const choice = first.choices[0]!;
        expect(choice.finish_reason).toBe("tool_calls");
        expect(choice.message.content).toBeNull();
        const call = choice.message.tool_calls?.[0];
        expect(call?.type).toBe("function");
        expect(call?.id).toMatch(/^call_[A-Za-z0-9]{24}$/);
        if (call?.type !== "function") throw new Error("expected a function call");
        expect(call.function.name).toBe("get_weather");
        expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris" });
        messages.push(choice.message, { role: "tool", tool_call_id: call.id, content: '{"temperature": 21, "sky": "sunny"}' });
        const second = await c.chat.completions.create({ model: "m", messages, tools: [WEATHER_TOOL] });
        expect(second.choices[0]?.message.content).toBe("It is 21°C and sunny in Paris.");
        expect(second.choices[0]?.finish_reason).toBe("stop");
      } finally {
        await s.close();
      }
    });
  }

  it("streams tool calls: index, id, type and name once, then argument fragments; the SDK accumulates them", async () => {
    const stream = await client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [WEATHER_TOOL],
      stream: true,
    });
    const deltas = [];
    let content = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      content += choice?.delta.content ?? "";
      deltas.push(...(choice?.delta.tool_calls ?? []));
      finish = choice?.finish_reason ?? finish;
    }
    expect(content.trim()).toBe("Checking.");
    expect(content).not.toContain("<tool_call>");
    expect(finish).toBe("tool_calls");
    expect(deltas[0]).toMatchObject({ index: 0, type: "function", function: { name: "get_weather" } });
    expect(deltas[0]?.id).toMatch(/^call_/);
    expect(deltas.slice(1).every((d) => d.id === undefined && d.function?.name === undefined)).toBe(true);
    expect(JSON.parse(deltas.map((d) => d.function?.arguments ?? "").join(""))).toEqual({ city: "Paris" });

    // The SDK's own stream helper accumulates the same deltas into a message.
    const runner = client.chat.completions.stream({ model: "m", messages: [{ role: "user", content: "Weather?" }], tools: [WEATHER_TOOL] });
    const final = await runner.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    if (call?.type !== "function") throw new Error("expected a function call");
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris" });
  });

  it("errors arrive as the SDK's typed errors: 400 (naming the field), 401", async () => {
    const bad = client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "x" }],
      temperature: 7,
    });
    await expect(bad).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await bad.catch((e: InstanceType<typeof OpenAI.BadRequestError>) => {
      expect(e.status).toBe(400);
      expect(e.param).toBe("temperature");
      expect(e.type).toBe("invalid_request_error");
    });
    const unknownTool = client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "x" }],
      tools: [WEATHER_TOOL],
      tool_choice: { type: "function", function: { name: "nope" } },
    });
    await expect(unknownTool).rejects.toMatchObject({ status: 400, param: "tool_choice" });

    const noKey = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "wrong", maxRetries: 0 });
    await expect(noKey.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["talaria-mock"]);
  });

  it("a full queue answers 429 (RateLimitError) with Retry-After", async () => {
    const s = await startMockServer({
      engine: { script: () => "x".repeat(200), tokenDelayMs: 2, sequences: 1 },
      server: { maxQueue: 0 },
    });
    try {
      const c = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "none", maxRetries: 0 });
      const busy = c.chat.completions.create({ model: "m", messages: [{ role: "user", content: "a" }] });
      await new Promise((r) => setTimeout(r, 50));
      const refused = c.chat.completions.create({ model: "m", messages: [{ role: "user", content: "b" }] });
      await expect(refused).rejects.toBeInstanceOf(OpenAI.RateLimitError);
      await refused.catch((e: InstanceType<typeof OpenAI.RateLimitError>) => {
        expect(Number(e.headers?.get("retry-after"))).toBeGreaterThanOrEqual(1);
      });
      expect((await busy).choices[0]?.message.content).toBe("x".repeat(200));
    } finally {
      await s.close();
    }
  });

  it("json_object response format returns the model's JSON", async () => {
    const r = await client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "json please" }],
      response_format: { type: "json_object" },
    });
    expect(JSON.parse(r.choices[0]?.message.content ?? "")).toEqual({ answer: 42 });
  });
});
