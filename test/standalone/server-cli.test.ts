/** `talaria serve` command wiring that needs no model: flags, defaults, load failures. */
import { describe, expect, it, vi } from "vitest";
import http from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Command } from "commander";
import { DEFAULT_SERVE_MODEL, defaultModelId, parseHostList, register, runServe, type ServeFlags } from "../../src/cli/commands/serve.js";

/** GET `path` with an explicit Host header (fetch cannot set one). */
function getWithHost(url: string, path: string, host: string): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path, headers: { host } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

const base: ServeFlags = {
  model: "/nonexistent/dir/model.gguf",
  host: "127.0.0.1",
  port: 0,
  parallel: 1,
  threads: 1,
  maxQueue: 4,
  timeout: 10,
  profile: "auto",
  style: "card",
};

describe("talaria serve (no model needed)", () => {
  it("registers the documented flags with their defaults", () => {
    const program = new Command();
    register(program);
    const serve = program.commands.find((c) => c.name() === "serve");
    expect(serve).toBeDefined();
    const defaults = Object.fromEntries(serve!.options.map((o) => [o.long, o.defaultValue as unknown]));
    // --model and --parallel default in runServe (DEFAULT_SERVE_MODEL, 1), since --backend / --config replace them.
    expect(serve!.options.find((o) => o.long === "--model")?.description).toContain(DEFAULT_SERVE_MODEL);
    expect(defaults).toMatchObject({
      "--host": "127.0.0.1",
      "--port": 8080,
      "--max-queue": 64,
      "--timeout": 600,
      "--profile": "auto",
      "--style": "card",
    });
    for (const flag of ["--context-size", "--threads", "--api-key", "--cors-origin", "--model-id", "--allowed-hosts", "--parallel", "--backend", "--backend-kind", "--backend-api-key", "--config", "--model-info"]) {
      expect(Object.keys(defaults)).toContain(flag);
    }
    expect(DEFAULT_SERVE_MODEL).toBe("hf:NousResearch/Hermes-3-Llama-3.2-3B-GGUF:Q4_K_M");
  });

  it("listens at once, reports loading on /health, and a missing model fails with a hint about --model", async () => {
    const lines: string[] = [];
    const running = await runServe(base, (l) => lines.push(l));
    try {
      await expect(running.engine).rejects.toThrow(/--model/);
      const health = await fetch(`${running.server.url}/health`);
      expect(health.status).toBe(503);
      expect(((await health.json()) as { error: { message: string; code: string } }).error).toMatchObject({ message: "The model failed to load.", code: "model_unavailable" });
      expect(lines.some((l) => l.includes(`listening on ${running.server.url}`))).toBe(true);
    } finally {
      await running.stop();
    }
  });

  it("the command offline, without --model: listens, then exits 1 with ONE line giving the exact commands to make and serve a test model", async () => {
    const cache = await mkdtemp(path.join(tmpdir(), "talaria-serve-offline-"));
    const saved = { HF_ENDPOINT: process.env.HF_ENDPOINT, MODEL_ENDPOINT: process.env.MODEL_ENDPOINT };
    process.env.HF_ENDPOINT = "http://127.0.0.1:9/"; // nothing listens on the discard port: the download fails at once
    delete process.env.MODEL_ENDPOINT;
    let stderr = "";
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      stderr += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      return true;
    });
    const sigint = process.listenerCount("SIGINT");
    const program = new Command().exitOverride();
    register(program);
    try {
      process.exitCode = 0;
      await program.parseAsync(["serve", "--port", "0", "--models-dir", cache], { from: "user" });
      expect(process.exitCode).toBe(1);
    } finally {
      spy.mockRestore();
      process.exitCode = 0;
      if (saved.HF_ENDPOINT === undefined) delete process.env.HF_ENDPOINT;
      else process.env.HF_ENDPOINT = saved.HF_ENDPOINT;
      if (saved.MODEL_ENDPOINT !== undefined) process.env.MODEL_ENDPOINT = saved.MODEL_ENDPOINT;
      await rm(cache, { recursive: true, force: true });
    }
    const lines = stderr.split("\n").filter((l) => l !== "");
    expect(lines[0]).toMatch(/^talaria serve: listening on http:\/\/127\.0\.0\.1:\d+ .*loading the model/);
    expect(lines[0]).not.toMatch(/model ready/); // scripts wait for "model ready" (src/bench/soak.ts)
    const failures = lines.slice(1);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^talaria serve: could not load hf:NousResearch\/Hermes-3-Llama-3\.2-3B-GGUF:Q4_K_M/);
    expect(failures[0]).toContain("network unreachable");
    expect(failures[0]).toContain("`talaria make-test-model --kind scripted --out model.gguf`");
    expect(failures[0]).toContain("`talaria serve --model model.gguf`");
    expect(process.listenerCount("SIGINT")).toBe(sigint); // its signal handlers are gone
  });

  it("rejects an unknown profile or style before listening", async () => {
    await expect(runServe({ ...base, profile: "gpt-5" }, () => undefined)).rejects.toThrow(/--profile/);
    await expect(runServe({ ...base, style: "fancy" }, () => undefined)).rejects.toThrow(/--style/);
  });

  it("derives the model id from the file name", () => {
    expect(defaultModelId("/models/Hermes-3-Llama-3.2-3B.Q4_K_M.gguf")).toBe("Hermes-3-Llama-3.2-3B.Q4_K_M");
    expect(defaultModelId("hf:NousResearch/Hermes-3-Llama-3.2-3B-GGUF:Q4_K_M")).toBe("Hermes-3-Llama-3.2-3B-GGUF:Q4_K_M");
  });
});

describe("talaria serve --allowed-hosts", () => {
  it("parses comma-separated names (repeatable) and refuses an empty list", () => {
    expect(parseHostList("a.lan, b.lan,")).toEqual(["a.lan", "b.lan"]);
    expect(parseHostList("c.lan", ["a.lan"])).toEqual(["a.lan", "c.lan"]);
    expect(() => parseHostList(" , ")).toThrow(/host names/);
    const program = new Command();
    register(program);
    program.exitOverride();
    const serve = program.commands.find((c) => c.name() === "serve")!;
    serve.action(() => undefined);
    program.parse(["node", "talaria", "serve", "--allowed-hosts", "x.lan,y.lan", "--allowed-hosts", "*"]);
    expect(serve.opts()["allowedHosts"]).toEqual(["x.lan", "y.lan", "*"]);
  });

  it("reaches the server: a loopback server answers listed names and loopback names, and refuses others (403)", async () => {
    const plain = await runServe(base, () => undefined);
    const listed = await runServe({ ...base, allowedHosts: ["talaria.lan"] }, () => undefined);
    try {
      await expect(plain.engine).rejects.toThrow();
      await expect(listed.engine).rejects.toThrow();
      // /health is 503 (the model failed to load) once the Host is accepted.
      expect(await getWithHost(plain.server.url, "/health", "localhost")).toBe(503);
      expect(await getWithHost(plain.server.url, "/health", "talaria.lan")).toBe(403);
      expect(await getWithHost(listed.server.url, "/health", "talaria.lan:8080")).toBe(503);
      expect(await getWithHost(listed.server.url, "/health", "127.0.0.1")).toBe(503);
      expect(await getWithHost(listed.server.url, "/health", "evil.example")).toBe(403);
    } finally {
      await plain.stop();
      await listed.stop();
    }
  });
});
