import { describe, expect, it } from "vitest";
import { joinPrompt, special } from "../prompt/text.js";
import { tokenizePromptInput, tokenizePromptText } from "./prompt-input.js";

describe("tokenizePromptText", () => {
  it("joins the parts' tokens in order, special parts with special tokens on", () => {
    const seen: Array<[string, boolean, number]> = [];
    const tokens = tokenizePromptText(joinPrompt(special("<s>"), "ab", ""), (text, isSpecial, index) => {
      seen.push([text, isSpecial, index]);
      return isSpecial ? [1] : [...text].map((ch) => ch.charCodeAt(0));
    });
    expect(tokens).toEqual([1, 97, 98]);
    expect(seen).toEqual([
      ["<s>", true, 0],
      ["ab", false, 1],
    ]);
  });

  it("a part of millions of tokens does not overflow the stack (no push(...tokens))", () => {
    const many = 3_000_000;
    const tokens = tokenizePromptText(joinPrompt(special("<s>"), "x"), (_text, isSpecial) => (isSpecial ? [1] : new Array<number>(many).fill(7)));
    expect(tokens.length).toBe(many + 1);
    expect(tokens[0]).toBe(1);
    expect(tokens[many]).toBe(7);
    expect(tokenizePromptInput(joinPrompt("x"), () => new Array<number>(many).fill(7), 10)).toHaveLength(many);
  });
});
