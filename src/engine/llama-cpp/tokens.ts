/** node-llama-cpp brands token ids (`Token`); the engine port uses plain numbers. */
import type { Token } from "node-llama-cpp";

export const asToken = (token: number): Token => token as unknown as Token;
export const asTokens = (tokens: readonly number[]): Token[] => tokens as unknown as Token[];
