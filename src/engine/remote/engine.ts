/**
 * The remote engine: the {@link Engine} port over HTTP to one backend server (llama.cpp's
 * `llama-server` or vLLM). Talaria keeps the prompt (typed, tokenized with special parsing off for
 * plain parts), the grammar, stop strings, parsing and validation; the backend turns token ids into
 * token ids. See docs/scale-out.md and docs/decisions/0180-remote-engines.md.
 *
 * - Retries with backoff only before the first token (never replay a generation that streamed);
 * - the request's `AbortSignal` (and a client's disconnect above it) closes the backend connection,
 *   which cancels the backend's work;
 * - capabilities are the dialect's; `checkCapabilities` refuses what the backend cannot do.
 */
import { isPromptText, type PromptText } from "../../prompt/text.js";
import { LruMap } from "../../util/lru.js";
import { PlainTextGuard } from "../plain-text-guard.js";
import { checkCapabilities, resolveGenerateOptions, validateLoglikelihoodRequests } from "../request.js";
import { SequencePool } from "../sequence-pool.js";
import { StopStringMatcher } from "../stop-strings.js";
import {
  EngineError,
  type DetokenizeOptions,
  type Engine,
  type EngineCapabilities,
  type EngineStats,
  type FinishReason,
  type GenerateEvent,
  type GenerateRequest,
  type GeneratedToken,
  type LoglikelihoodRequest,
  type LoglikelihoodResult,
  type ModelInfo,
  type SpecialTokenInfo,
  type TokenId,
  type TokenizeOptions,
} from "../types.js";
import type { BackendDescription, BackendDialect, BackendKind, BackendLoad, DialectEvent, DialectToken, TokenizePiece } from "./dialect.js";
import { BackendError, BackendHttp, type BackendHttpOptions } from "./http.js";
import { llamaServerDialect } from "./llama-server.js";
import { createVllmDialect } from "./vllm.js";
import { sleep } from "../../util/sleep.js";

/** Texts that end a turn in the chat formats Talaria knows, tried as end-of-generation tokens. */
export const DEFAULT_END_OF_GENERATION_TEXTS = ["<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>", "</s>", "<|eom_id|>"] as const;

/** Other special-token texts of the model families Talaria serves, resolved (when single tokens) so plain text never becomes them. */
export const DEFAULT_SPECIAL_TEXTS = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<s>", "<|python_tag|>"] as const;

