/**
 * `talaria run --mcp` in-process (commander wiring included) on generated scripted models that call
 * tools of real MCP servers over stdio (@modelcontextprotocol/server-filesystem confined to a temp dir,
 * server-everything, and the SDK fixture server): the call goes to the server, its answer reaches the
 * model, the model answers. Faults — a timeout, a server that exits mid-call, an isError result, a
 * result larger than the context, Ctrl-C mid-call — each give the model a tool error (or end the run)
 * cleanly, and no MCP child process outlives the run.
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runCli } from "../support/cli.js";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { register as registerRun } from "../../src/cli/commands/run.js";
import { runRun, type RunCommandOptions } from "../../src/cli/commands/run.js";
import { ensureTestModel } from "../../src/testmodels/index.js";
import { dynamicEntry, everythingEntry, filesystemEntry } from "../support/mcp.js";

const cli = (args: string[]) => runCli([registerRun], args);
afterEach(() => vi.restoreAllMocks());

/** Child processes of this process (Linux /proc). */
function children(): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === process.pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** JSON as Hermes writes it (Python's json.dumps separators: ", " and ": "). */
function pyJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pyJson).join(", ")}]`;
  if (typeof value === "object" && value !== null) return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pyJson(v)}`).join(", ")}}`;
  return JSON.stringify(value);
}
const call = (name: string, args: Record<string, unknown>): string => `<tool_call>\n${pyJson({ name, arguments: args })}\n</tool_call>`;
async function scripted(name: string, args: Record<string, unknown>, after = "Done."): Promise<string> {
  return ensureTestModel({ kind: "scripted", reply: call(name, args), afterToolReply: after });
}

let dir: string;
let config: string;
let slowConfig: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "talaria-mcp-run-"));
  await writeFile(path.join(dir, "notes.txt"), "Hermes 3 is a 3B model.\n");
  await writeFile(path.join(dir, "big.txt"), "lorem ipsum dolor sit amet ".repeat(8000));
  config = path.join(dir, "mcp.json");
  slowConfig = path.join(dir, "slow.json");
  await writeFile(slowConfig, JSON.stringify({ mcpServers: { everything: everythingEntry(60) } }));
  await writeFile(config, JSON.stringify({ mcpServers: { fs: filesystemEntry(dir), everything: everythingEntry(1), dyn: dynamicEntry() } }));
});

const base = (model: string) => ["run", "--model", model, "--mcp", config, "--threads", "1", "--context-size", "8192", "--temperature", "0", "--max-tokens", "96", "--json"];
interface Doc {
  reason: string;
  answer?: string;
  trace: { type: string; name?: string; kind?: string; message?: string; content?: string }[];
  messages: { role: string; content: string | null }[];
}

describe("talaria run --mcp on real MCP servers", () => {
  it("calls the filesystem server's read_text_file and answers from its result", async () => {
    const model = await scripted("read_text_file", { path: "notes.txt" }, "The notes say Hermes 3 is a 3B model.");
    const { stdout, code } = await cli([...base(model), "What do my notes say?"]);
    expect(code).toBe(0);
    const doc = JSON.parse(stdout) as Doc;
    expect(doc.reason).toBe("final-answer");
    expect(doc.answer).toBe("The notes say Hermes 3 is a 3B model.");
    expect(doc.trace.find((e) => e.type === "tool-result")).toMatchObject({ name: "read_text_file", content: "Hermes 3 is a 3B model.\n" });
    expect(doc.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(children()).toEqual([]);
  });

  it("the people's output shows the call and the result", async () => {
    const model = await scripted("get-sum", { a: 2, b: 40 }, "It is 42.");
    const { stdout, code } = await cli(base(model).filter((a) => a !== "--json").concat("What is 2 + 40?"));
    expect(code).toBe(0);
    expect(stdout).toContain('→ get-sum {"a": 2, "b": 40}');
    expect(stdout).toContain("← get-sum The sum of 2 and 40 is 42.");
  });

  const faults: [string, string, Record<string, unknown>, RegExp][] = [
    ["a call past the server's timeout", "trigger-long-running-operation", { duration: 30, steps: 30 }, /did not answer within 1 s/],
    ["a server that exits mid-call", "crash", {}, /the MCP server "dyn" went away during the call of crash/],
    ["an isError result", "read_text_file", { path: "/etc/passwd" }, /Access denied - path outside allowed directories/],
    ["a result larger than the context", "read_text_file", { path: "big.txt" }, /the result of read_text_file is (at least )?\d+ tokens \(216000 characters\); only \d+ fit in the context: ask for less/],
  ];
  for (const [what, name, args, message] of faults) {
    it(`${what}: a tool error the model reads, then its answer`, async () => {
      const model = await scripted(name, args, "The tool failed.");
      const started = Date.now();
      const { stdout, code } = await cli([...base(model), "Go."]);
      expect(code).toBe(0);
      const doc = JSON.parse(stdout) as Doc;
      const error = doc.trace.find((e) => e.type === "tool-error");
      expect(error?.message).toMatch(message);
      const tool = doc.messages.find((m) => m.role === "tool");
      expect(JSON.parse(tool?.content ?? "{}")).toEqual({ error: error?.message });
      expect(doc).toMatchObject({ reason: "final-answer", answer: "The tool failed." });
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(children()).toEqual([]);
    });
  }

  it("Ctrl-C during a call ends the run at once (exit 130) and ends the servers", async () => {
    const model = await scripted("trigger-long-running-operation", { duration: 30, steps: 30 });
    const abort = new AbortController();
    let out = "";
    const io = { stdout: { write: (t: string) => (out += t) }, stderr: { write: () => true }, signal: abort.signal };
    const options: RunCommandOptions = {
      model, mcp: [slowConfig], style: "card", maxDepth: 5, toolChoice: "auto", parallelToolCalls: true, constrained: true, maxTokens: 96, temperature: 0, threads: 1, contextSize: 8192,
    };
    const running = runRun("Go.", options, io);
    const started = Date.now();
    const poll = setInterval(() => {
      if (out.includes("→ trigger-long-running-operation")) {
        clearInterval(poll);
        abort.abort();
      }
    }, 20);
    const code = await running;
    clearInterval(poll);
    expect(code).toBe(130);
    expect(out).toContain("── abort after 1 step");
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(children()).toEqual([]);
  });
});
