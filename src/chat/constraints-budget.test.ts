/** The grammar budget through the chat layer (issue 16): a schema over budget is a 400 naming it, `auto` included. */
import { describe, expect, it } from "vitest";
import { HERMES_DIALECT } from "../hermes/dialect.js";
import { createGrammarConstraints, type ConstraintInput } from "./constraints.js";
import { ChatError } from "./errors.js";
import type { ToolDefinition } from "./types.js";

const syntax = HERMES_DIALECT.toolCall;

function wide(n: number): Record<string, unknown> {
  return { type: "object", properties: Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, { type: "string" }])) };
}

function deep(n: number): Record<string, unknown> {
  let s: Record<string, unknown> = { type: "string" };
  for (let i = 0; i < n; i++) s = { type: "object", properties: { a: s } };
  return s;
}

function chatErrorOf(run: () => unknown): ChatError {
  try {
    run();
  } catch (e) {
    if (e instanceof ChatError) return e;
    throw e;
  }
  throw new Error("expected a ChatError");
}

const input = (over: Partial<ConstraintInput>): ConstraintInput => ({ tools: [], toolChoice: { type: "auto" }, responseFormat: { type: "text" }, parallelToolCalls: true, ...over });

describe("grammar budget in createGrammarConstraints", () => {
  it("response_format json_schema over a configured size budget: unsupported, naming the schema, keyword and path", () => {
    const build = createGrammarConstraints(syntax, { budget: { maxGrammarBytes: 5000 } });
    const e = chatErrorOf(() => build(input({ responseFormat: { type: "json_schema", name: "x", schema: wide(200), strict: false } })));
    expect(e.code).toBe("unsupported");
    expect(e.param).toBe("response_format.json_schema.schema");
    expect(e.message).toMatch(/size budget \(5000 bytes\).*\(keyword 'properties' at #\/properties\/p\d+\)/);
    expect(createGrammarConstraints(syntax)(input({ responseFormat: { type: "json_schema", name: "x", schema: wide(200), strict: false } }))).toBeDefined();
  });

  it.each([
    ["too large", wide(100_000), /size budget|time budget/],
    ["too deep", deep(1000), /deeper than 128 levels/],
  ])("a tool schema %s is a 400 under tool_choice auto too (not silently unconstrained)", (_name, parameters, message) => {
    const reasons: string[] = [];
    const build = createGrammarConstraints(syntax, { onUnconstrained: (r) => reasons.push(r) });
    const tools: ToolDefinition[] = [{ name: "ok", parameters: { type: "object" } }, { name: "big", parameters }];
    for (const toolChoice of [{ type: "auto" }, { type: "required" }] as const) {
      const e = chatErrorOf(() => build(input({ tools, toolChoice })));
      expect(e.code).toBe("unsupported");
      expect(e.param).toBe("tools[1].function.parameters");
      expect(e.message).toMatch(message);
    }
    expect(reasons).toEqual([]);
  });

  it("an unsupported keyword under auto still falls back to unconstrained decoding", () => {
    const reasons: string[] = [];
    const build = createGrammarConstraints(syntax, { onUnconstrained: (r) => reasons.push(r) });
    const tools: ToolDefinition[] = [{ name: "t", parameters: { type: "object", properties: { a: { type: "string", not: { const: "x" } } } } }];
    expect(build(input({ tools }))).toBeUndefined();
    expect(reasons).toHaveLength(1);
  });
});
