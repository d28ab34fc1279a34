/**
 * `talaria serve` end to end on generated GGUF models and the real llama.cpp engine, driven with the
 * official `openai` SDK: tool round trips in both profiles (and both tool-token types), JSON schema on
 * the random model, concurrent streams and disconnects.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { ensureTestModel } from "../../src/testmodels/index.js";
import { runServe, type RunServeResult, type ServeFlags } from "../../src/cli/commands/serve.js";

const WEATHER_TOOL = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};
const CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
const ANSWER = "It is 21°C and sunny in Paris ☀";

function flags(model: string, extra: Partial<ServeFlags> = {}): ServeFlags {
  return {
    model,
    host: "127.0.0.1",
    port: 0,
    parallel: 2,
    contextSize: 1024,
    threads: 1,
    gpu: "off",
    maxQueue: 8,
    timeout: 120,
    profile: "auto",
    style: "card",
    ...extra,
  };
}

async function serve(model: string, extra: Partial<ServeFlags> = {}): Promise<{ running: RunServeResult; client: OpenAI }> {
  const running = await runServe(flags(model, extra), () => undefined);
  await running.engine;
  return { running, client: new OpenAI({ baseURL: `${running.server.url}/v1`, apiKey: "none", maxRetries: 0 }) };
}

async function toolRoundTrip(client: OpenAI, stream: boolean): Promise<void> {
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Paris?" }];
  let message: OpenAI.ChatCompletionMessage;
  if (stream) {
    const runner = client.chat.completions.stream({ model: "m", messages, tools: [WEATHER_TOOL], temperature: 0 });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.finish_reason).toBe("tool_calls");
    message = final.choices[0]!.message as OpenAI.ChatCompletionMessage;
  } else {
    const first = await client.chat.completions.create({ model: "m", messages, tools: [WEATHER_TOOL], temperature: 0 });
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    message = first.choices[0]!.message;
  }
  expect(message.content ?? "").toBe("");
  const call = message.tool_calls?.[0];
  if (call?.type !== "function") throw new Error("expected a function tool call");
  expect(call.function.name).toBe("get_weather");
  expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris" });
  messages.push(message, { role: "tool", tool_call_id: call.id, content: '{"temperature": 21}' });
  const second = await client.chat.completions.create({ model: "m", messages, tools: [WEATHER_TOOL], temperature: 0 });
  expect(second.choices[0]?.message.content).toBe(ANSWER);
  expect(second.choices[0]?.finish_reason).toBe("stop");
  expect(second.usage?.prompt_tokens).toBeGreaterThan(100);
}

describe("talaria serve on a scripted model (llama.cpp)", () => {
  // Both profiles (tool results in the `tool` / `user` role) and both GGUF types of the tool tags.
  for (const [profile, toolTokenType] of [
    ["hermes-3", "control"],
    ["hermes-3-llama-3.2-3b", "user"],
  ] as const) {
    {
      it(`tool round trip: profile ${profile}, ${toolTokenType} tool tokens (non-streaming and streaming)`, async () => {
        const model = await ensureTestModel({ kind: "scripted", reply: CALL, afterToolReply: ANSWER, toolTokenType });
        const { running, client } = await serve(model, { profile });
        try {
          await toolRoundTrip(client, false);
          await toolRoundTrip(client, true);
        } finally {
          await running.stop();
        }
      });
    }
  }
});

describe("talaria serve on the random model (llama.cpp)", () => {
  let running: RunServeResult;
  let client: OpenAI;
  let url: string;
  beforeAll(async () => {
    const model = await ensureTestModel({ kind: "random" });
    ({ running, client } = await serve(model, { parallel: 4, contextSize: 512 }));
    url = running.server.url;
  });
  afterAll(async () => {
    await running.stop();
  });

  it("json_schema (strict) returns JSON valid against the schema", async () => {
    const schema = {
      type: "object",
      properties: { ok: { type: "boolean" }, level: { type: "string", enum: ["low", "mid", "high"] } },
      required: ["ok", "level"],
      additionalProperties: false,
    };
    for (const seed of [1, 2]) {
      const r = await client.chat.completions.create({
        model: "m",
        seed,
        max_tokens: 120,
        messages: [{ role: "user", content: "Report your status." }],
        response_format: { type: "json_schema", json_schema: { name: "status", schema, strict: true } },
      });
      expect(r.choices[0]?.finish_reason).toBe("stop");
      const value = JSON.parse(r.choices[0]?.message.content ?? "") as Record<string, unknown>;
      expect(Object.keys(value).sort()).toEqual(["level", "ok"]);
      expect(typeof value.ok).toBe("boolean");
      expect(["low", "mid", "high"]).toContain(value.level);
    }
  });

  it("tool_choice required / named force a schema-valid Hermes tool call out of the random model", async () => {
    const tool = {
      type: "function" as const,
      function: {
        name: "set_mode",
        description: "Set the mode",
        parameters: {
          type: "object",
          properties: { mode: { type: "string", enum: ["fast", "slow"] }, on: { type: "boolean" } },
          required: ["mode", "on"],
          additionalProperties: false,
        },
        strict: true,
      },
    };
    const other = { type: "function" as const, function: { name: "noop", description: "Nothing", parameters: { type: "object", properties: {} } } };
    for (const tool_choice of ["required", { type: "function" as const, function: { name: "set_mode" } }] as const) {
      const r = await client.chat.completions.create({
        model: "m",
        seed: 3,
        max_tokens: 120,
        messages: [{ role: "user", content: "Switch modes." }],
        tools: tool_choice === "required" ? [tool] : [other, tool],
        tool_choice,
        parallel_tool_calls: false,
      });
      expect(r.choices[0]?.finish_reason).toBe("tool_calls");
      const call = r.choices[0]?.message.tool_calls?.[0];
      if (call?.type !== "function") throw new Error("expected a function call");
      expect(call.function.name).toBe("set_mode");
      const args = JSON.parse(call.function.arguments) as Record<string, unknown>;
      expect(Object.keys(args).sort()).toEqual(["mode", "on"]);
      expect(["fast", "slow"]).toContain(args.mode);
      expect(typeof args.on).toBe("boolean");
      expect(r.choices[0]?.message.content ?? "").not.toContain("<tool_call>");
    }
  });

  it("4 concurrent streams complete with usage; a disconnect frees its sequence", async () => {
    const streams = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        client.chat.completions.create({
          model: "m",
          seed: i,
          max_tokens: 24,
          stream: true,
          stream_options: { include_usage: true },
          messages: [{ role: "user", content: `stream ${i}` }],
        }),
      ),
    );
    const results = await Promise.all(
      streams.map(async (s) => {
        let text = "";
        let usage: OpenAI.CompletionUsage | undefined | null;
        let finish: string | null | undefined;
        for await (const chunk of s) {
          text += chunk.choices[0]?.delta.content ?? "";
          finish = chunk.choices[0]?.finish_reason ?? finish;
          usage = chunk.usage ?? usage;
        }
        return { text, usage, finish };
      }),
    );
    for (const r of results) {
      expect(["length", "stop"]).toContain(r.finish);
      expect(r.usage?.completion_tokens).toBeGreaterThan(0);
      expect(r.usage?.completion_tokens).toBeLessThanOrEqual(24);
    }

    const controller = new AbortController();
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", stream: true, max_tokens: 400, messages: [{ role: "user", content: "go on" }] }),
      signal: controller.signal,
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    controller.abort();
    let busy = -1;
    for (let i = 0; i < 200; i++) {
      const text = await (await fetch(`${url}/metrics`)).text();
      busy = Number(/^talaria:num_sequences_busy (\d+)/m.exec(text)?.[1] ?? -1);
      if (busy === 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(busy).toBe(0);
  });

  it("a prompt longer than the context is a 400 BadRequestError with code context_length_exceeded", async () => {
    const long = "word ".repeat(800);
    const r = client.chat.completions.create({ model: "m", messages: [{ role: "user", content: long }] });
    await expect(r).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await r.catch((e: InstanceType<typeof OpenAI.BadRequestError>) => expect(e.code).toBe("context_length_exceeded"));
  });
});
