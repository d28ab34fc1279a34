import { describe, expect, it } from "vitest";
import { SchemaValidator } from "../schema-validator.js";
import { parseFunctionCallingCases, type FunctionCallingCase } from "./cases.js";
import { checkFunctionCalls, standardizeString, valuesMatch } from "./checker.js";

const validator = new SchemaValidator();

const weather = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Current weather",
    parameters: {
      type: "object",
      properties: { city: { type: "string" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] }, days: { type: "integer" } },
      required: ["city"],
    },
  },
};
const time = { type: "function" as const, function: { name: "get_time", parameters: { type: "object", properties: { tz: { type: "string" } }, required: ["tz"] } } };

const simple: FunctionCallingCase = {
  id: "s",
  category: "simple",
  tools: [weather],
  messages: [{ role: "user", content: "Weather in Paris in celsius?" }],
  expected: [{ name: "get_weather", arguments: { city: ["Paris", "Paris, France"], unit: ["celsius"] }, optional: ["unit"] }],
};

const kinds = (c: FunctionCallingCase, calls: Array<{ name: string; arguments: unknown }>, parseErrors = 0): string[] =>
  checkFunctionCalls(c, calls, validator, parseErrors).errors.map((e) => e.kind);

describe("function-calling checker", () => {
  it("accepts a correct call, normalising strings and allowing optional arguments to be omitted", () => {
    expect(kinds(simple, [{ name: "get_weather", arguments: { city: "paris, france", unit: "celsius" } }])).toEqual([]);
    expect(kinds(simple, [{ name: "get_weather", arguments: { city: "Paris" } }])).toEqual([]);
  });

  it("reports wrong names, missing required, types, enums, unknown and unexpected arguments, values", () => {
    expect(kinds(simple, [{ name: "get_time", arguments: { tz: "UTC" } }])).toEqual(["wrong-function"]);
    expect(kinds(simple, [{ name: "get_weather", arguments: {} }])).toEqual(["missing-required", "missing-argument"]);
    expect(kinds(simple, [{ name: "get_weather", arguments: { city: 7 } }])).toEqual(["type-mismatch", "value-mismatch"]);
    expect(kinds(simple, [{ name: "get_weather", arguments: { city: "Paris", unit: "kelvin" } }])).toEqual(["enum-violation", "value-mismatch"]);
    expect(kinds(simple, [{ name: "get_weather", arguments: { city: "Paris", country: "FR" } }])).toEqual(["unknown-argument"]);
    expect(kinds(simple, [{ name: "get_weather", arguments: { city: "Paris", days: 3 } }])).toEqual(["unexpected-argument"]);
    expect(kinds(simple, [{ name: "get_weather", arguments: { city: "Lyon" } }])).toEqual(["value-mismatch"]);
    expect(kinds(simple, [{ name: "get_weather", arguments: "city=Paris" }])).toEqual(["arguments-not-object"]);
  });

  it("integers match equal floats; the schema still rejects a float for an integer parameter", () => {
    expect(valuesMatch(3, 3.0)).toBe(true);
    const c: FunctionCallingCase = { ...simple, expected: [{ name: "get_weather", arguments: { city: ["Paris"], days: [3] } }] };
    expect(kinds(c, [{ name: "get_weather", arguments: { city: "Paris", days: 3 } }])).toEqual([]);
    expect(kinds(c, [{ name: "get_weather", arguments: { city: "Paris", days: 3.5 } }])).toEqual(["type-mismatch", "value-mismatch"]);
    expect(standardizeString("New-York City")).toBe("newyorkcity");
  });

  it("matches parallel calls in any order and requires the right count", () => {
    const c: FunctionCallingCase = {
      id: "p",
      category: "parallel-multiple",
      tools: [weather, time],
      messages: [{ role: "user", content: "…" }],
      expected: [
        { name: "get_weather", arguments: { city: ["Paris"] } },
        { name: "get_weather", arguments: { city: ["Rome"] } },
        { name: "get_time", arguments: { tz: ["Europe/Rome"] } },
      ],
    };
    const calls = [
      { name: "get_time", arguments: { tz: "Europe/Rome" } },
      { name: "get_weather", arguments: { city: "Rome" } },
      { name: "get_weather", arguments: { city: "Paris" } },
    ];
    expect(kinds(c, calls)).toEqual([]);
    expect(kinds(c, calls.slice(0, 2))).toContain("wrong-call-count");
    expect(kinds(c, [calls[0], calls[1], calls[1]] as typeof calls)).toEqual(["value-mismatch"]);
  });

  it("irrelevance passes only without calls; parse errors fail", () => {
    const c: FunctionCallingCase = { ...simple, id: "i", category: "irrelevance", expected: [] };
    expect(kinds(c, [])).toEqual([]);
    expect(kinds(c, [{ name: "get_weather", arguments: { city: "Paris" } }])).toEqual(["unexpected-call"]);
    expect(kinds(c, [], 1)).toEqual(["parse-error"]);
    expect(kinds(simple, [{ name: "get_weather", arguments: { city: "Paris" } }], 1)).toEqual(["parse-error"]);
  });

  it("validates case files", () => {
    const good = JSON.stringify(simple);
    expect(parseFunctionCallingCases(`${good}\n\n`)).toHaveLength(1);
    expect(() => parseFunctionCallingCases(`${good}\n${good}`)).toThrow(/duplicate id/);
    expect(() => parseFunctionCallingCases(JSON.stringify({ ...simple, expected: [] }))).toThrow(/category simple/);
    expect(() => parseFunctionCallingCases(JSON.stringify({ ...simple, expected: [{ name: "nope", arguments: {} }] }))).toThrow(/no tool named/);
  });
});
