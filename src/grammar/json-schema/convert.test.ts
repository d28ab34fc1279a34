import { describe, expect, test } from "vitest";
import { JsonSchemaGrammarError } from "../errors.js";
import { GbnfRecognizer } from "../gbnf/recognizer.js";
import { seededRandom } from "../gbnf/sample.js";
import { jsonObjectGbnf, jsonSchemaToGbnf, type JsonSchemaToGbnfOptions } from "./convert.js";

function recognizer(schema: unknown, options: JsonSchemaToGbnfOptions = {}): GbnfRecognizer {
  const { gbnf, rootRule } = jsonSchemaToGbnf(schema, options);
  return GbnfRecognizer.fromText(gbnf, { root: rootRule });
}

function accepts(schema: unknown, text: string, options: JsonSchemaToGbnfOptions = {}): boolean {
  return recognizer(schema, options).accepts(text);
}

function errorOf(schema: unknown, options: JsonSchemaToGbnfOptions = {}): JsonSchemaGrammarError {
  try {
    jsonSchemaToGbnf(schema, options);
  } catch (e) {
    if (e instanceof JsonSchemaGrammarError) return e;
    throw e;
  }
  throw new Error("expected a JsonSchemaGrammarError");
}

describe("errors fail closed", () => {
  test("unsupported keyword names the keyword and its path", () => {
    const e = errorOf({ type: "object", properties: { x: { type: "object", patternProperties: { "^a": {} } } } });
    expect(e.message).toBe('unsupported JSON Schema keyword "patternProperties" at #/properties/x');
    expect(e.code).toBe("unsupported-keyword");
    expect(e.keyword).toBe("patternProperties");
    expect(e.path).toBe("#/properties/x");
  });

  test.each([
    [{ type: "array", uniqueItems: true }, "uniqueItems", "#"],
    [{ type: "number", multipleOf: 2 }, "multipleOf", "#"],
    [{ not: { type: "string" } }, "not", "#"],
    [{ if: {}, then: {} }, "if", "#"],
    [{ type: "object", minProperties: 1 }, "minProperties", "#"],
    [{ type: "array", contains: { type: "string" } }, "contains", "#"],
    [{ type: "object", properties: { "a/b": { propertyNames: {} } } }, "propertyNames", "#/properties/a~1b"],
    [{ anyOf: [{ type: "string" }, { typo_keyword: 1 }] }, "typo_keyword", "#/anyOf/1"],
    [{ $defs: { d: { dependentRequired: {} } }, $ref: "#/$defs/d" }, "dependentRequired", "#/$defs/d"],
  ])("%j → %s at %s", (schema, keyword, path) => {
    const e = errorOf(schema);
    expect(e.code).toBe("unsupported-keyword");
    expect(e.keyword).toBe(keyword);
    expect(e.path).toBe(path);
  });

  test("invalid and unsupported $ref", () => {
    const missing = errorOf({ type: "object", properties: { x: { $ref: "#/$defs/missing" } } });
    expect(missing.code).toBe("invalid-ref");
    expect(missing.message).toContain('"#/$defs/missing"');
    expect(missing.path).toBe("#/properties/x");
    expect(errorOf({ $ref: "https://example.com/s.json" }).code).toBe("unsupported-ref");
    expect(errorOf({ $ref: "#anchor" }).code).toBe("unsupported-ref");
    expect(errorOf({ $defs: { a: { $ref: "#/$defs/a" } }, $ref: "#/$defs/a" }).code).toBe("invalid-ref");
  });

  test("unsupported format, pattern, combinations; unsatisfiable schemas", () => {
    expect(errorOf({ type: "string", format: "hostname" }).code).toBe("unsupported-format");
    const p = errorOf({ type: "string", pattern: "^(?=a)b$" });
    expect(p.code).toBe("unsupported-pattern");
    expect(p.keyword).toBe("pattern");
    expect(errorOf({ type: "string", pattern: "(a)\\1" }).code).toBe("unsupported-pattern");
    expect(errorOf({ type: "string", pattern: "a^b" }).code).toBe("unsupported-pattern");
    expect(errorOf({ type: "string", pattern: "(a*)*" }).code).toBe("unsupported-pattern");
    expect(errorOf({ type: "string", pattern: "^a+$", maxLength: 3 }).code).toBe("unsupported-value");
    expect(errorOf({ type: "string", format: "date", minLength: 3 }).code).toBe("unsupported-value");
    expect(errorOf({ enum: ["a"], minLength: 3 }).code).toBe("unsupported-value");
    expect(errorOf(false).code).toBe("unsatisfiable");
    expect(errorOf({ type: "integer", minimum: 5, maximum: 4 }).code).toBe("unsatisfiable");
    expect(errorOf({ type: "string", minLength: 5, maxLength: 4 }).code).toBe("unsatisfiable");
    expect(errorOf({ type: "object", required: ["a"], additionalProperties: false }).code).toBe("unsatisfiable");
    expect(errorOf({ enum: [1, 2], type: "string" }).code).toBe("unsatisfiable");
    expect(errorOf({ type: "strin" }).code).toBe("invalid-schema");
  });

  test("annotations and x- extensions are ignored", () => {
    const schema = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      title: "t",
      description: "d",
      examples: [1],
      default: 1,
      $comment: "c",
      deprecated: false,
      readOnly: true,
      "x-vendor": { anything: true },
      type: "integer",
      uniqueItems: false,
    };
    expect(accepts(schema, "12")).toBe(true);
  });
});

