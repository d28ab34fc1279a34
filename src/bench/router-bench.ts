/**
 * `talaria bench router`: Talaria in front of real llama.cpp `llama-server` replicas, measured side by
 * side in one run (docs/performance.md, "Router"):
 *
 * 1. decode tokens/s of one stream through Talaria (`serve --backend A`) ÷ straight to the same
 *    llama-server A, rounds interleaved;
 * 2. aggregate tokens/s of `concurrency` streams through Talaria over two replicas (A, B) ÷ over one
 *    (A), rounds interleaved;
 * 3. failover: streams through Talaria over A and B while B is killed: requests lost (failed without
 *    a token) must be 0; streams cut by the dying replica end with an error event.
 *
 * Every request is the same chat with the end-of-generation tokens banned (`logit_bias` -100), so each
 * generates exactly `outputTokens` tokens on any model.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import os from "node:os";
import { spawnServer, type SpawnedServer } from "./soak.js";
import { streamChatCompletion, type StreamedCompletion } from "./sse-client.js";
import { median } from "./stats.js";

export interface RouterBenchOptions {
  /** The llama-server binary. */
  readonly llamaServer: string;
  /** GGUF both replicas load. */
  readonly model: string;
  /** bin/talaria.js. */
  readonly cli: string;
  /** Tokens per request. Default 96. */
  readonly outputTokens?: number;
  /** Interleaved rounds per comparison. Default 3. */
  readonly rounds?: number;
  /** Streams at once in the aggregate and failover phases. Default 4. */
  readonly concurrency?: number;
  /** Seconds of each aggregate measurement. Default 20. */
  readonly aggregateSeconds?: number;
  /** Requests of the failover phase. Default 24. */
  readonly failoverRequests?: number;
  /** Threads of each llama-server. Default 1. */
  readonly threads?: number;
  readonly log?: (line: string) => void;
  readonly signal?: AbortSignal;
}

