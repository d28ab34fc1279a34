/**
 * Conversion limits (issue 16): linear conversion of wide schemas, the grammar budget (size, work,
 * time, depth) answered with a JsonSchemaGrammarError naming the keyword and JSON pointer, large
 * length bounds without expansion, and recursive `$defs`.
 */
import { describe, expect, test } from "vitest";
import { HERMES_DIALECT } from "../../hermes/dialect.js";
import { JsonSchemaGrammarError } from "../errors.js";
import { GbnfBuilder } from "../gbnf/builder.js";
import { GbnfRecognizer } from "../gbnf/recognizer.js";
import { toolCallsConstraint } from "../tool-calls.js";
import { addJsonSchemaRules, DEFAULT_GRAMMAR_BUDGET, jsonSchemaToGbnf, type JsonSchemaToGbnfOptions } from "./convert.js";

function errorOf(schema: unknown, options: JsonSchemaToGbnfOptions = {}): JsonSchemaGrammarError {
  try {
    jsonSchemaToGbnf(schema, options);
  } catch (e) {
    if (e instanceof JsonSchemaGrammarError) return e;
    throw e;
  }
  throw new Error("expected a JsonSchemaGrammarError");
}

function optionalStrings(n: number): { type: "object"; properties: Record<string, unknown> } {
  const properties: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) properties[`p${i}`] = { type: "string" };
  return { type: "object", properties };
}

function nest(depth: number, wrap: (inner: unknown) => unknown, leaf: unknown = { type: "string" }): unknown {
  let s = leaf;
  for (let i = 0; i < depth; i++) s = wrap(s);
  return s;
}

describe("wide schemas convert in linear time", () => {
  test(
    "8,000 optional string properties, as a response schema and as tool parameters (quadratic before)",
    () => {
      const schema = optionalStrings(8000);
      const budget = { maxGrammarBytes: 4 * 1024 * 1024, maxConvertMs: Infinity };
      const start = performance.now();
      const { gbnf } = jsonSchemaToGbnf(schema, { budget });
      const tool = toolCallsConstraint(HERMES_DIALECT.toolCall, [{ name: "f", parameters: schema }], { lazy: true, budget });
      const elapsed = performance.now() - start;
      // measured 1-2 s for both on a loaded 2-core machine (about 50 s before); 30 s is generous
      expect(elapsed).toBeLessThan(30_000);
      // linear output: a bounded number of bytes per property
      expect(gbnf.length).toBeLessThan(200 * 8000);
      expect(tool.gbnf.length).toBeLessThan(200 * 8000 + 4000);
      const r = GbnfRecognizer.fromText(gbnf);
      expect(r.accepts("{}")).toBe(true);
      expect(r.accepts('{"p0": "a", "p4000": "b", "p7999": "c"}')).toBe(true);
      expect(r.accepts('{"p4000": "b", "p0": "a"}')).toBe(false); // schema order
      expect(r.accepts('{"p8000": "a"}')).toBe(false);
    },
    120_000,
  );

  test("the kv rules are shared helpers, not re-printed per property: each string property costs one kv rule", () => {
    const { gbnf } = jsonSchemaToGbnf(optionalStrings(50));
    expect(gbnf.match(/^chars ::= /gm)).toHaveLength(1);
    expect(gbnf.match(/^escape ::= /gm)).toHaveLength(1);
    expect(gbnf.match(/^string ::= /gm)).toHaveLength(1);
    expect(gbnf.match(/-kv ::= /g)).toHaveLength(50);
  });
});