describe("keywords", () => {
  test("type arrays, nullable, const, enum", () => {
    expect(accepts({ type: ["string", "null"] }, "null")).toBe(true);
    expect(accepts({ type: ["string", "null"] }, '"x"')).toBe(true);
    expect(accepts({ type: ["string", "null"] }, "1")).toBe(false);
    expect(accepts({ type: "integer", nullable: true }, "null")).toBe(true);
    expect(accepts({ const: { a: [1, "b"] } }, '{"a": [1, "b"]}')).toBe(true);
    expect(accepts({ const: { a: [1, "b"] } }, '{"a":[1,"c"]}')).toBe(false);
    expect(accepts({ enum: ["x\"y", 2] }, '"x\\"y"')).toBe(true);
  });

  test("required and optional properties in schema order", () => {
    const schema = {
      type: "object",
      properties: { a: { type: "integer" }, b: { type: "integer" }, c: { type: "integer" } },
      required: ["b"],
    };
    const r = recognizer(schema, { whitespace: "compact" });
    expect(r.accepts('{"b":1}')).toBe(true);
    expect(r.accepts('{"a":1,"b":2,"c":3}')).toBe(true);
    expect(r.accepts('{"a":1,"b":2}')).toBe(true);
    expect(r.accepts('{"b":2,"c":3}')).toBe(true);
    expect(r.accepts('{"a":1}')).toBe(false); // b is required
    expect(r.accepts('{"b":2,"a":1}')).toBe(false); // schema order
    expect(r.accepts('{"b":2,"b":2}')).toBe(false);
    const allOptional = recognizer({ type: "object", properties: { a: { type: "integer" }, b: { type: "integer" } } }, { whitespace: "compact" });
    for (const ok of ["{}", '{"a":1}', '{"b":1}', '{"a":1,"b":2}']) expect(allOptional.accepts(ok), ok).toBe(true);
    for (const bad of ["{,}", '{"a":1,}', '{,"b":1}']) expect(allOptional.accepts(bad), bad).toBe(false);
  });

  test("additionalProperties: absent, false, true, schema, strict", () => {
    const props = { type: "object", properties: { id: { type: "string" } }, required: ["id"] };
    expect(accepts(props, '{"id": "a", "x": 1}')).toBe(false); // absent + declared properties: no extras
    expect(accepts({ ...props, additionalProperties: true }, '{"id": "a", "x": 1, "y": [null]}')).toBe(true);
    expect(accepts({ ...props, additionalProperties: true }, '{"id": "a", "id": 1}')).toBe(false); // an extra key may not repeat a declared one
    expect(accepts({ ...props, additionalProperties: true }, '{"id": "a", "i": 1, "idd": 2}')).toBe(true);
    expect(accepts({ ...props, additionalProperties: true }, '{"id": "a", "x": 1}', { strict: true })).toBe(false);
    expect(accepts({ ...props, additionalProperties: { type: "integer" } }, '{"id": "a", "x": 1}')).toBe(true);
    expect(accepts({ ...props, additionalProperties: { type: "integer" } }, '{"id": "a", "x": "1"}')).toBe(false);
    expect(accepts({ type: "object" }, '{"any": {"thing": [1]}}')).toBe(true); // no properties: any object
    expect(accepts({ type: "object" }, '{"any": 1}', { strict: true })).toBe(false);
    expect(accepts({ type: "object" }, "{}", { strict: true })).toBe(true);
  });

  test("$ref with definitions, recursion and $ref siblings", () => {
    const schema = {
      definitions: { list: { type: "array", items: { $ref: "#/definitions/item" } }, item: { anyOf: [{ type: "integer" }, { $ref: "#/definitions/list" }] } },
      $ref: "#/definitions/list",
    };
    expect(accepts(schema, "[1, [2, [3, []]], 4]")).toBe(true);
    expect(accepts(schema, '[1, ["x"]]')).toBe(false);
    const sibling = { $defs: { base: { type: "object", properties: { a: { type: "integer" } } } }, $ref: "#/$defs/base", required: ["a"] };
    expect(accepts(sibling, '{"a": 1}')).toBe(true);
    expect(accepts(sibling, "{}")).toBe(false);
  });

  test("allOf intersects objects; additionalProperties: false of a member removes others' properties", () => {
    const schema = {
      allOf: [
        { type: "object", properties: { a: { type: "integer" } }, additionalProperties: false },
        { properties: { a: { minimum: 5 }, b: { type: "string" } } },
      ],
    };
    expect(accepts(schema, '{"a": 5}')).toBe(true);
    expect(accepts(schema, '{"a": 4}')).toBe(false);
    expect(accepts(schema, '{"a": 5, "b": "x"}')).toBe(false);
  });

  test("arrays: items, prefixItems, minItems, maxItems", () => {
    const r = recognizer({ type: "array", prefixItems: [{ const: "a" }], items: { type: "integer" }, minItems: 2, maxItems: 3 }, { whitespace: "compact" });
    expect(r.accepts('["a",1]')).toBe(true);
    expect(r.accepts('["a",1,2]')).toBe(true);
    expect(r.accepts('["a"]')).toBe(false);
    expect(r.accepts('["a",1,2,3]')).toBe(false);
    expect(r.accepts("[1,2]")).toBe(false);
    expect(accepts({ type: "array", maxItems: 0 }, "[]")).toBe(true);
    expect(accepts({ type: "array", maxItems: 0 }, "[1]")).toBe(false);
  });

  test("string lengths count code points; large bounds are split into blocks", () => {
    const r = recognizer({ type: "string", minLength: 2, maxLength: 3 });
    expect(r.accepts('"😀é"')).toBe(true);
    expect(r.accepts('"\\n\\u00e9"')).toBe(true);
    expect(r.accepts('"😀"')).toBe(false);
    expect(r.accepts('"\\ud83d\\ude00"')).toBe(false); // surrogate escapes are not generated
    const big = jsonSchemaToGbnf({ type: "string", minLength: 1500, maxLength: 4500 });
    // no repetition count llama.cpp would reject (min > 2000) or silently widen (max > 2000)
    for (const m of big.gbnf.matchAll(/\{(\d+)(?:,(\d*))?\}/g)) {
      expect(Number(m[1])).toBeLessThanOrEqual(1000);
      if (m[2]) expect(Number(m[2])).toBeLessThanOrEqual(1000);
    }
    const rb = GbnfRecognizer.fromText(big.gbnf);
    expect(rb.accepts(`"${"a".repeat(1500)}"`)).toBe(true);
    expect(rb.accepts(`"${"a".repeat(4500)}"`)).toBe(true);
    expect(rb.accepts(`"${"a".repeat(1499)}"`)).toBe(false);
    expect(rb.accepts(`"${"a".repeat(4501)}"`)).toBe(false);
  });

  test("integer ranges are exact", () => {
    const random = seededRandom(7);
    const ranges: [number | undefined, number | undefined][] = [[-100, -5], [0, 0], [17, 4321], [-37, 112], [250, undefined], [undefined, -3], [1, 1000000]];
    for (let i = 0; i < 12; i++) {
      const a = Math.floor(random() * 20000) - 10000;
      ranges.push([a, a + Math.floor(random() * 3000)]);
    }
    for (const [lo, hi] of ranges) {
      const schema = { type: "integer", ...(lo === undefined ? {} : { minimum: lo }), ...(hi === undefined ? {} : { maximum: hi }) };
      const r = recognizer(schema);
      const from = (lo ?? (hi as number) - 300) - 40;
      const to = (hi ?? (lo as number) + 300) + 40;
      const stride = Math.max(7, Math.floor((to - from) / 300) | 1);
      for (let n = from; n <= to; n += n > from + 60 && n < to - 60 ? stride : 1) {
        const inRange = (lo === undefined || n >= lo) && (hi === undefined || n <= hi);
        expect(r.accepts(String(n)), `${n} in [${lo}, ${hi}]`).toBe(inRange);
      }
      if (lo !== undefined && lo <= 0 && (hi === undefined || hi >= 0)) expect(r.accepts("-0")).toBe(false);
    }
  });

  test("number bounds are sound", () => {
    const cases = [
      { minimum: 0, maximum: 1 },
      { exclusiveMinimum: 0 },
      { exclusiveMaximum: -2 },
      { minimum: 0.25, exclusiveMaximum: 3.5 },
      { exclusiveMinimum: -1, exclusiveMaximum: 1 },
      { minimum: -90, maximum: 90 },
    ];
    const texts = ["0", "-0.5", "0.5", "1", "1.0", "1.000001", "0.000001", "-1", "-1.5", "-2", "-2.000001", "-3", "0.25", "0.2", "3", "3.4", "3.5", "90", "90.000001", "-90", "-89.999999", "2"];
    for (const bounds of cases) {
      const r = recognizer({ type: "number", ...bounds });
      for (const t of texts) {
        const v = Number(t);
        const ok =
          (bounds.minimum === undefined || v >= bounds.minimum) &&
          (bounds.maximum === undefined || v <= bounds.maximum) &&
          (bounds.exclusiveMinimum === undefined || v > bounds.exclusiveMinimum) &&
          (bounds.exclusiveMaximum === undefined || v < bounds.exclusiveMaximum);
        if (!ok) expect(r.accepts(t), `${t} with ${JSON.stringify(bounds)}`).toBe(false);
      }
    }
    // integers in range and fractions strictly inside are always allowed
    expect(accepts({ type: "number", minimum: 0, maximum: 1 }, "0.5")).toBe(true);
    expect(accepts({ type: "number", minimum: 0, maximum: 1 }, "1")).toBe(true);
    expect(accepts({ type: "number", exclusiveMinimum: 0 }, "0.001")).toBe(true);
    expect(accepts({ type: "number", exclusiveMaximum: -2 }, "-2.5")).toBe(true);
    expect(accepts({ type: "number", exclusiveMaximum: -2 }, "-2.0")).toBe(false);
    expect(accepts({ type: "number", exclusiveMinimum: 0 }, "0.000")).toBe(false);
  });

  test("patterns are translated over JSON string escapes", () => {
    expect(accepts({ type: "string", pattern: '^a"b\\\\c\\n$' }, '"a\\"b\\\\c\\n"')).toBe(true);
    expect(accepts({ type: "string", pattern: "^[^a]$" }, '"\\""')).toBe(true);
    expect(accepts({ type: "string", pattern: "^[^a]$" }, '"a"')).toBe(false);
    expect(accepts({ type: "string", pattern: "^.$" }, '"\\n"')).toBe(false); // . excludes line terminators
    expect(accepts({ type: "string", pattern: "b" }, '"abc"')).toBe(true); // unanchored
    expect(accepts({ type: "string", pattern: "^\\s$" }, '"\u00a0"')).toBe(true);
    expect(accepts({ type: "string", pattern: "^\\S$" }, '"\u00a0"')).toBe(false);
    expect(accepts({ type: "string", pattern: "^(?<y>\\d{4})-\\d{2}?$" }, '"2024-12"')).toBe(true); // lazy {2}: still two digits
    expect(accepts({ type: "string", pattern: "^(?<y>\\d{4})-\\d{2}?$" }, '"2024-1"')).toBe(false);
  });
});

