/** OpenAI `text_completion` objects (whole and streamed) for `/v1/completions`. Pure. */
import type { GeneratedToken, Usage } from "../../engine/types.js";
import type { CompletionEvent } from "../../chat/completion.js";
import { encodeSseData, type OpenAIStreamEncoder } from "../sse.js";
import { sumUsage } from "./responses.js";
import type { WireCompletion, WireCompletionChoice, WireCompletionChunk, WireCompletionLogprobs, WireUsage } from "./wire.js";

export interface CompletionChoiceResult {
  readonly text: string;
  readonly tokens: readonly GeneratedToken[];
  readonly finishReason: "stop" | "length";
  readonly usage: Usage;
  /** The generation was aborted (client gone or deadline). */
  readonly aborted: boolean;
}

export interface CompletionMeta {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

/** The legacy completions logprobs object: parallel arrays plus `top_logprobs` as token→logprob maps. */
export function toCompletionLogprobs(tokens: readonly GeneratedToken[], textOffsetStart = 0): WireCompletionLogprobs {
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
  } satisfies WireCompletionLogprobs;
}

/** The `usage` of a completion (whole, or the final stream chunk): no token details, unlike chat. */
export function toCompletionUsage(usage: Usage): WireUsage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
  } satisfies WireUsage;
}

export function toTextCompletion(meta: CompletionMeta, results: readonly CompletionChoiceResult[], logprobs: boolean): WireCompletion {
  return {
    id: meta.id,
    object: "text_completion",
    created: meta.created,
    model: meta.model,
    system_fingerprint: null,
    choices: results.map(
      (r, index) =>
        ({
          index,
          text: r.text,
          logprobs: logprobs ? toCompletionLogprobs(r.tokens) : null,
          finish_reason: r.finishReason,
        }) satisfies WireCompletionChoice,
    ),
    usage: toCompletionUsage(sumUsage(results.map((r) => r.usage))),
  } satisfies WireCompletion;
}

/**
 * The last chunk of a stream with `stream_options.include_usage`: no choices, the request's usage (summed
 * over its choices by the caller) as SSE text.
 */
export function encodeCompletionUsageChunk(meta: CompletionMeta, usage: Usage): string {
  return encodeSseData({
    id: meta.id,
    object: "text_completion",
    created: meta.created,
    model: meta.model,
    choices: [],
    usage: toCompletionUsage(usage),
  } satisfies WireCompletionChunk);
}

export interface CompletionChunkEncoderOptions extends CompletionMeta {
  /** `stream_options.include_usage`: every chunk carries `usage: null` and a final usage chunk is sent. */
  readonly includeUsage: boolean;
  /** `logprobs` was asked for: chunks carry the legacy logprobs object of their tokens. */
  readonly logprobs: boolean;
  /** `echo`: the prompt's text, sent first in every choice (when the choice starts); "" for none. */
  readonly echo: string;
  /** `echo` with `logprobs`: the prompt's tokens (the first without a log-probability), sent with the echo. */
  readonly echoTokens?: readonly GeneratedToken[];
}

/**
 * Completion events of one request (any number of choices) as SSE text: the echoed prompt when the
 * choice starts, a chunk per text delta (or per token, with logprobs), a finish chunk per choice and,
 * from {@link end}, the usage chunk over every finished choice.
 */
export class CompletionChunkEncoder implements OpenAIStreamEncoder<CompletionEvent> {
  readonly #options: CompletionChunkEncoderOptions;
  readonly #usages: Usage[] = [];
  /** Characters sent so far per choice: `text_offset` counts from the start of the choice's text, across chunks. */
  readonly #offsets = new Map<number, number>();

  constructor(options: CompletionChunkEncoderOptions) {
    this.#options = options;
  }

  /** SSE text for one event of choice `choice` ("" when the event produces no chunk). */
  encode(choice: number, event: CompletionEvent): string {
    const o = this.#options;
    switch (event.type) {
      case "generation-start":
        return o.echo === "" ? "" : this.#chunk(choice, o.echo, o.echoTokens ?? null, null);
      case "text-delta":
        if (event.text === "" && !(o.logprobs && event.tokens.length > 0)) return "";
        return this.#chunk(choice, event.text, event.tokens, null);
      case "finish":
        this.#usages.push(event.usage);
        return this.#chunk(choice, "", [], event.reason === "length" ? "length" : "stop");
      default:
        event satisfies never;
        return "";
    }
  }

  #chunk(choice: number, text: string, tokens: readonly GeneratedToken[] | null, finishReason: "stop" | "length" | null): string {
    const o = this.#options;
    const offset = this.#offsets.get(choice) ?? 0;
    this.#offsets.set(choice, offset + (tokens ?? []).reduce((n, t) => n + t.text.length, 0));
    return encodeSseData({
      id: o.id,
      object: "text_completion",
      created: o.created,
      model: o.model,
      choices: [{ index: choice, text, logprobs: o.logprobs && tokens !== null ? toCompletionLogprobs(tokens, offset) : null, finish_reason: finishReason }],
      ...(o.includeUsage ? { usage: null } : {}),
    } satisfies WireCompletionChunk);
  }

  /** The final usage chunk (`choices: []`), or "" when usage was not requested. */
  encodeUsage(usage: Usage): string {
    return this.#options.includeUsage ? encodeCompletionUsageChunk(this.#options, usage) : "";
  }

  /** After the last event: the usage chunk over every choice finished so far ("" when not requested). */
  end(): string {
    return this.encodeUsage(sumUsage(this.#usages));
  }
}
