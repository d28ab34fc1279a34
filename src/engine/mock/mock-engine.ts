/**
 * A scripted mock engine implementing the {@link Engine} port, for unit tests of the layers above.
 *
 * - Vocabulary: the 256 byte values (token id = byte) followed by `<|begin_of_text|>`,
 *   `<|end_of_text|>` and the caller's special tokens ({@link MockEngineOptions.specialTokens}: a chat
 *   format's markers, e.g. `HERMES_DIALECT.markers`). Special text becomes a special token only where
 *   special parsing is on. The engine knows no chat format.
 * - Replies come from a script: the prompt, rendered with special tokens, maps to a reply; the reply
 *   is tokenized with special tokens on (so a marker such as `<tool_call>` is one token, as in Hermes
 *   models) and followed by the end-of-turn token ({@link MockEngineOptions.endOfTurn}).
 * - Sampling options are validated and otherwise ignored (replies are deterministic); stop strings,
 *   stop tokens, maxTokens, abort, logprobs, the sequence pool and prefix caching behave like the
 *   llama.cpp engine.
 * - Grammar constraints are ENFORCED with the project's own GBNF recognizer (`src/grammar/`), lazy
 *   triggers included: the scripted reply is followed while the grammar allows it; where it does not,
 *   the mock writes what the grammar allows instead (its forced text, else ending where it may, else
 *   the first allowed of `"`, `}`, `]`, `,` or the lowest allowed character), so every completed
 *   constrained reply is in the grammar's language. No jump-forward.
 * - Log-likelihoods come from a deterministic distribution: hashed logits in [-2, 2] plus 12 for
 *   the scripted next token (so the scripted reply is the greedy continuation).
 */
import { GbnfRecognizer, type RecognizerState } from "../../grammar/index.js";
import { GenerationOutput } from "../generation-output.js";
import { decodeUtf8Bytes } from "../incremental-detokenizer.js";
import { logSoftmax, topLogprobsOf } from "../logits.js";
import { tokenizePromptInput, tokenizePromptText } from "../prompt-input.js";
import { checkCapabilities, resolveGenerateOptions, validateLoglikelihoodRequests } from "../request.js";
import { SequencePool, type Lease } from "../sequence-pool.js";
import {
  EngineError,
  type DetokenizeOptions,
  type Engine,
  type EngineCapabilities,
  type EngineStats,
  type GrammarConstraint,
  type FinishReason,
  type GenerateEvent,
  type GenerateRequest,
  type LoglikelihoodRequest,
  type LoglikelihoodResult,
  type ModelInfo,
  type TokenId,
  type TokenizeOptions,
} from "../types.js";
import { isPromptText, type PromptText } from "../../prompt/text.js";

/** The mock's own BOS and EOS texts (always in its vocabulary, first after the bytes). */
export const MOCK_BOS_TEXT = "<|begin_of_text|>";
export const MOCK_EOS_TEXT = "<|end_of_text|>";

/** The first special token id (ids below are the 256 byte values). */
export const MOCK_SPECIAL_BASE = 256;
/** Id of `<|begin_of_text|>`. */
export const MOCK_BOS = MOCK_SPECIAL_BASE;

/** What the mock engine can do: grammars (lazy too) through our recognizer; no jump-forward, no real sampling. */
export const MOCK_CAPABILITIES: EngineCapabilities = {
  grammar: true,
  lazyGrammar: true,
  jumpForward: false,
  logprobs: true,
  logprobsWithGrammar: true,
  loglikelihood: true,
  tokenIdPrompts: true,
  sampling: false,
};

/** Characters the mock prefers when the script leaves a grammar (they close strings, objects, arrays). */
const CLOSERS = ['"', "}", "]", ","].map((c) => c.codePointAt(0) as number);

/** A rule: `match` as a string matches prompts that END with it; a RegExp is tested on the whole prompt. */
export interface MockRule {
  readonly match: string | RegExp;
  readonly reply: string;
}

/** Prompt (rendered with special tokens) → reply text; `undefined` means "no scripted reply". */
export type MockScript = ((prompt: string) => string | undefined) | readonly MockRule[];

