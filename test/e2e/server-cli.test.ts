/**
 * The `talaria serve` binary as users run it (`bin/talaria.js` → `dist/`, built by `npm run build`, which
 * `npm ci` runs through `prepare`), driven with the official openai SDK.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import OpenAI from "openai";
import { ensureTestModel } from "../../src/testmodels/index.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bin = path.join(repoRoot, "bin", "talaria.js");
const built = existsSync(path.join(repoRoot, "dist", "cli", "main.js"));

const CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
const ANSWER = "Sunny, 21 degrees.";
const TOOL = {
  type: "function" as const,
  function: { name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
};

interface Spawned {
  readonly child: ChildProcessWithoutNullStreams;
  stderr(): string;
  exited: Promise<number | null>;
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
}

function spawnTalaria(args: string[], env: Record<string, string | undefined> = {}): Spawned {
  const child = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, env: { ...process.env, ...env } });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    stderr: () => err,
    exited,
    waitFor: async (pattern, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(err);
        if (m !== null) return m;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no ${pattern} in talaria's stderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

describe.runIf(built)("talaria serve (the binary)", () => {
  it("serves a tool round trip to the openai SDK, with the API key, and stops on SIGTERM", async () => {
    const model = await ensureTestModel({ kind: "scripted", reply: CALL, afterToolReply: ANSWER });
    const t = spawnTalaria(["serve", "--model", model, "--port", "0", "--threads", "1", "--gpu", "off", "--parallel", "2", "--context-size", "1024", "--api-key", "k-123"]);
    try {
      const url = (await t.waitFor(/listening on (http:\/\/[\d.]+:\d+)/, 30_000))[1]!;
      await t.waitFor(/model ready/, 120_000);
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "k-123", maxRetries: 0 });
      const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Paris?" }];
      const first = await client.chat.completions.stream({ model: "x", messages, tools: [TOOL] }).finalChatCompletion();
      const message = first.choices[0]!.message;
      const call = message.tool_calls?.[0];
      if (call?.type !== "function") throw new Error("expected a tool call");
      expect(first.choices[0]?.finish_reason).toBe("tool_calls");
      expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris" });
      messages.push(message as OpenAI.ChatCompletionMessageParam, { role: "tool", tool_call_id: call.id, content: "21C" });
      const second = await client.chat.completions.create({ model: "x", messages, tools: [TOOL] });
      expect(second.choices[0]?.message.content).toBe(ANSWER);
      await expect(new OpenAI({ baseURL: `${url}/v1`, apiKey: "nope", maxRetries: 0 }).models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
      t.child.kill("SIGTERM");
      expect(await t.exited).toBe(0);
    } finally {
      if (t.child.exitCode === null) t.child.kill("SIGKILL");
    }
  });

  it("without network and without --model: listens, then exits 1 with one line giving the commands to make and serve a test model", async () => {
    const t = spawnTalaria(["serve", "--port", "0"], {
      HF_ENDPOINT: "http://127.0.0.1:9/",
      MODEL_ENDPOINT: undefined,
      XDG_CACHE_HOME: path.join(repoRoot, "test-output", "server-cli-cache"),
    });
    try {
      expect(await t.exited).toBe(1);
      const errors = t.stderr().split("\n").filter((l) => l.startsWith("talaria serve:") && !l.includes("listening on"));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/--model/);
      expect(errors[0]).toContain("`talaria make-test-model --kind scripted --out model.gguf` then `talaria serve --model model.gguf`");
      expect(t.stderr()).toMatch(/^talaria serve: listening on http:\/\/127\.0\.0\.1:\d+ .*loading the model/);
    } finally {
      if (t.child.exitCode === null) t.child.kill("SIGKILL");
    }
  });
});

describe.runIf(!built)("talaria serve (the binary)", () => {
  it("needs `npm run build` first (`npm ci` runs it)", () => {
    expect.fail("dist/cli/main.js is missing: run `npm run build` before the e2e tests");
  });
});
