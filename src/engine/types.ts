/**
 * The engine port. Everything above the engine (Hermes formats, server, CLI, eval) talks to a model
 * through this interface only. Adapters: `llama-cpp/` (embedded llama.cpp through node-llama-cpp),
 * `mock/` (scripted, for unit tests) and, later, remote OpenAI-compatible servers.
 *
 * This file has no runtime dependencies.
 */
import type { PromptText } from "../prompt/text.js";
import type { GrammarConstraint } from "../grammar/constraint.js";

export type { GrammarConstraint, GrammarIntent, ToolCallSyntax, ToolGrammarSpec } from "../grammar/constraint.js";

export type TokenId = number;

/** What the engine knows about the loaded model. */
export interface ModelInfo {
  /** Where the model came from (path or URI as given). */
  readonly source: string;
  /** Resolved local file path, when there is one. */
  readonly path?: string;
  /** `general.architecture`, e.g. `llama`. */
  readonly architecture: string;
  /** `general.name`, `general.basename`, `general.finetune`, `general.size_label` when present. */
  readonly name?: string;
  readonly basename?: string;
  readonly finetune?: string;
  readonly sizeLabel?: string;
  /** Number of parameters (from the file's tensors). */
  readonly parameterCount: number;
  /** Training context length (`<arch>.context_length`). */
  readonly trainContextLength: number;
  /** Size of the context the engine allocated per sequence. */
  readonly contextSize: number;
  /** Vocabulary size. */
  readonly vocabularySize: number;
  /** File type / quantization name, e.g. `MOSTLY_Q4_0`. */
  readonly fileType?: string;
  /** Chat templates: `default` is `tokenizer.chat_template`; named ones (`tool_use`) come from `tokenizer.chat_template.<name>`. */
  readonly chatTemplates: Readonly<Record<string, string>>;
  /** Special tokens: bos/eos/eot and the added-token markers, resolved by tokenizing their text with special tokens on. */
  readonly specialTokens: SpecialTokens;
  /** Every GGUF metadata key as read (large arrays such as the vocabulary elided). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface SpecialTokenInfo {
  readonly text: string;
  readonly id: TokenId;
}

export interface SpecialTokens {
  readonly bos?: SpecialTokenInfo;
  readonly eos?: SpecialTokenInfo;
  readonly eot?: SpecialTokenInfo;
  /** Every token that ends generation (llama.cpp's EOG set, which includes `<|im_end|>`). */
  readonly endOfGeneration: readonly TokenId[];
  /**
   * Every added (control or user-defined) token whose text tokenizes back to exactly that ONE token,
   * keyed by its text: a chat format looks its markers up here (Hermes: `<|im_start|>`, `<|im_end|>`,
   * `<tools>`, `<tool_call>`, `<tool_response>` and their closing tags). The engine knows no format.
   */
  readonly markers: Readonly<Record<string, TokenId>>;
}

/** Sampling options, named and defaulted as in HF `generate`. */
export interface SamplingOptions {
  /** false = greedy decoding (HF `do_sample=False`). Default: true when temperature > 0. */
  readonly doSample?: boolean;
  /** Softmax temperature. 0 means greedy. Default 1.0. */
  readonly temperature?: number;
  /** Nucleus sampling; 1 disables it. Default 1.0. */
  readonly topP?: number;
  /** Keep the k most likely tokens; 0 disables it. Default 50 (HF default). */
  readonly topK?: number;
  /** Min-p sampling; 0 disables it. Default 0. */
  readonly minP?: number;
  /**
   * HF repetition penalty over every token of prompt + generated text: a positive logit is divided by
   * it, a negative one multiplied. 1 disables it. Default 1.0.
   */
  readonly repetitionPenalty?: number;
  /** OpenAI frequency penalty (subtract penalty × count). Default 0. */
  readonly frequencyPenalty?: number;
  /** OpenAI presence penalty (subtract penalty once per seen token). Default 0. */
  readonly presencePenalty?: number;
  /** Add to a token's logit (OpenAI `logit_bias`, -100..100; -100 bans). Default none. */
  readonly logitBias?: Readonly<Record<number, number>>;
  /** RNG seed for reproducible sampling. Default: random. */
  readonly seed?: number;
}

