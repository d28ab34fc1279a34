import { describe, expect, it } from "vitest";
import { InvalidSchemaError, JsonValidator, formatIssues } from "./validate.js";

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
