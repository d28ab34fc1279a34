/**
 * `talaria chat -p` on scripted models whose reply is a `<tool_call>`: the call is printed parsed,
 * for both token types of the tool tags; and a multi-turn session feeds a tool result back.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { ChatSession } from "../../src/cli/commands/chat.js";
import { createLlamaCppEngine } from "../../src/engine/llama-cpp/index.js";
import { ensureTestModel } from "../../src/testmodels/index.js";

const REPLY = '<tool_call>\n{"arguments": {"city": "Paris"}, "name": "get_weather"}\n</tool_call>';
const AFTER = "It is 18 °C in Paris.";
const TOOLS = [{ type: "function", function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }];

let dir: string;
let toolsFile: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "talaria-hermes-chat-"));
  toolsFile = path.join(dir, "tools.json");
  await writeFile(toolsFile, JSON.stringify(TOOLS));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function captureStdout(run: () => Promise<void>): Promise<string> {
  const chunks: string[] = [];
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    await run();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return chunks.join("");
}

for (const toolTokenType of ["control", "user"] as const) {
  describe(`talaria chat -p (tool tags ${toolTokenType})`, () => {
    it("prints the parsed tool call, not the raw markup", async () => {
      const model = await ensureTestModel({ kind: "scripted", reply: REPLY, afterToolReply: AFTER, toolTokenType });
      const out = await captureStdout(() =>
        main(["node", "talaria", "chat", "--model", model, "--tools", toolsFile, "--threads", "1", "--context-size", "2048", "--temperature", "0", "-p", "Weather in Paris?"]),
      );
      expect(out).toMatch(/^\n?\[tool call call_[A-Za-z0-9]{24}\] get_weather \{"city": "Paris"\}\n\n$/);
      expect(out).not.toContain("<tool_call>");
    });

    it("a session answers the call with /tool semantics and the model continues", async () => {
      const model = await ensureTestModel({ kind: "scripted", reply: REPLY, afterToolReply: AFTER, toolTokenType });
      const engine = await createLlamaCppEngine({ model, threads: 1, contextSize: 2048 });
      try {
        let text = "";
        const session = new ChatSession({ engine, tools: TOOLS as never, output: { write: (t) => (text += t) }, sampling: { temperature: 0 } });
        const first = await session.send("Weather in Paris?");
        expect(first.toolCalls.map((c) => [c.name, c.arguments])).toEqual([["get_weather", '{"city": "Paris"}']]);
        expect(session.pendingToolCalls()).toHaveLength(1);
        const second = await session.sendToolResult('{"temperature": 18}');
        expect(second?.content).toBe(AFTER);
        expect(second?.toolCalls).toEqual([]);
        expect(text).toContain(AFTER);
      } finally {
        await engine.dispose();
      }
    });
  });
}
