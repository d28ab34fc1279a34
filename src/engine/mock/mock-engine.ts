/**
 * A scripted mock engine implementing the {@link Engine} port, for unit tests of the layers above.
 *
 * - Vocabulary: the 256 byte values (token id = byte) followed by the special tokens in
 *   {@link MOCK_SPECIAL_TOKENS} (`<|begin_of_text|>`, `<|end_of_text|>`, `<|im_start|>`, `<|im_end|>`,
 *   and the Hermes tool tags). Special text becomes a special token only where special parsing is on.
 * - Replies come from a script: the prompt, rendered with special tokens, maps to a reply; the reply
 *   is tokenized with special tokens on (so `<tool_call>` is one token, as in Hermes models) and
 *   followed by `<|im_end|>`.
 * - Sampling options are validated and otherwise ignored (replies are deterministic); stop strings,
 *   stop tokens, maxTokens, abort, logprobs, the sequence pool and prefix caching behave like the
 *   llama.cpp engine. Grammar constraints are accepted and ignored (the script decides the reply).
 * - Log-likelihoods come from a deterministic distribution: hashed logits in [-2, 2] plus 12 for
 *   the scripted next token (so the scripted reply is the greedy continuation).
 */
import { HERMES_MARKERS } from "../../prompt/markers.js";
import { GenerationOutput } from "../generation-output.js";
import { decodeUtf8Bytes } from "../incremental-detokenizer.js";
import { logSoftmax, topLogprobsOf } from "../logits.js";
import { tokenizePromptInput, tokenizePromptText } from "../prompt-input.js";
import { resolveGenerateOptions, validateLoglikelihoodRequests } from "../request.js";
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
  type TokenizeOptions,
} from "../types.js";
import { isPromptText, type PromptText } from "../../prompt/text.js";

export const MOCK_SPECIAL_TOKENS = ["<|begin_of_text|>", "<|end_of_text|>", ...HERMES_MARKERS] as const;

const SPECIAL_BASE = 256;
const VOCABULARY_SIZE = SPECIAL_BASE + MOCK_SPECIAL_TOKENS.length;
const specialId = (text: (typeof MOCK_SPECIAL_TOKENS)[number]): number => SPECIAL_BASE + MOCK_SPECIAL_TOKENS.indexOf(text);
export const MOCK_BOS = specialId("<|begin_of_text|>");
export const MOCK_IM_END = specialId("<|im_end|>");
const MOCK_EOG: readonly number[] = [specialId("<|end_of_text|>"), MOCK_IM_END];

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
}

interface MockSlot {
  tokens: number[];
}