/** The prompt of a generation: typed text, raw text (special tokens honoured), or token ids. */
export type PromptInput = PromptText | string | readonly TokenId[];

export interface GenerateRequest {
  readonly prompt: PromptInput;
  /** Prepend BOS when the model wants one. Default false (Hermes templates write `<|begin_of_text|>` themselves). */
  readonly addBos?: boolean;
  readonly sampling?: SamplingOptions;
  /** Maximum tokens to generate. Default: until the context is full. */
  readonly maxTokens?: number;
  /** Stop strings (may contain spaces and span tokens); the stop string itself is not returned. Default none. */
  readonly stop?: readonly string[];
  /** Extra token ids that end generation besides the model's EOG set. Default none. */
  readonly stopTokens?: readonly TokenId[];
  /** Return top-k log-probabilities of every generated token (full-vocabulary, before sampling filters). Default 0 (off). */
  readonly topLogprobs?: number;
  /** Return the log-probability of each sampled token. Default false (implied by topLogprobs > 0). */
  readonly logprobs?: boolean;
  readonly grammar?: GrammarConstraint;
  /**
   * Jump-forward decoding under a grammar: where the grammar allows exactly one continuation (JSON
   * keys, punctuation, a tool name once its prefix is unique), append the tokens of that text without
   * sampling and evaluate them in one batch. The text stays valid; the tokens may differ from the ones
   * the model would have sampled (the forced text is tokenized on its own; see docs/agent.md).
   * Ignored without a grammar. `undefined` (the default) = where the engine implements it, silently;
   * `true` on an engine without it ({@link EngineCapabilities.jumpForward}) = a `warning` event;
   * `false` = never.
   */
  readonly jumpForward?: boolean;
  /** Stops the generation and frees the sequence. */
  readonly signal?: AbortSignal;
}

export interface TokenLogprob {
  readonly token: TokenId;
  readonly text: string;
  readonly logprob: number;
}

export interface GeneratedToken {
  readonly id: TokenId;
  /** Detokenized with special tokens rendered (so `<tool_call>` appears even when it is a control token). */
  readonly text: string;
  readonly logprob?: number;
  readonly top?: readonly TokenLogprob[];
}

export type FinishReason =
  /** An end-of-generation token or a stop token was produced. */
  | "stop"
  /** A stop string matched. */
  | "stop-string"
  /** maxTokens reached or the context is full. */
  | "length"
  /** The AbortSignal fired. */
  | "abort";

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Prompt tokens reused from the sequence's KV cache (not evaluated again). */
  readonly cachedPromptTokens: number;
}

/** Generation events, as a discriminated union. */
export type GenerateEvent =
  | {
      readonly type: "text-delta";
      /** Text that is final (held back while it could still be the start of a stop string). */
      readonly text: string;
      /** The tokens this delta completes (may be empty when text was held back earlier). */
      readonly tokens: readonly GeneratedToken[];
    }
  | {
      /**
       * The engine ignored or degraded part of the request (it never does so silently). Comes before
       * the first `text-delta` when known up front.
       */
      readonly type: "warning";
      readonly code: EngineWarningCode;
      readonly message: string;
    }
  | {
      readonly type: "finish";
      readonly reason: FinishReason;
      /** The stop string or stop token text that ended generation, when any. */
      readonly stopText?: string;
      readonly usage: Usage;
    };

export interface LoglikelihoodRequest {
  /** Context tokens (no BOS is added). */
  readonly context: readonly TokenId[];
  /** Continuation tokens to score. Must be non-empty. */
  readonly continuation: readonly TokenId[];
}

export interface LoglikelihoodResult {
  /** Sum of full-vocabulary log-softmax of each continuation token given everything before it. */
  readonly loglik: number;
  /** True when every continuation token is the argmax at its position. */
  readonly isGreedy: boolean;
  /** Per-token log-probabilities. */
  readonly tokenLogprobs: readonly number[];
}

export interface TokenizeOptions {
  /** Parse special-token text (`<|im_start|>`) into control tokens. Default false. Ignored for PromptText, whose parts say it. */
  readonly special?: boolean;
}

