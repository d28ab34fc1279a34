/**
 * What the remote engine needs from one kind of backend server: a dialect turns the engine port's
 * requests into that server's HTTP API and its answers back. Two dialects: llama.cpp's
 * `llama-server` (`llama-server.ts`) and vLLM (`vllm.ts`). Everything Hermes (prompt, grammar,
 * parsing, validation) stays above the port; a dialect only moves token ids.
 */
import type { GrammarConstraint } from "../../grammar/constraint.js";
import type { ResolvedSampling } from "../sampling-options.js";
import type { EngineCapabilities, TokenId, TokenLogprob } from "../types.js";
import type { BackendHttp } from "./http.js";

/** The kinds of backend server Talaria speaks to. */
export type BackendKind = "llama-server" | "vllm";

/** What a backend says about itself and its model (fields it does not expose are absent). */
export interface BackendDescription {
  readonly kind: BackendKind;
  /** The model id the backend serves (vLLM's `--served-model-name`, llama-server's alias or file name). */
  readonly modelId: string;
  /** The model file or repository the backend loaded, when it says. */
  readonly modelPath?: string;
  /** Tokens per request the backend accepts (llama-server: per slot; vLLM: `max_model_len`). */
  readonly contextSize: number;
  /** Training context, when known. */
  readonly trainContextLength?: number;
  /** Requests the backend runs at once (llama-server slots); undefined when it does not say (vLLM). */
  readonly slots?: number;
  readonly vocabularySize?: number;
  readonly parameterCount?: number;
  /** The default chat template, when exposed. */
  readonly chatTemplate?: string;
  readonly bosText?: string;
  readonly eosText?: string;
  /** The backend's version or build, for logs. */
  readonly version?: string;
}

/** One piece of a prompt to tokenize: plain text (special-token parsing off) or a special part (on). */
export interface TokenizePiece {
  readonly text: string;
  readonly special: boolean;
}

/** A generation as a dialect sends it: everything resolved, the prompt as token ids. */
export interface DialectGenerateRequest {
  readonly prompt: readonly TokenId[];
  /** Tokens to generate at most (already capped to what the context holds). */
  readonly maxTokens: number;
  readonly sampling: ResolvedSampling;
  /** Top-k log-probabilities per token (0 = none). */
  readonly topLogprobs: number;
  /** The sampled token's log-probability. */
  readonly logprobs: boolean;
  readonly grammar?: GrammarConstraint;
  /** Marker texts (single special tokens) the backend must render as text in its output. */
  readonly markerTexts: readonly string[];
  /** Extra token ids that end generation. */
  readonly stopTokens: readonly TokenId[];
  /** The model's end-of-generation tokens (ends generation; not output). */
  readonly endOfGeneration: readonly TokenId[];
}

/** A generated token as the backend reports it. */
export interface DialectToken {
  readonly id: TokenId;
  readonly logprob?: number;
  readonly top?: readonly TokenLogprob[];
}

/** What a dialect's stream yields. */
export type DialectEvent =
  | {
      /**
       * Tokens and the text they complete (the backend holds back partial UTF-8 itself), end-of-generation
       * and stop tokens included: the engine ends on them and drops them from the output.
       */
      readonly type: "tokens";
      readonly tokens: readonly DialectToken[];
      readonly text: string;
    }
  | {
      readonly type: "end";
      /** `stop`: an end-of-generation or stop token; `length`: the token limit. */
      readonly reason: "stop" | "length";
      readonly promptTokens?: number;
      readonly cachedPromptTokens?: number;
      /** Tokens generated that no `tokens` event carried (ids the backend did not send). */
      readonly uncountedTokens?: number;
    };

/** Load a backend reports on its metrics route. */
export interface BackendLoad {
  readonly running: number;
  readonly waiting: number;
}

/** Per-position results of scoring a token sequence. */
export interface PromptScores {
  /** Log-probability of token i given tokens before it, for i in [from, tokens.length). */
  readonly logprobs: readonly number[];
  /** Whether token i was the argmax, same positions. */
  readonly greedy: readonly boolean[];
}

export interface BackendDialect {
  readonly kind: BackendKind;
  /** What this backend can do (stated truthfully: see docs/scale-out.md). */
  readonly capabilities: EngineCapabilities;
  describe(http: BackendHttp, signal?: AbortSignal): Promise<BackendDescription>;
  /** Tokenize pieces, each on its own, and concatenate. */
  tokenize(http: BackendHttp, pieces: readonly TokenizePiece[], signal?: AbortSignal): Promise<TokenId[]>;
  detokenize(http: BackendHttp, tokens: readonly TokenId[], signal?: AbortSignal): Promise<string>;
  /** Stream a generation. */
  generate(http: BackendHttp, request: DialectGenerateRequest, signal: AbortSignal): AsyncIterable<DialectEvent>;
  /** Score `tokens[from..]` given what precedes each (capability `loglikelihood`). */
  scorePrompt?(http: BackendHttp, tokens: readonly TokenId[], from: number, signal?: AbortSignal): Promise<PromptScores>;
  /** The backend's own load from its metrics, when it exports them. */
  load(http: BackendHttp, signal?: AbortSignal): Promise<BackendLoad | undefined>;
  /** true when the backend answers its health route with 200. */
  healthy(http: BackendHttp, signal?: AbortSignal): Promise<boolean>;
}

/** The value of an unlabelled-or-labelled Prometheus sample `name` (summed over label sets). */
export function prometheusSum(text: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== " " && rest[0] !== "{") continue;
    const value = Number(rest.slice(rest.lastIndexOf("}") + 1).trim().split(/\s+/)[0]);
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}
