/**
 * One generation on a leased llama.cpp sequence: the per-request state of {@link LlamaCppEngine.generate}
 * (tokens so far, the grammar tracker, jump-forward replacement tokens) and its token loop. Sampling
 * options are lowered to node-llama-cpp's evaluate options here; logprob requests run a controlled
 * evaluation per token instead (see {@link logprobStepper}).
 */
import { randomInt } from "node:crypto";
import type {
  ControlledEvaluateIndexOutput,
  ControlledEvaluateInputItem,
  LlamaContextSequence,
  LlamaGrammarEvaluationState,
  LlamaModel,
  SequenceEvaluateOptions,
} from "node-llama-cpp";
import { GrammarTracker, MAX_FORCED_CHARS, planForcedTokens, type ForcedToken } from "../constrained-decoding.js";
import type { GenerationOutput } from "../generation-output.js";
import { biasToLogitDelta, frequencyPresenceBias, logSoftmax, mulberry32, sampleFromLogits, topLogprobsOf } from "../logits.js";
import type { ResolvedGenerateOptions } from "../request.js";
import { hasLogitProcessors, type ResolvedSampling } from "../sampling-options.js";
import { EngineError, type FinishReason, type GenerateEvent, type TokenId, type TokenLogprob } from "../types.js";
import type { GbnfRecognizer, TokenTrie } from "../../grammar/index.js";
import { grammarStateControl, tokenBiasOf, type GrammarStateControl } from "./internals.js";
import { asToken, asTokens } from "./tokens.js";

/** What a generation needs from its engine. */
export interface GenerationHost {
  readonly model: LlamaModel;
  readonly contextSize: number;
  readonly vocabularySize: number;
  readonly eog: ReadonlySet<TokenId>;
  /** Forced grammar text → tokens (marker texts become marker tokens). */
  tokenizeForced(text: string): ForcedToken[];
  /** Track background work so that the engine's dispose() waits for it. */
  track<T>(promise: Promise<T>): Promise<T>;
  /** Whether the engine was disposed (generation then ends with "abort"). */
  readonly disposed: boolean;
  /** Count tokens appended by jump-forward decoding. */
  countForced(tokens: number): void;
  /** Count a constrained step sampled with allowed-token preselection. */
  countPreselected(): void;
}

export interface GenerationGrammar {
  readonly state: LlamaGrammarEvaluationState;
  readonly lazyTriggers: readonly string[];
  /** Our replica of the grammar (undefined: our parser cannot read it; then no jump-forward, no preselection). */
  readonly recognizer: GbnfRecognizer | undefined;
  /** Append the text the grammar forces without sampling it (docs/decisions/0141). */
  readonly jumpForward: boolean;
  /** The vocabulary, for allowed-token preselection (docs/decisions/0185); undefined: none. */
  readonly trie?: TokenTrie | undefined;
}

/**
 * The logit boost given to every allowed token when the grammar allows few (allowed-token
 * preselection): large enough that the sampler's pick is allowed (so llama.cpp's grammar-first check
 * passes without masking the vocabulary), small enough that float32 logits keep ~1e-5 resolution.
 * Adding one constant to every allowed token keeps their relative probabilities, whatever the
 * temperature, and top-k/top-p/min-p then act on the allowed tokens, as with a mask.
 */
export const PRESELECT_BOOST = 100;

/** Most allowed tokens listed for preselection; a longer list is left to llama.cpp's mask. */
export const PRESELECT_LIMIT = 1024;

/** Never shift the KV cache: generation stops at the context limit instead (finish reason "length"). */
export const noContextShift = {
  strategy: (): never => {
    throw new EngineError("the context is full", "context_length_exceeded");
  },
};

const ABORTED = Symbol("aborted");

type Step = { token: TokenId; logprob?: number; top?: readonly TokenLogprob[] } | undefined;
type GenerateNextOptions = NonNullable<Extract<ControlledEvaluateInputItem, readonly unknown[]>[1]["generateNext"]>;

