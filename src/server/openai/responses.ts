/**
 * OpenAI response objects: streaming chunks built from chat events (one small object per step, serialised
 * once) and whole responses built from accumulated results. Pure: no I/O, no clock (callers pass
 * `created`), so it is tested in isolation.
 */
import type { GeneratedToken, Usage } from "../../engine/types.js";
import type { ChatEvent, ChatFinishReason, ChatResult, ChatToolCallError, ChatValidationError } from "../../chat/types.js";
import { encodeSseData, type OpenAIStreamEncoder } from "../sse.js";
import type {
  WireChatCompletion,
  WireChatCompletionChoice,
  WireChatCompletionChunk,
  WireChatCompletionChunkChoice,
  WireChatDelta,
  WireChatLogprobs,
  WireToolCallError,
  WireUsage,
  WireValidationError,
  WireWarning,
} from "./wire.js";

export type OpenAIFinishReason = "stop" | "length" | "tool_calls";

export interface OpenAIUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
  readonly prompt_tokens_details: { readonly cached_tokens: number };
}

export function toOpenAIUsage(usage: Usage): OpenAIUsage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedPromptTokens },
  } satisfies WireUsage;
}

/** Sum usage over the choices of one request (`n` > 1): the prompt counts once. */
export function sumUsage(usages: readonly Usage[]): Usage {
  let completionTokens = 0;
  let promptTokens = 0;
  let cachedPromptTokens = 0;
  for (const u of usages) {
    completionTokens += u.completionTokens;
    promptTokens = Math.max(promptTokens, u.promptTokens);
    cachedPromptTokens = Math.max(cachedPromptTokens, u.cachedPromptTokens);
  }
  return { promptTokens, completionTokens, cachedPromptTokens };
}

/**
 * A validation failure on the wire (a Talaria extension field on the choice, `validation_errors`):
 * `{target: "tool_call" | "response", index?, id?, name?, message, issues: [{path, keyword, message}]}`.
 * OpenAI clients ignore unknown fields; it is present only when something failed.
 */
export function toOpenAIValidationError(failure: ChatValidationError): WireValidationError {
  return {
    target: failure.target === "tool-call" ? "tool_call" : "response",
    ...(failure.index === undefined ? {} : { index: failure.index }),
    ...(failure.id === undefined ? {} : { id: failure.id }),
    ...(failure.name === undefined ? {} : { name: failure.name }),
    message: failure.message,
    issues: failure.issues,
  } satisfies WireValidationError;
}

/**
 * A block that produced no call on the wire (a Talaria extension field on the choice,
 * `tool_call_errors`): `{kind, message, raw, closed, name?}`. The raw text is in `content` as well, so
 * an OpenAI client that ignores the field loses nothing; one that reads it knows the text was a failed
 * call. Present only when a block failed.
 */
export function toOpenAIToolCallError(error: ChatToolCallError): WireToolCallError {
  return {
    kind: error.kind,
    message: error.message,
    raw: error.raw,
    closed: error.closed,
    ...(error.name === undefined ? {} : { name: error.name }),
  } satisfies WireToolCallError;
}

/** `abort` never reaches a client (it is gone, or the timeout error is sent instead). */
export function toOpenAIFinishReason(reason: ChatFinishReason): OpenAIFinishReason {
  return reason === "abort" ? "stop" : reason;
}

const utf8 = new TextEncoder();

interface OpenAITopLogprob {
  readonly token: string;
  readonly logprob: number;
  readonly bytes: number[];
}
interface OpenAITokenLogprob extends OpenAITopLogprob {
  readonly top_logprobs: OpenAITopLogprob[];
}

export function toOpenAILogprobs(tokens: readonly GeneratedToken[]): OpenAITokenLogprob[] {
  return tokens.map((t) => ({
    token: t.text,
    logprob: t.logprob ?? 0,
    bytes: Array.from(utf8.encode(t.text)),
    top_logprobs: (t.top ?? []).map((a) => ({ token: a.text, logprob: a.logprob, bytes: Array.from(utf8.encode(a.text)) })),
  })) satisfies WireChatLogprobs["content"];
}

/**
 * The warnings of a request's choices, each `{code, message}` once (every choice of one request
 * usually reports the same ones). `undefined` when there are none, so the field is omitted.
 */
