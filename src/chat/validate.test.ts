import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { InvalidSchemaError, JsonValidator, UnsupportedPatternError, VALIDATOR_CACHE_SIZE, formatIssues, pointerToParam } from "./validate.js";

describe("JsonValidator", () => {
  const v = new JsonValidator();
  const schema = {
    type: "object",
    properties: { city: { type: "string" }, unit: { enum: ["c", "f"] }, when: { type: "string", format: "date" } },
    required: ["city"],
    additionalProperties: false,
  };

  it("accepts valid values and reports every issue of invalid ones", () => {
    expect(v.validate(schema, { city: "Paris", unit: "c", when: "2024-02-29" })).toEqual({ valid: true });
    const r = v.validate(schema, { unit: "k", when: "2023-02-29", extra: 1 });
    expect(r.valid).toBe(false);
    if (r.valid) return;
    const keywords = r.issues.map((i) => i.keyword).sort();
    expect(keywords).toEqual(["additionalProperties", "enum", "format", "required"]);
    expect(formatIssues(r.issues)).toContain('must NOT have additional properties: "extra"');
    expect(formatIssues(r.issues)).toContain('/unit must be equal to one of the allowed values: "c", "f"');
  });

  it("uses draft 2020-12 by default and draft-07 when the schema says so or needs it", () => {
    expect(v.validate({ type: "array", prefixItems: [{ type: "integer" }], items: false }, [1]).valid).toBe(true);
    expect(v.validate({ type: "array", prefixItems: [{ type: "integer" }], items: false }, [1, 2]).valid).toBe(false);
    const draft7 = { $schema: "http://json-schema.org/draft-07/schema#", type: "array", items: [{ type: "integer" }], additionalItems: false };
    expect(v.validate(draft7, [1]).valid).toBe(true);
    expect(v.validate(draft7, [1, 2]).valid).toBe(false);
  });

  it("throws InvalidSchemaError for a schema ajv cannot compile", () => {
    expect(() => v.compile({ type: "nope" })).toThrow(InvalidSchemaError);
    expect(() => v.compile("x")).toThrow(InvalidSchemaError);
    expect(v.compile(true)(123)).toEqual({ valid: true });
  });

  it("compiles schemas with the same $id twice", () => {
    expect(v.validate({ $id: "urn:x", type: "string" }, "a").valid).toBe(true);
    expect(v.validate({ $id: "urn:x", type: "integer" }, "a").valid).toBe(false);
  });
});

