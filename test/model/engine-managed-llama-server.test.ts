/**
 * The managed llama-server engine (`--engine llama-server`): Talaria starts and supervises a REAL
 * llama.cpp `llama-server` (the binary of node-llama-cpp's own llama.cpp commit: scripts/llama-server.sh)
 * on the generated scripted model. The engine conformance suite; supervision (the child SIGKILLed
 * mid-generation → that request fails with a typed error naming the exit, the next one succeeds on the
 * restarted child; dispose leaves no child: checked in /proc); the binary lookup order. Skips when the
 * binary is missing, except under CI=true, where it fails.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManagedLlamaServerEngine, findLlamaServerBinary, LLAMA_SERVER_ENV, type ManagedLlamaServerEngine } from "../../src/engine/remote/index.js";
import { EngineError, type GenerateEvent } from "../../src/engine/types.js";
import { HERMES_DIALECT } from "../../src/hermes/dialect.js";
import { ensureTestModel } from "../../src/testmodels/index.js";
import { collect, CONFORMANCE_PROMPT, CONFORMANCE_REPLY, describeEngineConformance } from "../conformance/engine-conformance.js";
import { findLlamaServer, llamaServerRequired } from "../support/llama-server.js";

const found = findLlamaServer();
const binary = "path" in found ? found.path : "";

/** Whether a process with this pid exists (and is not a zombie). */
function alive(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  try {
    // Field 3 is the state; Z = zombie (exited, not yet reaped).
    const fields = readFileSync(stat, "utf8").split(") ").pop() ?? "";
    return !fields.startsWith("Z");
  } catch {
    return false;
  }
}

async function waitUntil(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

describe("llama-server binary lookup", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "talaria-bin-"));
  const fake = path.join(dir, "llama-server");
  writeFileSync(fake, "#!/bin/sh\nexit 0\n");
  chmodSync(fake, 0o755);

  it("takes the flag, then $TALARIA_LLAMA_SERVER, then llama-server on PATH", () => {
    expect(findLlamaServerBinary(fake, { PATH: "" })).toBe(fake);
    expect(findLlamaServerBinary(undefined, { [LLAMA_SERVER_ENV]: fake, PATH: "" })).toBe(fake);
    expect(findLlamaServerBinary(undefined, { PATH: `/nonexistent${path.delimiter}${dir}` })).toBe(fake);
  });

  it("fails with the lookup order and the build command when there is none", () => {
    expect(() => findLlamaServerBinary(undefined, { PATH: "/nonexistent" })).toThrow(/--llama-server-bin.*TALARIA_LLAMA_SERVER.*PATH.*scripts\/llama-server\.sh --build/);
    expect(() => findLlamaServerBinary(path.join(dir, "missing"), {})).toThrow(/--llama-server-bin .*missing is not an executable file/);
  });
});

describe.skipIf("missing" in found && !llamaServerRequired())("managed llama-server engine", () => {
  describeEngineConformance("managed llama-server (scripted model)", async () => {
    if ("missing" in found) throw new Error(found.missing);
    const model = await ensureTestModel({ kind: "scripted", reply: CONFORMANCE_REPLY });
    const engine = await createManagedLlamaServerEngine({ binary, model, parallel: 2, contextSize: 1024, threads: 1, gpu: false, markerTexts: HERMES_DIALECT.markers, log: () => undefined });
    return { engine, prompt: CONFORMANCE_PROMPT, reply: CONFORMANCE_REPLY };
  });

  describe("supervision", () => {
    let engine: ManagedLlamaServerEngine;
    const logs: string[] = [];
    beforeAll(async () => {
      const model = await ensureTestModel({ kind: "scripted", reply: CONFORMANCE_REPLY });
      engine = await createManagedLlamaServerEngine({ binary, model, parallel: 1, contextSize: 512, threads: 1, gpu: false, markerTexts: HERMES_DIALECT.markers, restartBackoffMs: 50, log: (l) => logs.push(l) });
    });
    afterAll(async () => {
      await engine?.dispose();
    });

    it("reports the managed child in its model info and capabilities", () => {
      expect(engine.info.metadata["talaria.backend.managed"]).toBe(true);
      expect(engine.info.contextSize).toBe(512);
      expect(engine.capabilities.jumpForward).toBe(false);
      expect(engine.capabilities.loglikelihood).toBe(false);
      expect(engine.server?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    });

    it("a child killed mid-generation fails the request with a typed error; the next request runs on the restarted child", async () => {
      const first = engine.server;
      if (first === undefined) throw new Error("no running child");
      const events: GenerateEvent[] = [];
      // EOS banned: the scripted reply would end after ~20 tokens; this keeps generating until the kill.
      const eog = Object.fromEntries(engine.info.specialTokens.endOfGeneration.map((id) => [id, -100]));
      let caught: unknown;
      try {
        for await (const e of engine.generate({ prompt: CONFORMANCE_PROMPT, maxTokens: 400, sampling: { doSample: false, logitBias: eog } })) {
          events.push(e);
          if (events.length === 3) process.kill(first.pid, "SIGKILL");
        }
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(EngineError);
      expect((caught as EngineError).code).toBe("backend_failed");
      expect((caught as EngineError).message).toMatch(new RegExp(`llama-server \\(pid ${first.pid}\\) was killed by SIGKILL during the request; Talaria is restarting it \\(restart 1 of`));
      expect(await waitUntil(() => !alive(first.pid), 2_000)).toBe(true);

      const r = await collect(engine, { prompt: CONFORMANCE_PROMPT, sampling: { doSample: false } });
      expect(r.text).toBe(CONFORMANCE_REPLY);
      expect(engine.restarts).toBe(1);
      expect(engine.server?.pid).not.toBe(first.pid);
      expect(logs.some((l) => l.includes(`pid ${first.pid}) was killed by SIGKILL unexpectedly; restarting it`))).toBe(true);
      expect(logs.some((l) => l.startsWith("llama-server restarted"))).toBe(true);
    });

    it("a request arriving while the child is down waits for the restart", async () => {
      const before = engine.server;
      if (before === undefined) throw new Error("no running child");
      process.kill(before.pid, "SIGKILL");
      await waitUntil(() => !alive(before.pid), 2_000);
      const r = await collect(engine, { prompt: CONFORMANCE_PROMPT, sampling: { doSample: false } });
      expect(r.text).toBe(CONFORMANCE_REPLY);
      expect(engine.restarts).toBe(2);
    });

    it("dispose stops the child and leaves no process behind", async () => {
      const pid = engine.server?.pid;
      if (pid === undefined) throw new Error("no running child");
      expect(alive(pid)).toBe(true);
      await engine.dispose();
      expect(alive(pid)).toBe(false);
      expect(engine.server).toBeUndefined();
      await expect(collect(engine, { prompt: CONFORMANCE_PROMPT })).rejects.toMatchObject({ code: "disposed" });
    });
  });

  it("a model llama-server cannot load fails the start with its log tail", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "talaria-bad-"));
    const bad = path.join(dir, "bad.gguf");
    writeFileSync(bad, "not a gguf");
    const error = await createManagedLlamaServerEngine({ binary, model: bad, threads: 1, gpu: false, log: () => undefined }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe("model_load_failed");
    expect((error as EngineError).message).toMatch(/exited with code \d+ before it was ready; its log ends:\n[\s\S]*bad\.gguf/);
  });
});