export interface MockEngineOptions {
  /** The script. Prompts it has no reply for get `defaultReply`. */
  readonly script: MockScript;
  /** Reply when the script has none. Default "" (the reply is just `<|im_end|>`). */
  readonly defaultReply?: string;
  /** Parallel sequences. Default 2. */
  readonly sequences?: number;
  /** Context size per sequence, in tokens. Default 4096. */
  readonly contextSize?: number;
  /** Delay per generated token, in ms (0 still yields to the event loop). Default 0. */
  readonly tokenDelayMs?: number;
  /** `source` reported in {@link ModelInfo}. Default "mock:". */
  readonly source?: string;
  /** Chat templates reported in {@link ModelInfo}. Default none. */
  readonly chatTemplates?: Readonly<Record<string, string>>;
  /** Special tokens besides BOS/EOS (a chat format's markers). Default none. */
  readonly specialTokens?: readonly string[];
  /** The token that ends every reply (an end-of-generation token). Default `<|end_of_text|>`. */
  readonly endOfTurn?: string;
  /** `metadata` entries reported in {@link ModelInfo} besides `general.architecture`. Default none. */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

interface MockSlot {
  tokens: number[];
}

export class MockEngine implements Engine {
  readonly info: ModelInfo;
  readonly capabilities: EngineCapabilities = MOCK_CAPABILITIES;
  /** Special token texts, by id − {@link MOCK_SPECIAL_BASE}. */
  readonly specials: readonly string[];
  /** Id of the end-of-turn token that follows every reply. */
  readonly endOfTurnId: TokenId;
  readonly #eog: readonly TokenId[];
  readonly #vocabularySize: number;
  readonly #recognizers = new Map<string, GbnfRecognizer>();
  readonly #script: MockScript;
  readonly #defaultReply: string;
  readonly #pool: SequencePool<MockSlot>;
  readonly #tokenDelayMs: number;
  #disposed = false;

  constructor(options: MockEngineOptions) {
    this.#script = options.script;
    this.#defaultReply = options.defaultReply ?? "";
    this.#tokenDelayMs = options.tokenDelayMs ?? 0;
    const sequences = options.sequences ?? 2;
    const contextSize = options.contextSize ?? 4096;
    this.#pool = new SequencePool(
      Array.from({ length: sequences }, () => ({ tokens: [] as number[] })),
      (s) => s.tokens,
    );
    const endOfTurn = options.endOfTurn ?? MOCK_EOS_TEXT;
    this.specials = [...new Set([MOCK_BOS_TEXT, MOCK_EOS_TEXT, ...(options.specialTokens ?? []), endOfTurn])].filter((t) => t !== "");
    this.#vocabularySize = MOCK_SPECIAL_BASE + this.specials.length;
    const id = (text: string): TokenId => MOCK_SPECIAL_BASE + this.specials.indexOf(text);
    this.endOfTurnId = id(endOfTurn);
    this.#eog = [...new Set([id(MOCK_EOS_TEXT), this.endOfTurnId])];
    const markers: Record<string, number> = {};
    for (const m of this.specials.slice(2)) markers[m] = id(m);
    this.info = {
      source: options.source ?? "mock:",
      architecture: "mock",
      name: "Talaria mock engine",
      parameterCount: 0,
      trainContextLength: contextSize,
      contextSize,
      vocabularySize: this.#vocabularySize,
      chatTemplates: options.chatTemplates ?? {},
      specialTokens: {
        bos: { text: MOCK_BOS_TEXT, id: MOCK_BOS },
        eos: { text: endOfTurn, id: this.endOfTurnId },
        endOfGeneration: this.#eog,
        markers,
      },
      metadata: { ...options.metadata, "general.architecture": "mock" },
    };
  }

  /** Bytes, with special-token text parsed into special tokens when `special` is on (longest match). */
  tokenizeText(text: string, special: boolean): TokenId[] {
    return mockTokenize(text, special, this.specials);
  }

  /** Token ids back to text; special tokens rendered when `special` is on. */
  detokenizeTokens(tokens: readonly TokenId[], special: boolean): string {
    return mockDetokenize(tokens, special, this.specials);
  }

  async tokenize(input: string | PromptText, options: TokenizeOptions = {}): Promise<TokenId[]> {
    this.#ensureLive();
    if (isPromptText(input)) return tokenizePromptText(input, (text, special) => this.tokenizeText(text, special));
    return this.tokenizeText(input, options.special ?? false);
  }

