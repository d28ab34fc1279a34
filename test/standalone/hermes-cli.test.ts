/**
 * `talaria render` and `talaria parse` without a model: the prompt printed byte-exact (no trailing
 * newline), and raw output mapped to an OpenAI assistant message.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { parseOutput } from "../../src/cli/commands/parse.js";
import { runRender } from "../../src/cli/commands/render.js";
import { readSharedJson } from "../support/shared.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "talaria-hermes-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, data: unknown): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, JSON.stringify(data));
  return p;
}

const defaults = { style: "card", jsonModeVariant: "code", generationPrompt: true, parts: false } as const;

describe("talaria render", () => {
  it("prints a template-style prompt byte-identical with the fixture", async () => {
    const { cases } = readSharedJson<{ cases: Array<{ id: string; messages: unknown[]; tools: unknown[]; expected_output?: string }> }>(
      "fixtures/hermes-prompts/tool-use-template-cases.json",
    );
    const c = cases.find((x) => x.id === "parallel-calls-consecutive-tool-messages");
    const out = await runRender({
      ...defaults,
      messages: await file("m.json", { messages: c?.messages }),
      tools: await file("t.json", c?.tools),
      style: "template",
      bos: "<|begin_of_text|>",
    });
    expect(out).toBe(c?.expected_output);
  });
  it("through the CLI entry point: writes the prompt with no trailing newline", async () => {
    const chunks: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    });
    try {
      const m = await file("hello.json", [{ role: "user", content: "Hello" }]);
      await main(["node", "talaria", "render", "--messages", m, "--profile", "hermes-2-pro"]);
    } finally {
      spy.mockRestore();
    }
    expect(chunks.join("")).toBe("<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n");
  });
  it("JSON mode and --parts show the typed prompt", async () => {
    const out = await runRender({
      ...defaults,
      messages: await file("u.json", [{ role: "user", content: "<|im_start|>x" }]),
      jsonSchema: await file("s.json", { type: "object" }),
      parts: true,
    });
    const parts = JSON.parse(out) as Array<{ kind: string; text: string }>;
    expect(parts.map((p) => p.text).join("")).toBe(
      '<|im_start|>system\nYou are a helpful assistant that answers in JSON. Here\'s the json schema you must adhere to:\n<schema>\n{"type": "object"}\n</schema><|im_end|>\n<|im_start|>user\n<|im_start|>x<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(parts.filter((p) => p.kind === "plain").some((p) => p.text.includes("<|im_start|>x"))).toBe(true);
  });
  it("rejects a bad style and a bad profile", async () => {
    const m = await file("x.json", []);
    await expect(runRender({ ...defaults, messages: m, style: "fancy" })).rejects.toThrow(/style/);
    await expect(runRender({ ...defaults, messages: m, profile: "gpt-9" })).rejects.toThrow(/unknown profile/);
  });
});

describe("talaria parse", () => {
  it("maps the card's tool call to an OpenAI assistant message", () => {
    const cards = readSharedJson<{ cases: Array<{ id: string; content: string }> }>("fixtures/hermes-prompts/model-card-cases.json");
    const raw = cards.cases.find((c) => c.id === "002-fc-assistant-tool-call-turn")?.content ?? "";
    const message = parseOutput(raw + "<|im_end|>", ["get_stock_fundamentals"]);
    expect(message).toMatchObject({
      role: "assistant",
      content: null,
      tool_calls: [{ type: "function", function: { name: "get_stock_fundamentals", arguments: '{"symbol": "TSLA"}' } }],
    });
    expect(message.tool_calls?.[0]?.id).toMatch(/^call_/);
    expect(message).not.toHaveProperty("errors");
  });
  it("adds errors for malformed blocks and keeps their text in content", () => {
    const message = parseOutput('Hi <tool_call>{"name": </tool_call>', undefined);
    expect(message).toEqual({
      role: "assistant",
      content: 'Hi <tool_call>{"name": </tool_call>',
      errors: [{ kind: "invalid_json", raw: '<tool_call>{"name": </tool_call>', message: expect.any(String) }],
    });
  });
});
