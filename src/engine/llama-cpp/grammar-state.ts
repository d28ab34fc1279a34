/**
 * Advancing a node-llama-cpp grammar state by tokens that were NOT sampled (jump-forward decoding,
 * lazy-grammar leftovers). node-llama-cpp 3.22.1 accepts sampled tokens into the state itself, but
 * exposes no public API for injected ones; its own `LlamaChat` and draft-token predictor use the
 * addon's static `AddonSampler.canBeNextTokenForGrammarEvaluationState` and
 * `AddonSampler.acceptGrammarEvaluationStateToken` (via the internal `LlamaSampler`), which we reach
 * through the state's `_llama._bindings`. Both are feature-checked: when absent (another version),
 * {@link grammarStateControl} returns undefined and the engine simply does not jump.
 */
import type { LlamaGrammarEvaluationState } from "node-llama-cpp";
import type { TokenId } from "../types.js";

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
