/**
 * `talaria run` and `talaria json` in-process (commander wiring included) on generated scripted
 * models, with the shipped examples/tools.ts (TypeScript, transpiled on load).
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runCli } from "../support/cli.js";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { register as registerJson } from "../../src/cli/commands/json.js";
import { register as registerRun } from "../../src/cli/commands/run.js";
import { ensureTestModel } from "../../src/testmodels/index.js";

const TOOLS_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../examples/tools.ts");

const cli = (args: string[]) => runCli([registerRun, registerJson], args);
afterEach(() => vi.restoreAllMocks());

describe("talaria run", () => {
  let model: string;
  beforeAll(async () => {
    model = await ensureTestModel({
      kind: "scripted",
      reply: 'I will compute it.\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "2 * (3 + 4)"}}\n</tool_call>',
      afterToolReply: "The result is 14.",
    });
  });
  const base = () => ["run", "--model", model, "--tools", TOOLS_FILE, "--threads", "1", "--context-size", "2048", "--temperature", "0", "--max-tokens", "64"];

  it("prints each step (text, call with arguments, result) and the answer, once", async () => {
    const { stdout, code } = await cli([...base(), "What is 2 * (3 + 4)?"]);
    expect(code).toBe(0);
    expect(stdout).toContain("── step 1\nI will compute it.\n");
    expect(stdout).toContain('→ calculator {"expression": "2 * (3 + 4)"}\n');
    expect(stdout).toContain('← calculator {"expression":"2 * (3 + 4)","result":14}\n');
    // The answer is the last step's streamed text: it is not printed again after the summary line.
    expect(stdout).toMatch(/── step 2\nThe result is 14.\n── final-answer after 2 steps \(\d+ prompt \+ \d+ completion tokens\)\n$/);
    expect(stdout.split("The result is 14.")).toHaveLength(2);
  });

  it("--json prints the whole trace as one JSON document", async () => {
    const { stdout, code } = await cli([...base(), "--json", "What is 2 * (3 + 4)?"]);
    expect(code).toBe(0);
    const doc = JSON.parse(stdout) as { reason: string; answer: string; steps: number; profile: string; trace: { type: string; result?: unknown }[]; messages: { role: string }[] };
    expect(doc).toMatchObject({ reason: "final-answer", answer: "The result is 14.", steps: 2, profile: "hermes-3-llama-3.2-3b" });
    expect(doc.trace.find((e) => e.type === "tool-result")?.result).toEqual({ expression: "2 * (3 + 4)", result: 14 });
    expect(doc.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
  });

  it("--max-depth 1 stops after the first tool round with exit code 2", async () => {
    const { code, stderr } = await cli([...base(), "--max-depth", "1", "--tool-choice", "required", "2*(3+4)?"]);
    expect(code).toBe(2);
    expect(stderr).toContain("stopped after --max-depth 1 tool rounds");
  });
});

describe("talaria json", () => {
  let model: string;
  let dir: string;
  beforeAll(async () => {
    model = await ensureTestModel({ kind: "scripted", reply: '{"name": "Ada Lovelace", "born": 1815}' });
    dir = await mkdtemp(path.join(os.tmpdir(), "talaria-json-cli-"));
  });
  const base = () => ["json", "--model", model, "--threads", "1", "--context-size", "1024", "--temperature", "0", "--max-tokens", "48"];

  it("prints JSON valid against the schema", async () => {
    const schema = path.join(dir, "person.json");
    await writeFile(schema, JSON.stringify({ type: "object", properties: { name: { type: "string" }, born: { type: "integer" } }, required: ["name", "born"] }));
    const { stdout, code } = await cli([...base(), "--schema", schema, "Who wrote the first program?"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ name: "Ada Lovelace", born: 1815 });
    const compact = await cli([...base(), "--schema", schema, "--compact", "Who?"]);
    expect(compact.stdout).toBe('{"name":"Ada Lovelace","born":1815}\n');
  });

  it("without --schema: any JSON object", async () => {
    const { stdout, code } = await cli([...base(), "Who?"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ name: "Ada Lovelace", born: 1815 });
  });

  it("an answer the schema rejects is an error (unconstrained), and valid once constrained", async () => {
    const schema = path.join(dir, "strict.json");
    await writeFile(
      schema,
      JSON.stringify({ type: "object", properties: { name: { type: "string", maxLength: 12 }, born: { type: "string", maxLength: 4 } }, required: ["name", "born"], additionalProperties: false }),
    );
    const free = await cli([...base(), "--schema", schema, "--no-constrained", "Who?"]);
    expect(free.code).toBe(1);
    expect(free.stdout).toBe("");
    expect(free.stderr).toContain("the answer does not match the schema: /born must be string");
    const constrained = await cli([...base(), "--schema", schema, "Who?"]);
    expect(constrained.code, constrained.stderr).toBe(0);
    const value = JSON.parse(constrained.stdout) as { name: string; born: unknown };
    expect(typeof value.born).toBe("string");
    expect(value.name).toBe("Ada Lovelace");
  });
});
