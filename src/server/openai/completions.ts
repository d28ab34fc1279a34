/** OpenAI `text_completion` objects (whole and streamed) for `/v1/completions`. Pure. */
import type { GeneratedToken, Usage } from "../../engine/types.js";
import { sumUsage } from "./responses.js";

export interface CompletionChoiceResult {
  readonly text: string;
  readonly tokens: readonly GeneratedToken[];
  readonly finishReason: "stop" | "length";
  readonly usage: Usage;
  /** The generation was aborted (client gone or deadline). */
  readonly aborted: boolean;
}

interface CompletionMeta {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

/** The legacy completions logprobs object: parallel arrays plus `top_logprobs` as token→logprob maps. */
export function toCompletionLogprobs(tokens: readonly GeneratedToken[], textOffsetStart = 0): Record<string, unknown> {
  const textOffset: number[] = [];
  let offset = textOffsetStart;
  for (const t of tokens) {
    textOffset.push(offset);
    offset += t.text.length;
  }
  return {
    tokens: tokens.map((t) => t.text),
    token_logprobs: tokens.map((t) => t.logprob ?? null),
    top_logprobs: tokens.map((t) => Object.fromEntries((t.top ?? []).map((a) => [a.text, a.logprob]))),
    text_offset: textOffset,
  };
}

export function toTextCompletion(meta: CompletionMeta, results: readonly CompletionChoiceResult[], logprobs: boolean): Record<string, unknown> {
  const usage = sumUsage(results.map((r) => r.usage));
  return {
    id: meta.id,
    object: "text_completion",
    created: meta.created,
    model: meta.model,
    system_fingerprint: null,
    choices: results.map((r, index) => ({
      index,
      text: r.text,
      logprobs: logprobs ? toCompletionLogprobs(r.tokens) : null,
      finish_reason: r.finishReason,
    })),
    usage: { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.promptTokens + usage.completionTokens },
  };
}

/** One streamed `text_completion` chunk as SSE text. */
export function encodeCompletionChunk(
  meta: CompletionMeta,
  choice: number,
  text: string,
  tokens: readonly GeneratedToken[] | null,
  finishReason: "stop" | "length" | null,
  logprobs: boolean,
  includeUsage: boolean,
): string {
  const chunk = {
    id: meta.id,
    object: "text_completion",
    created: meta.created,
    model: meta.model,
    choices: [{ index: choice, text, logprobs: logprobs && tokens !== null ? toCompletionLogprobs(tokens) : null, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}