export function toOpenAIWarnings(results: readonly Pick<ChatResult, "warnings">[]): WireWarning[] | undefined {
  const seen = new Set<string>();
  const out: WireWarning[] = [];
  for (const r of results) {
    for (const w of r.warnings ?? []) {
      const key = `${w.code}\n${w.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ code: w.code, message: w.message });
    }
  }
  return out.length === 0 ? undefined : out;
}

export interface ChatChunkEncoderOptions {
  readonly id: string;
  readonly created: number;
  readonly model: string;
  /** `stream_options.include_usage`: every chunk carries `usage: null` and a final usage chunk is sent. */
  readonly includeUsage: boolean;
}

/**
 * Turns chat events of one request (any number of choices) into SSE text, as OpenAI streams them:
 * the role delta first (on `generation-start`, i.e. with the first token), content deltas, `tool_calls`
 * deltas (index, id, type and name once, then argument fragments), a finish chunk, an optional usage
 * chunk. Log-probabilities ride on the next chunk of their choice. Warnings have no OpenAI chunk field
 * and are not streamed (the route logs them). Talaria extensions: a block that produced no call gets
 * its own chunk right after its raw text (`delta: {}`, `tool_call_errors: [...]`), so it is reported
 * before the finish chunk; validation failures ride on the finish chunk (`validation_errors`).
 */
export class ChatChunkEncoder implements OpenAIStreamEncoder<ChatEvent> {
  readonly #options: ChatChunkEncoderOptions;
  readonly #pendingLogprobs = new Map<number, GeneratedToken[]>();
  /** Validation failures per choice, sent with the choice's finish chunk (`validation_errors`, a Talaria extension). */
  readonly #validationErrors = new Map<number, ChatValidationError[]>();
  /** The usage of each finished choice, for {@link end}. */
  readonly #usages: Usage[] = [];
  /** The fields every chunk starts with, in wire order. */
  readonly #head: Omit<WireChatCompletionChunk, "choices" | "usage">;
  readonly #prefix: string;
  readonly #contentHead: string;
  readonly #contentMid = ',"delta":{"content":';
  readonly #contentTail: string;

  constructor(options: ChatChunkEncoderOptions) {
    this.#options = options;
    this.#head = chatCompletionHead(options, "chat.completion.chunk");
    // The constant head of every chunk, serialised once: `{"id":…,"system_fingerprint":null,"choices":[`.
    this.#prefix = JSON.stringify({ ...this.#head, choices: [] } satisfies WireChatCompletionChunk).slice(0, -2);
    // A content chunk is `#contentHead` + choice + `#contentMid` + JSON text + `#contentTail`, byte-equal to #chunk's.
    this.#contentHead = `data: ${this.#prefix}{"index":`;
    this.#contentTail = `},"logprobs":null,"finish_reason":null}]${options.includeUsage ? ',"usage":null' : ""}}\n\n`;
  }

  /** SSE text for one event of choice `choice` ("" when the event produces no chunk). */
  encode(choice: number, event: ChatEvent): string {
    switch (event.type) {
      case "generation-start":
        return this.#chunk(choice, { role: "assistant", content: "" }, null);
      case "text-delta":
        // The hot path (one per token): only the text is serialised; the rest is preformatted.
        if (this.#pendingLogprobs.size === 0) return `${this.#contentHead}${choice}${this.#contentMid}${JSON.stringify(event.text)}${this.#contentTail}`;
        return this.#chunk(choice, { content: event.text }, null);
      case "tool-call-start":
        return this.#chunk(
          choice,
          { tool_calls: [{ index: event.index, id: event.id, type: "function", function: { name: event.name, arguments: "" } }] },
          null,
        );
      case "tool-call-delta":
        return this.#chunk(choice, { tool_calls: [{ index: event.index, function: { arguments: event.argumentsDelta } }] }, null);
      case "tool-call-error": {
        const { type: _type, ...error } = event;
        return this.#chunk(choice, {}, null, { tool_call_errors: [toOpenAIToolCallError(error)] });
      }
      case "tool-call-end":
      case "warning":
        return "";
      case "validation-error": {
        const { type: _type, ...failure } = event;
        const list = this.#validationErrors.get(choice);
        if (list === undefined) this.#validationErrors.set(choice, [failure]);
        else list.push(failure);
        return "";
      }
      case "logprobs": {
        const pending = this.#pendingLogprobs.get(choice);
        if (pending === undefined) this.#pendingLogprobs.set(choice, [...event.tokens]);
        else pending.push(...event.tokens);
        return "";
      }
      case "finish": {
        this.#usages.push(event.usage);
        const failures = this.#validationErrors.get(choice);
        this.#validationErrors.delete(choice);
        return this.#chunk(
          choice,
          {},
          toOpenAIFinishReason(event.reason),
          failures === undefined || failures.length === 0 ? {} : { validation_errors: failures.map(toOpenAIValidationError) },
        );
      }
      default:
        event satisfies never;
        return "";
    }
  }

  /** The final usage chunk (`choices: []`), or "" when usage was not requested. */
  encodeUsage(usage: Usage): string {
    if (!this.#options.includeUsage) return "";
    return encodeSseData({ ...this.#head, choices: [], usage: toOpenAIUsage(usage) } satisfies WireChatCompletionChunk);
  }

  /** After the last event: the usage chunk over every choice finished so far ("" when not requested). */
  end(): string {
    return this.encodeUsage(sumUsage(this.#usages));
  }

  #chunk(
    choice: number,
    delta: WireChatDelta,
    finishReason: OpenAIFinishReason | null,
    extensions: Pick<WireChatCompletionChunkChoice, "validation_errors" | "tool_call_errors"> = {},
  ): string {
    const pending = this.#pendingLogprobs.get(choice);
    let logprobs: WireChatLogprobs | null = null;
    if (pending !== undefined && pending.length > 0) {
      logprobs = { content: toOpenAILogprobs(pending) };
      this.#pendingLogprobs.delete(choice);
    }
    const usage = this.#options.includeUsage ? ',"usage":null' : "";
    const body = {
      index: choice,
      delta,
      logprobs,
      finish_reason: finishReason,
      ...extensions,
    } satisfies WireChatCompletionChunkChoice;
    return `data: ${this.#prefix}${JSON.stringify(body)}]${usage}}\n\n`;
  }
}

/** An error inside an already-started stream: OpenAI clients (and the openai SDK) read `data: {"error": …}`. */
export function encodeStreamError(body: unknown): string {
  return encodeSseData(body);
}

export interface ChatCompletionMeta {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

/** The fields every `chat.completion` (or `.chunk`) object starts with, in the API's order. */
export function chatCompletionHead<O extends "chat.completion" | "chat.completion.chunk">(
  meta: ChatCompletionMeta,
  object: O,
): { id: string; object: O; created: number; model: string; system_fingerprint: null } {
  return { id: meta.id, object, created: meta.created, model: meta.model, system_fingerprint: null };
}

/**
 * A whole `chat.completion` object from the results of its choices. What the engine ignored or degraded
 * rides along as `warnings: [{code, message}]` (a Talaria extension; absent when there is none); blocks
 * that produced no call as the choice's `tool_call_errors` (their raw text is in `content`).
 */
export function toChatCompletion(meta: ChatCompletionMeta, results: readonly ChatResult[]): WireChatCompletion {
  const warnings = toOpenAIWarnings(results);
  return {
    ...chatCompletionHead(meta, "chat.completion"),
    choices: results.map(
      (r, index) =>
        ({
          index,
          message: {
            role: "assistant",
            content: r.toolCalls.length > 0 && r.content === "" ? null : r.content,
            refusal: null,
            ...(r.toolCalls.length > 0
              ? {
                  tool_calls: r.toolCalls.map((c) => ({
                    id: c.id,
                    type: "function" as const,
                    function: { name: c.name, arguments: c.arguments },
                  })),
                }
              : {}),
          },
          logprobs: r.logprobs === undefined ? null : { content: toOpenAILogprobs(r.logprobs) },
          finish_reason: toOpenAIFinishReason(r.finishReason),
          ...(r.validationErrors === undefined || r.validationErrors.length === 0 ? {} : { validation_errors: r.validationErrors.map(toOpenAIValidationError) }),
          ...(r.toolCallErrors === undefined || r.toolCallErrors.length === 0 ? {} : { tool_call_errors: r.toolCallErrors.map(toOpenAIToolCallError) }),
        }) satisfies WireChatCompletionChoice,
    ),
    usage: toOpenAIUsage(sumUsage(results.map((r) => r.usage))),
    ...(warnings === undefined ? {} : { warnings }),
  } satisfies WireChatCompletion;
}
