/**
 * Every access to node-llama-cpp's private fields, in one file (node-llama-cpp 3.22.1). Each one is
 * feature-checked here and has a canary test in test/model/llama-internals.test.ts, so an upgrade
 * that moves a field fails a test instead of silently changing behaviour.
 *
 * 1. Grammar state control (`LlamaGrammarEvaluationState._state`, `._llama._bindings.AddonSampler`):
 *    node-llama-cpp accepts sampled tokens into a grammar state itself, but exposes no public API for
 *    injected ones (jump-forward decoding, lazy-grammar leftovers). Its own `LlamaChat` and draft-token
 *    predictor use the addon's static `AddonSampler.canBeNextTokenForGrammarEvaluationState` and
 *    `AddonSampler.acceptGrammarEvaluationStateToken`. When absent, {@link grammarStateControl}
 *    returns undefined and the engine does not jump (and reports a lazy leftover it cannot enforce).
 * 2. End-of-generation biases (`TokenBias._biases`): `TokenBias.set()` silently skips EOG tokens, but
 *    OpenAI clients do bias them (e.g. ban EOS with -100). {@link tokenBiasOf} writes those into the
 *    map directly and throws when the map is gone, rather than dropping the bias. It writes every other
 *    token there too when the map exists: `set()` re-checks each token twice (~3 µs per token, 3 ms for
 *    the 1,024 tokens allowed-token preselection may boost per step).
 */
import { TokenBias, type LlamaGrammarEvaluationState, type LlamaModel } from "node-llama-cpp";
import { EngineError, type TokenId } from "../types.js";
import { asToken } from "./tokens.js";

interface AddonSamplerStatics {
  canBeNextTokenForGrammarEvaluationState(state: unknown, token: number): boolean;
  acceptGrammarEvaluationStateToken(state: unknown, token: number): void;
}

export interface GrammarStateControl {
  /** Whether the grammar allows `token` next. */
  canBeNext(token: TokenId): boolean;
  /** Advance the grammar by `token` (call only after {@link canBeNext}). */
  accept(token: TokenId): void;
}

/** Control over a grammar state for tokens that were not sampled; undefined when this node-llama-cpp lacks the internals. */
export function grammarStateControl(state: LlamaGrammarEvaluationState): GrammarStateControl | undefined {
  const internal = state as unknown as { _state?: unknown; _llama?: { _bindings?: { AddonSampler?: Partial<AddonSamplerStatics> } } };
  const sampler = internal._llama?._bindings?.AddonSampler;
  const raw = internal._state;
  if (
    raw === undefined ||
    sampler === undefined ||
    typeof sampler.canBeNextTokenForGrammarEvaluationState !== "function" ||
    typeof sampler.acceptGrammarEvaluationStateToken !== "function"
  ) {
    return undefined;
  }
  const statics = sampler as AddonSamplerStatics;
  return {
    canBeNext: (token) => statics.canBeNextTokenForGrammarEvaluationState(raw, token),
    accept: (token) => statics.acceptGrammarEvaluationStateToken(raw, token),
  };
}

/**
 * A {@link TokenBias} holding `deltas` (token → logit delta), end-of-generation tokens included.
 * Throws `EngineError` `unsupported` when an EOG token is biased and node-llama-cpp's private map is
 * missing (never a silently ignored bias).
 */
export function tokenBiasOf(model: LlamaModel, deltas: ReadonlyMap<number, number>, eog: ReadonlySet<TokenId>): TokenBias {
  const bias = TokenBias.for(model);
  const internal = (bias as unknown as { _biases?: unknown })._biases;
  if (internal instanceof Map) {
    for (const [token, delta] of deltas) internal.set(token, delta);
    return bias;
  }
  for (const [token, delta] of deltas) {
    if (eog.has(token)) setEndOfGenerationBias(bias, token, delta);
    else bias.set(asToken(token), { logit: delta });
  }
  return bias;
}

function setEndOfGenerationBias(bias: TokenBias, token: TokenId, delta: number): void {
  const internal = (bias as unknown as { _biases?: unknown })._biases;
  if (!(internal instanceof Map)) {
    throw new EngineError(
      `this node-llama-cpp version does not allow biasing end-of-generation token ${token} (TokenBias._biases is gone)`,
      "unsupported",
    );
  }
  internal.set(token, delta);
}
