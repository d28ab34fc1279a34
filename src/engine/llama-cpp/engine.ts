/**
 * The {@link Engine} port over node-llama-cpp 3.22.1 (embedded llama.cpp). The only module that
 * drives node-llama-cpp; see docs/decisions/0010-engine-port.md and 0011-why-node-llama-cpp.md.
 *
 * One model, one context with N sequences. Concurrent generations run on different sequences and
 * node-llama-cpp batches their pending decodes together every tick (continuous batching). A request
 * takes the free sequence whose cached tokens share the longest prefix with its prompt, erases the
 * rest and evaluates only the suffix (exact-prefix reuse; never shifted KV cells).
 */
import {
  LlamaGrammarEvaluationState,
  LlamaVocabularyType,
  type ControlledEvaluateIndexOutput,
  type ControlledEvaluateInputItem,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaGrammar,
  type LlamaModel,
} from "node-llama-cpp";
import { GbnfRecognizer, TokenTrie } from "../../grammar/index.js";
import { splitAtMarkers, type ForcedToken } from "../constrained-decoding.js";
import { GenerationOutput } from "../generation-output.js";
import { PlainTextGuard } from "../plain-text-guard.js";
import { tokenizePromptInput, tokenizePromptText } from "../prompt-input.js";
import { checkCapabilities, resolveGenerateOptions, validateLoglikelihoodRequests } from "../request.js";
import { SequencePool, type Lease } from "../sequence-pool.js";
import { LruMap } from "../../util/lru.js";
import {
  EngineError,
  type DetokenizeOptions,
  type Engine,
  type EngineCapabilities,
  type EngineStats,
  type GenerateEvent,
  type GenerateRequest,
  type LoglikelihoodRequest,
  type LoglikelihoodResult,
  type ModelInfo,
  type TokenId,
  type TokenizeOptions,
} from "../types.js";
import { isPromptText, type PromptText } from "../../prompt/text.js";
import { LlamaGeneration, noContextShift, type GenerationHost } from "./generation.js";
import { buildModelInfo, vocabularySizeOf } from "./model-info.js";
import { asToken, asTokens } from "./tokens.js";
import { defaultThreads, sharedLlama, type GpuOption } from "./llama.js";
import { resolveModelSource, type DownloadProgress } from "./model-source.js";

/** Default context size per sequence when the model was trained on more. */
export const DEFAULT_CONTEXT_SIZE = 4096;

export interface LlamaCppEngineOptions {
  /** A GGUF path, an `hf:<user>/<repo>/<file>.gguf` URI or an https URL. Required. */
  readonly model: string;
  /** Tokens per sequence. Default: min(the model's training context, 4096). */
  readonly contextSize?: number;
  /** Parallel sequences (concurrent generations) in the one context. Default 1. */
  readonly sequences?: number;
  /** Evaluation threads. Default {@link defaultThreads}: idle CPUs by 1-minute load average, 1 to 8. */
  readonly threads?: number;
  /** GPU backend. Default "auto" (CUDA, Vulkan or Metal when usable, else CPU). */
  readonly gpu?: GpuOption;
  /** Tokens decoded per batch. Default node-llama-cpp's: min(512, contextSize × sequences). */
  readonly batchSize?: number;
  /** Where downloaded models are cached. Default `~/.cache/talaria/models` (XDG_CACHE_HOME honoured). */
  readonly modelsDirectory?: string;
  /** Base URL for `hf:` URIs. Default: `MODEL_ENDPOINT`, then `HF_ENDPOINT`, then https://huggingface.co/. */
  readonly huggingFaceEndpoint?: string;
  /** Model load progress in [0, 1]. Default none. */
  readonly onLoadProgress?: (progress: number) => void;
  /** Download progress (remote models only). Default none. */
  readonly onDownloadProgress?: (progress: DownloadProgress) => void;
  /** Aborts downloading and loading. */
  readonly signal?: AbortSignal;
  /**
   * Allowed-token preselection for grammar-constrained steps (docs/decisions/0185). Default true;
   * false leaves every rejected sample to llama.cpp's whole-vocabulary mask (benchmarks compare both).
   */
  readonly preselect?: boolean;
}