export class MockEngine implements Engine {
  readonly info: ModelInfo;
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
    const markers: Record<string, number> = {};
    for (const m of ["<|im_start|>", "<|im_end|>", "<tools>", "</tools>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"] as const) {
      markers[m] = specialId(m);
    }
    this.info = {
      source: options.source ?? "mock:",
      architecture: "mock",
      name: "Talaria mock engine",
      parameterCount: 0,
      trainContextLength: contextSize,
      contextSize,
      vocabularySize: VOCABULARY_SIZE,
      chatTemplates: options.chatTemplates ?? {},
      specialTokens: {
        bos: { text: "<|begin_of_text|>", id: MOCK_BOS },
        eos: { text: "<|im_end|>", id: MOCK_IM_END },
        endOfGeneration: MOCK_EOG,
        markers,
      },
      metadata: { "general.architecture": "mock" },
    };
  }

  async tokenize(input: string | PromptText, options: TokenizeOptions = {}): Promise<TokenId[]> {
    this.#ensureLive();
    if (isPromptText(input)) return tokenizePromptText(input, (text, special) => mockTokenize(text, special));
    return mockTokenize(input, options.special ?? false);
  }

  async detokenize(tokens: readonly TokenId[], options: DetokenizeOptions = {}): Promise<string> {
    this.#ensureLive();
    return mockDetokenize(tokens, options.special ?? false);
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
    const text = mockDetokenize(prompt, true);
    let reply: string | undefined;
    if (typeof this.#script === "function") {
      reply = this.#script(text);
    } else {
      for (const rule of this.#script) {
        if (typeof rule.match === "string" ? text.endsWith(rule.match) : rule.match.test(text)) {
          reply = rule.reply;
          break;
        }
      }
    }
    return [...mockTokenize(reply ?? this.#defaultReply, true), MOCK_IM_END];
  }

  /** Log-softmax of the mock distribution after `context`. */
  logprobsAfter(context: readonly TokenId[]): Float64Array {
    const logits = new Float64Array(VOCABULARY_SIZE);
    let h = 2166136261;
    for (const t of context.slice(-4)) h = Math.imul(h ^ t, 16777619) >>> 0;
    for (let t = 0; t < VOCABULARY_SIZE; t++) {
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
    const options = resolveGenerateOptions(request, VOCABULARY_SIZE);
    let prompt = tokenizePromptInput(request.prompt, (text, special) => mockTokenize(text, special), VOCABULARY_SIZE);
    if (options.addBos) prompt = [MOCK_BOS, ...prompt];
    if (prompt.length === 0) throw new EngineError("the prompt is empty", "invalid_request");
    const contextSize = this.info.contextSize;
    if (prompt.length >= contextSize) {
      throw new EngineError(`the prompt has ${prompt.length} tokens; the context holds ${contextSize}`, "context_length_exceeded");
    }
    const output = new GenerationOutput({ stop: options.stop, decode: (t) => mockDetokenize(t, true), previous: prompt });
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
      const limit = Math.min(options.maxTokens ?? Infinity, contextSize - prompt.length);
      let completion = 0;
      const usage = () => ({ promptTokens: prompt.length, completionTokens: completion, cachedPromptTokens: cached });
      let reason: FinishReason | undefined;
      let stopText: string | undefined;
      for (const token of reply) {
        await delay(this.#tokenDelayMs);
        if (signal?.aborted === true || this.#disposed) {
          reason = "abort";
          break;
        }
        completion++;
        if (MOCK_EOG.includes(token) || options.stopTokens.has(token)) {
          reason = "stop";
          stopText = mockDetokenize([token], true);
          break;
        }
        const context = slot.tokens;
        const logprobs = options.logprobs ? this.logprobsAfter(context) : undefined;
        const pushed = output.push({
          id: token,
          ...(logprobs !== undefined ? { logprob: logprobs[token] as number } : {}),
          ...(logprobs !== undefined && options.topLogprobs > 0
            ? { top: topLogprobsOf(logprobs, options.topLogprobs, (t) => mockDetokenize([t], true)) }
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
      // The reply always ends with <|im_end|>, so `reason` is set.
      yield* output.finish(reason ?? "stop", usage(), stopText);
    } finally {
      lease.release();
    }
  }

  async loglikelihood(requests: readonly LoglikelihoodRequest[], options: { readonly signal?: AbortSignal } = {}): Promise<LoglikelihoodResult[]> {
    this.#ensureLive();
    validateLoglikelihoodRequests(requests, VOCABULARY_SIZE);
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

/** Bytes, with special-token text parsed into special tokens when `special` is on (longest match). */
export function mockTokenize(text: string, special: boolean): TokenId[] {
  const out: TokenId[] = [];
  const encoder = new TextEncoder();
  let plainStart = 0;
  let i = 0;
  while (i < text.length) {
    let matched: (typeof MOCK_SPECIAL_TOKENS)[number] | undefined;
    if (special && text[i] === "<") {
      for (const s of MOCK_SPECIAL_TOKENS) {
        if (text.startsWith(s, i) && s.length > (matched?.length ?? 0)) matched = s;
      }
    }
    if (matched === undefined) {
      i++;
      continue;
    }
    out.push(...encoder.encode(text.slice(plainStart, i)));
    out.push(specialId(matched));
    i += matched.length;
    plainStart = i;
  }
  out.push(...encoder.encode(text.slice(plainStart)));
  return out;
}

export function mockDetokenize(tokens: readonly TokenId[], special: boolean): string {
  let out = "";
  let bytes: number[] = [];
  for (const t of tokens) {
    if (t < SPECIAL_BASE) {
      bytes.push(t);
      continue;
    }
    out += decodeUtf8Bytes(bytes);
    bytes = [];
    if (special) out += MOCK_SPECIAL_TOKENS[t - SPECIAL_BASE] ?? "";
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
