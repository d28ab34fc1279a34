/**
 * The {@link Engine} port over node-llama-cpp 3.22.1 (embedded llama.cpp). The only module that
 * drives node-llama-cpp; see docs/decisions/0010-engine-port.md and 0011-why-node-llama-cpp.md.
 *
 * One model, one context with N sequences. Concurrent generations run on different sequences and
 * node-llama-cpp batches their pending decodes together every tick (continuous batching). A request
 * takes the free sequence whose cached tokens share the longest prefix with its prompt, erases the
 * rest and evaluates only the suffix (exact-prefix reuse; never shifted KV cells).
 */
import { randomInt } from "node:crypto";
import {
  LlamaGrammarEvaluationState,
  TokenBias,
  type ControlledEvaluateIndexOutput,
  type ControlledEvaluateInputItem,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaGrammar,
  type LlamaModel,
  type SequenceEvaluateOptions,
  LlamaVocabularyType,
} from "node-llama-cpp";
import { GbnfRecognizer } from "../../grammar/index.js";
import { GrammarTracker, MAX_FORCED_CHARS, planForcedTokens, splitAtMarkers, type ForcedToken } from "../constrained-decoding.js";
import { GenerationOutput } from "../generation-output.js";
import { PlainTextGuard } from "../plain-text-guard.js";
import {
  biasToLogitDelta,
  frequencyPresenceBias,
  logSoftmax,
  mulberry32,
  sampleFromLogits,
  topLogprobsOf,
} from "../logits.js";
import { tokenizePromptInput, tokenizePromptText } from "../prompt-input.js";
import { resolveGenerateOptions, validateLoglikelihoodRequests, type ResolvedGenerateOptions } from "../request.js";
import { hasLogitProcessors, type ResolvedSampling } from "../sampling-options.js";
import { SequencePool, type Lease } from "../sequence-pool.js";
import {
  EngineError,
  type DetokenizeOptions,
  type Engine,
  type EngineStats,
  type FinishReason,
  type GenerateEvent,
  type GenerateRequest,
  type LoglikelihoodRequest,
  type LoglikelihoodResult,
  type ModelInfo,
  type TokenId,
  type TokenLogprob,
  type TokenizeOptions,
} from "../types.js";
import { isPromptText, type PromptText } from "../../prompt/text.js";
import { buildModelInfo, vocabularySizeOf } from "./model-info.js";
import { asToken, asTokens } from "./tokens.js";
import { grammarStateControl, type GrammarStateControl } from "./grammar-state.js";
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
    return new LlamaCppEngine(llama, model, context, options.model, modelPath);
  } catch (error) {
    await model.dispose();
    if (error instanceof EngineError) throw error;
    throw new EngineError(`could not create a context for ${options.model}: ${error instanceof Error ? error.message : String(error)}`, "model_load_failed", {
      cause: error,
    });
  }
}

/** Never shift the KV cache: generation stops at the context limit instead (finish reason "length"). */
const noContextShift = {
  strategy: (): never => {
    throw new EngineError("the context is full", "context_length_exceeded");
  },
};

const ABORTED = Symbol("aborted");

type GenerateNextOptions = NonNullable<Extract<ControlledEvaluateInputItem, readonly unknown[]>[1]["generateNext"]>;