/** Load a model and create the engine. Throws {@link EngineError} (`model_not_found`, `offline`, `model_load_failed`). */
export async function createLlamaCppEngine(options: LlamaCppEngineOptions): Promise<LlamaCppEngine> {
  const threads = options.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1) throw new EngineError(`threads must be an integer >= 1 (got ${threads})`, "invalid_request");
  const sequences = options.sequences ?? 1;
  if (!Number.isInteger(sequences) || sequences < 1) throw new EngineError(`sequences must be an integer >= 1 (got ${sequences})`, "invalid_request");
  if (options.contextSize !== undefined && (!Number.isInteger(options.contextSize) || options.contextSize < 2)) {
    throw new EngineError(`contextSize must be an integer >= 2 (got ${options.contextSize})`, "invalid_request");
  }
  const modelPath = await resolveModelSource(options.model, {
    ...(options.modelsDirectory !== undefined ? { modelsDirectory: options.modelsDirectory } : {}),
    ...(options.onDownloadProgress !== undefined ? { onDownloadProgress: options.onDownloadProgress } : {}),
    ...(options.huggingFaceEndpoint !== undefined ? { huggingFaceEndpoint: options.huggingFaceEndpoint } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  const llama = await sharedLlama(options.gpu ?? "auto", threads);
  let model: LlamaModel;
  try {
    model = await llama.loadModel({
      modelPath,
      ...(options.onLoadProgress !== undefined ? { onLoadProgress: options.onLoadProgress } : {}),
      ...(options.signal !== undefined ? { loadSignal: options.signal } : {}),
    });
  } catch (error) {
    throw new EngineError(`could not load ${options.model}: ${error instanceof Error ? error.message : String(error)}`, "model_load_failed", {
      cause: error,
    });
  }
  try {
    const contextSize = options.contextSize ?? Math.min(model.trainContextSize, DEFAULT_CONTEXT_SIZE);
    const context = await model.createContext({
      contextSize,
      sequences,
      threads,
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      ...(options.signal !== undefined ? { createSignal: options.signal } : {}),
    });
    return new LlamaCppEngine(llama, model, context, options.model, modelPath, { preselect: options.preselect ?? true });
  } catch (error) {
    await model.dispose();
    if (error instanceof EngineError) throw error;
    throw new EngineError(`could not create a context for ${options.model}: ${error instanceof Error ? error.message : String(error)}`, "model_load_failed", {
      cause: error,
    });
  }
}

function toEngineError(error: unknown, what: string): EngineError {
  if (error instanceof EngineError) return error;
  return new EngineError(`${what}: ${error instanceof Error ? error.message : String(error)}`, "internal", { cause: error });
}

/** What the llama.cpp engine can do (node-llama-cpp 3.22.1). */
export const LLAMA_CPP_CAPABILITIES: EngineCapabilities = {
  grammar: true,
  lazyGrammar: true,
  jumpForward: true,
  logprobs: true,
  // logprobs run a controlled evaluation per token, which takes no grammar state
  logprobsWithGrammar: false,
  loglikelihood: true,
  tokenIdPrompts: true,
  sampling: true,
};

/** Grammars (and our recognizers of them) an engine keeps, by GBNF text: a size-capped LRU (docs/decisions/0053). */
export const GRAMMAR_CACHE_SIZE = 64;

export class LlamaCppEngine implements Engine {
  readonly info: ModelInfo;
  readonly capabilities: EngineCapabilities = LLAMA_CPP_CAPABILITIES;
  readonly #llama: Llama;
  readonly #model: LlamaModel;
  readonly #context: LlamaContext;
  readonly #pool: SequencePool<LlamaContextSequence>;
  readonly #vocabularySize: number;
  readonly #eog: ReadonlySet<TokenId>;
  readonly #spm: boolean;
  /**
   * Parsed grammars by GBNF text, the {@link GRAMMAR_CACHE_SIZE} most recently used (docs/decisions/0053).
   * LlamaGrammar has no dispose: an evicted one is freed by GC once no generation uses it (a generation
   * holds its own reference through its evaluation state).
   */
  readonly #grammars = new LruMap<string, Promise<LlamaGrammar>>({ max: GRAMMAR_CACHE_SIZE });
  /** Our replica of each grammar (null: our parser rejects it, so no jump-forward), least recently used evicted. */
  readonly #recognizers = new LruMap<string, GbnfRecognizer | null>({ max: GRAMMAR_CACHE_SIZE });
  /** USER_DEFINED token texts that plain text must not tokenize into (llama.cpp matches them even with special parsing off). */
  readonly #guard: PlainTextGuard;
  /** Marker texts (Hermes tags) for tokenizing forced text. */
  readonly #markerTexts: readonly string[];
  /** What generations need from the engine. */
  readonly #host: GenerationHost;
  #disposed = false;
  #active = new Set<Promise<unknown>>();
  #forcedTokens = 0;
  #preselectedSteps = 0;
  readonly #preselectOn: boolean;
  /** The vocabulary as the grammar sees it, built on the first constrained generation. */
  #trie: TokenTrie | undefined;
  #trieBuild: Promise<void> | undefined;

  /** @internal Use {@link createLlamaCppEngine}. */
  constructor(llama: Llama, model: LlamaModel, context: LlamaContext, source: string, path: string, settings: { readonly preselect: boolean } = { preselect: true }) {
    this.#llama = llama;
    this.#preselectOn = settings.preselect;
    this.#model = model;
    this.#context = context;
    const sequences = Array.from({ length: context.totalSequences }, () => context.getSequence({ contextShift: noContextShift }));
    this.#pool = new SequencePool(sequences, (s) => s.contextTokens);
    this.#vocabularySize = vocabularySizeOf(model);
    this.#spm = model.vocabularyType === LlamaVocabularyType.spm;
    this.info = buildModelInfo({ model, source, path, contextSize: context.contextSize });
    this.#eog = new Set(this.info.specialTokens.endOfGeneration);
    this.#guard = new PlainTextGuard(userDefinedTokenTexts(model));
    this.#markerTexts = Object.keys(this.info.specialTokens.markers);
    const isDisposed = (): boolean => this.#disposed;
    this.#host = {
      model,
      contextSize: context.contextSize,
      vocabularySize: this.#vocabularySize,
      eog: this.#eog,
      get disposed() {
        return isDisposed();
      },
      tokenizeForced: (text) => this.#tokenizeForced(text),
      track: (promise) => this.#track(promise),
      countForced: (tokens) => {
        this.#forcedTokens += tokens;
      },
      countPreselected: () => {
        this.#preselectedSteps++;
      },
    };
  }

  /** The compute backend llama.cpp uses: "cuda", "vulkan", "metal", or false for CPU. */
  get gpu(): string | false {
    return this.#llama.gpu;
  }

  /** The evaluation threads the context uses. */
  get threads(): number {
    return this.#context.idealThreads;
  }

  async tokenize(input: string | PromptText, options: TokenizeOptions = {}): Promise<TokenId[]> {
    this.#ensureLive();
    if (isPromptText(input)) return tokenizePromptText(input, this.#tokenizePart);
    return this.#model.tokenize(input, options.special ?? false);
  }

  async detokenize(tokens: readonly TokenId[], options: DetokenizeOptions = {}): Promise<string> {
    this.#ensureLive();
    return this.#model.detokenize(asTokens(tokens), options.special ?? false);
  }

  stats(): EngineStats {
    return { sequencesTotal: this.#pool.total, sequencesBusy: this.#pool.busy, waiting: this.#pool.waiting };
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#pool.close(new EngineError("the engine was disposed", "disposed"));
    await Promise.allSettled([...this.#active]);
    await this.#context.dispose();
    await this.#model.dispose();
  }

  /**
   * Plain parts: special tokens off, and cut wherever they spell a USER_DEFINED token (which
   * llama.cpp would match anyway; see plain-text-guard.ts). On SPM vocabularies a part (or piece)
   * after the first is tokenized without the leading-space prefix llama.cpp adds at the start of a text.
   */
  readonly #tokenizePart = (text: string, special: boolean, index: number): TokenId[] => {
    const raw = (piece: string, first: boolean): TokenId[] =>
      this.#spm && !first ? this.#model.tokenize(piece, special, "trimLeadingSpace") : this.#model.tokenize(piece, special);
    if (special) return raw(text, index === 0);
    const pieces = this.#guard.split(text);
    if (pieces.length === 1) return raw(text, index === 0);
    return pieces.flatMap((piece, i) => raw(piece, index === 0 && i === 0));
  };

  /** Constrained steps sampled with allowed-token preselection since the engine was created (diagnostics, benchmarks). */
  get preselectedStepCount(): number {
    return this.#preselectedSteps;
  }

  /** Tokens appended by jump-forward decoding (not sampled) since the engine was created (diagnostics, benchmarks). */

  get forcedTokenCount(): number {
    return this.#forcedTokens;
  }

  /** USER_DEFINED token texts guarded in plain prompt parts (for tests and diagnostics). */
  get guardedTokenTexts(): readonly string[] {
    return this.#guard.texts;
  }

  /** Forced grammar text → tokens: marker texts become their marker token, the rest plain text. */
  #tokenizeForced(text: string): ForcedToken[] {
    const markers = this.info.specialTokens.markers;
    return splitAtMarkers(text, this.#markerTexts).flatMap((segment): ForcedToken[] =>
      segment.marker
        ? [{ id: markers[segment.text] as TokenId, marker: true }]
        : (this.#spm ? this.#model.tokenize(segment.text, false, "trimLeadingSpace") : this.#model.tokenize(segment.text, false)).map((id) => ({
            id: id as TokenId,
            marker: false,
          })),
    );
  }

  #promptTokens(request: GenerateRequest, addBos: boolean): TokenId[] {
    const tokens = tokenizePromptInput(request.prompt, this.#tokenizePart, this.#vocabularySize);
    const bos = this.#model.tokens.bos;
    return addBos && bos !== null && tokens[0] !== bos ? [bos, ...tokens] : tokens;
  }

  #ensureLive(): void {
    if (this.#disposed) throw new EngineError("the engine was disposed", "disposed");
  }

  /** Track background work so that dispose() waits for it. */
  #track<T>(promise: Promise<T>): Promise<T> {
    this.#active.add(promise);
    void promise.finally(() => this.#active.delete(promise)).catch(() => {});
    return promise;
  }

  /** Give a leased sequence the prompt's common prefix and return the number of reused tokens. */
  async #prepare(sequence: LlamaContextSequence, tokens: readonly TokenId[], minimumToEvaluate: number): Promise<number> {
    const common = Math.min(sequence.compareContextTokens(asTokens([...tokens])).firstDifferentIndex, tokens.length - minimumToEvaluate);
    const keep = Math.max(0, common);
    if (sequence.nextTokenIndex > keep) await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
    return keep;
  }

  async *generate(request: GenerateRequest): AsyncIterable<GenerateEvent> {
    this.#ensureLive();
    const options = resolveGenerateOptions(request, this.#vocabularySize);
    const warnings = checkCapabilities(request, this.capabilities, "llama.cpp");
    const prompt = this.#promptTokens(request, options.addBos);
    if (prompt.length === 0) throw new EngineError("the prompt is empty", "invalid_request");
    const contextSize = this.#context.contextSize;
    if (prompt.length > contextSize - 1) {
      throw new EngineError(`the prompt has ${prompt.length} tokens; the context holds ${contextSize - 1}`, "context_length_exceeded");
    }
    const grammar = request.grammar !== undefined ? await this.#grammar(request.grammar.gbnf) : undefined;
    const output = new GenerationOutput({
      stop: options.stop,
      decode: (tokens, previous) => this.#model.detokenize(asTokens(tokens), true, asTokens(previous)),
      previous: prompt,
    });
    let lease: Lease<LlamaContextSequence>;
    try {
      lease = await this.#pool.acquire(prompt, request.signal);
    } catch (error) {
      if (error instanceof EngineError && error.code === "aborted") {
        yield* warnings;
        yield* output.finish("abort", { promptTokens: prompt.length, completionTokens: 0, cachedPromptTokens: 0 });
        return;
      }
      throw error;
    }
    let generation: LlamaGeneration | undefined;
    try {
      const sequence = lease.slot;
      const cached = await this.#prepare(sequence, prompt, 1);
      generation = new LlamaGeneration(this.#host, {
        sequence,
        prompt,
        cached,
        options,
        output,
        signal: request.signal,
        grammar:
          grammar !== undefined && request.grammar !== undefined
            ? {
                state: new LlamaGrammarEvaluationState({ model: this.#model, grammar }),
                lazyTriggers: request.grammar.lazyTriggers ?? [],
                recognizer: this.#recognizer(request.grammar.gbnf),
                jumpForward: request.jumpForward ?? true,
                trie: this.#preselectOn ? this.#tokenTrie() : undefined,
              }
            : undefined,
      });
      yield* warnings;
      if (request.jumpForward === true && grammar !== undefined && !generation.canJumpForward) {
        yield { type: "warning", code: "jump-forward-unavailable", message: "this node-llama-cpp version exposes no grammar-state control; tokens are sampled one by one" };
      }
      yield* generation.run();
    } catch (error) {
      throw toEngineError(error, "generation failed");
    } finally {
      const cleanup = (generation?.close() ?? Promise.resolve()).finally(() => lease.release());
      await this.#track(cleanup);
    }
  }

  /**
   * The vocabulary trie for allowed-token preselection (docs/decisions/0185): every token's piece as
   * llama.cpp's grammar matches it (special tokens rendered). Built once, in the background from the
   * first constrained request on, in slices of ~10 ms (~0.5–0.7 s of work for 128k tokens), so no
   * request stalls the server; until it is ready constrained steps run without preselection.
   */
  #tokenTrie(): TokenTrie | undefined {
    if (this.#trie === undefined && this.#trieBuild === undefined) {
      const model = this.#model;
      const size = this.#vocabularySize;
      const build = async (): Promise<void> => {
        const pieces: (readonly [number, string])[] = [];
        for (let id = 0; id < size; id++) {
          if (id % 8192 === 0) {
            await new Promise((resolve) => setImmediate(resolve));
            if (this.#disposed) return;
          }
          pieces.push([id, model.detokenize([asToken(id)], true)]);
        }
        const trie = await TokenTrie.buildInSlices(pieces, this.#eog);
        if (!this.#disposed) this.#trie = trie;
      };
      this.#trieBuild = this.#track(build()).catch(() => undefined);
    }
    return this.#trie;
  }

  /** Resolves once the vocabulary trie for preselection is built (benchmarks and tests wait for it). */
  async preselectionReady(): Promise<void> {
    if (!this.#preselectOn) return;
    this.#tokenTrie();
    await this.#trieBuild;
  }

  /** Our recognizer for a grammar (cached); undefined when our parser cannot read it (then no jump-forward). */
  #recognizer(gbnf: string): GbnfRecognizer | undefined {
    let recognizer = this.#recognizers.get(gbnf);
    if (recognizer === undefined) {
      try {
        recognizer = GbnfRecognizer.fromText(gbnf);
      } catch {
        recognizer = null;
      }
      this.#recognizers.set(gbnf, recognizer);
    }
    return recognizer ?? undefined;
  }

  async #grammar(gbnf: string): Promise<LlamaGrammar> {
    let grammar = this.#grammars.get(gbnf);
    if (grammar === undefined) {
      const created: Promise<LlamaGrammar> = this.#llama.createGrammar({ grammar: gbnf }).catch((error: unknown) => {
        if (this.#grammars.peek(gbnf) === created) this.#grammars.delete(gbnf); // not a newer entry
        throw new EngineError(`invalid grammar: ${error instanceof Error ? error.message : String(error)}`, "invalid_request", { cause: error });
      });
      grammar = created;
      this.#grammars.set(gbnf, grammar);
    }
    return grammar;
  }

  async loglikelihood(requests: readonly LoglikelihoodRequest[], options: { readonly signal?: AbortSignal } = {}): Promise<LoglikelihoodResult[]> {
    this.#ensureLive();
    validateLoglikelihoodRequests(requests, this.#vocabularySize);
    const contextSize = this.#context.contextSize;
    requests.forEach((r, i) => {
      if (r.context.length + r.continuation.length > contextSize - 1) {
        throw new EngineError(
          `loglikelihood request ${i} has ${r.context.length + r.continuation.length} tokens; the context holds ${contextSize - 1}`,
          "context_length_exceeded",
        );
      }
    });
    // Order requests so that those sharing prefixes run one after another on the same sequence.
    const order = requests.map((_, i) => i);
    const full = requests.map((r) => [...r.context, ...r.continuation]);
    order.sort((a, b) => compareTokens(full[a] as TokenId[], full[b] as TokenId[]));
    const results: LoglikelihoodResult[] = new Array(requests.length);
    let nextIndex = 0;
    const worker = async (): Promise<void> => {
      while (nextIndex < order.length) {
        if (options.signal?.aborted === true) throw new EngineError("the request was aborted", "aborted");
        const index = order[nextIndex++] as number;
        const request = requests[index] as LoglikelihoodRequest;
        const tokens = full[index] as TokenId[];
        const lease = await this.#pool.acquire(tokens, options.signal);
        try {
          results[index] = await this.#track(this.#score(lease.slot, request, tokens));
        } finally {
          lease.release();
        }
      }
    };
    const workers = Array.from({ length: Math.min(this.#pool.total, requests.length) }, () => worker());
    const settled = await Promise.allSettled(workers);
    for (const s of settled) if (s.status === "rejected") throw toEngineError(s.reason, "loglikelihood failed");
    return results;
  }

  async #score(sequence: LlamaContextSequence, request: LoglikelihoodRequest, tokens: readonly TokenId[]): Promise<LoglikelihoodResult> {
    // Logits are needed from the last context token on; everything before may come from the cache.
    const contextLength = request.context.length;
    const start = await this.#prepare(sequence, tokens, tokens.length - (contextLength - 1));
    const items: ControlledEvaluateInputItem[] = [];
    for (let i = start; i < tokens.length; i++) {
      const token = tokens[i] as TokenId;
      if (i >= contextLength - 1 && i < tokens.length - 1) {
        const target = tokens[i + 1] as TokenId;
        items.push([
          asToken(token),
          {
            generateNext: {
              token: true,
              options: { temperature: 0 },
              // never `includeMax` (inverted in 3.22.1); under greedy sampling the selected token is the max
              logits: { filter: { tokens: [asToken(target)], includeSelected: true } },
              totalLogitWeight: true,
            },
          },
        ]);
      } else {
        items.push(asToken(token));
      }
    }
    const out = await sequence.controlledEvaluate(items, { contextShift: noContextShift });
    const tokenLogprobs: number[] = [];
    let isGreedy = true;
    for (let i = contextLength - 1; i < tokens.length - 1; i++) {
      const next = (out[i - start] as ControlledEvaluateIndexOutput | undefined)?.next;
      const target = tokens[i + 1] as TokenId;
      const selected = next?.token;
      const weight = next?.totalLogitWeight;
      const targetLogit = next?.logits?.get(asToken(target));
      const maxLogit = selected === undefined || selected === null ? undefined : next?.logits?.get(selected);
      if (weight === undefined || targetLogit === undefined || maxLogit === undefined) {
        throw new EngineError("llama.cpp returned no logits for a scored position", "internal");
      }
      tokenLogprobs.push(targetLogit - maxLogit - Math.log(weight));
      if (selected !== target && targetLogit < (maxLogit as number)) isGreedy = false;
    }
    return { loglik: tokenLogprobs.reduce((a, b) => a + b, 0), isGreedy, tokenLogprobs };
  }
}

/**
 * Texts of USER_DEFINED tokens, as llama.cpp matches them (the GGUF's raw `tokenizer.ggml.tokens`
 * entries with `tokenizer.ggml.token_type` 4).
 */
function userDefinedTokenTexts(model: LlamaModel): string[] {
  const ggml = (model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: unknown; token_type?: unknown } } }).tokenizer?.ggml;
  const tokens = ggml?.tokens;
  const types = ggml?.token_type;
  if (!Array.isArray(tokens) || !Array.isArray(types)) return [];
  const out: string[] = [];
  for (let i = 0; i < types.length; i++) {
    if (types[i] === USER_DEFINED_TOKEN_TYPE && typeof tokens[i] === "string") out.push(tokens[i] as string);
  }
  return out;
}

/** GGUF `tokenizer.ggml.token_type` value of USER_DEFINED tokens (llama.cpp `LLAMA_TOKEN_TYPE_USER_DEFINED`). */
const USER_DEFINED_TOKEN_TYPE = 4;

function compareTokens(a: readonly TokenId[], b: readonly TokenId[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a.length - b.length;
}
