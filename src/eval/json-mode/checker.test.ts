import { describe, expect, it } from "vitest";
import { SchemaValidator } from "../schema-validator.js";
import { parseJsonModeCases, type JsonModeCase } from "./cases.js";
import { checkJsonMode, extractJson } from "./checker.js";

const validator = new SchemaValidator();
const c: JsonModeCase = {
  id: "person",
  schema: {
    type: "object",
    properties: { name: { type: "string" }, age: { type: "integer", minimum: 0 }, address: { type: "object", properties: { city: { type: "string" } } } },
    required: ["name", "age"],
    additionalProperties: false,
  },
  messages: [{ role: "user", content: "Ada Lovelace, 36, London" }],
  expected: { name: "Ada Lovelace", age: 36, address: { city: "London" } },
};

describe("JSON-mode checker", () => {
  it("passes a valid matching answer, also inside a ```json fence", () => {
    const out = checkJsonMode(c, ' {"name": "ada lovelace", "age": 36, "address": {"city": "London"}}\n', validator);
    expect(out).toMatchObject({ parsed: true, source: "json", schemaValid: true, fieldsMatched: 3, fieldsTotal: 3, pass: true });
    const fenced = checkJsonMode(c, 'Here:\n```json\n{"name": "Ada Lovelace", "age": 36, "address": {"city": "London"}}\n```', validator);
    expect(fenced).toMatchObject({ source: "fenced", pass: true });
  });

  it("separates parse failures, schema violations and wrong values", () => {
    expect(checkJsonMode(c, "Ada is 36", validator)).toMatchObject({ parsed: false, pass: false, fieldsMatched: 0 });
    const invalid = checkJsonMode(c, '{"name": "Ada Lovelace", "age": "36", "address": {"city": "London"}}', validator);
    expect(invalid.schemaValid).toBe(false);
    expect(invalid.schemaIssues.map((i) => i.keyword)).toEqual(["type"]);
    expect(invalid.pass).toBe(false);
    const wrong = checkJsonMode(c, '{"name": "Ada", "age": 36, "address": {"city": "Paris"}}', validator);
    expect(wrong).toMatchObject({ schemaValid: true, fieldsMatched: 1, mismatched: ["/name", "/address/city"], pass: false });
    const extra = checkJsonMode(c, '{"name": "Ada Lovelace", "age": 36, "address": {"city": "London"}, "x": 1}', validator);
    expect(extra.schemaIssues.map((i) => i.keyword)).toEqual(["additionalProperties"]);
  });

  it("extractJson returns undefined for non-JSON", () => {
    expect(extractJson("```json\nnot json\n```")).toBeUndefined();
    expect(extractJson("[1, 2]")).toEqual({ value: [1, 2], source: "json" });
  });

  it("validates case files", () => {
    expect(parseJsonModeCases(JSON.stringify(c))).toHaveLength(1);
    expect(() => parseJsonModeCases('{"id": "x"}')).toThrow(/schema/);
  });
});
