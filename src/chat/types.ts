/**
 * Framework-free chat types: what the chat service accepts and emits. The OpenAI HTTP layer
 * (`src/server/`), the CLI and the agent loop all speak these; none of them is HTTP-specific.
 */
import type { EngineWarningCode, FinishReason, GeneratedToken, SamplingOptions, Usage } from "../engine/types.js";

/** A tool call as it appears in an assistant message (arguments as a JSON string, as OpenAI sends them). */
export interface ChatToolCall {
  readonly id: string;
  readonly name: string;
  /** The arguments as JSON text (an object). */
  readonly arguments: string;
}

export type ChatMessage =
  | { readonly role: "system"; readonly content: string }
  | { readonly role: "user"; readonly content: string }
  | { readonly role: "assistant"; readonly content: string | null; readonly toolCalls?: readonly ChatToolCall[] }
  | { readonly role: "tool"; readonly content: string; readonly toolCallId?: string; readonly name?: string };

/** A function tool the model may call. */
export interface ToolDefinition {
  readonly name: string;
  readonly description?: string;
  /** JSON Schema of the arguments object. */
  readonly parameters?: Readonly<Record<string, unknown>>;
  /** OpenAI `strict`: arguments must match `parameters` exactly (enforced with a grammar when available). */
  readonly strict?: boolean;
  /**
   * What the grammar holds the arguments to: `schema` (`parameters`), or `json-object` (any JSON object;
   * for a schema the grammar cannot enforce, whose arguments are then only validated). Default `schema`.
   */
  readonly argumentsConstraint?: "schema" | "json-object";
}

export type ToolChoice =
  | { readonly type: "auto" }
  | { readonly type: "none" }
  | { readonly type: "required" }
  | { readonly type: "function"; readonly name: string };

export type ResponseFormat =
  | { readonly type: "text" }
  | { readonly type: "json_object" }
  | {
      readonly type: "json_schema";
      readonly name: string;
      readonly schema: Readonly<Record<string, unknown>>;
      readonly strict: boolean;
    };

export interface ChatRequest {
  readonly messages: readonly ChatMessage[];
  /** Default none. */
  readonly tools?: readonly ToolDefinition[];
  /** Default `auto` (when tools are given) — `none` removes the tools from the prompt. */
  readonly toolChoice?: ToolChoice;
  /** Default true. false = stop after the first complete tool call. */
  readonly parallelToolCalls?: boolean;
  /** Default `{type: "text"}`. */
  readonly responseFormat?: ResponseFormat;
  readonly sampling?: SamplingOptions;
  /** Default: until the context is full. */
  readonly maxTokens?: number;
  /** Stop strings. Default none. */
  readonly stop?: readonly string[];
  /** Report the log-probability of each generated token. Default false. */
  readonly logprobs?: boolean;
  /** Alternatives per token, 0–20. Default 0. */
  readonly topLogprobs?: number;
}

/** Why a chat generation ended, in OpenAI's terms (`abort` = the caller's signal fired). */
export type ChatFinishReason = "stop" | "length" | "tool_calls" | "abort";

/**
 * What the chat service streams. Text and tool-call events follow the order of the generated text;
 * `generation-start` comes once, when the first token exists (prefill done), before anything else.
 */
export type ChatEvent =
  | { readonly type: "generation-start" }
  | { readonly type: "text-delta"; readonly text: string }
  | { readonly type: "tool-call-start"; readonly index: number; readonly id: string; readonly name: string }
  /** A fragment of the arguments JSON; the fragments of one call concatenate to its final `arguments`. */
  | { readonly type: "tool-call-delta"; readonly index: number; readonly argumentsDelta: string }
  | { readonly type: "tool-call-end"; readonly index: number; readonly id: string; readonly name: string; readonly arguments: string }
  /** Generated tokens with their log-probabilities (only when requested), in generation order. */
  | { readonly type: "logprobs"; readonly tokens: readonly GeneratedToken[] }
  /** The engine ignored or degraded part of the request (see the engine's `warning` event). */
  | { readonly type: "warning"; readonly code: EngineWarningCode; readonly message: string }
  /**
   * A `<tool_call>` block that produced no call: malformed, cut off before its closing tag, or naming
   * an undeclared tool (kind `unknown_tool`). Its raw text stays in the content (policy P5), in place;
   * this event follows that text. See docs/decisions/0096-tool-call-integrity.md.
   */
  | ({ readonly type: "tool-call-error" } & ChatToolCallError)
  /**
   * A completed tool call whose arguments fail its `parameters` schema (or names no declared tool), or a
   * JSON-mode answer that is not JSON valid against `response_format` (ajv). Reported, never hidden:
   * it follows the call's `tool-call-end`, or comes before `finish` for the answer.
   */
  | ({ readonly type: "validation-error" } & ChatValidationError)
  | {
      readonly type: "finish";
      readonly reason: ChatFinishReason;
      /** The engine's own reason (before tool calls turned it into `tool_calls`). */
      readonly engineReason: FinishReason;
      readonly usage: Usage;
      /** The request's stop string that ended generation (`engineReason` `stop-string`). */
      readonly stopText?: string;
    };

/** A block that produced no call (see the `tool-call-error` {@link ChatEvent}). */
export interface ChatToolCallError {
  /**
   * The parser's kind: `invalid_json`, `empty_payload`, `not_an_object`, `missing_name`,
   * `arguments_not_object`, or `unknown_tool` (a name the request did not declare).
   */
  readonly kind: string;
  /** The block's raw text, from the open tag through the close tag (or where the block ended); also in the content. */
  readonly raw: string;
  readonly message: string;
  /** False when the block never got its closing tag (cut by `max_tokens`, a stop string, or the next open tag). */
  readonly closed: boolean;
  /** `unknown_tool`: the name the model called. */
  readonly name?: string;
}

/** A validation failure (see the `validation-error` {@link ChatEvent}). */
export interface ChatValidationError {
  /** `tool-call`: a call's arguments (or its name); `response`: the JSON-mode answer. */
  readonly target: "tool-call" | "response";
  /** The call (target `tool-call`): its OpenAI index, id and name. */
  readonly index?: number;
  readonly id?: string;
  readonly name?: string;
  /** Readable summary, e.g. `/city must be string`. */
  readonly message: string;
  /** ajv issues (empty when the text is not JSON or the tool is unknown). */
  readonly issues: readonly { readonly path: string; readonly keyword: string; readonly message: string }[];
}

/** A whole chat completion, accumulated from {@link ChatEvent}s. */
export interface ChatResult {
  readonly content: string;
  readonly toolCalls: readonly ChatToolCall[];
  readonly finishReason: ChatFinishReason;
  readonly usage: Usage;
  /** Present when logprobs were requested. */
  readonly logprobs?: readonly GeneratedToken[];
  /** First tool-call parse error, if any block failed (the first of {@link toolCallErrors}). */
  readonly toolCallError?: { readonly kind: string; readonly raw: string };
  /** Every block that produced no call, in order (absent when none); their raw text is in `content`. */
  readonly toolCallErrors?: readonly ChatToolCallError[];
  /** Validation failures of tool arguments or of the JSON answer, in order (absent when none). */
  readonly validationErrors?: readonly ChatValidationError[];
  /** What the engine ignored or degraded (absent when nothing). */
  readonly warnings?: readonly { readonly code: EngineWarningCode; readonly message: string }[];
}