export interface DetokenizeOptions {
  /** Render special/control tokens as their text. Default false. */
  readonly special?: boolean;
}

/** Codes of {@link GenerateEvent} `warning`s. */
export type EngineWarningCode =
  /** `jumpForward: true` was asked of an engine (or a grammar) that cannot jump forward. */
  | "jump-forward-unavailable"
  /** A sampling option the engine does not implement was ignored. */
  | "sampling-ignored";

/**
 * What an engine can do, stated by each adapter. A request that needs a capability the engine lacks
 * is refused with `EngineError` `unsupported` (naming the feature and the engine), never served
 * with the feature silently dropped; what an engine merely degrades is a `warning` event.
 */
export interface EngineCapabilities {
  /** Grammar constraints (`GenerateRequest.grammar`). */
  readonly grammar: boolean;
  /** Lazy grammars (`GrammarConstraint.lazyTriggers`), the text after the trigger always enforced. */
  readonly lazyGrammar: boolean;
  /** Jump-forward decoding under a grammar. */
  readonly jumpForward: boolean;
  /** Per-token log-probabilities (`logprobs`, `topLogprobs`). */
  readonly logprobs: boolean;
  /** Log-probabilities together with a grammar in one request. */
  readonly logprobsWithGrammar: boolean;
  /** {@link Engine.loglikelihood}. */
  readonly loglikelihood: boolean;
  /** Prompts given as token ids. */
  readonly tokenIdPrompts: boolean;
  /** Sampling options beyond greedy decoding are applied (false: replies are deterministic; the options are validated and ignored). */
  readonly sampling: boolean;
}

/** The engine port. */
export interface Engine {
  readonly info: ModelInfo;
  /** What this engine can do. */
  readonly capabilities: EngineCapabilities;
  tokenize(input: string | PromptText, options?: TokenizeOptions): Promise<TokenId[]>;
  detokenize(tokens: readonly TokenId[], options?: DetokenizeOptions): Promise<string>;
  /** Streams a generation. Concurrent calls run in parallel sequences, batched together. */
  generate(request: GenerateRequest): AsyncIterable<GenerateEvent>;
  /** Scores continuations. Requests are spread over sequences and share evaluated prefixes. */
  loglikelihood(
    requests: readonly LoglikelihoodRequest[],
    options?: { readonly signal?: AbortSignal },
  ): Promise<LoglikelihoodResult[]>;
  /** Sequences in use / total, for metrics and tests. */
  stats(): EngineStats;
  dispose(): Promise<void>;
}

/** One backend replica's counters as a routing engine reports them (`src/engine/router/`, `/metrics`). */
export interface ReplicaCounters {
  /** The backend (its URL). */
  readonly name: string;
  readonly healthy: boolean;
  /** Requests the router has in flight there. */
  readonly outstanding: number;
  /** The backend's own counts, from its last metrics scrape. */
  readonly backendRunning?: number;
  readonly backendWaiting?: number;
  readonly requests: number;
  readonly errors: number;
  readonly ejections: number;
  readonly failovers: number;
  /** Requests routed there by prefix affinity (a prefix match was found). */
  readonly affinityHits: number;
  /** Sum and count of request durations (seconds). */
  readonly durationSecondsSum: number;
  readonly durationCount: number;
}

export interface EngineStats {
  readonly sequencesTotal: number;
  readonly sequencesBusy: number;
  /** Generations waiting for a free sequence. */
  readonly waiting: number;
}

/** Typed engine errors (mapped to HTTP in one place by the server). */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly code:
      | "model_not_found"
      | "model_load_failed"
      | "offline"
      | "context_length_exceeded"
      | "invalid_request"
      /** The request needs a capability this engine lacks (see {@link EngineCapabilities}). */
      | "unsupported"
      /** A grammar could not be enforced on what the model generated (e.g. text after a lazy trigger the grammar rejects). */
      | "grammar_violation"
      | "aborted"
      | "disposed"
      /** A remote backend is down, unreachable or overloaded, and nothing was generated (retry later). */
      | "backend_unavailable"
      /** A remote backend failed or broke the protocol while answering. */
      | "backend_failed"
      | "internal",
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "EngineError";
  }
}