describe("budget", () => {
  test("defaults are documented values", () => {
    expect(DEFAULT_GRAMMAR_BUDGET).toEqual({ maxGrammarBytes: 512 * 1024, maxDepth: 128, maxWork: 200_000, maxConvertMs: 2000 });
  });

  test("100,000 properties (2.7 MB) stop at the size budget, naming the property where it ran out", () => {
    const e = errorOf(optionalStrings(100_000));
    expect(e.code).toBe("too-large");
    expect(e.keyword).toBe("properties");
    expect(e.path).toMatch(/^#\/properties\/p\d+$/);
    expect(Number(e.path.slice("#/properties/p".length))).toBeLessThan(100_000);
    // the size budget, or on a very loaded machine the deadline, whichever comes first
    expect(e.message).toMatch(/size budget \(524288 bytes\)|time budget \(2000 ms\)/);
    expect(e.message).toContain(e.path);
  });

  test("the size budget is configurable and also bounds one large enum", () => {
    expect(jsonSchemaToGbnf(optionalStrings(100)).gbnf.length).toBeGreaterThan(2000);
    expect(errorOf(optionalStrings(100), { budget: { maxGrammarBytes: 2000, maxConvertMs: Infinity } }).message).toContain("size budget (2000 bytes)");
    const e = errorOf({ type: "object", properties: { color: { enum: Array.from({ length: 5000 }, (_, i) => `c${i}`) } } }, { budget: { maxGrammarBytes: 10_000 } });
    expect(e.code).toBe("too-large");
    expect(e.keyword).toBe("enum");
    expect(e.path).toBe("#/properties/color");
  });

  test("an allOf of anyOfs that multiplies into 3^12 branches stops at the work budget", () => {
    const member = { anyOf: [{ type: "object", properties: { a: { type: "string" } } }, { type: "object", properties: { b: { type: "string" } } }, { type: "object" }] };
    const schema = { allOf: Array.from({ length: 12 }, () => member) };
    expect(errorOf(schema).code).toBe("too-large"); // whichever of work and time runs out first
    const e = errorOf(schema, { budget: { maxConvertMs: Infinity } });
    expect(e.code).toBe("too-large");
    expect(e.message).toContain("work budget (200000 units)");
    const small = errorOf(optionalStrings(100), { budget: { maxWork: 50, maxConvertMs: Infinity } });
    expect(small.code).toBe("too-large");
    expect(small.path).toMatch(/^#\/properties\/p\d+$/);
  });

  test("the time budget is a deadline checked as work is counted", () => {
    const e = errorOf(optionalStrings(3000), { budget: { maxConvertMs: 0 } });
    expect(e.code).toBe("too-large");
    expect(e.message).toContain("time budget (0 ms)");
  });

  test("schemas added to one builder share the budget (tool calls: all tools together)", () => {
    const b = new GbnfBuilder();
    const budget = { maxGrammarBytes: 150_000 };
    addJsonSchemaRules(b, optionalStrings(500), { budget, ruleHint: "a" });
    expect(b.bytes).toBeGreaterThan(75_000);
    const other = { type: "object", properties: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`q${i}`, { type: "string" }])) };
    expect(() => addJsonSchemaRules(b, other, { budget, ruleHint: "b" })).toThrow(JsonSchemaGrammarError);
    const tools = [optionalStrings(500), other].map((parameters, i) => ({ name: `t${i}`, parameters }));
    expect(() => toolCallsConstraint(HERMES_DIALECT.toolCall, tools.slice(0, 1), { budget })).not.toThrow();
    expect(() => toolCallsConstraint(HERMES_DIALECT.toolCall, tools, { budget })).toThrow(/tool "t1": the grammar would exceed the size budget/);
  });

  test("an invalid budget is a RangeError", () => {
    expect(() => jsonSchemaToGbnf({ type: "string" }, { budget: { maxDepth: -1 } })).toThrow(RangeError);
  });
});

