/**
 * The Hermes markers: ChatML turn delimiters and the tool tags. Each is a single added token in
 * Hermes 2 Pro / Hermes 3 vocabularies (ids differ by model: always resolve them by tokenizing the
 * text with special tokens on, never hard-code ids).
 */
export const IM_START = "<|im_start|>";
export const IM_END = "<|im_end|>";

export const HERMES_MARKERS = [
  IM_START,
  IM_END,
  "<tools>",
  "</tools>",
  "<tool_call>",
  "</tool_call>",
  "<tool_response>",
  "</tool_response>",
] as const;