/** Model facts known locally (e.g. from a GGUF the user names), used where the backend says less. */
export interface LocalModelInfo {
  readonly path?: string;
  readonly architecture?: string;
  readonly name?: string;
  readonly basename?: string;
  readonly finetune?: string;
  readonly sizeLabel?: string;
  readonly parameterCount?: number;
  readonly trainContextLength?: number;
  readonly vocabularySize?: number;
  readonly fileType?: string;
  readonly chatTemplates?: Readonly<Record<string, string>>;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface RemoteEngineOptions extends BackendHttpOptions {
  /** Which server speaks at `url`. Default `auto`: probed (llama-server answers `/props`; vLLM `/version`). */
  readonly kind?: BackendKind | "auto";
  /**
   * Texts of the chat format's marker tokens (Hermes: `<|im_start|>`, `<tool_call>`, …). Each one the
   * backend tokenizes to exactly one token that detokenizes back to it becomes a marker
   * (`ModelInfo.specialTokens.markers`), is kept whole in forced text, rendered as text in the
   * output, and never matched in plain prompt text. Default: {@link DEFAULT_END_OF_GENERATION_TEXTS} only.
   */
  readonly markerTexts?: readonly string[];
  /** Requests sent to the backend at once; more wait here (FIFO). Default: llama-server's slot count, else 64. */
  readonly maxConcurrency?: number;
  /** Attempts after the first for a request that has streamed nothing (connect errors, 502/503/504/429). Default 2. */
  readonly retries?: number;
  /** First backoff in ms, doubled per attempt, with ±50 % jitter. Default 250. */
  readonly retryBackoffMs?: number;
  /** Model facts from a local file (profile detection, templates) where the backend exposes less. */
  readonly local?: LocalModelInfo;
  /** vLLM: the model name to send (default: the first of its `/v1/models`). */
  readonly modelName?: string;
}

/** Defaults of {@link RemoteEngineOptions}. */
export const REMOTE_ENGINE_DEFAULTS = { retries: 2, retryBackoffMs: 250, maxConcurrency: 64 } as const;

/** A dialect for a kind; vLLM's needs the served model's name (undefined: its first model). */
function dialectFor(kind: BackendKind, modelName: string | undefined): BackendDialect {
  switch (kind) {
    case "llama-server":
      return llamaServerDialect;
    case "vllm":
      return createVllmDialect(modelName);
    default:
      return kind satisfies never;
  }
}


/** Which kind of server answers at `http` (llama-server: `/props` with slot settings; vLLM: `/version`). */
export async function probeBackendKind(http: BackendHttp, signal?: AbortSignal): Promise<BackendKind> {
  const props = await http.get("/props", signal).catch((error: unknown) => error as BackendError);
  if (props instanceof BackendError) {
    if (props.kind === "connect" || props.kind === "timeout") throw props;
  } else if (props.status === 200 && props.text.includes("default_generation_settings")) {
    return "llama-server";
  }
  const version = await http.get("/version", signal).catch(() => undefined);
  if (version?.status === 200 && /"version"\s*:/.test(version.text)) return "vllm";
  const models = await http.get("/v1/models", signal).catch(() => undefined);
  if (models?.status === 200 && models.text.includes('"owned_by":"vllm"')) return "vllm";
  throw new BackendError(`${http.origin} is neither llama-server (no /props) nor vLLM (no /version); pass --backend-kind`, "protocol");
}

/** The model name a file or repository id suggests (`Hermes-3-Llama-3.2-3B.Q4_K_M.gguf` → `Hermes-3-Llama-3.2-3B`). */
export function nameFromModelPath(value: string): string {
  const base = value.split(/[\\/]/).filter((p) => p !== "").pop() ?? value;
  return base.replace(/\.gguf$/i, "").replace(/[.-](?:I?Q\d[\w]*|F16|F32|BF16|fp16|bf16)(?:-\d+-of-\d+)?$/i, "");
}

function toEngineError(error: unknown, backend: string): EngineError {
  if (error instanceof EngineError) return error;
  if (error instanceof BackendError) {
    if (error.kind === "aborted") return new EngineError("the request was aborted", "aborted", { cause: error });
    if (error.kind === "status" && error.status !== undefined && error.status >= 400 && error.status < 500 && error.status !== 429) {
      const text = error.backendMessage ?? error.message;
      if (/context|too long|exceeds|max_model_len|maximum context/i.test(text)) return new EngineError(`${backend}: ${text}`, "context_length_exceeded", { cause: error });
      return new EngineError(`${backend} refused the request: ${text}`, "invalid_request", { cause: error });
    }
    if (error.retryable || error.kind === "timeout") return new EngineError(`${backend} is unavailable: ${error.message}`, "backend_unavailable", { cause: error });
    return new EngineError(`${backend} failed: ${error.message}`, "backend_failed", { cause: error });
  }
  return new EngineError(`${backend} failed: ${error instanceof Error ? error.message : String(error)}`, "backend_failed", { cause: error });
}

/** Turns (tokens, text) chunks into text deltas with stop-string hold-back. */
class TextOutput {
  readonly #matcher: StopStringMatcher;
  #pending: GeneratedToken[] = [];
  #stop: string | undefined;

  constructor(stop: readonly string[]) {
    this.#matcher = new StopStringMatcher(stop);
  }

  get stopped(): string | undefined {
    return this.#stop;
  }

