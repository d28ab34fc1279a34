/**
 * The Hermes dialect, declared once as data: ChatML turn markers, the tool tags and the tool-call
 * syntax. The prompt renderer (`prompt.ts`), the incremental tool-call parser (`tool-calls.ts`) and
 * the grammar builders (through the Hermes chat format's constraints) all read it; nothing else
 * spells these texts. In the spirit of node-llama-cpp's `ChatWrapperSettings.functions`.
 *
 * Each marker is a single added token in Hermes 2 Pro / Hermes 3 vocabularies (ids differ by model:
 * resolve them by tokenizing the text with special tokens on, never hard-code ids).
 */
import type { ToolCallSyntax } from "../grammar/constraint.js";

/** The parts of a chat dialect that a renderer, parser and grammar need. */
export interface ChatDialect {
  /** ChatML turn delimiters. */
  readonly turn: { readonly start: string; readonly end: string };
  /** The tags around the tool signatures in the system prompt. */
  readonly tools: { readonly open: string; readonly close: string };
  /** The tags around a tool result. */
  readonly toolResponse: { readonly open: string; readonly close: string };
  /** How a tool call is written. */
  readonly toolCall: ToolCallSyntax;
  /** Every marker text of the dialect (each a single special token in the model's vocabulary). */
  readonly markers: readonly string[];
}

const TURN = { start: "<|im_start|>", end: "<|im_end|>" } as const;
const TOOLS = { open: "<tools>", close: "</tools>" } as const;
const TOOL_RESPONSE = { open: "<tool_response>", close: "</tool_response>" } as const;

/** What Hermes models are trained to write: `<tool_call>\n{"name": "…", "arguments": {…}}\n</tool_call>`. */
const TOOL_CALL: ToolCallSyntax = {
  open: "<tool_call>",
  close: "</tool_call>",
  afterOpen: "\n",
  beforeClose: "\n",
  envelope: { nameKey: "name", argumentsKey: "arguments", argumentsAliases: ["parameters"], keySeparator: ": ", itemSeparator: ", " },
  between: { text: "\n", whitespace: " \t\n", maxWhitespace: 2 },
};

/** The Hermes 2 Pro / Hermes 3 dialect. */
export const HERMES_DIALECT: ChatDialect = {
  turn: TURN,
  tools: TOOLS,
  toolResponse: TOOL_RESPONSE,
  toolCall: TOOL_CALL,
  markers: [TURN.start, TURN.end, TOOLS.open, TOOLS.close, TOOL_CALL.open, TOOL_CALL.close, TOOL_RESPONSE.open, TOOL_RESPONSE.close],
};

/** `<|im_start|>` */
export const IM_START = TURN.start;
/** `<|im_end|>` */
export const IM_END = TURN.end;
/** Every Hermes marker that is a single added token in Hermes 2 Pro / Hermes 3 vocabularies. */
export const HERMES_MARKERS: readonly string[] = HERMES_DIALECT.markers;
