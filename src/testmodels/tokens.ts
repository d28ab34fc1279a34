/**
 * THE token table of the generated Hermes-3-like test models: the Llama 3.1 special tokens at
 * 128000..128255 with Hermes 3's added ChatML and tool tags placed over reserved slots.
 *
 * ⚠ Only `<|im_end|>` = 128039 is confirmed (Hermes-3-Llama-3.2-3B `config.json` eos_token_id). The ids of
 * `<|im_start|>` (128038) and of the six tool tags (128040..128045) are PLACEHOLDERS chosen for these test
 * models; real Hermes files may differ. Production code must resolve every marker by tokenizing its text
 * (`model.tokenize(text, true)`), never by these ids. See docs/test-models.md.
 */

/** Size of the regular (BPE) part of the Llama 3 vocabulary. */
export const BPE_VOCAB_SIZE = 128_000;
/** Total vocabulary size (BPE + 256 special slots). */
export const VOCAB_SIZE = 128_256;

export const BOS_ID = 128_000;
/** `<|im_end|>`: eos of Hermes 3 (confirmed id). */
export const EOS_ID = 128_039;

/** Hermes ChatML markers and tool tags, with the ids used by the test models. */
export const HERMES_TOKENS = {
  imStart: { text: "<|im_start|>", id: 128_038, confirmed: false, group: "chatml" },
  imEnd: { text: "<|im_end|>", id: 128_039, confirmed: true, group: "chatml" },
  toolsStart: { text: "<tools>", id: 128_040, confirmed: false, group: "tool" },
  toolsEnd: { text: "</tools>", id: 128_041, confirmed: false, group: "tool" },
  toolCallStart: { text: "<tool_call>", id: 128_042, confirmed: false, group: "tool" },
  toolCallEnd: { text: "</tool_call>", id: 128_043, confirmed: false, group: "tool" },
  toolResponseStart: { text: "<tool_response>", id: 128_044, confirmed: false, group: "tool" },
  toolResponseEnd: { text: "</tool_response>", id: 128_045, confirmed: false, group: "tool" },
} as const satisfies Record<string, { text: string; id: number; confirmed: boolean; group: "chatml" | "tool" }>;

export type HermesTokenName = keyof typeof HERMES_TOKENS;

/** Named Llama 3.1 special tokens (the rest of 128000..128255 are `<|reserved_special_token_N|>`). */
export const LLAMA31_NAMED_SPECIAL_TOKENS: Readonly<Record<number, string>> = {
  128000: "<|begin_of_text|>",
  128001: "<|end_of_text|>",
  128002: "<|reserved_special_token_0|>",
  128003: "<|reserved_special_token_1|>",
  128004: "<|finetune_right_pad_id|>",
  128005: "<|reserved_special_token_2|>",
  128006: "<|start_header_id|>",
  128007: "<|end_header_id|>",
  128008: "<|eom_id|>",
  128009: "<|eot_id|>",
  128010: "<|python_tag|>",
};

/** GGUF `tokenizer.ggml.token_type` values (llama.cpp `llama_token_type`). */
export const TokenType = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

/** How the six tool tags are typed in the vocabulary; ChatML markers are always CONTROL. */
export type ToolTokenType = "control" | "user";

export interface SpecialTokenEntry {
  readonly id: number;
  readonly text: string;
  /** GGUF token type: CONTROL (3) or USER_DEFINED (4). */
  readonly tokenType: number;
}

/** Text of special token `id` (128000..128255) in the Llama 3.1 naming, before Hermes overrides. */
export function llama31SpecialTokenText(id: number): string {
  const named = LLAMA31_NAMED_SPECIAL_TOKENS[id];
  if (named !== undefined) return named;
  // 128011 is <|reserved_special_token_3|> ... 128255 is <|reserved_special_token_247|>.
  return `<|reserved_special_token_${id - 128_011 + 3}|>`;
}

/** The 256 special tokens of the test vocabulary, ids 128000..128255, with their GGUF token types. */
export function specialTokenTable(toolTokenType: ToolTokenType = "control"): SpecialTokenEntry[] {
  const overrides = new Map<number, { text: string; group: "chatml" | "tool" }>();
  for (const t of Object.values(HERMES_TOKENS)) overrides.set(t.id, t);
  const out: SpecialTokenEntry[] = [];
  for (let id = BPE_VOCAB_SIZE; id < VOCAB_SIZE; id++) {
    const o = overrides.get(id);
    const tokenType = o?.group === "tool" && toolTokenType === "user" ? TokenType.userDefined : TokenType.control;
    out.push({ id, text: o?.text ?? llama31SpecialTokenText(id), tokenType });
  }
  return out;
}
