/**
 * A pool of replicas of one model behind the engine port: Talaria routes across them, the replicas
 * (vLLM with tensor parallelism, llama-server, embedded engines) do the computing. See
 * docs/scale-out.md and docs/decisions/0181-router-pool.md.
 *
 * - Routing: prefix affinity (the replica that saw the longest prefix of the prompt, `affinity.ts`)
 *   unless it is busier than the least-loaded replica by more than `affinitySlack`; then least
 *   outstanding requests (the router's own counters plus the backend's waiting queue from its metrics).
 * - Health: every `healthIntervalMs` each replica's health route; `ejectAfter` failures in a row eject
 *   it, one success re-admits it. A request that fails on a replica before any token was generated
 *   ejects that replica at once and is sent to the next one (failover); a stream cut after tokens
 *   ends with the error (never a replay of what already streamed).
 */
import { promptToString, isPromptText } from "../../prompt/text.js";
import { EngineError, type ReplicaCounters, type DetokenizeOptions, type Engine, type EngineCapabilities, type EngineStats, type GenerateEvent, type GenerateRequest, type LoglikelihoodRequest, type LoglikelihoodResult, type ModelInfo, type TokenId, type TokenizeOptions } from "../types.js";
import type { PromptText } from "../../prompt/text.js";
import { PrefixMemory, prefixHashes } from "./affinity.js";

/** A replica as the pool needs it: an engine, optionally able to say whether it is healthy and how loaded. */
export interface Replica {
  /** A name for logs and metrics (the backend URL). */
  readonly name: string;
  readonly engine: Engine;
  /** Health probe; default: always healthy (an embedded engine). */
  healthy?(signal?: AbortSignal): Promise<boolean>;
  /** The backend's own running/waiting counts (its metrics), when it has them. */
  load?(signal?: AbortSignal): Promise<{ readonly running: number; readonly waiting: number } | undefined>;
}

export interface PoolOptions {
  /** Health probe interval in ms. Default 2,000. 0 = no periodic probes (failures still eject). */
  readonly healthIntervalMs?: number;
  /** Failed probes in a row that eject a replica. Default 2. */
  readonly ejectAfter?: number;
  /** How many more outstanding requests than the least-loaded replica the affinity choice may have. Default 2. */
  readonly affinitySlack?: number;
  /** Replicas tried for one request before giving up (failover). Default: all of them. */
  readonly maxAttempts?: number;
  /** Told about ejections and re-admissions (one line each). Default: nothing. */
  readonly log?: (line: string) => void;
}

/** Defaults of {@link PoolOptions}. */
export const POOL_DEFAULTS = { healthIntervalMs: 2_000, ejectAfter: 2, affinitySlack: 2 } as const;

/** One replica's counters, for `/metrics` (declared with the port: the server reads them too). */
export type ReplicaStats = ReplicaCounters;

interface State {
  readonly replica: Replica;
  readonly memory: PrefixMemory;
  healthy: boolean;
  failures: number;
  outstanding: number;
  backendRunning?: number;
  backendWaiting?: number;
  requests: number;
  errors: number;
  ejections: number;
  failovers: number;
  affinityHits: number;
  durationSum: number;
  durationCount: number;
}

/** The text routing looks at: the prompt as rendered (or its token ids). */
function routingText(prompt: GenerateRequest["prompt"]): string {
  if (typeof prompt === "string") return prompt;
  if (isPromptText(prompt)) return promptToString(prompt as PromptText);
  return (prompt as readonly TokenId[]).map((t) => String.fromCharCode(t & 0xffff, t >>> 16)).join("");
}

/** Pool capabilities: what every replica can do. */
function intersect(capabilities: readonly EngineCapabilities[]): EngineCapabilities {
  const keys = Object.keys(capabilities[0] as EngineCapabilities) as (keyof EngineCapabilities)[];
  return Object.fromEntries(keys.map((k) => [k, capabilities.every((c) => c[k])])) as unknown as EngineCapabilities;
}

export class ReplicaPool implements Engine {
  readonly info: ModelInfo;
  readonly capabilities: EngineCapabilities;
  readonly #states: State[];
  readonly #options: Required<Omit<PoolOptions, "log" | "maxAttempts">> & { readonly maxAttempts: number; readonly log: (line: string) => void };
  readonly #timer: NodeJS.Timeout | undefined;
  #disposed = false;
  #probing = false;

