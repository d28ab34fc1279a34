import { describe, expect, it } from "vitest";
import { McpConfigError, parseMcpConfig } from "./config.js";

const errorOf = (doc: unknown, env: Record<string, string> = {}): string => {
  try {
    parseMcpConfig(doc, { source: "mcp.json", baseDir: "/cfg", env });
  } catch (error) {
    expect(error).toBeInstanceOf(McpConfigError);
    return (error as Error).message;
  }
  throw new Error("no error");
};

describe("parseMcpConfig", () => {
  it("reads stdio and remote servers in the common mcpServers shape", () => {
    const servers = parseMcpConfig(
      {
        mcpServers: {
          fs: { command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "${DATA}"], env: { TOKEN: "${TOKEN}" }, cwd: "work", timeout: 5, tools: ["read_text_file"] },
          api: { url: "https://mcp.example.com/mcp", headers: { Authorization: "Bearer ${TOKEN}" } },
          old: { type: "sse", url: "http://127.0.0.1:9000/sse" },
          off: { command: "x", disabled: true },
        },
      },
      { baseDir: "/cfg", env: { DATA: "/data", TOKEN: "t0k" } },
    );
    expect(servers).toEqual([
      { label: "fs", transport: { kind: "stdio", command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "/data"], env: { TOKEN: "t0k" }, cwd: "/cfg/work" }, toolTimeoutMs: 5000, tools: ["read_text_file"] },
      { label: "api", transport: { kind: "http", url: "https://mcp.example.com/mcp", headers: { Authorization: "Bearer t0k" } }, toolTimeoutMs: 60000 },
      { label: "old", transport: { kind: "sse", url: "http://127.0.0.1:9000/sse", headers: {} }, toolTimeoutMs: 60000 },
    ]);
  });

  it("accepts VS Code's servers key, a bare map, and a default timeout", () => {
    expect(parseMcpConfig({ servers: { a: { command: "a" } } }, { baseDir: "/" })[0]?.label).toBe("a");
    expect(parseMcpConfig({ b: { command: "b" } }, { baseDir: "/", defaultTimeoutS: 2 })[0]?.toolTimeoutMs).toBe(2000);
  });

  it("errors name the file, the server and the key", () => {
    expect(errorOf({ mcpServers: { fs: { command: "x", comand: "y" } } })).toBe('mcp.json: server "fs": unknown key "comand"');
    expect(errorOf({ mcpServers: { fs: { args: [] } } })).toBe('mcp.json: server "fs": give "command" (a stdio server) or "url" (a remote server), exactly one');
    expect(errorOf({ mcpServers: { fs: { command: "x", url: "http://a" } } })).toMatch(/exactly one/);
    expect(errorOf({ mcpServers: { fs: { command: "x", headers: {} } } })).toBe('mcp.json: server "fs": "headers" are for remote (url) servers');
    expect(errorOf({ mcpServers: { fs: { url: "ftp://a" } } })).toBe('mcp.json: server "fs": "url" must be http or https');
    expect(errorOf({ mcpServers: { fs: { url: "http://a", env: {} } } })).toBe('mcp.json: server "fs": "env" is for stdio (command) servers');
    expect(errorOf({ mcpServers: { "a b": { command: "x" } } })).toMatch(/server name must be 1-64 characters/);
    expect(errorOf({ mcpServers: { fs: { command: "${NOPE}" } } })).toBe('mcp.json: server "fs": command uses ${NOPE}, which is not set in the environment');
    expect(errorOf({ mcpServers: { fs: { command: "x", timeout: -1 } } })).toMatch(/^mcp\.json: server "fs": timeout: /);
    expect(errorOf([])).toMatch(/expected a JSON object/);
    expect(errorOf({ mcpServers: {}, servers: {} })).toMatch(/not both/);
  });
});
