/** Commander argument parsers shared by every command (errors become commander's usage errors). */
import { InvalidArgumentError } from "commander";

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

export function parseInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError("expected an integer");
  return n;
}

/** An integer ≥ 0 (counts such as retries). */
export function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError("expected an integer >= 0");
  return n;
}

export function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError("expected a number");
  return n;
}

/** `--template`: which tool_use template the `template` prompt style renders (`model` or `official`). */
export function parseTemplateChoice(value: string): "model" | "official" {
  if (value !== "model" && value !== "official") throw new InvalidArgumentError("expected model (the GGUF's own tool_use template, else the official one) or official");
  return value;
}

/** Help text of `--template`, the same on every command. */
export const TEMPLATE_OPTION_HELP = "tool_use template of --style template: model (the GGUF's own, else the official Hermes one) or official";