function abortPromise(signal: AbortSignal | undefined): { promise: Promise<typeof ABORTED>; dispose: () => void } {
  if (signal === undefined) return { promise: new Promise(() => {}), dispose: () => {} };
  let onAbort: () => void = () => {};
  const promise = new Promise<typeof ABORTED>((resolve) => {
    onAbort = () => resolve(ABORTED);
    if (signal.aborted) resolve(ABORTED);
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  return { promise, dispose: () => signal.removeEventListener("abort", onAbort) };
}

function toEngineError(error: unknown, what: string): EngineError {
  if (error instanceof EngineError) return error;
  return new EngineError(`${what}: ${error instanceof Error ? error.message : String(error)}`, "internal", { cause: error });
}

export class LlamaCppEngine implements Engine {
  readonly info: ModelInfo;
  readonly #llama: Llama;
  readonly #model: LlamaModel;
  readonly #context: LlamaContext;
  readonly #pool: SequencePool<LlamaContextSequence>;
  readonly #vocabularySize: number;
  readonly #eog: ReadonlySet<TokenId>;
  readonly #spm: boolean;
  readonly #grammars = new Map<string, Promise<LlamaGrammar>>();
  /** Our replica of each grammar (null: our parser rejects it, so no jump-forward). */
  readonly #recognizers = new Map<string, GbnfRecognizer | null>();
  /** USER_DEFINED token texts that plain text must not tokenize into (llama.cpp matches them even with special parsing off). */
  readonly #guard: PlainTextGuard;
  /** Marker texts (Hermes tags) for tokenizing forced text. */
  readonly #markerTexts: readonly string[];
  #disposed = false;
  #active = new Set<Promise<unknown>>();
  #forcedTokens = 0;

  /** @internal Use {@link createLlamaCppEngine}. */
  constructor(llama: Llama, model: LlamaModel, context: LlamaContext, source: string, path: string) {
    this.#llama = llama;
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
    const prompt = this.#promptTokens(request, options.addBos);
    if (prompt.length === 0) throw new EngineError("the prompt is empty", "invalid_request");
    const contextSize = this.#context.contextSize;
    if (prompt.length > contextSize - 1) {
      throw new EngineError(`the prompt has ${prompt.length} tokens; the context holds ${contextSize - 1}`, "context_length_exceeded");
    }
    if (request.grammar !== undefined && options.logprobs) {
      throw new EngineError("grammar constraints cannot be combined with logprobs on the llama.cpp engine", "invalid_request");
    }
    const grammar = request.grammar !== undefined ? await this.#grammar(request.grammar.gbnf) : undefined;
    const recognizer =
      request.grammar !== undefined && (request.jumpForward ?? true) ? this.#recognizer(request.grammar.gbnf) : undefined;
    const output = new GenerationOutput({
      stop: options.stop,
      decode: (tokens, previous) => this.#model.detokenize(asTokens(tokens), true, asTokens(previous)),
      previous: prompt,
    });
    const signal = request.signal;
    let lease: Lease<LlamaContextSequence>;
    try {
      lease = await this.#pool.acquire(prompt, signal);
    } catch (error) {
      if (error instanceof EngineError && error.code === "aborted") {
        yield* output.finish("abort", { promptTokens: prompt.length, completionTokens: 0, cachedPromptTokens: 0 });
        return;
      }
      throw error;
    }
    const abort = abortPromise(signal);
    let pending: Promise<unknown> = Promise.resolve();
    let closeIterator: () => Promise<unknown> = async () => {};
    try {
      const sequence = lease.slot;
      const cached = await this.#prepare(sequence, prompt, 1);
      const limit = Math.min(options.maxTokens ?? Infinity, contextSize - prompt.length);
      const history = [...prompt];
      const generated: TokenId[] = [];
      const usage = () => ({ promptTokens: prompt.length, completionTokens: generated.length, cachedPromptTokens: cached });

      // Grammar: llama.cpp's state enforces it; the tracker follows the text for lazy triggers and
      // (with a recognizer) jump-forward decoding. See constrained-decoding.ts.
      const grammarState = grammar !== undefined ? new LlamaGrammarEvaluationState({ model: this.#model, grammar }) : undefined;
      const control: GrammarStateControl | undefined = grammarState !== undefined ? grammarStateControl(grammarState) : undefined;
      const triggers = request.grammar?.lazyTriggers ?? [];
      const tracker =
        grammarState !== undefined && (triggers.length > 0 || recognizer !== undefined)
          ? new GrammarTracker({
              triggers,
              decode: (tokens, previous) => this.#model.detokenize(asTokens(tokens), true, asTokens(previous)),
              previous: prompt,
              ...(recognizer !== undefined && control !== undefined ? { recognizer } : {}),
            })
          : undefined;
      /** False once the constrained text could not be handed to llama.cpp's state (the output is then unconstrained). */
      let grammarUsable = true;
      const grammarNow = (): LlamaGrammarEvaluationState | undefined =>
        grammarUsable && (tracker === undefined || tracker.active) ? grammarState : undefined;

      const events: GenerateEvent[] = [];
      /** Record one output token; returns the reason generation must end, if any. */
      const record = (token: TokenId, extra: { logprob?: number; top?: readonly TokenLogprob[] } = {}): FinishReason | undefined => {
        generated.push(token);
        history.push(token);
        const pushed = output.push({ id: token, ...extra });
        events.push(...pushed.events);
        if (pushed.stopString !== undefined) return "stop-string";
        if (generated.length >= limit) return "length";
        return undefined;
      };
      /** Tokens the grammar forces now, already accepted into llama.cpp's state (jump-forward). */
      const jump = (): TokenId[] => {
        if (tracker === undefined || control === undefined || !grammarUsable || !tracker.active) return [];
        const forced = tracker.forced(MAX_FORCED_CHARS);
        if (forced.text === "") return [];
        const planned = planForcedTokens(this.#tokenizeForced(forced.text), forced.thenEnds);
        const room = limit - generated.length;
        const out: TokenId[] = [];
        for (const token of planned.slice(0, Math.max(0, room))) {
          if (!control.canBeNext(token)) break;
          control.accept(token);
          out.push(token);
        }
        this.#forcedTokens += out.length;
        return out;
      };
      /** Record injected tokens; returns a finish reason when one ends generation. */
      const recordForced = (tokens: readonly TokenId[]): FinishReason | undefined => {
        for (const token of tokens) {
          tracker?.push(token);
          const r = record(token);
          if (r !== undefined) return r;
        }
        return tracker?.complete === true ? "stop" : undefined;
      };

      let reason: FinishReason | undefined;
      let stopText: string | undefined;
      let firstInput = prompt.slice(cached);
      if (tracker?.active === true) {
        // A grammar active from the start may force the first tokens (e.g. `<tool_call>\n{"name": "`).
        const forced = jump();
        reason = recordForced(forced);
        firstInput = [...firstInput, ...forced];
        yield* events.splice(0);
      }

      type Step = { token: TokenId; logprob?: number; top?: readonly TokenLogprob[] } | undefined;
      let nextStep: () => Promise<Step> = async () => undefined;
      /** Tokens to evaluate next instead of the last sampled one (it plus forced tokens). */
      let replacement: TokenId[] | undefined;
      if (reason === undefined) {
        if (options.logprobs) {
          nextStep = this.#logprobStepper(sequence, firstInput, options, history, generated);
        } else {
          const iterator = sequence.evaluate(
            asTokens(firstInput),
            this.#evaluateOptions(options.sampling, history, generated, grammarState !== undefined ? grammarNow : undefined),
          );
          closeIterator = () => iterator.return();
          nextStep = async () => {
            const input = replacement;
            replacement = undefined;
            const r = await iterator.next(input === undefined ? undefined : asTokens(input));
            return r.done === true ? undefined : { token: r.value };
          };
        }
      }

      while (reason === undefined) {
        const stepPromise = this.#track(nextStep());
        pending = stepPromise.catch(() => {});
        const step = await Promise.race([stepPromise, abort.promise]);
        if (step === ABORTED || this.#disposed) {
          reason = "abort";
          break;
        }
        if (step === undefined) {
          // node-llama-cpp ended the stream without a token (it yields EOG tokens, so this is rare).
          reason = "stop";
          break;
        }
        if (this.#eog.has(step.token) || options.stopTokens.has(step.token)) {
          generated.push(step.token);
          history.push(step.token);
          reason = "stop";
          stopText = this.#model.detokenize([asToken(step.token)], true);
          break;
        }
        reason = record(step.token, {
          ...(step.logprob !== undefined ? { logprob: step.logprob } : {}),
          ...(step.top !== undefined ? { top: step.top } : {}),
        });
        if (reason === undefined && tracker !== undefined) {
          const pushed = tracker.push(step.token);
          if (pushed.activated !== undefined && pushed.activated.leftover !== "") {
            // The token that completed the trigger carried text past it: hand that text to llama.cpp's state.
            grammarUsable = this.#acceptText(control, pushed.activated.leftover);
          }
          if (grammarUsable && tracker.complete) {
            reason = "stop";
          } else {
            const forced = jump();
            if (forced.length > 0) {
              replacement = [step.token, ...forced];
              reason = recordForced(forced);
            }
          }
        }
        yield* events.splice(0);
      }
      yield* events.splice(0);
      yield* output.finish(reason, usage(), stopText);
    } catch (error) {
      throw toEngineError(error, "generation failed");
    } finally {
      abort.dispose();
      const cleanup = pending.then(() => closeIterator()).catch(() => {}).finally(() => lease.release());
      await this.#track(cleanup);
    }
  }

  /** Advance a grammar state by text that was generated while it was inactive. False when the grammar rejects it. */
  #acceptText(control: GrammarStateControl | undefined, text: string): boolean {
    if (control === undefined) return false;
    for (const { id } of this.#tokenizeForced(text)) {
      if (!control.canBeNext(id)) return false;
      control.accept(id);
    }
    return true;
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
      if (this.#recognizers.size >= 64) this.#recognizers.clear();
      this.#recognizers.set(gbnf, recognizer);
    }
    return recognizer ?? undefined;
  }

  #evaluateOptions(
    s: ResolvedSampling,
    history: readonly TokenId[],
    generated: readonly TokenId[],
    grammar: (() => LlamaGrammarEvaluationState | undefined) | undefined,
  ): SequenceEvaluateOptions {
    const contextSize = this.#context.contextSize;
    const biasNeeded = s.logitBias.size > 0 || s.frequencyPenalty !== 0 || s.presencePenalty !== 0;
    return {
      temperature: s.greedy ? 0 : s.temperature,
      topK: s.topK,
      topP: s.topP,
      minP: s.minP,
      seed: s.seed ?? randomInt(2 ** 32 - 1),
      yieldEogToken: true,
      contextShift: noContextShift,
      ...(s.repetitionPenalty !== 1
        ? {
            repeatPenalty: {
              // HF semantics: every token of prompt + generated text, the whole window.
              punishTokens: () => asTokens(history),
              maxPunishTokens: contextSize,
              penalty: s.repetitionPenalty,
              frequencyPenalty: 0,
              presencePenalty: 0,
            },
          }
        : {}),
      ...(biasNeeded ? { tokenBias: () => this.#tokenBias(s, generated) } : {}),
      ...(grammar !== undefined ? { grammarEvaluationState: grammar } : {}),
    };
  }

  /** logit_bias plus OpenAI frequency/presence penalties over the generated tokens, as logit deltas. */
  #tokenBias(s: ResolvedSampling, generated: readonly TokenId[]): TokenBias {
    const bias = TokenBias.for(this.#model);
    const deltas = new Map<number, number>();
    for (const [t, v] of s.logitBias) deltas.set(t, biasToLogitDelta(v));
    for (const [t, v] of frequencyPresenceBias(generated, s.frequencyPenalty, s.presencePenalty)) deltas.set(t, (deltas.get(t) ?? 0) + v);
    // TokenBias.set() silently skips end-of-generation tokens; OpenAI clients do bias them (e.g. ban EOS),
    // so those go straight into its map (node-llama-cpp 3.22.1 keeps biases in `_biases`).
    const internal = (bias as unknown as { _biases?: unknown })._biases;
    for (const [t, v] of deltas) {
      if (this.#eog.has(t) && internal instanceof Map) internal.set(t, v);
      else bias.set(asToken(t), { logit: v });
    }
    return bias;
  }

  /**
   * Generation with log-probabilities: one controlled evaluation per token returns the raw logits of
   * the position. Plain greedy decoding reads the argmax and the total logit weight (cheap); anything
   * else fetches the full logit vector and samples it in TypeScript in the same order as llama.cpp.
   */
  #logprobStepper(
    sequence: LlamaContextSequence,
    firstInput: readonly TokenId[],
    options: ResolvedGenerateOptions,
    history: readonly TokenId[],
    generated: readonly TokenId[],
  ): () => Promise<{ token: TokenId; logprob: number; top?: readonly TokenLogprob[] }> {
    const s = options.sampling;
    const plainGreedy = s.greedy && !hasLogitProcessors(s);
    const random = mulberry32(s.seed ?? randomInt(2 ** 32 - 1));
    const k = options.topLogprobs;
    const text = (t: TokenId): string => this.#model.detokenize([asToken(t)], true);
    let input: TokenId[] = [...firstInput];
    return async () => {
      if (generated.length > 0) input = [generated[generated.length - 1] as TokenId];
      const last = input.length - 1;
      const generateNext: GenerateNextOptions = plainGreedy
        ? { token: true, options: { temperature: 0 }, logits: { filter: { tokens: [], includeSelected: true, includeTop: k } }, totalLogitWeight: true }
        : { token: true, options: { temperature: 0 }, logits: true };
      const items: ControlledEvaluateInputItem[] = input.map((t, i) => (i === last ? [asToken(t), { generateNext }] : asToken(t)));
      const results = await sequence.controlledEvaluate(items, { contextShift: noContextShift });
      const next = (results[last] as ControlledEvaluateIndexOutput | undefined)?.next;
      if (next?.logits === undefined) throw new EngineError("llama.cpp returned no logits", "internal");
      if (plainGreedy) {
        const token = next.token;
        const weight = next.totalLogitWeight;
        if (token === undefined || token === null || weight === undefined) throw new EngineError("llama.cpp returned no token", "internal");
        const max = next.logits.get(token) as number;
        const logZ = max + Math.log(weight);
        const top = k > 0 ? [...next.logits].slice(0, k).map(([t, l]) => ({ token: t, text: text(t), logprob: l - logZ })) : undefined;
        return { token, logprob: -Math.log(weight), ...(top !== undefined ? { top } : {}) };
      }
      const raw = new Float32Array(this.#vocabularySize).fill(-Infinity);
      for (const [t, l] of next.logits) raw[t] = l;
      const logprobs = logSoftmax(raw);
      const token = sampleFromLogits(raw, s, { all: history, generated }, random);
      return {
        token,
        logprob: logprobs[token] as number,
        ...(k > 0 ? { top: topLogprobsOf(logprobs, k, text) } : {}),
      };
    };
  }

  async #grammar(gbnf: string): Promise<LlamaGrammar> {
    let grammar = this.#grammars.get(gbnf);
    if (grammar === undefined) {
      grammar = this.#llama.createGrammar({ grammar: gbnf }).catch((error: unknown) => {
        this.#grammars.delete(gbnf);
        throw new EngineError(`invalid grammar: ${error instanceof Error ? error.message : String(error)}`, "invalid_request", { cause: error });
      });
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