export class LlamaGeneration {
  readonly #host: GenerationHost;
  readonly #sequence: LlamaContextSequence;
  readonly #options: ResolvedGenerateOptions;
  readonly #output: GenerationOutput;
  readonly #signal: AbortSignal | undefined;
  readonly #prompt: readonly TokenId[];
  readonly #cached: number;
  readonly #limit: number;
  readonly #history: TokenId[];
  readonly #generated: TokenId[] = [];
  readonly #events: GenerateEvent[] = [];
  readonly #grammar: LlamaGrammarEvaluationState | undefined;
  readonly #control: GrammarStateControl | undefined;
  /** Follows the text for lazy triggers and (with a recognizer) jump-forward decoding. */
  readonly #tracker: GrammarTracker | undefined;
  readonly #jumpForward: boolean;
  /** Recognizer + trie for allowed-token preselection (undefined: off). */
  readonly #preselect: { readonly recognizer: GbnfRecognizer; readonly trie: TokenTrie } | undefined;
  /** Tokens to evaluate next instead of the last sampled one (it plus forced tokens). */
  #replacement: TokenId[] | undefined;
  /** The in-flight evaluation step (awaited before the sequence is released). */
  #pending: Promise<unknown> = Promise.resolve();
  #closeIterator: () => Promise<unknown> = async () => {};

  constructor(
    host: GenerationHost,
    init: {
      readonly sequence: LlamaContextSequence;
      readonly prompt: readonly TokenId[];
      /** Prompt tokens already in the sequence's cache. */
      readonly cached: number;
      readonly options: ResolvedGenerateOptions;
      readonly output: GenerationOutput;
      readonly grammar: GenerationGrammar | undefined;
      readonly signal: AbortSignal | undefined;
    },
  ) {
    this.#host = host;
    this.#sequence = init.sequence;
    this.#prompt = init.prompt;
    this.#cached = init.cached;
    this.#options = init.options;
    this.#output = init.output;
    this.#signal = init.signal;
    this.#limit = Math.min(init.options.maxTokens ?? Infinity, host.contextSize - init.prompt.length);
    this.#history = [...init.prompt];
    const grammar = init.grammar;
    this.#grammar = grammar?.state;
    this.#control = grammar !== undefined ? grammarStateControl(grammar.state) : undefined;
    const recognizer = this.#control !== undefined ? grammar?.recognizer : undefined;
    this.#jumpForward = grammar?.jumpForward === true;
    // The boost is added before llama.cpp's repetition penalty, which is not additive: off then.
    this.#preselect =
      recognizer !== undefined && grammar?.trie !== undefined && init.options.sampling.repetitionPenalty === 1
        ? { recognizer, trie: grammar.trie }
        : undefined;
    this.#tracker =
      grammar !== undefined && (grammar.lazyTriggers.length > 0 || recognizer !== undefined)
        ? new GrammarTracker({
            triggers: grammar.lazyTriggers,
            decode: (tokens, previous) => host.model.detokenize(asTokens(tokens), true, asTokens(previous)),
            previous: init.prompt,
            ...(recognizer !== undefined ? { recognizer } : {}),
          })
        : undefined;
  }

  /** Whether jump-forward decoding can run (node-llama-cpp's grammar internals are reachable). */
  get canJumpForward(): boolean {
    return this.#control !== undefined;
  }

