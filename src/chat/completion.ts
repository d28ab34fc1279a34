/**
 * Raw text completion (`/v1/completions`): a prompt string with special tokens honoured (or token ids),
 * straight to the engine; no chat template, no tool parsing. Framework-free like the chat service.
 */
import type { Engine, FinishReason, GeneratedToken, SamplingOptions, TokenId, Usage } from "../engine/types.js";
import { ChatError } from "./errors.js";

export interface CompletionRequest {
  /** Text (special-token text such as `<|im_start|>` becomes special tokens) or token ids. */
  readonly prompt: string | readonly TokenId[];
  readonly sampling?: SamplingOptions;
  /** Default: until the context is full. */
  readonly maxTokens?: number;
  readonly stop?: readonly string[];
  /** Number of alternatives per token (0 = only the sampled token's log-probability). Default: no logprobs. */
  readonly logprobs?: number;
}

export interface PreparedCompletion {
  readonly request: CompletionRequest;
  readonly promptTokens: readonly TokenId[];
}

export type CompletionEvent =
  | { readonly type: "generation-start" }
  | { readonly type: "text-delta"; readonly text: string; readonly tokens: readonly GeneratedToken[] }
  | { readonly type: "finish"; readonly reason: FinishReason; readonly usage: Usage };

/** Tokenize (special tokens on) and check the prompt fits. Throws {@link ChatError}. */
export async function prepareCompletion(engine: Engine, request: CompletionRequest): Promise<PreparedCompletion> {
  const promptTokens =
    typeof request.prompt === "string" ? await engine.tokenize(request.prompt, { special: true }) : [...request.prompt];
  if (promptTokens.length === 0) throw new ChatError("'prompt' must not be empty.", "invalid_request", "prompt");
  const vocabularySize = engine.info.vocabularySize;
  const bad = promptTokens.findIndex((t) => t >= vocabularySize);
  if (bad >= 0) throw new ChatError(`Token id ${promptTokens[bad]} is outside the vocabulary.`, "invalid_request", `prompt[${bad}]`);
  const contextSize = engine.info.contextSize;
  if (promptTokens.length >= contextSize) {
    throw new ChatError(
      `This model's maximum context length is ${contextSize} tokens. However, your prompt resulted in ` +
        `${promptTokens.length} tokens. Please reduce the length of the prompt.`,
      "context_length_exceeded",
      "prompt",
    );
  }
  return { request, promptTokens };
}

/** Stream one generation of a prepared completion. */
export async function* streamCompletion(
  engine: Engine,
  prepared: PreparedCompletion,
  options: { readonly signal?: AbortSignal } = {},
): AsyncGenerator<CompletionEvent, void, undefined> {
  const { request } = prepared;
  let started = false;
  for await (const event of engine.generate({
    prompt: prepared.promptTokens,
    ...(request.sampling === undefined ? {} : { sampling: request.sampling }),
    ...(request.maxTokens === undefined ? {} : { maxTokens: request.maxTokens }),
    ...(request.stop === undefined || request.stop.length === 0 ? {} : { stop: request.stop }),
    ...(request.logprobs === undefined ? {} : { logprobs: true, topLogprobs: request.logprobs }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  })) {
    if (!started) {
      started = true;
      yield { type: "generation-start" };
    }
    if (event.type === "finish") {
      yield { type: "finish", reason: event.reason, usage: event.usage };
      return;
    }
    // A completion asks for no grammar and no jump-forward, so an engine has nothing to degrade.
    if (event.type === "warning") continue;
    yield { type: "text-delta", text: event.text, tokens: event.tokens };
  }
}