  push(tokens: readonly GeneratedToken[], text: string): GenerateEvent[] {
    if (this.#stop !== undefined) return [];
    this.#pending.push(...tokens);
    if (text === "") return [];
    const r = this.#matcher.push(text);
    if (r.stop !== undefined) {
      this.#stop = r.stop;
      return [this.#delta(r.text)];
    }
    return r.text === "" ? [] : [this.#delta(r.text)];
  }

  finish(): GenerateEvent[] {
    if (this.#stop !== undefined) return [];
    const rest = this.#matcher.flush();
    return rest !== "" || this.#pending.length > 0 ? [this.#delta(rest)] : [];
  }

  #delta(text: string): GenerateEvent {
    const tokens = this.#pending;
    this.#pending = [];
    return { type: "text-delta", text, tokens };
  }
}

export class RemoteEngine implements Engine {
  readonly info: ModelInfo;
  readonly kind: BackendKind;
  readonly description: BackendDescription;
  readonly #http: BackendHttp;
  readonly #dialect: BackendDialect;
  readonly #pool: SequencePool<number>;
  readonly #guard: PlainTextGuard;
  readonly #markerTexts: readonly string[];
  readonly #retries: number;
  readonly #backoffMs: number;
  readonly #name: string;
  readonly #tokenCache = new LruMap<string, readonly TokenId[]>({ max: 4096 });
  readonly #vocabularySize: number;
  readonly #eog: ReadonlySet<TokenId>;
  readonly #markerById: ReadonlyMap<TokenId, string>;
  /** Ids of every special token known (markers, BOS/EOS): dropped by `detokenize` without `special`. */
  readonly #specialIds: ReadonlySet<TokenId>;
  #disposed = false;

  /** @internal Use {@link createRemoteEngine}. */
  constructor(http: BackendHttp, dialect: BackendDialect, description: BackendDescription, info: ModelInfo, options: RemoteEngineOptions) {
    this.#http = http;
    this.#dialect = dialect;
    this.kind = dialect.kind;
    this.description = description;
    this.info = info;
    this.#name = `${dialect.kind} at ${http.origin}`;
    this.#markerTexts = Object.keys(info.specialTokens.markers);
    // Every marker text, and "<|": no `<|…|>` special token (Llama 3's reserved ones included) can be
    // matched in plain text, known to Talaria or not.
    this.#guard = new PlainTextGuard([...this.#markerTexts, "<|"]);
    this.#retries = options.retries ?? REMOTE_ENGINE_DEFAULTS.retries;
    this.#backoffMs = options.retryBackoffMs ?? REMOTE_ENGINE_DEFAULTS.retryBackoffMs;
    this.#vocabularySize = info.vocabularySize > 0 ? info.vocabularySize : Number.MAX_SAFE_INTEGER;
    this.#eog = new Set(info.specialTokens.endOfGeneration);
    this.#markerById = new Map(Object.entries(info.specialTokens.markers).map(([text, id]) => [id, text]));
    this.#specialIds = new Set([...Object.values(info.specialTokens.markers), ...[info.specialTokens.bos, info.specialTokens.eos, info.specialTokens.eot].flatMap((t) => (t === undefined ? [] : [t.id]))]);
    const slots = options.maxConcurrency ?? description.slots ?? REMOTE_ENGINE_DEFAULTS.maxConcurrency;
    this.#pool = new SequencePool(
      Array.from({ length: Math.max(1, slots) }, (_, i) => i),
      () => [],
    );
  }

  /** What the backend can do (its dialect's statement, after describing the backend). */
  get capabilities(): EngineCapabilities {
    return this.#dialect.capabilities;
  }

  /** The backend's base URL. */
  get url(): string {
    return this.#http.origin;
  }

  async tokenize(input: string | PromptText, options: TokenizeOptions = {}): Promise<TokenId[]> {
    this.#ensureLive();
    try {
      if (isPromptText(input)) return await this.#tokenizePieces(this.#pieces(input));
      // Plain text is cut at every marker text: a Hugging Face tokenizer (vLLM) matches added tokens even
      // in text meant as plain.
      return await this.#tokenizePieces(options.special === true ? [{ text: input, special: true }] : this.#guard.split(input).map((text) => ({ text, special: false })));
    } catch (error) {
      throw toEngineError(error, this.#name);
    }
  }

  async detokenize(tokens: readonly TokenId[], options: DetokenizeOptions = {}): Promise<string> {
    this.#ensureLive();
    // Both backends render special tokens; without `special` the known ones (markers, BOS/EOS) are
    // dropped here. A control token Talaria was not told about still renders (docs/scale-out.md).
    const ids = options.special === true ? tokens : tokens.filter((t) => !this.#specialIds.has(t));
    if (ids.length === 0) return "";
    try {
      return await this.#dialect.detokenize(this.#http, ids);
    } catch (error) {
      throw toEngineError(error, this.#name);
    }
  }

  stats(): EngineStats {
    return { sequencesTotal: this.#pool.total, sequencesBusy: this.#pool.busy, waiting: this.#pool.waiting };
  }

  /** The backend's own load (its metrics route), when it exports one. */
  load(signal?: AbortSignal): Promise<BackendLoad | undefined> {
    return this.#dialect.load(this.#http, signal).catch(() => undefined);
  }

  /** Whether the backend's health route answers 200. */
  healthy(signal?: AbortSignal): Promise<boolean> {
    return this.#dialect.healthy(this.#http, signal).catch(() => false);
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#pool.close(new EngineError("the engine was disposed", "disposed"));
    this.#http.close();
  }

  /** Prompt parts as tokenize pieces: plain text cut where it spells a marker, so it never becomes one. */
  #pieces(prompt: PromptText): TokenizePiece[] {
    const out: TokenizePiece[] = [];
    for (const part of prompt.parts) {
      if (part.text === "") continue;
      if (part.kind === "special") out.push({ text: part.text, special: true });
      else for (const piece of this.#guard.split(part.text)) out.push({ text: piece, special: false });
    }
    return out;
  }

  /**
   * Tokenize pieces in order: markers from the table, long plain pieces (system prompts, tool lists:
   * 256+ characters) from an LRU cache or in a request of their own, runs of short pieces together.
   * The requests run concurrently.
   */
  async #tokenizePieces(pieces: readonly TokenizePiece[], signal?: AbortSignal): Promise<TokenId[]> {
    const markers = this.info.specialTokens.markers;
    const segments: (readonly TokenId[] | Promise<readonly TokenId[]>)[] = [];
    let run: TokenizePiece[] = [];
    const flush = (): void => {
      if (run.length === 0) return;
      segments.push(this.#dialect.tokenize(this.#http, run, signal));
      run = [];
    };
    for (const p of pieces) {
      const marker = p.special ? markers[p.text] : undefined;
      if (marker !== undefined) {
        flush();
        segments.push([marker]);
      } else if (p.text.length >= 256) {
        flush();
        const key = `${p.special ? "s" : "p"}${p.text}`;
        const hit = this.#tokenCache.get(key);
        segments.push(
          hit ??
            this.#dialect.tokenize(this.#http, [p], signal).then((ids) => {
              this.#tokenCache.set(key, ids);
              return ids;
            }),
        );
      } else {
        run.push(p);
      }
    }
    flush();
    const out: TokenId[] = [];
    for (const ids of await Promise.all(segments)) for (const t of ids) out.push(t);
    return out;
  }

  async #promptTokens(request: GenerateRequest, addBos: boolean): Promise<TokenId[]> {
    const p = request.prompt;
    let tokens: TokenId[];
    if (typeof p === "string") tokens = await this.#tokenizePieces([{ text: p, special: true }], request.signal);
    else if (isPromptText(p)) tokens = await this.#tokenizePieces(this.#pieces(p), request.signal);
    else {
      tokens = [...(p as readonly TokenId[])];
      for (const t of tokens) {
        if (!Number.isInteger(t) || t < 0 || t >= this.#vocabularySize) throw new EngineError(`prompt token ${String(t)} is not in the vocabulary`, "invalid_request");
      }
    }
    const bos = this.info.specialTokens.bos?.id;
    return addBos && bos !== undefined && tokens[0] !== bos ? [bos, ...tokens] : tokens;
  }

  async *generate(request: GenerateRequest): AsyncIterable<GenerateEvent> {
    this.#ensureLive();
    const options = resolveGenerateOptions(request, this.#vocabularySize);
    const warnings = checkCapabilities(request, this.capabilities, this.kind);
    let prompt: TokenId[];
    try {
      prompt = await this.#promptTokens(request, options.addBos);
    } catch (error) {
      if (request.signal?.aborted === true) {
        yield* warnings;
        yield { type: "finish", reason: "abort", usage: { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0 } };
        return;
      }
      throw toEngineError(error, this.#name);
    }
    if (prompt.length === 0) throw new EngineError("the prompt is empty", "invalid_request");
    const contextSize = this.info.contextSize;
    if (prompt.length > contextSize - 1 && request.signal?.aborted !== true) {
      throw new EngineError(`the prompt has ${prompt.length} tokens; the context holds ${contextSize - 1}`, "context_length_exceeded");
    }
    const room = contextSize - prompt.length;
    const maxTokens = Math.min(options.maxTokens ?? room, room);
    const output = new TextOutput(options.stop);
    const usage = (completionTokens: number, cached = 0, promptTokens = prompt.length) => ({ promptTokens, completionTokens, cachedPromptTokens: cached });
    yield* warnings;

    let lease;
    try {
      lease = await this.#pool.acquire([], request.signal);
    } catch (error) {
      if (error instanceof EngineError && error.code === "aborted") {
        yield { type: "finish", reason: "abort", usage: usage(0) };
        return;
      }
      throw error;
    }
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    request.signal?.addEventListener("abort", onAbort, { once: true });
    if (request.signal?.aborted === true) controller.abort();
    let generated = 0;
    let reason: FinishReason | undefined;
    let cached = 0;
    let promptTokens = prompt.length;
    let stopTokenText: string | undefined;
    const eog = this.#eog;
    const markerText = this.#markerById;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const stream = this.#dialect.generate(
            this.#http,
            {
              prompt,
              maxTokens,
              sampling: options.sampling,
              topLogprobs: options.topLogprobs,
              logprobs: options.logprobs,
              ...(request.grammar === undefined ? {} : { grammar: request.grammar }),
              markerTexts: this.#markerTexts,
              stopTokens: [...options.stopTokens],
              endOfGeneration: this.info.specialTokens.endOfGeneration,
            },
            controller.signal,
          );
          for await (const event of stream as AsyncIterable<DialectEvent>) {
            // Aborted while the consumer handled the last event: chunks already received are not output.
            if (controller.signal.aborted && reason === undefined) break;
            if (event.type === "end") {
              reason ??= event.reason;
              generated += event.uncountedTokens ?? 0;
              promptTokens = event.promptTokens ?? prompt.length;
              // At least the last prompt token is evaluated again (its logits start the generation).
              cached = Math.min(event.cachedPromptTokens ?? 0, promptTokens - 1);
              break;
            }
            if (reason !== undefined) continue; // after an end-of-generation token: only the final event is read
            const stopAt = event.tokens.findIndex((t) => eog.has(t.id) || options.stopTokens.has(t.id));
            const kept = stopAt < 0 ? event.tokens : event.tokens.slice(0, stopAt);
            const tokens: GeneratedToken[] = kept.map((t, i) => ({
              id: t.id,
              text: i === kept.length - 1 && stopAt < 0 ? event.text : "",
              ...(options.logprobs && t.logprob !== undefined ? { logprob: t.logprob } : {}),
              ...(options.topLogprobs > 0 && t.top !== undefined ? { top: t.top } : {}),
            }));
            generated += tokens.length;
            yield* output.push(tokens, stopAt < 0 ? event.text : "");
            if (output.stopped !== undefined) {
              reason = "stop-string";
              break;
            }
            if (stopAt >= 0) {
              const stopToken = event.tokens[stopAt] as DialectToken;
              stopTokenText = markerText.get(stopToken.id) ?? event.text;
              reason = "stop";
              generated++; // generated, not output (as the embedded engine counts it)
              // The backend ends by itself after an end-of-generation token (read on for its usage); a request stop token it would not.
              if (!eog.has(stopToken.id)) break;
            }
          }
          break;
        } catch (error) {
          if (controller.signal.aborted) {
            reason = "abort";
            break;
          }
          const retry = error instanceof BackendError && error.retryable && generated === 0 && attempt < this.#retries;
          if (!retry) throw error;
          await sleep(this.#backoffMs * 2 ** attempt * (0.5 + Math.random()), controller.signal);
          if (controller.signal.aborted) {
            reason = "abort";
            break;
          }
        }
      }
      if (reason === undefined) reason = controller.signal.aborted ? "abort" : "stop";
      const stopText = output.stopped ?? stopTokenText;
      if (reason !== "stop-string") yield* output.finish();
      yield { type: "finish", reason, ...(stopText === undefined ? {} : { stopText }), usage: usage(generated, cached, promptTokens) };
    } catch (error) {
      // Nothing generated yet: whatever broke (connection, timeout, a 5xx, an error event), the request can
      // go to another replica without the client seeing a replay.
      if (generated === 0 && error instanceof BackendError && (error.kind === "broken" || error.kind === "timeout" || (error.kind === "status" && (error.status ?? 0) >= 500))) {
        throw new EngineError(`${this.#name} failed before the first token: ${error.message}`, "backend_unavailable", { cause: error });
      }
      throw toEngineError(error, this.#name);
    } finally {
      request.signal?.removeEventListener("abort", onAbort);
      controller.abort();
      lease.release();
    }
  }

  async loglikelihood(requests: readonly LoglikelihoodRequest[], options: { readonly signal?: AbortSignal } = {}): Promise<LoglikelihoodResult[]> {
    this.#ensureLive();
    const score = this.#dialect.scorePrompt;
    if (!this.capabilities.loglikelihood || score === undefined) throw new EngineError(`the ${this.kind} engine does not support loglikelihood`, "unsupported");
    validateLoglikelihoodRequests(requests, this.#vocabularySize);
    const contextSize = this.info.contextSize;
    return Promise.all(
      requests.map(async (r, i) => {
        const tokens = [...r.context, ...r.continuation];
        if (tokens.length > contextSize - 1) throw new EngineError(`loglikelihood request ${i} has ${tokens.length} tokens; the context holds ${contextSize - 1}`, "context_length_exceeded");
        const lease = await this.#pool.acquire([], options.signal);
        try {
          const s = await score.call(this.#dialect, this.#http, tokens, r.context.length, options.signal);
          return { loglik: s.logprobs.reduce((a, b) => a + b, 0), isGreedy: s.greedy.every(Boolean), tokenLogprobs: s.logprobs };
        } catch (error) {
          throw toEngineError(error, this.#name);
        } finally {
          lease.release();
        }
      }),
    );
  }

  #ensureLive(): void {
    if (this.#disposed) throw new EngineError("the engine was disposed", "disposed");
  }
}

/** Resolve candidate marker texts against the backend: one token each, detokenizing back to the text. */
async function resolveMarkers(http: BackendHttp, dialect: BackendDialect, texts: readonly string[], signal?: AbortSignal): Promise<Record<string, TokenId>> {
  const unique = [...new Set(texts.filter((t) => t !== ""))];
  const ids = await Promise.all(unique.map((text) => dialect.tokenize(http, [{ text, special: true }], signal)));
  const single = unique.map((text, i) => ({ text, ids: ids[i] as TokenId[] })).filter((m) => m.ids.length === 1);
  const back = await Promise.all(single.map((m) => dialect.detokenize(http, m.ids, signal)));
  const out: Record<string, TokenId> = {};
  single.forEach((m, i) => {
    if (back[i] === m.text) out[m.text] = m.ids[0] as TokenId;
  });
  return out;
}

/**
 * Connect to a backend: probe its kind (unless given), describe it, resolve the marker tokens, and
 * return the engine. Throws {@link EngineError} `backend_unavailable` when it cannot be reached.
 */
export async function createRemoteEngine(options: RemoteEngineOptions, signal?: AbortSignal): Promise<RemoteEngine> {
  const http = new BackendHttp(options);
  try {
    const kind = options.kind === undefined || options.kind === "auto" ? await probeBackendKind(http, signal) : options.kind;
    const dialect = dialectFor(kind, options.modelName);
    const description = await dialect.describe(http, signal);
    const local = options.local ?? {};
    const candidates = [...(options.markerTexts ?? []), ...DEFAULT_END_OF_GENERATION_TEXTS, ...DEFAULT_SPECIAL_TEXTS, ...(description.bosText === undefined ? [] : [description.bosText]), ...(description.eosText === undefined ? [] : [description.eosText])];
    const markers = await resolveMarkers(http, dialect, candidates, signal);
    const info_ = (text: string | undefined): SpecialTokenInfo | undefined => (text !== undefined && markers[text] !== undefined ? { text, id: markers[text] as TokenId } : undefined);
    const bos = info_(description.bosText);
    const eos = info_(description.eosText);
    const eot = info_("<|eot_id|>") ?? info_("<|im_end|>");
    const eog = new Set<TokenId>();
    for (const t of [...DEFAULT_END_OF_GENERATION_TEXTS, ...(description.eosText === undefined ? [] : [description.eosText])]) if (markers[t] !== undefined) eog.add(markers[t] as TokenId);
    const chatTemplates: Record<string, string> = { ...(description.chatTemplate === undefined ? {} : { default: description.chatTemplate }), ...(local.chatTemplates ?? {}) };
    const derived = nameFromModelPath(description.modelPath ?? description.modelId);
    const info: ModelInfo = {
      source: http.origin,
      ...(local.path === undefined ? {} : { path: local.path }),
      architecture: local.architecture ?? "remote",
      name: local.name ?? derived,
      ...(local.basename === undefined ? {} : { basename: local.basename }),
      ...(local.finetune === undefined ? {} : { finetune: local.finetune }),
      ...(local.sizeLabel === undefined ? {} : { sizeLabel: local.sizeLabel }),
      parameterCount: local.parameterCount ?? description.parameterCount ?? 0,
      trainContextLength: local.trainContextLength ?? description.trainContextLength ?? description.contextSize,
      contextSize: description.contextSize,
      vocabularySize: local.vocabularySize ?? description.vocabularySize ?? 0,
      ...(local.fileType === undefined ? {} : { fileType: local.fileType }),
      chatTemplates,
      specialTokens: {
        ...(bos === undefined ? {} : { bos }),
        ...(eos === undefined ? {} : { eos }),
        ...(eot === undefined ? {} : { eot }),
        endOfGeneration: [...eog],
        markers,
      },
      metadata: { ...(local.metadata ?? {}), "talaria.backend.kind": kind, "talaria.backend.url": http.origin, "talaria.backend.model": description.modelId, ...(description.version === undefined ? {} : { "talaria.backend.version": description.version }) },
    };
    return new RemoteEngine(http, dialect, description, info, options);
  } catch (error) {
    http.close();
    throw toEngineError(error, `the backend at ${http.origin}`);
  }
}
