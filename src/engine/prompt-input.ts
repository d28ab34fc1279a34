/**
 * Tokenizing a {@link PromptInput}: plain parts with special tokens OFF (user content can never
 * become a control token), special parts with special tokens ON, raw strings with special tokens
 * ON, token arrays as they are. Pure; the tokenizer is injected.
 */
import { isPromptText, type PromptText } from "../prompt/text.js";
import { EngineError, type PromptInput, type TokenId } from "./types.js";

/** `tokenize(text, special, index)`: `index` is the part's position (0 for the first part). */
export type PartTokenizer = (text: string, special: boolean, index: number) => TokenId[];

export function tokenizePromptText(prompt: PromptText, tokenize: PartTokenizer): TokenId[] {
  const out: TokenId[] = [];
  prompt.parts.forEach((part, index) => {
    if (part.text === "") return;
    // A loop, not push(...tokens): spreading a long part's tokens as arguments overflows the stack.
    for (const token of tokenize(part.text, part.kind === "special", index)) out.push(token);
  });
  return out;
}

export function tokenizePromptInput(input: PromptInput, tokenize: PartTokenizer, vocabularySize: number): TokenId[] {
  if (typeof input === "string") return tokenize(input, true, 0);
  if (isPromptText(input)) return tokenizePromptText(input, tokenize);
  const tokens = [...(input as readonly TokenId[])];
  for (const t of tokens) {
    if (!Number.isInteger(t) || t < 0 || t >= vocabularySize) {
      throw new EngineError(`prompt token ${String(t)} is not in the vocabulary (size ${vocabularySize})`, "invalid_request");
    }
  }
  return tokens;
}
