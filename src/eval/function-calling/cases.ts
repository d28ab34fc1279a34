/**
 * The function-calling case format (JSON Lines; docs/eval.md). One case per line:
 *
 * ```json
 * {"id": "weather-001", "category": "simple",
 *  "tools": [{"type": "function", "function": {"name": "get_weather", "description": "…",
 *             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
 *  "messages": [{"role": "user", "content": "What's the weather in Paris?"}],
 *  "expected": [{"name": "get_weather", "arguments": {"city": ["Paris", "Paris, France"]}}]}
 * ```
 *
 * `expected` lists the gold calls (any order); each argument maps to the list of acceptable values,
 * and the names in `optional` may be left out. `expected: []` means no call must be made
 * (irrelevance). Pure (zod validation).
 */
import { z } from "zod";

export const FUNCTION_CALLING_CATEGORIES = ["simple", "multiple", "parallel", "parallel-multiple", "irrelevance"] as const;
export type FunctionCallingCategory = (typeof FUNCTION_CALLING_CATEGORIES)[number];

const jsonObject = z.record(z.string(), z.unknown());

const toolSchema = z.object({
  type: z.literal("function"),
  function: z.object({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: jsonObject,
  }),
});

const messageSchema = z.object({
  role: z.enum(["system", "user", "assistant", "tool"]),
  content: z.string(),
});

const expectedCallSchema = z.object({
  name: z.string().min(1),
  /** Argument name → acceptable values (deep equality after normalisation, see the checker). */
  arguments: z.record(z.string(), z.array(z.unknown()).min(1)),
  /** Arguments that may be omitted. */
  optional: z.array(z.string()).optional(),
});

export const functionCallingCaseSchema = z
  .object({
    id: z.string().min(1),
    category: z.enum(FUNCTION_CALLING_CATEGORIES),
    tools: z.array(toolSchema).min(1),
    messages: z.array(messageSchema).min(1),
    expected: z.array(expectedCallSchema),
  })
  .superRefine((c, ctx) => {
    const names = new Set(c.tools.map((t) => t.function.name));
    c.expected.forEach((call, i) => {
      if (!names.has(call.name)) ctx.addIssue({ code: "custom", path: ["expected", i, "name"], message: `no tool named ${call.name}` });
      for (const opt of call.optional ?? []) {
        if (!(opt in call.arguments)) ctx.addIssue({ code: "custom", path: ["expected", i, "optional"], message: `optional ${opt} is not in arguments` });
      }
    });
    const n = c.expected.length;
    const ok =
      c.category === "irrelevance" ? n === 0 : c.category === "simple" || c.category === "multiple" ? n === 1 : n >= 2;
    if (!ok) ctx.addIssue({ code: "custom", path: ["expected"], message: `category ${c.category} does not fit ${n} expected call(s)` });
    if ((c.category === "simple" || c.category === "parallel") && c.tools.length !== 1) {
      ctx.addIssue({ code: "custom", path: ["tools"], message: `category ${c.category} offers exactly one tool` });
    }
    if ((c.category === "multiple" || c.category === "parallel-multiple") && c.tools.length < 2) {
      ctx.addIssue({ code: "custom", path: ["tools"], message: `category ${c.category} offers several tools` });
    }
  });

export type FunctionCallingCase = z.infer<typeof functionCallingCaseSchema>;
export type ExpectedCall = FunctionCallingCase["expected"][number];
export type CaseTool = FunctionCallingCase["tools"][number];

export class CaseFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CaseFileError";
  }
}

/** Parses and validates JSON Lines of cases; ids must be unique. */
export function parseJsonlCases<T extends { id: string }>(text: string, schema: z.ZodType<T>, file: string): T[] {
  const out: T[] = [];
  const ids = new Set<string>();
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (error) {
      throw new CaseFileError(`${file}:${i + 1}: invalid JSON (${(error as Error).message})`);
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CaseFileError(`${file}:${i + 1}: ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid case"}`);
    }
    if (ids.has(parsed.data.id)) throw new CaseFileError(`${file}:${i + 1}: duplicate id ${parsed.data.id}`);
    ids.add(parsed.data.id);
    out.push(parsed.data);
  });
  return out;
}

export function parseFunctionCallingCases(text: string, file = "cases.jsonl"): FunctionCallingCase[] {
  return parseJsonlCases(text, functionCallingCaseSchema, file);
}
