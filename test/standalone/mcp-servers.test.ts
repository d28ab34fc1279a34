/**
 * The MCP client and toolset against real MCP servers over stdio (no model): tool lists, calls,
 * results, namespacing, tools/list_changed, unenforceable schemas, and the faults — isError, a timeout,
 * a server that exits mid-call (and is started again), a cancelled call, no orphan child after close.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseMcpConfig } from "../../src/mcp/config.js";
import { McpToolset } from "../../src/mcp/toolset.js";
import { McpConnectionError } from "../../src/mcp/connection.js";
import { McpToolResultError } from "../../src/mcp/result.js";
import { runServe } from "../../src/cli/commands/serve.js";
import { EVERYTHING_SERVER, alive, dynamicEntry, everythingEntry, filesystemEntry, waitFor } from "../support/mcp.js";

let dir: string;
const open: McpToolset[] = [];
async function start(servers: Record<string, unknown>, log?: (line: string) => void): Promise<McpToolset> {
  const set = await McpToolset.start(parseMcpConfig({ mcpServers: servers }), log === undefined ? {} : { log });
  open.push(set);
  return set;
}
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "talaria-mcp-"));
  await writeFile(path.join(dir, "notes.txt"), "Hermes 3 is a 3B model.\n");
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe("MCP toolset on real servers", () => {
  it("lists both servers' tools, calls them, and reports the schema the grammar cannot enforce once", async () => {
    const lines: string[] = [];
    const set = await start({ everything: everythingEntry(), fs: filesystemEntry(dir) }, (l) => lines.push(l));
    const servers = set.servers();
    expect(servers.map((s) => [s.label, s.state, s.transport])).toEqual([["everything", "ready", "stdio"], ["fs", "ready", "stdio"]]);
    expect(servers[1]?.tools.map((t) => t.name)).toContain("read_text_file");
    expect(await set.call("get-sum", { a: 2, b: 3 })).toBe("The sum of 2 and 3 is 5.");
    expect(await set.call("read_text_file", { path: path.join(dir, "notes.txt") })).toBe("Hermes 3 is a 3B model.\n");
    const gzip = set.tool("gzip-file-as-resource");
    expect(gzip).toMatchObject({ enforcement: "validation", unenforced: { keyword: "format", path: "#/properties/data" } });
    expect(lines.filter((l) => l.includes("cannot be enforced"))).toEqual([
      expect.stringContaining('MCP server "everything": tool "gzip-file-as-resource": its input schema cannot be enforced by the grammar (keyword "format" at #/properties/data)'),
    ]);
    set.refresh();
    expect(lines.filter((l) => l.includes("cannot be enforced"))).toHaveLength(1);
    expect(set.agentTools().find((t) => t.name === "gzip-file-as-resource")?.argumentsConstraint).toBe("json-object");
    expect(set.agentTools().find((t) => t.name === "get-sum")?.argumentsConstraint).toBeUndefined();
  });

  it("namespaces only the names that collide", async () => {
    const set = await start({ a: filesystemEntry(dir), b: filesystemEntry(dir), e: everythingEntry() });
    const names = set.summaries().map((t) => t.name);
    expect(names).toContain("a__read_text_file");
    expect(names).toContain("b__read_text_file");
    expect(names).not.toContain("read_text_file");
    expect(names).toContain("get-sum");
    expect(set.tool("b__read_text_file")).toMatchObject({ server: "b", remoteName: "read_text_file" });
    const only = set.summaries(new Map([["a", new Set(["read_text_file"])]]));
    expect(only.map((t) => t.name)).toEqual(["a__read_text_file"]);
  });

  it("follows tools/list_changed", async () => {
    const set = await start({ dyn: dynamicEntry() });
    expect(set.tool("late_tool")).toBeUndefined();
    expect(set.tool("odd_schema")?.enforcement).toBe("validation");
    let changed = 0;
    set.onChange(() => changed++);
    expect(await set.call("add_tool", {})).toBe("added late_tool");
    await waitFor(() => set.tool("late_tool") !== undefined, 5000, "late_tool");
    expect(changed).toBeGreaterThan(0);
    expect(await set.call("late_tool", { word: "hello" })).toBe("late hello");
  });

  it("an isError result is a tool error with the server's text", async () => {
    const set = await start({ fs: filesystemEntry(dir) });
    const error = await set.call("read_text_file", { path: "/etc/passwd" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpToolResultError);
    expect((error as Error).message).toMatch(/Access denied - path outside allowed directories/);
  });

  it("a call past the timeout fails after the timeout; a cancelled call fails at once", async () => {
    const set = await start({ everything: everythingEntry(0.5) });
    let started = Date.now();
    const timedOut = await set.call("trigger-long-running-operation", { duration: 5, steps: 5 }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(McpConnectionError);
    expect(timedOut).toMatchObject({ kind: "timeout" });
    expect((timedOut as Error).message).toContain("did not answer within 0.5 s");
    expect(Date.now() - started).toBeLessThan(3000);
    const abort = new AbortController();
    started = Date.now();
    setTimeout(() => abort.abort(), 100);
    const cancelled = await set.call("trigger-long-running-operation", { duration: 5, steps: 5 }, abort.signal).catch((e: unknown) => e);
    expect(cancelled).toMatchObject({ kind: "aborted" });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await set.call("echo", { message: "still here" })).toBe("Echo: still here");
  });

  it("a server that exits mid-call fails the call at once and is started again on the next call", async () => {
    const set = await start({ everything: everythingEntry(30) });
    const connection = set.connection("everything");
    const pid = connection?.pid as number;
    expect(alive(pid)).toBe(true);
    const started = Date.now();
    const call = set.call("trigger-long-running-operation", { duration: 20, steps: 20 }).catch((e: unknown) => e);
    setTimeout(() => process.kill(pid, "SIGKILL"), 200);
    const error = await call;
    expect(error).toMatchObject({ kind: "closed" });
    expect((error as Error).message).toContain('the MCP server "everything" went away during the call');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await set.call("echo", { message: "back" })).toBe("Echo: back");
    expect(connection?.pid).not.toBe(pid);
  });

  it("close ends every child process", async () => {
    const set = await start({ everything: everythingEntry(), fs: filesystemEntry(dir) });
    const pids = ["everything", "fs"].map((l) => set.connection(l)?.pid as number);
    expect(pids.every(alive)).toBe(true);
    await set.close();
    await waitFor(() => !pids.some(alive), 5000, "the children to exit");
  });

  it("a server that cannot start fails the start, naming it, and the others are closed", async () => {
    const error = await McpToolset.start(
      parseMcpConfig({ mcpServers: { fs: filesystemEntry(dir), broken: { command: process.execPath, args: ["-e", "console.error('no such server'); process.exit(3)"] } } }),
      { connectTimeoutMs: 5000 },
    ).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/^MCP server "broken" \(.*\) did not start: .*no such server/s);
  });

  it("talaria serve --mcp: a server that cannot start stops the start-up, naming it", async () => {
    const file = path.join(dir, "broken.json");
    await writeFile(file, JSON.stringify({ mcpServers: { broken: { command: process.execPath, args: ["-e", "process.exit(4)"] } } }));
    await expect(
      runServe({ model: path.join(dir, "none.gguf"), mcp: [file], host: "127.0.0.1", port: 0, maxQueue: 1, timeout: 10, profile: "auto", style: "card" }, () => undefined),
    ).rejects.toThrow(/^MCP server "broken" \(.*\) did not start/);
  });

  for (const [mode, type, route] of [["streamableHttp", "http", "/mcp"], ["sse", "sse", "/sse"]] as const) {
    it(`a remote server over ${type === "http" ? "streamable HTTP" : "HTTP+SSE"} (server-everything in ${mode} mode, on a local port)`, async () => {
      const port = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, "127.0.0.1", () => {
          const p = (probe.address() as { port: number }).port;
          probe.close(() => resolve(p));
        });
      });
      const child = spawn(process.execPath, [EVERYTHING_SERVER, mode], { env: { ...process.env, PORT: String(port) }, stdio: ["ignore", "ignore", "pipe"] });
      try {
        await new Promise<void>((resolve, reject) => {
          let err = "";
          child.stderr?.on("data", (d: Buffer) => {
            err += d.toString();
            if (/listening on port|running on port/i.test(err)) resolve();
          });
          child.once("exit", (code) => reject(new Error(`server exited ${code}: ${err}`)));
        });
        const set = await start({ remote: { type, url: `http://127.0.0.1:${port}${route}`, headers: { "X-Test": "1" } } });
        expect(set.servers()[0]).toMatchObject({ label: "remote", state: "ready", transport: type });
        expect(await set.call("get-sum", { a: 20, b: 22 })).toBe("The sum of 20 and 22 is 42.");
      } finally {
        child.kill("SIGKILL");
      }
    });
  }
});
