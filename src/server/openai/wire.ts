/**
 * The JSON Talaria sends, typed against the `openai` package's own response types: the builders in
 * `responses.ts`, `completions.ts` and `routes/models.ts` check their objects with `satisfies` one of
 * these, so a field OpenAI's SDK does not know (or a wrong type for one it does) fails to compile.
 *
 * Each type is OpenAI's, except where noted: Talaria's few deviations (fields the SDK types more narrowly
 * than the API sends them) are `Omit`ted and restated, and its extension fields (`validation_errors`,
 * `tool_call_errors`, `warnings`, the model card's `meta`) are added by intersection, so the standard
 * part is still checked.
 *
 * Type-only: `openai` is a dev dependency and nothing here exists at run time (the import is erased).
 * The public API (`src/index.ts`) exports none of these types, so its declarations never need `openai`.
 */
import type OpenAI from "openai";

/** Talaria sends `system_fingerprint: null` (as the API sometimes does; the SDK types it `string | undefined`). */
type WithNullFingerprint<T extends { system_fingerprint?: string }> = Omit<T, "system_fingerprint"> & { system_fingerprint: null };

// ---- usage -------------------------------------------------------------------------------------------

export type WireUsage = OpenAI.CompletionUsage;

// ---- Talaria extension fields --------------------------------------------------------------------------

/** A failed validation of a tool call's arguments or of the JSON-mode answer (on the choice). */
export interface WireValidationError {
  readonly target: "tool_call" | "response";
  readonly index?: number;
  readonly id?: string;
  readonly name?: string;
  readonly message: string;
  readonly issues: readonly { readonly path: string; readonly keyword: string; readonly message: string }[];
}

/**
 * A `<tool_call>` block that produced no call (on the choice): malformed, cut off before its closing
 * tag, or naming an undeclared tool. Its `raw` text is also in the message's `content`, in place.
 */
export interface WireToolCallError {
  /** `invalid_json`, `empty_payload`, `not_an_object`, `missing_name`, `arguments_not_object` or `unknown_tool`. */
  readonly kind: string;
  readonly message: string;
  readonly raw: string;
  /** False when the block never got its closing tag (e.g. cut by `max_tokens`). */
  readonly closed: boolean;
  /** `unknown_tool`: the name the model called. */
  readonly name?: string;
}

/** Something the engine ignored or degraded (on the response object, non-streaming only). */
export interface WireWarning {
  readonly code: string;
  readonly message: string;
}

interface ChoiceExtensions {
  readonly validation_errors?: readonly WireValidationError[];
  readonly tool_call_errors?: readonly WireToolCallError[];
}

// ---- chat completions ----------------------------------------------------------------------------------

/** Talaria never refuses, so it omits `refusal` (the SDK types it required-and-nullable). */
export type WireChatLogprobs = Omit<OpenAI.Chat.Completions.ChatCompletion.Choice.Logprobs, "refusal">;

export type WireChatCompletionChoice = Omit<OpenAI.Chat.Completions.ChatCompletion.Choice, "logprobs"> & {
  readonly logprobs: WireChatLogprobs | null;
} & ChoiceExtensions;

export type WireChatCompletion = Omit<WithNullFingerprint<OpenAI.Chat.Completions.ChatCompletion>, "choices" | "usage"> & {
  readonly choices: WireChatCompletionChoice[];
  readonly usage: WireUsage;
  readonly warnings?: readonly WireWarning[];
};

export type WireChatDelta = OpenAI.Chat.Completions.ChatCompletionChunk.Choice.Delta;

export type WireChatCompletionChunkChoice = Omit<OpenAI.Chat.Completions.ChatCompletionChunk.Choice, "logprobs"> & {
  readonly logprobs: WireChatLogprobs | null;
} & ChoiceExtensions;

export type WireChatCompletionChunk = Omit<WithNullFingerprint<OpenAI.Chat.Completions.ChatCompletionChunk>, "choices"> & {
  readonly choices: WireChatCompletionChunkChoice[];
};

// ---- legacy completions --------------------------------------------------------------------------------

/** A token without a log-probability is `null` in `token_logprobs` (the SDK types the entries `number`). */
export type WireCompletionLogprobs = Omit<Required<OpenAI.CompletionChoice.Logprobs>, "token_logprobs"> & {
  readonly token_logprobs: Array<number | null>;
};

export type WireCompletionChoice = Omit<OpenAI.CompletionChoice, "logprobs"> & { readonly logprobs: WireCompletionLogprobs | null };

export type WireCompletion = Omit<WithNullFingerprint<OpenAI.Completion>, "choices" | "usage"> & {
  readonly choices: WireCompletionChoice[];
  readonly usage: WireUsage;
};

/**
 * A streamed `text_completion` chunk. The SDK types stream chunks as whole {@link OpenAI.Completion}s;
 * on the wire an unfinished choice has `finish_reason: null`, and with `include_usage` every chunk but
 * the last has `usage: null` (as in chat streams). Stream chunks carry no `system_fingerprint`.
 */
export type WireCompletionChunk = Omit<OpenAI.Completion, "system_fingerprint" | "choices" | "usage"> & {
  readonly choices: Array<Omit<WireCompletionChoice, "finish_reason"> & { readonly finish_reason: OpenAI.CompletionChoice["finish_reason"] | null }>;
  readonly usage?: WireUsage | null;
};

// ---- models --------------------------------------------------------------------------------------------

/** A model card: OpenAI's `Model` plus llama.cpp-style `max_model_len` and `meta`. */
export type WireModel = OpenAI.Models.Model & {
  readonly max_model_len: number;
  readonly meta: {
    readonly architecture: string;
    readonly n_params: number;
    readonly n_ctx_train: number;
    readonly n_vocab: number;
    readonly format: string;
  };
};

/** `GET /v1/models` (the SDK pages over `data`). */
export interface WireModelList {
  readonly object: "list";
  readonly data: readonly WireModel[];
}
