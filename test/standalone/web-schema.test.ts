/** The web UI's JSON-mode result check (web/src/lib/schema.ts). */
import { describe, expect, it } from "vitest";
import { checkJson } from "../../web/src/lib/schema.js";

const schema = {
  type: "object",
  properties: { name: { type: "string" }, age: { type: "integer", minimum: 0 } },
  required: ["name", "age"],
  additionalProperties: false,
};

describe("checkJson", () => {
  it("accepts JSON matching the schema, and any JSON without one", () => {
    expect(checkJson('{"name": "Ada", "age": 36}', schema)).toEqual({ kind: "json-valid", schemaChecked: true });
    expect(checkJson("[1, 2]", null)).toEqual({ kind: "json-valid", schemaChecked: false });
  });

  it("rejects text that is not JSON", () => {
    const result = checkJson('{"name": "Ada",', schema);
    expect(result.kind).toBe("json-invalid");
    expect(result.kind === "json-invalid" ? result.errors[0] : "").toMatch(/^Not valid JSON/);
  });

  it("names the failing locations of schema violations", () => {
    const result = checkJson('{"name": 3, "age": -1, "extra": true}', schema);
    expect(result.kind).toBe("json-invalid");
    const errors = result.kind === "json-invalid" ? result.errors.join("\n") : "";
    expect(errors).toContain("#/name");
    expect(errors).toContain("#/age");
    const missing = checkJson('{"name": "Ada"}', schema);
    expect(missing.kind === "json-invalid" ? missing.errors.join("\n") : "").toContain("age");
  });
});