  constructor(replicas: readonly Replica[], options: PoolOptions = {}) {
    if (replicas.length === 0) throw new RangeError("a replica pool needs at least one replica");
    const first = replicas[0] as Replica;
    this.#states = replicas.map((replica) => ({
      replica,
      memory: new PrefixMemory(),
      healthy: true,
      failures: 0,
      outstanding: 0,
      requests: 0,
      errors: 0,
      ejections: 0,
      failovers: 0,
      affinityHits: 0,
      durationSum: 0,
      durationCount: 0,
    }));
    const contextSize = Math.min(...replicas.map((r) => r.engine.info.contextSize));
    this.info = { ...first.engine.info, contextSize, metadata: { ...first.engine.info.metadata, "talaria.pool.replicas": replicas.map((r) => r.name) } };
    this.capabilities = intersect(replicas.map((r) => r.engine.capabilities));
    this.#options = {
      healthIntervalMs: options.healthIntervalMs ?? POOL_DEFAULTS.healthIntervalMs,
      ejectAfter: options.ejectAfter ?? POOL_DEFAULTS.ejectAfter,
      affinitySlack: options.affinitySlack ?? POOL_DEFAULTS.affinitySlack,
      maxAttempts: options.maxAttempts ?? replicas.length,
      log: options.log ?? (() => {}),
    };
    if (this.#options.healthIntervalMs > 0) {
      this.#timer = setInterval(() => void this.probe(), this.#options.healthIntervalMs);
      this.#timer.unref();
    }
  }

  /** Per-replica counters. */
  replicas(): ReplicaStats[] {
    return this.#states.map((s) => ({
      name: s.replica.name,
      healthy: s.healthy,
      outstanding: s.outstanding,
      ...(s.backendRunning === undefined ? {} : { backendRunning: s.backendRunning }),
      ...(s.backendWaiting === undefined ? {} : { backendWaiting: s.backendWaiting }),
      requests: s.requests,
      errors: s.errors,
      ejections: s.ejections,
      failovers: s.failovers,
      affinityHits: s.affinityHits,
      durationSecondsSum: s.durationSum,
      durationCount: s.durationCount,
    }));
  }

  /** Probe every replica once (health and load); also run by the timer. */
  async probe(): Promise<void> {
    if (this.#probing || this.#disposed) return;
    this.#probing = true;
    try {
      await Promise.all(
        this.#states.map(async (s) => {
          const signal = AbortSignal.timeout(Math.max(1_000, this.#options.healthIntervalMs));
          const ok = s.replica.healthy === undefined ? true : await s.replica.healthy(signal).catch(() => false);
          if (ok) {
            s.failures = 0;
            if (!s.healthy) {
              s.healthy = true;
              s.memory.clear(); // a restarted replica has an empty cache
              this.#options.log(`router: ${s.replica.name} is healthy again: re-admitted`);
            }
            const load = await s.replica.load?.(signal).catch(() => undefined);
            if (load !== undefined) {
              s.backendRunning = load.running;
              s.backendWaiting = load.waiting;
            }
          } else if (++s.failures >= this.#options.ejectAfter) {
            this.#eject(s, `${s.failures} failed health checks`);
          }
        }),
      );
    } finally {
      this.#probing = false;
    }
  }

  #eject(s: State, why: string): void {
    if (!s.healthy) return;
    s.healthy = false;
    s.ejections++;
    this.#options.log(`router: ${s.replica.name} ejected (${why})`);
  }

  /** Load of a replica for least-outstanding routing. */
  #load(s: State): number {
    return s.outstanding + (s.backendWaiting ?? 0);
  }

  /** The replicas to try, best first: affinity choice (within the slack), then by load. */
  #order(hashes: readonly number[], exclude: ReadonlySet<State>): { order: State[]; affinity: State | undefined } {
    const healthy = this.#states.filter((s) => s.healthy && !exclude.has(s));
    const candidates = healthy.length > 0 ? healthy : this.#states.filter((s) => !exclude.has(s));
    const byLoad = [...candidates].sort((a, b) => this.#load(a) - this.#load(b) || a.requests - b.requests);
    const least = byLoad[0];
    if (least === undefined) return { order: [], affinity: undefined };
    let best: State | undefined;
    let bestMatch = 0;
    for (const s of candidates) {
      const m = s.memory.match(hashes);
      if (m > bestMatch || (m === bestMatch && m > 0 && best !== undefined && this.#load(s) < this.#load(best))) {
        best = s;
        bestMatch = m;
      }
    }
    if (best !== undefined && this.#load(best) - this.#load(least) <= this.#options.affinitySlack) {
      return { order: [best, ...byLoad.filter((s) => s !== best)], affinity: best };
    }
    return { order: byLoad, affinity: undefined };
  }

  async tokenize(input: string | PromptText, options?: TokenizeOptions): Promise<TokenId[]> {
    return this.#withAny((e) => e.tokenize(input, options));
  }

  async detokenize(tokens: readonly TokenId[], options?: DetokenizeOptions): Promise<string> {
    return this.#withAny((e) => e.detokenize(tokens, options));
  }

  /** Run a short call on the least-loaded healthy replica, failing over on unavailability. */
  async #withAny<T>(call: (engine: Engine) => Promise<T>): Promise<T> {
    this.#ensureLive();
    const tried = new Set<State>();
    let last: unknown;
    for (let attempt = 0; attempt < this.#options.maxAttempts; attempt++) {
      const { order } = this.#order([], tried);
      const s = order[0];
      if (s === undefined) break;
      tried.add(s);
      try {
        return await call(s.replica.engine);
      } catch (error) {
        last = error;
        if (!(error instanceof EngineError && error.code === "backend_unavailable")) throw error;
        this.#eject(s, error.message);
      }
    }
    throw last instanceof EngineError ? last : new EngineError("no replica is available", "backend_unavailable");
  }

  async *generate(request: GenerateRequest): AsyncIterable<GenerateEvent> {
    this.#ensureLive();
    const hashes = prefixHashes(routingText(request.prompt));
    const tried = new Set<State>();
    let last: unknown;
    for (let attempt = 0; attempt < this.#options.maxAttempts; attempt++) {
      const { order, affinity } = this.#order(hashes, tried);
      const s = order[0];
      if (s === undefined) break;
      tried.add(s);
      if (attempt > 0) s.failovers++;
      if (affinity === s && s.memory.match(hashes) > 0) s.affinityHits++;
      s.memory.remember(hashes);
      s.outstanding++;
      s.requests++;
      const started = performance.now();
      let produced = false;
      const held: GenerateEvent[] = [];
      try {
        for await (const event of s.replica.engine.generate(request)) {
          if (!produced && event.type === "warning") {
            held.push(event); // warnings wait: a failover would repeat them
            continue;
          }
          if (!produced) {
            produced = true;
            yield* held;
          }
          yield event;
        }
        return;
      } catch (error) {
        s.errors++;
        last = error;
        const unavailable = error instanceof EngineError && error.code === "backend_unavailable";
        if (unavailable) this.#eject(s, error.message);
        if (produced || !unavailable || request.signal?.aborted === true) throw error;
        this.#options.log(`router: ${s.replica.name} failed before the first token (${(error as Error).message}); trying another replica`);
      } finally {
        s.outstanding--;
        s.durationSum += (performance.now() - started) / 1000;
        s.durationCount++;
      }
    }
    throw last instanceof EngineError ? new EngineError(`no replica could take the request: ${last.message}`, "backend_unavailable", { cause: last }) : new EngineError("no replica is available", "backend_unavailable");
  }

  async loglikelihood(requests: readonly LoglikelihoodRequest[], options?: { readonly signal?: AbortSignal }): Promise<LoglikelihoodResult[]> {
    return this.#withAny((e) => e.loglikelihood(requests, options));
  }

  stats(): EngineStats {
    const live = this.#states.filter((s) => s.healthy);
    const of = live.length > 0 ? live : this.#states;
    return of.map((s) => s.replica.engine.stats()).reduce((a, b) => ({ sequencesTotal: a.sequencesTotal + b.sequencesTotal, sequencesBusy: a.sequencesBusy + b.sequencesBusy, waiting: a.waiting + b.waiting }), { sequencesTotal: 0, sequencesBusy: 0, waiting: 0 });
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await Promise.allSettled(this.#states.map((s) => s.replica.engine.dispose()));
  }

  #ensureLive(): void {
    if (this.#disposed) throw new EngineError("the engine was disposed", "disposed");
  }
}
