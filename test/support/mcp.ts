/**
 * Real MCP servers for tests, started over stdio with this Node: `@modelcontextprotocol/server-everything`,
 * `@modelcontextprotocol/server-filesystem` (confined to a directory) and test/fixtures/mcp/dynamic-server.mjs
 * (the real SDK's McpServer, for tools/list_changed and an unenforceable schema).
 */
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export const EVERYTHING_SERVER = path.join(path.dirname(require.resolve("@modelcontextprotocol/server-everything/package.json")), "dist/index.js");
export const FILESYSTEM_SERVER = path.join(path.dirname(require.resolve("@modelcontextprotocol/server-filesystem/package.json")), "dist/index.js");
export const DYNAMIC_SERVER = path.join(ROOT, "test/fixtures/mcp/dynamic-server.mjs");

/** `mcpServers` entries for the three servers (`timeout` in seconds). */
export function everythingEntry(timeout?: number): Record<string, unknown> {
  return { command: process.execPath, args: [EVERYTHING_SERVER, "stdio"], ...(timeout === undefined ? {} : { timeout }) };
}
export function filesystemEntry(dir: string, timeout?: number): Record<string, unknown> {
  return { command: process.execPath, args: [FILESYSTEM_SERVER, dir], ...(timeout === undefined ? {} : { timeout }) };
}
export function dynamicEntry(): Record<string, unknown> {
  return { command: process.execPath, args: [DYNAMIC_SERVER] };
}

/** Whether a process is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Wait until `check` holds (polling), or fail after `ms`. */
export async function waitFor(check: () => boolean, ms = 5000, what = "the condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