describe("whitespace", () => {
  const schema = { type: "object", properties: { a: { type: "array", items: { type: "integer" } } }, required: ["a"] };
  test("flexible allows one bounded run per position", () => {
    expect(accepts(schema, '{ "a" : [ 1 , 2 ] }')).toBe(true);
    expect(accepts(schema, `{\n${" ".repeat(20)}"a": [1]}`)).toBe(true);
    expect(accepts(schema, `{\n${" ".repeat(21)}"a": [1]}`)).toBe(false);
    expect(accepts(schema, '{  "a": [1]}')).toBe(false);
    expect(accepts(schema, '{"a": [1]} ')).toBe(false); // nothing after the value: generation ends there
    expect(accepts(schema, ' {"a": [1]}')).toBe(false);
  });
  test("compact allows none", () => {
    expect(accepts(schema, '{"a":[1,2]}', { whitespace: "compact" })).toBe(true);
    expect(accepts(schema, '{"a": [1,2]}', { whitespace: "compact" })).toBe(false);
  });
});

describe("API", () => {
  test("rulePrefix and rootName name every rule", () => {
    const { gbnf, rootRule } = jsonSchemaToGbnf({ type: "object", properties: { x: { type: "string", format: "date" } } }, { rulePrefix: "t1-" });
    expect(rootRule).toBe("t1-root");
    for (const line of gbnf.trim().split("\n")) expect(line).toMatch(/^t1-[a-zA-Z0-9-]+ ::= /);
    expect(jsonSchemaToGbnf({ type: "string" }, { rootName: "answer" }).rootRule).toBe("answer");
  });

  test("json_object grammar accepts any object and only objects", () => {
    const r = GbnfRecognizer.fromText(jsonObjectGbnf().gbnf);
    expect(r.accepts('{"a": [1, {"b": null}], "c": "d"}')).toBe(true);
    expect(r.accepts("{}")).toBe(true);
    expect(r.accepts("[]")).toBe(false);
    expect(r.accepts('"x"')).toBe(false);
  });
});
