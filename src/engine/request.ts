/**
 * Validation of a {@link GenerateRequest} apart from its prompt. Pure.
 */
import { resolveSampling, type ResolvedSampling } from "./sampling-options.js";
import { EngineError, type EngineCapabilities, type GenerateEvent, type GenerateRequest, type LoglikelihoodRequest, type TokenId } from "./types.js";

/** Most top log-probabilities one token may return (OpenAI's limit). */
export const MAX_TOP_LOGPROBS = 20;

export interface ResolvedGenerateOptions {
  readonly sampling: ResolvedSampling;
  /** undefined = until the context is full. */
  readonly maxTokens: number | undefined;
  readonly stop: readonly string[];
  readonly stopTokens: ReadonlySet<TokenId>;
  readonly topLogprobs: number;
  /** Compute log-probabilities (logprobs, or topLogprobs > 0). */
  readonly logprobs: boolean;
  readonly addBos: boolean;
}

function fail(message: string): never {
  throw new EngineError(message, "invalid_request");
}

export function resolveGenerateOptions(request: GenerateRequest, vocabularySize: number): ResolvedGenerateOptions {
  const sampling = resolveSampling(request.sampling, vocabularySize);
  if (request.maxTokens !== undefined && (!Number.isInteger(request.maxTokens) || request.maxTokens < 1)) {
    fail(`maxTokens must be an integer >= 1 (got ${String(request.maxTokens)})`);
  }
  const stop = request.stop ?? [];
  for (const s of stop) {
    if (typeof s !== "string" || s.length === 0) fail("stop strings must be non-empty strings");
  }
  const stopTokens = new Set<TokenId>();
  for (const t of request.stopTokens ?? []) {
    if (!Number.isInteger(t) || t < 0 || t >= vocabularySize) fail(`stop token ${String(t)} is not in the vocabulary`);
    stopTokens.add(t);
  }
  const topLogprobs = request.topLogprobs ?? 0;
  if (!Number.isInteger(topLogprobs) || topLogprobs < 0 || topLogprobs > MAX_TOP_LOGPROBS) {
    fail(`topLogprobs must be an integer in [0, ${MAX_TOP_LOGPROBS}] (got ${String(request.topLogprobs)})`);
  }
  return {
    sampling,
    maxTokens: request.maxTokens,
    stop,
    stopTokens,
    topLogprobs,
    logprobs: request.logprobs === true || topLogprobs > 0,
    addBos: request.addBos ?? false,
  };
}

export function validateLoglikelihoodRequests(requests: readonly LoglikelihoodRequest[], vocabularySize: number): void {
  requests.forEach((r, i) => {
    if (r.context.length === 0) fail(`loglikelihood request ${i}: context must be non-empty (prepend BOS yourself)`);
    if (r.continuation.length === 0) fail(`loglikelihood request ${i}: continuation must be non-empty`);
    for (const t of [...r.context, ...r.continuation]) {
      if (!Number.isInteger(t) || t < 0 || t >= vocabularySize) fail(`loglikelihood request ${i}: token ${String(t)} is not in the vocabulary`);
    }
  });
}

/**
 * Refuse a request that needs a capability the engine lacks (`EngineError` `unsupported`, naming the
 * feature and the engine); return the `warning`s for what the engine will merely degrade. Every
 * adapter calls it before generating, so no feature is ever dropped silently.
 */
export function checkCapabilities(
  request: GenerateRequest,
  capabilities: EngineCapabilities,
  engineName: string,
): Extract<GenerateEvent, { type: "warning" }>[] {
  const unsupported = (feature: string): never => {
    throw new EngineError(`the ${engineName} engine does not support ${feature}`, "unsupported");
  };
  const logprobs = request.logprobs === true || (request.topLogprobs ?? 0) > 0;
  if (logprobs && !capabilities.logprobs) unsupported("logprobs");
  if (typeof request.prompt === "object" && Array.isArray(request.prompt) && !capabilities.tokenIdPrompts) unsupported("token-id prompts");
  const warnings: Extract<GenerateEvent, { type: "warning" }>[] = [];
  if (request.grammar !== undefined) {
    if (!capabilities.grammar) unsupported("grammar constraints");
    if ((request.grammar.lazyTriggers?.length ?? 0) > 0 && !capabilities.lazyGrammar) unsupported("lazy grammars");
    if (logprobs && !capabilities.logprobsWithGrammar) unsupported("grammar constraints combined with logprobs");
    if (request.jumpForward === true && !capabilities.jumpForward) {
      warnings.push({ type: "warning", code: "jump-forward-unavailable", message: `the ${engineName} engine does not implement jump-forward decoding; tokens are sampled one by one` });
    }
  }
  return warnings;
}