export interface RouterBenchReport {
  readonly tool: "talaria bench router";
  readonly startedAt: string;
  readonly model: string;
  readonly llamaServer: string;
  readonly settings: { readonly outputTokens: number; readonly rounds: number; readonly concurrency: number; readonly aggregateSeconds: number; readonly threads: number };
  readonly loadAverage: { readonly before: readonly number[]; readonly after: readonly number[] };
  readonly cpus: number;
  readonly decode: { readonly directTokS: readonly number[]; readonly routerTokS: readonly number[]; readonly ratios: readonly number[]; readonly medianRatio: number };
  readonly aggregate: {
    readonly oneReplicaTokS: readonly number[];
    readonly twoReplicasTokS: readonly number[];
    readonly ratios: readonly number[];
    readonly medianRatio: number;
    /** Control: the same streams straight to one replica and to both (round-robin), no Talaria. */
    readonly direct: { readonly oneReplicaTokS: readonly number[]; readonly twoReplicasTokS: readonly number[]; readonly ratios: readonly number[]; readonly medianRatio: number };
  };
  readonly failover: { readonly requests: number; readonly completed: number; readonly lost: number; readonly cutMidStream: number; readonly killedAfterMs: number; readonly errors: readonly string[] };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

interface LlamaServer {
  readonly url: string;
  readonly child: ChildProcess;
  kill(): Promise<void>;
}

async function startLlamaServer(binary: string, model: string, threads: number, parallel: number): Promise<LlamaServer> {
  const port = await freePort();
  const child = spawn(binary, ["-m", model, "--host", "127.0.0.1", "--port", String(port), "--threads", String(threads), "--parallel", String(parallel), "-c", String(parallel * 1024), "--metrics", "--no-ui"], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr?.on("data", (c: Buffer) => {
    log = (log + c.toString("utf8")).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`llama-server exited early:\n${log}`);
    const ok = await fetch(`${url}/health`).then((r) => r.status === 200).catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`llama-server not healthy after 120 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    child,
    kill: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}

/** End-of-generation token ids of the model (banned so every request generates exactly its tokens). */
async function endOfGenerationIds(url: string): Promise<number[]> {
  const ids: number[] = [];
  for (const text of ["<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>", "</s>"]) {
    const r = (await fetch(`${url}/tokenize`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ content: text, parse_special: true }) }).then((x) => x.json())) as { tokens?: number[] };
    if (r.tokens?.length === 1) ids.push(r.tokens[0] as number);
  }
  return ids;
}

const decodeRate = (c: StreamedCompletion): number => {
  const tokens = c.usage?.completionTokens ?? 0;
  const seconds = c.latency - c.ttft;
  return tokens > 1 && seconds > 0 ? (tokens - 1) / seconds : 0;
};

export async function runRouterBench(options: RouterBenchOptions): Promise<RouterBenchReport> {
  const log = options.log ?? (() => {});
  const outputTokens = options.outputTokens ?? 96;
  const rounds = options.rounds ?? 3;
  const concurrency = options.concurrency ?? 4;
  const aggregateSeconds = options.aggregateSeconds ?? 20;
  const threads = options.threads ?? 1;
  const failoverRequests = options.failoverRequests ?? 24;
  const before = os.loadavg();
  const startedAt = new Date().toISOString();
  const servers: LlamaServer[] = [];
  const talarias: SpawnedServer[] = [];
  try {
    log("router bench: starting two llama-server replicas");
    const [a, b] = await Promise.all([startLlamaServer(options.llamaServer, options.model, threads, concurrency), startLlamaServer(options.llamaServer, options.model, threads, concurrency)]);
    servers.push(a as LlamaServer, b as LlamaServer);
    const A = a as LlamaServer;
    const B = b as LlamaServer;
    const bias = Object.fromEntries((await endOfGenerationIds(A.url)).map((id) => [String(id), -100]));
    const body = (i: number) => ({
      model: "m",
      messages: [{ role: "user", content: `Count to one hundred, request ${i}.` }],
      max_tokens: outputTokens,
      temperature: 0,
      logit_bias: bias,
    });
    log("router bench: starting talaria serve --backend A, and --backend A --backend B");
    const one = await spawnServer(options.cli, ["--backend", A.url, "--backend-kind", "llama-server"]);
    talarias.push(one);
    const two = await spawnServer(options.cli, ["--backend", A.url, "--backend", B.url, "--backend-kind", "llama-server"]);
    talarias.push(two);
    const chat = (base: string, i: number, signal?: AbortSignal) => streamChatCompletion({ endpoint: `${base}/v1/chat/completions`, body: body(i), ...(signal === undefined ? {} : { signal }) });

    // warm-up: both paths once
    await chat(A.url, 0);
    await chat(one.url, 0);

    // 1. decode: router ÷ direct, interleaved
    const directTokS: number[] = [];
    const routerTokS: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const d = await chat(A.url, 100 + r);
      const t = await chat(one.url, 100 + r);
      if (!d.success || !t.success) throw new Error(`decode round ${r} failed: ${d.error ?? ""} ${t.error ?? ""}`);
      directTokS.push(decodeRate(d));
      routerTokS.push(decodeRate(t));
      log(`  decode round ${r + 1}: direct ${directTokS[r]?.toFixed(1)} tok/s, through talaria ${routerTokS[r]?.toFixed(1)} tok/s`);
    }
    const decodeRatios = directTokS.map((d, i) => (routerTokS[i] as number) / d);

    // 2. aggregate: two replicas ÷ one, interleaved
    // Streams are spread round-robin over `bases` (one Talaria, or the replicas themselves for the control).
    const aggregate = async (...bases: string[]): Promise<number> => {
      const end = performance.now() + aggregateSeconds * 1000;
      let tokens = 0;
      let n = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async (_, worker) => {
          const base = bases[worker % bases.length] as string;
          while (performance.now() < end) {
            const c = await chat(base, 1000 + n++);
            if (c.success) tokens += c.usage?.completionTokens ?? 0;
          }
        }),
      );
      return tokens / ((performance.now() - started) / 1000);
    };
    const oneTokS: number[] = [];
    const twoTokS: number[] = [];
    const directOneTokS: number[] = [];
    const directTwoTokS: number[] = [];
    for (let r = 0; r < rounds; r++) {
      oneTokS.push(await aggregate(one.url));
      twoTokS.push(await aggregate(two.url));
      // Control: the same load straight to the replicas (what the machine itself allows).
      directOneTokS.push(await aggregate(A.url));
      directTwoTokS.push(await aggregate(A.url, B.url));
      log(`  aggregate round ${r + 1}: through talaria one replica ${oneTokS[r]?.toFixed(1)}, two ${twoTokS[r]?.toFixed(1)} tok/s; direct one ${directOneTokS[r]?.toFixed(1)}, two ${directTwoTokS[r]?.toFixed(1)} tok/s`);
    }
    const aggregateRatios = oneTokS.map((o, i) => (twoTokS[i] as number) / o);
    const directRatios = directOneTokS.map((o, i) => (directTwoTokS[i] as number) / o);

    // 3. failover: kill B mid-run
    log("router bench: failover (replica B killed mid-run)");
    let next = 0;
    let completed = 0;
    let lost = 0;
    let cut = 0;
    const errors: string[] = [];
    const t0 = performance.now();
    let killedAt = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < failoverRequests) {
          const i = next++;
          if (i === Math.floor(failoverRequests / 3) && killedAt === 0) {
            killedAt = performance.now() - t0;
            void B.kill();
          }
          const c = await chat(two.url, 5000 + i, AbortSignal.timeout(120_000));
          if (c.success && (c.usage?.completionTokens ?? 0) === outputTokens) completed++;
          else if (c.generatedText === "") {
            lost++;
            errors.push(c.error ?? `status ${String(c.status)}`);
          } else {
            cut++;
            errors.push(c.error ?? "cut");
          }
        }
      }),
    );
    return {
      tool: "talaria bench router",
      startedAt,
      model: options.model,
      llamaServer: options.llamaServer,
      settings: { outputTokens, rounds, concurrency, aggregateSeconds, threads },
      loadAverage: { before, after: os.loadavg() },
      cpus: os.availableParallelism(),
      decode: { directTokS, routerTokS, ratios: decodeRatios, medianRatio: median(decodeRatios) },
      aggregate: {
        oneReplicaTokS: oneTokS,
        twoReplicasTokS: twoTokS,
        ratios: aggregateRatios,
        medianRatio: median(aggregateRatios),
        direct: { oneReplicaTokS: directOneTokS, twoReplicasTokS: directTwoTokS, ratios: directRatios, medianRatio: median(directRatios) },
      },
      failover: { requests: failoverRequests, completed, lost, cutMidStream: cut, killedAfterMs: Math.round(killedAt), errors: errors.slice(0, 10) },
    };
  } finally {
    await Promise.allSettled(talarias.map((t) => t.stop()));
    await Promise.allSettled(servers.map((s) => s.kill()));
  }
}

export function formatRouterBench(r: RouterBenchReport): string {
  const f = (xs: readonly number[]) => xs.map((x) => x.toFixed(2)).join(", ");
  return [
    `talaria bench router: ${r.model}, ${r.settings.threads} thread(s) per llama-server, ${r.cpus} CPUs, load average ${r.loadAverage.before.map((x) => x.toFixed(2)).join("/")} → ${r.loadAverage.after.map((x) => x.toFixed(2)).join("/")}`,
    `decode through talaria ÷ straight to llama-server: median ${r.decode.medianRatio.toFixed(3)} (rounds ${f(r.decode.ratios)}; direct ${f(r.decode.directTokS)} tok/s)`,
    `aggregate, two replicas ÷ one (${r.settings.concurrency} streams): through talaria median ${r.aggregate.medianRatio.toFixed(3)} (rounds ${f(r.aggregate.ratios)}; one ${f(r.aggregate.oneReplicaTokS)} tok/s); straight to the replicas median ${r.aggregate.direct.medianRatio.toFixed(3)} (rounds ${f(r.aggregate.direct.ratios)})`,
    `failover: ${r.failover.requests} requests, replica B killed at ${r.failover.killedAfterMs} ms: ${r.failover.completed} completed, ${r.failover.lost} lost, ${r.failover.cutMidStream} cut mid-stream (error event)`,
  ].join("\n");
}
