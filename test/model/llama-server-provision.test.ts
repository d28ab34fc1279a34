/**
 * Self-test of the llama-server provisioning (scripts/llama-server.sh, test/support/llama-server.ts): the binary
 * of node-llama-cpp's llama.cpp commit starts on a generated model and serves /health and /props. Skips when the
 * binary is missing, except under CI=true, where it fails.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTestModel } from "../../src/testmodels/index.js";
import { findLlamaServer, llamaServerRequired, startLlamaServer, type LlamaServerProcess } from "../support/llama-server.js";

const found = findLlamaServer();

describe.skipIf("missing" in found && !llamaServerRequired())("llama-server provisioning", () => {
  let server: LlamaServerProcess | undefined;

  beforeAll(async () => {
    const model = await ensureTestModel({ kind: "scripted", reply: "Hello from Talaria 👋" });
    server = await startLlamaServer({ model });
  });
  afterAll(async () => {
    await server?.kill();
  });

  it("is the llama.cpp commit that node-llama-cpp bundles", () => {
    if ("missing" in found) throw new Error(found.missing);
    const commit = execFileSync("bash", ["scripts/llama-server.sh", "--print-commit"], { encoding: "utf8" }).trim();
    expect(commit).toMatch(/^[0-9a-f]{7}$/);
    const version = spawnSync(found.path, ["--version"], { encoding: "utf8" }); // prints on stderr
    expect(`${version.stdout}${version.stderr}`).toContain(`commit ${commit}`);
  });

  it("answers /health 200 and /props as JSON, with the requested slots and context", async () => {
    const s = server!;
    const health = await fetch(`${s.url}/health`);
    expect(health.status).toBe(200);
    const props = await fetch(`${s.url}/props`);
    expect(props.status).toBe(200);
    expect(props.headers.get("content-type") ?? "").toContain("application/json");
    const body = (await props.json()) as { total_slots?: number; default_generation_settings?: { n_ctx?: number } };
    expect(body.total_slots).toBe(2);
    expect(body.default_generation_settings?.n_ctx).toBe(1024); // -c 2048 split over 2 slots
  });

  it("restarts on the same port, and kill() leaves no process", async () => {
    const s = server!;
    const before = s.pid;
    await s.restart();
    expect(s.pid).not.toBe(before);
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
    const pid = s.pid;
    await s.kill();
    expect(() => process.kill(pid, 0)).toThrow();
    await expect(fetch(`${s.url}/health`)).rejects.toThrow();
  });
});