describe("JsonValidator: patterns run in linear time (docs/decisions/0053)", () => {
  const v = new JsonValidator();
  // A backtracking RegExp needs ~10 s for each of these on a 27-character input (doubling with each
  // character), so a regression fails here in bounded time; the linear engine takes well under 1 ms.
  const evil = `${"a".repeat(27)}!`;
  const quick = <T>(run: () => T): T => {
    const start = performance.now();
    const out = run();
    expect(performance.now() - start).toBeLessThan(2_000);
    return out;
  };

  it("checks pattern, patternProperties and propertyNames without backtracking", () => {
    v.compile({ type: "string", pattern: "^(a+)+$" }); // compiling is not what is timed
    expect(quick(() => v.validate({ type: "string", pattern: "^(a+)+$" }, evil)).valid).toBe(false);
    expect(v.validate({ type: "string", pattern: "^(a+)+$" }, "aaa").valid).toBe(true);
    const byKey = { type: "object", patternProperties: { "^(a|a)*$": { type: "integer" } }, additionalProperties: false };
    v.compile(byKey);
    const r = quick(() => v.validate(byKey, { [evil]: 1 }));
    expect(r.valid).toBe(false);
    if (!r.valid) expect(r.issues.map((i) => i.keyword)).toEqual(["additionalProperties"]);
    expect(v.validate(byKey, { aaaa: "x" }).valid).toBe(false); // the key matches, so the value must be an integer
    expect(v.validate(byKey, { aaaa: 1 }).valid).toBe(true);
    const names = { type: "object", propertyNames: { pattern: "^(a|a)*$" } };
    v.compile(names);
    expect(quick(() => v.validate(names, { [evil]: 1 })).valid).toBe(false);
    // and linear in the input: 100,000 characters
    expect(quick(() => v.validate({ type: "string", pattern: "^(a+)+$" }, `${"a".repeat(100_000)}!`)).valid).toBe(false);
  });

  it("keeps ECMAScript meaning: unanchored search, u-mode code points, \\s and . as in JavaScript", () => {
    expect(v.validate({ type: "string", pattern: "b" }, "abc").valid).toBe(true);
    expect(v.validate({ type: "string", pattern: "^.$" }, "😀").valid).toBe(true);
    expect(v.validate({ type: "string", pattern: "^.$" }, "\u2028").valid).toBe(false);
    expect(v.validate({ type: "string", pattern: "^\\s$" }, "\u00a0").valid).toBe(true);
    expect(v.validate({ type: "string", pattern: "^\\p{Lu}+$" }, "ÀB").valid).toBe(true);
  });

  it("refuses a pattern that needs backtracking with UnsupportedPatternError naming it and its JSON path", () => {
    const schema = {
      type: "object",
      properties: {
        default: { type: "string", enum: ["(?=a)"] },
        nested: { type: "array", items: { anyOf: [{ type: "integer" }, { type: "string", pattern: "^(?=a)(a+)+$" }] } },
      },
    };
    let error: unknown;
    try {
      v.compile(schema);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsupportedPatternError);
    expect(error).toBeInstanceOf(InvalidSchemaError); // callers that handle bad schemas handle it too
    const e = error as UnsupportedPatternError;
    expect(e.pattern).toBe("^(?=a)(a+)+$");
    expect(e.schemaPath).toBe("/properties/nested/items/anyOf/1/pattern");
    expect(e.reason).toMatch(/lookahead/);
    expect(e.message).toContain('pattern "^(?=a)(a+)+$" at /properties/nested/items/anyOf/1/pattern');

    const keyed = () => v.compile({ type: "object", patternProperties: { "^x/(?<n>a)\\k<n>$": {} } });
    expect(keyed).toThrow(UnsupportedPatternError);
    expect(keyed).toThrow(/backreference/);
    try {
      keyed();
    } catch (e) {
      expect((e as UnsupportedPatternError).schemaPath).toBe("/patternProperties/^x~1(?<n>a)\\k<n>$");
    }
    // draft-07 (tuple items, retried after 2020-12 rejects it) gets the same treatment
    expect(() => v.compile({ type: "array", items: [{ type: "string", pattern: "(?<=a)b" }] })).toThrow(UnsupportedPatternError);
    // an invalid regex is an invalid schema, as before
    expect(() => v.compile({ type: "string", pattern: "(" })).toThrow(InvalidSchemaError);
    expect(() => v.compile({ type: "string", pattern: "(" })).not.toThrow(UnsupportedPatternError);
  });

  it("pointerToParam writes a schema pointer in OpenAI's dotted param form", () => {
    expect(pointerToParam("tools[0].function.parameters", "/properties/a b/items/anyOf/1/pattern")).toBe(
      'tools[0].function.parameters.properties["a b"].items.anyOf[1].pattern',
    );
    expect(pointerToParam("response_format.json_schema.schema", "/patternProperties/^x~1y~0$")).toBe('response_format.json_schema.schema.patternProperties["^x/y~$"]');
    expect(pointerToParam("x", "")).toBe("x");
  });
});

describe("JsonValidator: bounded memory (docs/decisions/0053)", () => {
  const distinct = (i: number) => ({
    type: "object",
    description: `schema ${i} `.repeat(2000), // ~20 kB: what a retained schema costs shows
    properties: Object.fromEntries(
      Array.from({ length: 12 }, (_, k) => [`field_${i}_${k}`, k < 2 ? { type: "string", pattern: `^[a-z]{1,${(i % 40) + 2}}$` } : { type: "integer", minimum: k }]),
    ),
    required: [`field_${i}_0`],
  });

  it("keeps at most cacheSize compiled validators, least recently used out", () => {
    const v = new JsonValidator({ cacheSize: 3 });
    for (let i = 0; i < 10; i++) v.compile(distinct(i));
    expect(v.cachedCount).toBe(3);
    expect(new JsonValidator().cachedCount).toBe(0);
    expect(VALIDATOR_CACHE_SIZE).toBeGreaterThan(0);
  });

  it("frees what it evicts: heap stays flat over many distinct schemas", () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const v = new JsonValidator({ cacheSize: 8 });
    const heap = (): number => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    for (let i = 0; i < 20; i++) v.validate(distinct(i), {}); // warm up (meta-schemas, code caches)
    const before = heap();
    for (let i = 20; i < 140; i++) v.validate(distinct(i), {});
    const grown = heap() - before;
    // A shared ajv instance keeps every schema it compiled: +~8 MB here (~68 kB each); measured now: ~0.6 MB.
    expect(grown).toBeLessThan(3 * 2 ** 20);
  });
});
