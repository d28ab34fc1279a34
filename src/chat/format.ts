/**
 * The seam between the chat service and a prompt format (Hermes ChatML in `src/hermes/`): render a
 * conversation to typed prompt text, and parse tool calls out of the generated text incrementally.
 */
import type { PromptText } from "../prompt/text.js";
import type { ChatMessage, ResponseFormat, ToolDefinition } from "./types.js";
import type { ToolCallParserEvent } from "../hermes/tool-calls.js";
import type { ToolCallSyntax } from "../grammar/index.js";
import type { ConstraintBuilder, GrammarConstraintsOptions } from "./constraints.js";

export interface PromptRenderInput {
  readonly messages: readonly ChatMessage[];
  /** Tools to describe in the prompt; empty = a plain ChatML prompt without a tools block. */
  readonly tools: readonly ToolDefinition[];
  /** `json_object` / `json_schema` select the format's JSON mode. */
  readonly responseFormat: ResponseFormat;
}

/** Events of the incremental tool-call parser (`src/hermes/tool-calls.ts`), in the order of the text. */
export type { ToolCallParserEvent };

export interface ToolCallStreamParser {
  /** Feed generated text; returns what became final. */
  push(text: string): readonly ToolCallParserEvent[];
  /** End of generation: flushes held-back text and an unclosed final block. */
  /** `truncated`: the output was cut by the token limit (a cut call with a complete name becomes a call). */
  end(options?: { readonly truncated?: boolean }): readonly ToolCallParserEvent[];
}

export interface ChatFormat {
  /** Short name for logs and `/v1/models` metadata (e.g. `hermes-3/template`). */
  readonly name: string;
  render(input: PromptRenderInput): PromptText;
  /**
   * A parser for one generation. `toolNames` = the declared tools. A call of another name is an
   * `error` event of kind `unknown_tool` (its raw text stays in content) with `undeclared: "error"`
   * (the default), or a call of its own with `"call"`.
   */
  createToolCallParser(toolNames: readonly string[], options?: { readonly undeclared?: "error" | "call" }): ToolCallStreamParser;
  /** How this format writes a tool call (its parser, prompt and grammars all use it). */
  readonly toolCallSyntax: ToolCallSyntax;
  /** The format's own constraint builder: grammars in {@link toolCallSyntax} for tool choice and JSON modes. */
  constraints(options?: GrammarConstraintsOptions): ConstraintBuilder;
}
