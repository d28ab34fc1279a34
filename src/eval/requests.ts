/**
 * From a harness request (context / continuation strings) to the token-level request the engine scores
 * (SCORING.md §1): move the context's trailing whitespace to the continuation, tokenise
 * `context + continuation` once and `context` alone, both WITHOUT special tokens (no BOS), and take the
 * whole string's tokens after the context's as the continuation. Pure: the tokenizer is injected.
 */
import type { TokenId } from "../engine/types.js";
import { pyRstrip } from "./python-str.js";
import type { HarnessRequest } from "./types.js";

export interface SplitRequest {
  readonly context: string;
  readonly continuation: string;
  /** The whitespace that moved (golden-requests.json `trailing_whitespace_moved`). */
  readonly moved: string;
}

/** Moves the context's trailing Python whitespace (`str.rstrip()`) to the front of the continuation. */
export function splitTrailingWhitespace(request: HarnessRequest): SplitRequest {
  const context = pyRstrip(request.context);
  const moved = request.context.slice(context.length);
  return { context, continuation: moved + request.continuation, moved };
}

/** Tokenises plain text with no special tokens and no BOS. */
export type Tokenize = (text: string) => Promise<readonly TokenId[]>;

export interface EncodedRequest {
  readonly context: readonly TokenId[];
  readonly continuation: readonly TokenId[];
}

/**
 * Encodes one harness request. `contextTokens` may pass the (already split) context's tokens when the
 * caller has them, since all choices of a document share the context.
 */
export async function encodeRequest(request: HarnessRequest, tokenize: Tokenize, contextTokens?: readonly TokenId[]): Promise<EncodedRequest> {
  const split = splitTrailingWhitespace(request);
  const context = contextTokens ?? (await tokenize(split.context));
  const whole = await tokenize(split.context + split.continuation);
  return { context, continuation: whole.slice(context.length) };
}

/**
 * The harness' left truncation: the model sees at most `maxLength` tokens, i.e. the last
 * `maxLength + 1` of context + continuation minus the final one. Returns the request unchanged when it
 * fits; throws when even the continuation alone does not fit.
 */
export function truncateToLength(request: EncodedRequest, maxLength: number): EncodedRequest {
  const total = request.context.length + request.continuation.length;
  if (total <= maxLength + 1) return request;
  if (request.continuation.length > maxLength) {
    throw new RangeError(`continuation of ${request.continuation.length} tokens does not fit a context of ${maxLength}`);
  }
  return { context: request.context.slice(total - (maxLength + 1)), continuation: request.continuation };
}
