/**
 * Model download through node-llama-cpp's resolver against a loopback HTTP server that mimics the
 * Hugging Face `resolve` endpoint (with Range requests), and the offline error. Never the internet.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLlamaCppEngine, resolveModelSource } from "../../src/engine/llama-cpp/index.js";
import { EngineError } from "../../src/engine/types.js";
import { ensureTestModel } from "../../src/testmodels/index.js";

let modelPath: string;
let server: http.Server;
let endpoint: string;
let closedEndpoint: string;
let dir: string;
const requests: string[] = [];

async function sha256(file: string): Promise<string> {
  return createHash("sha256").update(await readFile(file)).digest("hex");
}

beforeAll(async () => {
  modelPath = await ensureTestModel({ kind: "random" });
  const size = (await stat(modelPath)).size;
  dir = await mkdtemp(path.join(os.tmpdir(), "talaria-download-"));
  server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== "/u/m/resolve/main/x.gguf") {
      res.writeHead(404).end();
      return;
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    const start = range ? Number(range[1]) : 0;
    const end = range && range[2] !== "" ? Math.min(Number(range[2]), size - 1) : size - 1;
    const headers = { "content-type": "application/octet-stream", "accept-ranges": "bytes", "content-length": String(end - start + 1) };
    if (range) res.writeHead(206, { ...headers, "content-range": `bytes ${start}-${end}/${size}` });
    else res.writeHead(200, headers);
    if (req.method === "HEAD") res.end();
    else createReadStream(modelPath, { start, end }).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  // a port that was just free: nothing listens there
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  closedEndpoint = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/`;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("model download", () => {
  it("downloads hf:<user>/<repo>/<file> from the endpoint with progress, then loads it from the cache", async () => {
    const progress: Array<{ downloadedSize: number; totalSize: number }> = [];
    const local = await resolveModelSource("hf:u/m/x.gguf", {
      modelsDirectory: dir,
      huggingFaceEndpoint: endpoint,
      onDownloadProgress: (p) => progress.push(p),
    });
    expect(path.dirname(local)).toBe(dir);
    expect(await sha256(local)).toBe(await sha256(modelPath));
    expect(requests.some((r) => r.startsWith("GET /u/m/resolve/main/x.gguf"))).toBe(true);
    const size = (await stat(modelPath)).size;
    expect(progress.at(-1)).toEqual({ downloadedSize: size, totalSize: size });

    const before = requests.filter((r) => r.startsWith("GET /u/m/resolve/main/x.gguf")).length;
    const engine = await createLlamaCppEngine({ model: "hf:u/m/x.gguf", modelsDirectory: dir, huggingFaceEndpoint: endpoint, threads: 1, contextSize: 256 });
    try {
      expect(engine.info.source).toBe("hf:u/m/x.gguf");
      expect(engine.info.path).toBe(local);
      expect(engine.info.architecture).toBe("llama");
      // cached: no second download of the file
      expect(requests.filter((r) => r.startsWith("GET /u/m/resolve/main/x.gguf")).length).toBe(before);
    } finally {
      await engine.dispose();
    }
  });

  it("fails fast with one clear offline error naming --model when the host is unreachable", async () => {
    const started = Date.now();
    let error: unknown;
    try {
      await createLlamaCppEngine({ model: "hf:u/m/other.gguf", modelsDirectory: dir, huggingFaceEndpoint: closedEndpoint, threads: 1 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe("offline");
    expect((error as EngineError).message).toMatch(/^could not download hf:u\/m\/other\.gguf: network unreachable \(ECONNREFUSED\)\. Pass --model \/path\/to\/model\.gguf/);
    expect((error as EngineError).message).not.toContain("\n");
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("reports a missing remote file as model_not_found", async () => {
    await expect(resolveModelSource("hf:u/m/missing.gguf", { modelsDirectory: dir, huggingFaceEndpoint: endpoint })).rejects.toMatchObject({
      code: "model_not_found",
    });
  });

  it("reports a missing local file as model_not_found naming --model", async () => {
    await expect(createLlamaCppEngine({ model: path.join(dir, "nope.gguf") })).rejects.toMatchObject({
      code: "model_not_found",
      message: expect.stringMatching(/model file not found: .*nope\.gguf\. Pass --model/),
    });
  });
});