describe("depth", () => {
  test.each([
    ["objects", (s: unknown) => ({ type: "object", properties: { a: s } }), "properties", /^#(\/properties\/a)+$/],
    ["arrays", (s: unknown) => ({ type: "array", items: s }), "items", /^#(\/items)+$/],
    ["anyOf", (s: unknown) => ({ anyOf: [s, { type: "null" }] }), "anyOf", /^#(\/anyOf\/0)+$/],
  ] as const)("%s nested 1,000 deep (a stack overflow before) are too-deep at the level that passes the limit", (_name, wrap, keyword, pattern) => {
    const e = errorOf(nest(1000, wrap));
    expect(e.code).toBe("too-deep");
    expect(e.keyword).toBe(keyword);
    expect(e.path).toMatch(pattern);
    expect(e.message).toContain("deeper than 128 levels");
  });

  test("the depth limit is configurable; nesting within it converts", () => {
    const schema = nest(10, (s) => ({ type: "object", properties: { a: s }, required: ["a"] }));
    const r = GbnfRecognizer.fromText(jsonSchemaToGbnf(schema, { whitespace: "compact" }).gbnf);
    expect(r.accepts(`${'{"a":'.repeat(10)}"x"${"}".repeat(10)}`)).toBe(true);
    expect(errorOf(schema, { budget: { maxDepth: 5 } }).code).toBe("too-deep");
  });

  test("a const value nested 5,000 deep is too-deep at its keyword", () => {
    const e = errorOf({ const: nest(5000, (v) => [v], 1) });
    expect(e.code).toBe("too-deep");
    expect(e.keyword).toBe("const");
    expect(e.path).toBe("#/const");
  });

  test("a chain of $defs counts one level per schema on the way", () => {
    const defs: Record<string, unknown> = { d300: { type: "string" } };
    for (let i = 0; i < 300; i++) defs[`d${i}`] = { type: "object", properties: { n: { $ref: `#/$defs/d${i + 1}` } } };
    const e = errorOf({ $ref: "#/$defs/d0", $defs: defs });
    expect(e.code).toBe("too-deep");
    expect(e.path).toMatch(/^#\/\$defs\/d\d+(\/properties\/n)?$/);
  });

  test("a pattern with groups nested 5,000 deep is an unsupported pattern", () => {
    const e = errorOf({ type: "string", pattern: `${"(".repeat(5000)}a${")".repeat(5000)}` });
    expect(e.code).toBe("unsupported-pattern");
    expect(e.keyword).toBe("pattern");
  });

  test("a 30,000-quantifier pattern converts in linear time (about 37 s before)", () => {
    const start = performance.now();
    const { gbnf } = jsonSchemaToGbnf({ type: "string", pattern: `^${"a{1}".repeat(30_000)}$` }, { budget: { maxConvertMs: Infinity } });
    // measured 0.3-1 s on a loaded 2-core machine; 15 s is generous
    expect(performance.now() - start).toBeLessThan(15_000);
    const r = GbnfRecognizer.fromText(gbnf);
    expect(r.accepts(`"${"a".repeat(30_000)}"`)).toBe(true);
    expect(r.accepts(`"${"a".repeat(29_999)}"`)).toBe(false);
  });

  test("a 5,000-character property name next to additionalProperties converts to a bounded grammar", () => {
    const key = "k".repeat(5000);
    const { gbnf } = jsonSchemaToGbnf({ type: "object", properties: { [key]: { type: "integer" } }, additionalProperties: { type: "string" } }, { whitespace: "compact" });
    expect(gbnf.length).toBeLessThan(60 * 5000);
    const r = GbnfRecognizer.fromText(gbnf);
    expect(r.accepts(`{"${key}":1}`)).toBe(true);
    expect(r.accepts(`{"${key}":1,"${key}":"x"}`)).toBe(false); // an extra key may not repeat the declared one
    expect(r.accepts(`{"${key}":1,"${key.slice(1)}":"x"}`)).toBe(true);
    expect(r.accepts(`{"${key}":1,"${key}k":"x"}`)).toBe(true);
  });
});

describe("large length bounds", () => {
  test.each([
    [{ type: "string", maxLength: 1e9 }, '"abc"', `"${"a".repeat(5000)}"`],
    [{ type: "string", minLength: 2, maxLength: 123_456_789 }, '"ab"', `"${"b".repeat(3001)}"`],
    [{ type: "array", maxItems: 1e9 }, "[1, 2]", `[${Array.from({ length: 3000 }, () => "0").join(",")}]`],
    [{ type: "array", items: { type: "integer" }, minItems: 1, maxItems: 1e9 }, "[1]", `[${Array.from({ length: 3000 }, () => "0").join(",")}]`],
  ])("%j converts to a small grammar (a stack overflow before)", (schema, short, long) => {
    const { gbnf } = jsonSchemaToGbnf(schema);
    expect(gbnf.length).toBeLessThan(3000);
    const r = GbnfRecognizer.fromText(gbnf);
    expect(r.accepts(short)).toBe(true);
    expect(r.accepts(long)).toBe(true);
  });

  test("bounds beyond 2^53 - 1 are refused, naming the keyword", () => {
    const e = errorOf({ type: "object", properties: { s: { type: "string", maxLength: 1e300 } } });
    expect(e.code).toBe("unsupported-value");
    expect(e.keyword).toBe("maxLength");
    expect(e.path).toBe("#/properties/s");
  });
});

describe("recursive $defs", () => {
  const ab = {
    $defs: {
      a: { type: "object", properties: { b: { $ref: "#/$defs/b" } }, additionalProperties: false },
      b: { type: "object", properties: { a: { $ref: "#/$defs/a" } }, additionalProperties: false },
    },
    $ref: "#/$defs/a",
  };

  test("a → b → a through object properties: one rule per definition, referring to each other", () => {
    const { gbnf } = jsonSchemaToGbnf(ab, { whitespace: "compact" });
    expect(gbnf).toMatch(/^a ::= /m);
    expect(gbnf).toMatch(/^b ::= /m);
    const r = GbnfRecognizer.fromText(gbnf);
    expect(r.accepts('{"b":{"a":{"b":{"a":{}}}}}')).toBe(true);
    expect(r.accepts("{}")).toBe(true);
    expect(r.accepts('{"b":{"b":{}}}')).toBe(false); // b has no property b
    expect(r.accepts('{"a":{}}')).toBe(false);
  });

  test.each([
    ["$ref with a sibling keyword", (target: string) => ({ $ref: target, nullable: true })],
    ["allOf with a description (pydantic v1)", (target: string) => ({ allOf: [{ $ref: target }], description: "x" })],
  ])("a → b → a through %s (endless expansion, a stack overflow before)", (_name, refTo) => {
    const schema = {
      $defs: {
        a: { type: "object", properties: { b: refTo("#/$defs/b") }, additionalProperties: false },
        b: { type: "object", properties: { a: refTo("#/$defs/a") }, additionalProperties: false },
      },
      $ref: "#/$defs/a",
    };
    const r = GbnfRecognizer.fromText(jsonSchemaToGbnf(schema, { whitespace: "compact" }).gbnf);
    expect(r.accepts('{"b":{"a":{"b":{}}}}')).toBe(true);
    expect(r.accepts('{"b":{"b":{}}}')).toBe(false);
  });

  test.each([
    ["a pure $ref cycle", { $defs: { a: { $ref: "#/$defs/b" }, b: { $ref: "#/$defs/a" } }, $ref: "#/$defs/a" }],
    ["a cycle through anyOf", { $defs: { a: { anyOf: [{ $ref: "#/$defs/b" }, { type: "null" }] }, b: { anyOf: [{ $ref: "#/$defs/a" }, { type: "string" }] } }, $ref: "#/$defs/a" }],
    [
      "a cycle below a property",
      { type: "object", properties: { x: { $ref: "#/$defs/a" } }, $defs: { a: { $ref: "#/$defs/b" }, b: { anyOf: [{ type: "integer" }, { $ref: "#/$defs/a" }] } } },
    ],
  ])("%s (left recursion: llama.cpp 'Failed to parse grammar' before) names $ref and the path", (_name, schema) => {
    const e = errorOf(schema);
    expect(e.code).toBe("invalid-ref");
    expect(e.keyword).toBe("$ref");
    expect(e.path).toBe("#/$defs/b");
    expect(e.message).toContain("#/$defs/a → #/$defs/b → #/$defs/a");
  });

  test("a cycle through the root", () => {
    const e = errorOf({ anyOf: [{ type: "string" }, { $ref: "#" }] });
    expect(e.code).toBe("invalid-ref");
    expect(e.keyword).toBe("$ref");
    expect(e.path).toBe("#");
  });
});
