/**
 * The JSON-mode case format (JSON Lines; docs/eval.md). One case per line:
 *
 * ```json
 * {"id": "person-001",
 *  "schema": {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name", "age"]},
 *  "messages": [{"role": "user", "content": "Extract: Ada Lovelace, 36."}],
 *  "expected": {"name": "Ada Lovelace", "age": 36}}
 * ```
 *
 * The model sees the Hermes JSON-mode system prompt with `schema`; its answer must parse as JSON,
 * validate against `schema` (ajv), and match every leaf of `expected`. Pure (zod validation).
 */
import { z } from "zod";
import { parseJsonlCases } from "../function-calling/cases.js";

export const jsonModeCaseSchema = z.object({
  id: z.string().min(1),
  schema: z.record(z.string(), z.unknown()),
  messages: z
    .array(z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() }))
    .min(1),
  expected: z.record(z.string(), z.unknown()),
});

export type JsonModeCase = z.infer<typeof jsonModeCaseSchema>;

export function parseJsonModeCases(text: string, file = "cases.jsonl"): JsonModeCase[] {
  return parseJsonlCases(text, jsonModeCaseSchema, file);
}
