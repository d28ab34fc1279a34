/**
 * `talaria serve --model F.gguf --engine llama-server`: the OpenAI-compatible server on a managed
 * llama-server child (REAL binary: scripts/llama-server.sh) answers a chat completion with a tool call
 * on the scripted tool model, streamed and not, and the tool result turn; stopping the server stops the
 * child. Skips when the binary is missing, except under CI=true, where it fails.
 */
import { existsSync } from "node:fs";
import { Command } from "commander";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { register, runServe, type RunServeResult, type ServeFlags } from "../../src/cli/commands/serve.js";
import { ManagedLlamaServerEngine } from "../../src/engine/remote/index.js";
import { ensureTestModel } from "../../src/testmodels/index.js";
import { PARIS_CALL, WEATHER_TOOL } from "../standalone/server-helpers.js";
import { findLlamaServer, llamaServerRequired } from "../support/llama-server.js";

const found = findLlamaServer();
const ANSWER = "It is 21°C and sunny in Paris ☀";

describe("talaria serve --engine flags", () => {
  it("serve has --engine and --llama-server-bin", () => {
    const program = new Command();
    register(program);
    const serve = program.commands.find((c) => c.name() === "serve");
    const names = serve?.options.map((o) => o.long) ?? [];
    expect(names).toContain("--engine");
    expect(names).toContain("--llama-server-bin");
  });

  it("refuses --engine with --backend, and an unknown engine", async () => {
    const base: ServeFlags = { host: "127.0.0.1", port: 0, maxQueue: 4, timeout: 10, profile: "auto", style: "card" };
    await expect(runServe({ ...base, backend: ["http://127.0.0.1:9"], engine: "llama-server" }, () => undefined)).rejects.toThrow(/--engine picks the engine of --model/);
    const running = await runServe({ ...base, model: "/nonexistent.gguf", engine: "vllm" }, () => undefined);
    await expect(running.engine).rejects.toThrow(/--engine must be embedded or llama-server/);
    await running.stop();
  });
});

describe.skipIf("missing" in found && !llamaServerRequired())("talaria serve --engine llama-server", () => {
  let running: RunServeResult;
  let client: OpenAI;
  let pid: number | undefined;
  const logs: string[] = [];

  beforeAll(async () => {
    if ("missing" in found) throw new Error(found.missing);
    const model = await ensureTestModel({ kind: "scripted", reply: PARIS_CALL, afterToolReply: ANSWER });
    const flags: ServeFlags = {
      model, engine: "llama-server", llamaServerBin: found.path, parallel: 2, contextSize: 1024, threads: 1, gpu: "off",
      host: "127.0.0.1", port: 0, maxQueue: 8, timeout: 60, profile: "hermes-3", style: "card",
    };
    running = await runServe(flags, (l) => logs.push(l));
    const engine = await running.engine;
    expect(engine).toBeInstanceOf(ManagedLlamaServerEngine);
    pid = (engine as ManagedLlamaServerEngine).server?.pid;
    client = new OpenAI({ baseURL: `${running.server.url}/v1`, apiKey: "none", maxRetries: 0, timeout: 60_000 });
  });
  afterAll(async () => {
    await running?.stop();
  });

  it("answers a chat completion with a tool call, then the tool result turn", async () => {
    expect(logs.some((l) => /model ready: .*on a managed llama-server; .*2 sequence\(s\) of 1024 tokens/.test(l))).toBe(true);
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Paris?" }];
    const first = await client.chat.completions.create({ model: "m", messages, tools: [WEATHER_TOOL], temperature: 0 });
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    const call = first.choices[0]?.message.tool_calls?.[0];
    if (call?.type !== "function") throw new Error("expected a function tool call");
    expect(call.id).toMatch(/^call_/);
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris" });

    const streamed = await client.chat.completions.create({ model: "m", messages, tools: [WEATHER_TOOL], temperature: 0, stream: true });
    let args = "";
    let finish: string | null | undefined;
    for await (const c of streamed) {
      for (const d of c.choices[0]?.delta.tool_calls ?? []) args += d.function?.arguments ?? "";
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe("tool_calls");
    expect(JSON.parse(args)).toEqual({ city: "Paris" });

    messages.push(first.choices[0]!.message, { role: "tool", tool_call_id: call.id, content: '{"temperature": 21}' });
    const second = await client.chat.completions.create({ model: "m", messages, tools: [WEATHER_TOOL], temperature: 0 });
    expect(second.choices[0]?.message.content).toBe(ANSWER);
    expect(second.choices[0]?.finish_reason).toBe("stop");
  });

  it("stopping the server stops the child", async () => {
    expect(pid).toBeGreaterThan(0);
    expect(existsSync(`/proc/${String(pid)}`)).toBe(true);
    await running.stop();
    expect(existsSync(`/proc/${String(pid)}`)).toBe(false);
  });
});