  async detokenize(tokens: readonly TokenId[], options: DetokenizeOptions = {}): Promise<string> {
    this.#ensureLive();
    return this.detokenizeTokens(tokens, options.special ?? false);
  }

  stats(): EngineStats {
    return { sequencesTotal: this.#pool.total, sequencesBusy: this.#pool.busy, waiting: this.#pool.waiting };
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#pool.close(new EngineError("the engine was disposed", "disposed"));
  }

  /** The reply tokens (ending with `<|im_end|>`) the script gives for `prompt`. */
  replyTokens(prompt: readonly TokenId[]): TokenId[] {
    const text = this.detokenizeTokens(prompt, true);
    return [...this.tokenizeText(this.replyText(text) ?? this.#defaultReply, true), this.endOfTurnId];
  }

  /** The scripted reply text for a prompt (undefined: none; the default reply applies). */
  replyText(text: string): string | undefined {
    if (typeof this.#script === "function") return this.#script(text);
    for (const rule of this.#script) {
      if (typeof rule.match === "string" ? text.endsWith(rule.match) : rule.match.test(text)) return rule.reply;
    }
    return undefined;
  }

  /** Log-softmax of the mock distribution after `context`. */
  logprobsAfter(context: readonly TokenId[]): Float64Array {
    const logits = new Float64Array(this.#vocabularySize);
    let h = 2166136261;
    for (const t of context.slice(-4)) h = Math.imul(h ^ t, 16777619) >>> 0;
    for (let t = 0; t < this.#vocabularySize; t++) {
      const x = Math.imul(h ^ Math.imul(t + 1, 2654435761), 2246822519) >>> 0;
      logits[t] = (x / 4294967296) * 4 - 2;
    }
    const next = this.#scriptedNext(context);
    if (next !== undefined) logits[next] = (logits[next] as number) + 12;
    return logSoftmax(logits);
  }

  #scriptedNext(context: readonly TokenId[]): TokenId | undefined {
    // The longest tail of `context` that is a prefix of the reply to the tokens before it.
    for (let k = Math.min(context.length - 1, 1024); k >= 0; k--) {
      const reply = this.replyTokens(context.slice(0, context.length - k));
      if (k >= reply.length) continue;
      let ok = true;
      for (let i = 0; i < k; i++) {
        if (reply[i] !== context[context.length - k + i]) {
          ok = false;
          break;
        }
      }
      if (ok) return reply[k];
    }
    return undefined;
  }

  async *generate(request: GenerateRequest): AsyncIterable<GenerateEvent> {
    this.#ensureLive();
    const warnings = checkCapabilities(request, this.capabilities, "mock");
    const options = resolveGenerateOptions(request, this.#vocabularySize);
    let prompt = tokenizePromptInput(request.prompt, (text, special) => this.tokenizeText(text, special), this.#vocabularySize);
    if (options.addBos) prompt = [MOCK_BOS, ...prompt];
    if (prompt.length === 0) throw new EngineError("the prompt is empty", "invalid_request");
    const contextSize = this.info.contextSize;
    if (prompt.length >= contextSize) {
      throw new EngineError(`the prompt has ${prompt.length} tokens; the context holds ${contextSize}`, "context_length_exceeded");
    }
    const recognizer = request.grammar === undefined ? undefined : this.#recognizer(request.grammar.gbnf);
    yield* warnings;
    const output = new GenerationOutput({ stop: options.stop, decode: (t) => this.detokenizeTokens(t, true), previous: prompt });
    const signal = request.signal;
    let lease: Lease<MockSlot>;
    try {
      lease = await this.#pool.acquire(prompt, signal);
    } catch (error) {
      if (error instanceof EngineError && error.code === "aborted") {
        yield* output.finish("abort", { promptTokens: prompt.length, completionTokens: 0, cachedPromptTokens: 0 });
        return;
      }
      throw error;
    }
    try {
      const cached = Math.min(lease.commonPrefix, prompt.length - 1);
      const slot = lease.slot;
      slot.tokens = [...prompt];
      const reply = this.replyTokens(prompt);
      const tokens =
        recognizer === undefined || request.grammar === undefined
          ? reply[Symbol.iterator]()
          : this.#constrained(reply, recognizer, request.grammar);
      const limit = Math.min(options.maxTokens ?? Infinity, contextSize - prompt.length);
      let completion = 0;
      const usage = () => ({ promptTokens: prompt.length, completionTokens: completion, cachedPromptTokens: cached });
      let reason: FinishReason | undefined;
      let stopText: string | undefined;
      for (let next = tokens.next(); next.done !== true; next = tokens.next()) {
        const token = next.value;
        await delay(this.#tokenDelayMs);
        if (signal?.aborted === true || this.#disposed) {
          reason = "abort";
          break;
        }
        completion++;
        if (this.#eog.includes(token) || options.stopTokens.has(token)) {
          reason = "stop";
          stopText = this.detokenizeTokens([token], true);
          break;
        }
        const context = slot.tokens;
        const logprobs = options.logprobs ? this.logprobsAfter(context) : undefined;
        const pushed = output.push({
          id: token,
          ...(logprobs !== undefined ? { logprob: logprobs[token] as number } : {}),
          ...(logprobs !== undefined && options.topLogprobs > 0
            ? { top: topLogprobsOf(logprobs, options.topLogprobs, (t) => this.detokenizeTokens([t], true)) }
            : {}),
        });
        slot.tokens.push(token);
        yield* pushed.events;
        if (pushed.stopString !== undefined) {
          reason = "stop-string";
          break;
        }
        if (completion >= limit) {
          reason = "length";
          break;
        }
      }
      // Replies (scripted or constrained) always end with an end-of-generation token, so `reason` is set.
      yield* output.finish(reason ?? "stop", usage(), stopText);
    } finally {
      lease.release();
    }
  }

  #recognizer(gbnf: string): GbnfRecognizer {
    let recognizer = this.#recognizers.get(gbnf);
    if (recognizer === undefined) {
      try {
        recognizer = GbnfRecognizer.fromText(gbnf);
      } catch (error) {
        throw new EngineError(`invalid grammar: ${error instanceof Error ? error.message : String(error)}`, "invalid_request", { cause: error });
      }
      if (this.#recognizers.size >= 32) this.#recognizers.delete(this.#recognizers.keys().next().value as string);
      this.#recognizers.set(gbnf, recognizer);
    }
    return recognizer;
  }

  /**
   * The reply under a grammar: scripted units (a special token, or one character's bytes) while the
   * grammar allows them, then what the grammar allows (see the module comment), ending with the
   * end-of-turn token once the grammar may end. A lazy grammar is inactive until a trigger occurs in
   * the text so far; it then constrains the text after the trigger.
   */
  *#constrained(reply: readonly TokenId[], recognizer: GbnfRecognizer, grammar: GrammarConstraint): Generator<TokenId, void, undefined> {
    const triggers = (grammar.lazyTriggers ?? []).filter((t) => t !== "");
    let state: RecognizerState | undefined = triggers.length === 0 ? recognizer.initial() : undefined;
    let free = "";
    const units = this.#units(reply);
    let onScript = true;
    for (;;) {
      const unit = onScript ? units.shift() : undefined;
      if (unit === undefined) onScript = false;
      if (state === undefined) {
        // Lazy and not yet triggered: the script runs freely.
        if (unit === undefined) return;
        yield* unit.tokens;
        if (unit.eog) return;
        free += unit.text;
        const at = Math.min(...triggers.map((t) => free.indexOf(t)).filter((i) => i >= 0));
        if (Number.isFinite(at)) {
          const trigger = triggers.find((t) => free.indexOf(t) === at) as string;
          state = recognizer.feed(recognizer.initial(), free.slice(at + trigger.length));
          if (state.isDead) throw new EngineError(`the text after the lazy trigger ${JSON.stringify(trigger)} violates the grammar`, "grammar_violation");
        }
        continue;
      }
      if (unit !== undefined) {
        if (unit.eog ? state.canEnd : !recognizer.feed(state, unit.text).isDead) {
          yield* unit.tokens;
          if (unit.eog) return;
          state = recognizer.feed(state, unit.text);
          continue;
        }
        onScript = false;
      }
      // Off the script: the grammar decides.
      const allowed = recognizer.allowedNext(state);
      if (state.canEnd && (allowed.isEmpty || !onScript)) {
        yield this.endOfTurnId;
        return;
      }
      const forced = recognizer.forcedText(state, 64).text;
      const text = forced !== "" ? forced : String.fromCodePoint(CLOSERS.find((c) => allowed.has(c)) ?? (allowed.ranges[0]?.[0] as number));
      if (text === "" || allowed.isEmpty) throw new EngineError("the grammar allows nothing more and cannot end", "grammar_violation");
      yield* this.tokenizeText(text, true);
      state = recognizer.feed(state, text);
    }
  }

  /** Split reply tokens into units: one special token, or the bytes of one character. */
  #units(reply: readonly TokenId[]): Array<{ tokens: TokenId[]; text: string; eog: boolean }> {
    const units: Array<{ tokens: TokenId[]; text: string; eog: boolean }> = [];
    let bytes: TokenId[] = [];
    for (const t of reply) {
      if (t >= MOCK_SPECIAL_BASE) {
        if (bytes.length > 0) units.push({ tokens: bytes, text: decodeUtf8Bytes(bytes), eog: false });
        bytes = [];
        units.push({ tokens: [t], text: this.specials[t - MOCK_SPECIAL_BASE] as string, eog: this.#eog.includes(t) });
        continue;
      }
      bytes.push(t);
      const text = decodeUtf8Bytes(bytes);
      if (!text.endsWith("\uFFFD")) {
        units.push({ tokens: bytes, text, eog: false });
        bytes = [];
      }
    }
    if (bytes.length > 0) units.push({ tokens: bytes, text: decodeUtf8Bytes(bytes), eog: false });
    return units;
  }

  async loglikelihood(requests: readonly LoglikelihoodRequest[], options: { readonly signal?: AbortSignal } = {}): Promise<LoglikelihoodResult[]> {
    this.#ensureLive();
    validateLoglikelihoodRequests(requests, this.#vocabularySize);
    const results: LoglikelihoodResult[] = [];
    for (const r of requests) {
      if (options.signal?.aborted === true) throw new EngineError("the request was aborted", "aborted");
      const context = [...r.context];
      const tokenLogprobs: number[] = [];
      let isGreedy = true;
      for (const t of r.continuation) {
        const lp = this.logprobsAfter(context);
        tokenLogprobs.push(lp[t] as number);
        let best = 0;
        for (let i = 1; i < lp.length; i++) if ((lp[i] as number) > (lp[best] as number)) best = i;
        if (best !== t) isGreedy = false;
        context.push(t);
      }
      results.push({ loglik: tokenLogprobs.reduce((a, b) => a + b, 0), isGreedy, tokenLogprobs });
      await delay(0);
    }
    return results;
  }

  #ensureLive(): void {
    if (this.#disposed) throw new EngineError("the engine was disposed", "disposed");
  }
}

/** Bytes, with the texts of `specials` (id = 256 + index) parsed into special tokens when `special` is on (longest match). */
export function mockTokenize(text: string, special: boolean, specials: readonly string[]): TokenId[] {
  const out: TokenId[] = [];
  const encoder = new TextEncoder();
  let plainStart = 0;
  let i = 0;
  while (i < text.length) {
    let matched = -1;
    if (special && text[i] === "<") {
      for (let k = 0; k < specials.length; k++) {
        const s = specials[k] as string;
        if (text.startsWith(s, i) && s.length > (matched < 0 ? 0 : (specials[matched] as string).length)) matched = k;
      }
    }
    if (matched < 0) {
      i++;
      continue;
    }
    for (const b of encoder.encode(text.slice(plainStart, i))) out.push(b);
    out.push(MOCK_SPECIAL_BASE + matched);
    i += (specials[matched] as string).length;
    plainStart = i;
  }
  for (const b of encoder.encode(text.slice(plainStart))) out.push(b);
  return out;
}

/** Token ids back to text (`specials` as in {@link mockTokenize}); special tokens rendered when `special` is on. */
export function mockDetokenize(tokens: readonly TokenId[], special: boolean, specials: readonly string[]): string {
  let out = "";
  let bytes: number[] = [];
  for (const t of tokens) {
    if (t < MOCK_SPECIAL_BASE) {
      bytes.push(t);
      continue;
    }
    out += decodeUtf8Bytes(bytes);
    bytes = [];
    if (special) out += specials[t - MOCK_SPECIAL_BASE] ?? "";
  }
  return out + decodeUtf8Bytes(bytes);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));
}

/** Create a scripted mock engine. */
export function createMockEngine(options: MockEngineOptions): MockEngine {
  return new MockEngine(options);
}