  /** The token loop: text deltas, then one finish event. */
  async *run(): AsyncGenerator<GenerateEvent> {
    const abort = abortPromise(this.#signal);
    try {
      let reason: FinishReason | undefined;
      let stopText: string | undefined;
      let firstInput = this.#prompt.slice(this.#cached);
      if (this.#tracker?.active === true) {
        // A grammar active from the start may force the first tokens (e.g. `<tool_call>\n{"name": "`).
        const forced = this.#jump();
        reason = this.#recordForced(forced);
        firstInput = [...firstInput, ...forced];
        yield* this.#events.splice(0);
      }
      const nextStep = reason === undefined ? this.#stepper(firstInput) : async (): Promise<Step> => undefined;
      while (reason === undefined) {
        const stepPromise = this.#host.track(nextStep());
        this.#pending = stepPromise.catch(() => {});
        const step = await Promise.race([stepPromise, abort.promise]);
        if (step === ABORTED || this.#host.disposed) {
          reason = "abort";
          break;
        }
        if (step === undefined) {
          // node-llama-cpp ended the stream without a token (it yields EOG tokens, so this is rare).
          reason = "stop";
          break;
        }
        if (this.#host.eog.has(step.token) || this.#options.stopTokens.has(step.token)) {
          this.#generated.push(step.token);
          this.#history.push(step.token);
          reason = "stop";
          stopText = this.#host.model.detokenize([asToken(step.token)], true);
          break;
        }
        reason = this.#record(step.token, {
          ...(step.logprob !== undefined ? { logprob: step.logprob } : {}),
          ...(step.top !== undefined ? { top: step.top } : {}),
        });
        if (reason === undefined) reason = this.#afterSampled(step.token);
        yield* this.#events.splice(0);
      }
      yield* this.#events.splice(0);
      yield* this.#output.finish(reason, this.#usage(), stopText);
    } finally {
      abort.dispose();
    }
  }

  /** Wait for the in-flight step and close node-llama-cpp's iterator (before the sequence is released). */
  async close(): Promise<void> {
    await this.#pending.then(() => this.#closeIterator()).catch(() => {});
  }

  #usage() {
    return { promptTokens: this.#prompt.length, completionTokens: this.#generated.length, cachedPromptTokens: this.#cached };
  }

  /** Grammar bookkeeping after a sampled token; returns a finish reason when one ends generation. */
  #afterSampled(token: TokenId): FinishReason | undefined {
    const tracker = this.#tracker;
    if (tracker === undefined) return undefined;
    const pushed = tracker.push(token);
    if (pushed.activated !== undefined && pushed.activated.leftover !== "") {
      // The token that completed the trigger carried text past it: hand that text to llama.cpp's state.
      this.#acceptLeftover(pushed.activated.trigger, pushed.activated.leftover);
    }
    if (this.#jumpForward && tracker.complete) return "stop";
    const forced = this.#jump();
    if (forced.length === 0) return undefined;
    this.#replacement = [token, ...forced];
    return this.#recordForced(forced);
  }

  /**
   * Advance llama.cpp's grammar state by text sampled in the same token as the lazy trigger. Throws
   * `grammar_violation` when the state cannot take it: the rest would otherwise run unconstrained.
   */
  #acceptLeftover(trigger: string, text: string): void {
    const control = this.#control;
    const violation = (why: string): never => {
      throw new EngineError(
        `the text generated with the lazy grammar trigger ${JSON.stringify(trigger)} (${JSON.stringify(text)}) ${why}; the grammar cannot be enforced after it`,
        "grammar_violation",
      );
    };
    if (control === undefined) return violation("cannot be handed to this node-llama-cpp version's grammar state");
    for (const { id } of this.#host.tokenizeForced(text)) {
      if (!control.canBeNext(id)) violation("is rejected by the grammar");
      control.accept(id);
    }
  }

  /** Record one output token; returns the reason generation must end, if any. */
  #record(token: TokenId, extra: { logprob?: number; top?: readonly TokenLogprob[] } = {}): FinishReason | undefined {
    this.#generated.push(token);
    this.#history.push(token);
    const pushed = this.#output.push({ id: token, ...extra });
    this.#events.push(...pushed.events);
    if (pushed.stopString !== undefined) return "stop-string";
    if (this.#generated.length >= this.#limit) return "length";
    return undefined;
  }

  /** Tokens the grammar forces now, already accepted into llama.cpp's state (jump-forward). */
  #jump(): TokenId[] {
    const tracker = this.#tracker;
    const control = this.#control;
    if (!this.#jumpForward || tracker === undefined || control === undefined || !tracker.active) return [];
    const forced = tracker.forced(MAX_FORCED_CHARS);
    if (forced.text === "") return [];
    const planned = planForcedTokens(this.#host.tokenizeForced(forced.text), forced.thenEnds);
    const room = this.#limit - this.#generated.length;
    const out: TokenId[] = [];
    for (const token of planned.slice(0, Math.max(0, room))) {
      if (!control.canBeNext(token)) break;
      control.accept(token);
      out.push(token);
    }
    this.#host.countForced(out.length);
    return out;
  }

  /** Record injected tokens; returns a finish reason when one ends generation. */
  #recordForced(tokens: readonly TokenId[]): FinishReason | undefined {
    for (const token of tokens) {
      this.#tracker?.push(token);
      const r = this.#record(token);
      if (r !== undefined) return r;
    }
    return this.#jumpForward && this.#tracker?.complete === true ? "stop" : undefined;
  }

  /** The function producing the next sampled token. */
  #stepper(firstInput: readonly TokenId[]): () => Promise<Step> {
    if (this.#options.logprobs) return this.#logprobStepper(firstInput);
    const grammarNow =
      this.#grammar !== undefined
        ? (): LlamaGrammarEvaluationState | undefined => (this.#tracker === undefined || this.#tracker.active ? this.#grammar : undefined)
        : undefined;
    const iterator = this.#sequence.evaluate(asTokens([...firstInput]), this.#evaluateOptions(grammarNow));
    this.#closeIterator = () => iterator.return();
    return async () => {
      const input = this.#replacement;
      this.#replacement = undefined;
      const r = await iterator.next(input === undefined ? undefined : asTokens(input));
      return r.done === true ? undefined : { token: r.value };
    };
  }

  #evaluateOptions(grammar: (() => LlamaGrammarEvaluationState | undefined) | undefined): SequenceEvaluateOptions {
    const s = this.#options.sampling;
    const biasNeeded = s.logitBias.size > 0 || s.frequencyPenalty !== 0 || s.presencePenalty !== 0 || this.#preselect !== undefined;
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
              punishTokens: () => asTokens(this.#history),
              maxPunishTokens: this.#host.contextSize,
              penalty: s.repetitionPenalty,
              frequencyPenalty: 0,
              presencePenalty: 0,
            },
          }
        : {}),
      ...(biasNeeded ? { tokenBias: () => this.#tokenBias(s) } : {}),
      ...(grammar !== undefined ? { grammarEvaluationState: grammar } : {}),
    };
  }

  /**
   * logit_bias plus OpenAI frequency/presence penalties over the generated tokens, as logit deltas;
   * plus the preselection boost when the grammar allows few tokens now.
   */
  #tokenBias(s: ResolvedSampling) {
    const deltas = new Map<number, number>();
    for (const [t, v] of s.logitBias) deltas.set(t, biasToLogitDelta(v));
    for (const [t, v] of frequencyPresenceBias(this.#generated, s.frequencyPenalty, s.presencePenalty)) deltas.set(t, (deltas.get(t) ?? 0) + v);
    const allowed = this.#allowedNow();
    if (allowed !== undefined) {
      for (const t of allowed) deltas.set(t, (deltas.get(t) ?? 0) + PRESELECT_BOOST);
      this.#host.countPreselected();
    }
    return tokenBiasOf(this.#host.model, deltas, this.#host.eog);
  }

  /**
   * Every token the grammar allows next, when it is active, every generated byte is settled and the
   * list is short and exact ({@link TokenTrie.allowedTokens}); else undefined (llama.cpp's mask decides).
   */
  #allowedNow(): readonly TokenId[] | undefined {
    const p = this.#preselect;
    const tracker = this.#tracker;
    if (p === undefined || tracker === undefined || !tracker.active || !tracker.settled) return undefined;
    const state = tracker.state;
    if (state === undefined || state.isDead) return undefined;
    const r = p.trie.allowedTokens(p.recognizer, state, { limit: PRESELECT_LIMIT });
    return r.kind === "tokens" && r.tokens.length > 0 ? r.tokens : undefined;
  }

  /**
   * Generation with log-probabilities: one controlled evaluation per token returns the raw logits of
   * the position. Plain greedy decoding reads the argmax and the total logit weight (cheap); anything
   * else fetches the full logit vector and samples it in TypeScript in the same order as llama.cpp.
   */
  #logprobStepper(firstInput: readonly TokenId[]): () => Promise<{ token: TokenId; logprob: number; top?: readonly TokenLogprob[] }> {
    const options = this.#options;
    const s = options.sampling;
    const plainGreedy = s.greedy && !hasLogitProcessors(s);
    // Temperature 1 with no truncation and no processors: llama.cpp's own sampler draws from the raw
    // distribution, so its candidates' logits and total weight are the raw ones (no full-logit copy).
    const plainSample = !s.greedy && s.temperature === 1 && s.topK === 0 && s.topP >= 1 && s.minP === 0 && !hasLogitProcessors(s);
    const random = mulberry32(s.seed ?? randomInt(2 ** 32 - 1));
    const k = options.topLogprobs;
    const model = this.#host.model;
    const text = (t: TokenId): string => model.detokenize([asToken(t)], true);
    const generated = this.#generated;
    let input: TokenId[] = [...firstInput];
    return async () => {
      if (generated.length > 0) input = [generated[generated.length - 1] as TokenId];
      const last = input.length - 1;
      const generateNext: GenerateNextOptions = plainGreedy
        ? { token: true, options: { temperature: 0 }, logits: { filter: { tokens: [], includeSelected: true, includeTop: k } }, totalLogitWeight: true }
        : plainSample
          ? {
              token: true,
              // a fresh seed per step: each controlled evaluation builds a new sampler
              options: { temperature: 1, topK: 0, topP: 1, minP: 0, seed: Math.floor(random() * 2 ** 32) },
              logits: { filter: { tokens: [], includeSelected: true, includeTop: Math.max(k, 1) } },
              totalLogitWeight: true,
            }
          : { token: true, options: { temperature: 0 }, logits: true };
      const items: ControlledEvaluateInputItem[] = input.map((t, i) => (i === last ? [asToken(t), { generateNext }] : asToken(t)));
      const results = await this.#sequence.controlledEvaluate(items, { contextShift: noContextShift });
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
      if (plainSample) {
        const token = next.token;
        const weight = next.totalLogitWeight;
        const first = next.logits.entries().next().value;
        const selected = token === undefined || token === null ? undefined : next.logits.get(token);
        if (token === undefined || token === null || weight === undefined || first === undefined || selected === undefined) throw new EngineError("llama.cpp returned no token", "internal");
        const logZ = first[1] + Math.log(weight);
        const top = k > 0 ? [...next.logits].slice(0, k).map(([t, l]) => ({ token: t, text: text(t), logprob: l - logZ })) : undefined;
        return { token, logprob: selected - logZ, ...(top !== undefined ? { top } : {}) };
      }
      const raw = new Float32Array(this.#host.vocabularySize).fill(-Infinity);
      for (const [t, l] of next.logits) raw[t] = l;
      const logprobs = logSoftmax(raw);
      const token = sampleFromLogits(raw, s, { all: this.#history, generated }, random);
      return {
        token,
        logprob: logprobs[token] as number,
        ...(k > 0 ? { top: topLogprobsOf(logprobs, k, text) } : {}),
      };
    };
  }
}

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
