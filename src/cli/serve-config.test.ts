import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readServeConfig } from "./serve-config.js";

async function configFile(doc: unknown): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "talaria-serve-config-"));
  const file = path.join(dir, "serve.json");
  await writeFile(file, JSON.stringify(doc));
  return file;
}

describe("readServeConfig", () => {
  it("reads models and an mcp section (paths relative to the file, the default MCP timeout)", async () => {
    const file = await configFile({
      models: [{ id: "a", model: "a.gguf" }, { backends: ["http://gpu:8000"], kind: "vllm" }],
      mcp: { mcpServers: { fs: { command: "node", args: ["server.js"], cwd: "srv" } } },
    });
    const dir = path.dirname(file);
    const config = await readServeConfig(file, 5);
    expect(config.models).toEqual([{ id: "a", model: path.join(dir, "a.gguf") }, { backend: { backend: ["http://gpu:8000"], backendKind: "vllm" } }]);
    expect(config.mcp).toEqual([{ label: "fs", transport: { kind: "stdio", command: "node", args: ["server.js"], env: {}, cwd: path.join(dir, "srv") }, toolTimeoutMs: 5000 }]);
  });

  it("no mcp section: no MCP servers; a bad one names the config and the key", async () => {
    expect((await readServeConfig(await configFile({ models: [{ model: "a.gguf" }] }))).mcp).toEqual([]);
    const bad = await configFile({ models: [{ model: "a.gguf" }], mcp: { mcpServers: { fs: { command: "x", typo: 1 } } } });
    await expect(readServeConfig(bad)).rejects.toThrow(`--config ${bad}: mcp: server "fs": unknown key "typo"`);
  });

  it("a model entry may name its engine (llama-server); a backends entry may not", async () => {
    const file = await configFile({ models: [{ model: "a.gguf", engine: "llama-server" }] });
    expect((await readServeConfig(file)).models).toEqual([{ model: path.join(path.dirname(file), "a.gguf"), engine: "llama-server" }]);
    await expect(readServeConfig(await configFile({ models: [{ backends: ["http://gpu:8000"], engine: "llama-server" }] }))).rejects.toThrow(/'engine' applies to 'model' entries/);
  });
});
