/**
 * JSON Schemas and tool lists for constrained decoding: ordinary ones (the corpus) and adversarial ones
 * (deep nesting, huge enums, big length bounds, recursive `$defs`, bad types, unsatisfiable schemas,
 * bad regexes, external `$ref`s). The server must answer each with a 2xx or a clean 4xx, promptly.
 */
import type { Rng } from "./rng.js";
import { randomName } from "./text.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Ordinary schemas a client might send. */
export function ordinarySchema(rng: Rng): JsonObject {
  return rng.pick<() => JsonObject>([
    () => ({ type: "object", properties: { answer: { type: "string" } }, required: ["answer"], additionalProperties: false }),
    () => ({
      type: "object",
      properties: { name: { type: "string", maxLength: 20 }, age: { type: "integer", minimum: 0, maximum: 150 }, tags: { type: "array", items: { type: "string" }, maxItems: 3 } },
      required: ["name", "age"],
    }),
    () => ({ type: "object", properties: { color: { enum: ["red", "green", "blue"] }, ok: { type: "boolean" } }, required: ["color"] }),
    () => ({ type: "array", items: { type: "number" }, minItems: 1, maxItems: 4 }),
    () => ({ type: "object", properties: { when: { type: "string", format: "date" }, id: { type: "string", pattern: "^[a-z]{3}$" } } }),
    () => ({ anyOf: [{ type: "object", properties: { a: { type: "integer" } }, required: ["a"] }, { type: "object", properties: { b: { type: "string" } }, required: ["b"] }] }),
  ])();
}

function nestedObject(depth: number): JsonObject {
  let schema: JsonObject = { type: "string" };
  for (let i = 0; i < depth; i++) schema = { type: "object", properties: { a: schema }, required: ["a"] };
  return schema;
}

function nestedArray(depth: number): JsonObject {
  let schema: JsonObject = { type: "integer" };
  for (let i = 0; i < depth; i++) schema = { type: "array", items: schema, minItems: 1 };
  return schema;
}

function nestedAnyOf(depth: number): JsonObject {
  let schema: JsonObject = { type: "null" };
  for (let i = 0; i < depth; i++) schema = { anyOf: [schema, { type: "object", properties: { x: schema } }] };
  return schema;
}

/** Adversarial schemas; `label` says which. */
export function adversarialSchema(rng: Rng): { readonly label: string; readonly schema: Json } {
  const kind = rng.int(0, 33);
  switch (kind) {
    case 0: {
      const d = rng.pick([16, 64, 200, 1000]);
      return { label: `nested objects depth ${d}`, schema: nestedObject(d) };
    }
    case 1: {
      const d = rng.pick([16, 64, 200, 1000]);
      return { label: `nested arrays depth ${d}`, schema: nestedArray(d) };
    }
    case 2: {
      const d = rng.pick([4, 8, 12]);
      return { label: `nested anyOf depth ${d} (shared subschemas)`, schema: nestedAnyOf(d) };
    }
    case 3: {
      const n = rng.pick([1000, 5000, 20000]);
      return { label: `enum of ${n} strings`, schema: { type: "object", properties: { v: { enum: Array.from({ length: n }, (_, i) => `value_${i}_${randomName(rng, 4)}`) } }, required: ["v"] } };
    }
    case 4: {
      const n = rng.pick([1000, 10000]);
      return { label: `enum of ${n} mixed values`, schema: { enum: Array.from({ length: n }, (_, i) => (i % 4 === 0 ? i : i % 4 === 1 ? `s${i}` : i % 4 === 2 ? { k: i } : [i])) } };
    }
    case 5: {
      const n = rng.pick([1000, 100000, 1e9]);
      return { label: `string minLength/maxLength ${n}`, schema: { type: "object", properties: { s: { type: "string", minLength: Math.min(n, 1000), maxLength: n } }, required: ["s"] } };
    }
    case 6: {
      const n = rng.pick([1000, 100000, 1e9]);
      return { label: `array minItems/maxItems ${n}`, schema: { type: "array", items: { type: "integer" }, minItems: Math.min(n, 500), maxItems: n } };
    }
    case 7:
      return {
        label: "recursive $defs (tree)",
        schema: {
          $defs: { node: { type: "object", properties: { value: { type: "integer" }, children: { type: "array", items: { $ref: "#/$defs/node" } } }, required: ["value", "children"] } },
          $ref: "#/$defs/node",
        },
      };
    case 8:
      return { label: "mutually recursive $defs", schema: { $defs: { a: { $ref: "#/$defs/b" }, b: { $ref: "#/$defs/a" } }, $ref: "#/$defs/a" } };
    case 9:
      return { label: "self $ref '#'", schema: { type: "object", properties: { self: { $ref: "#" } }, required: ["self"] } };
    case 10:
      return { label: "$ref to a missing definition", schema: { $ref: "#/$defs/missing" } };
    case 11:
      return { label: "external $ref (must not be fetched)", schema: { $ref: "http://127.0.0.1:9/schema.json" } };
    case 12:
      return { label: "$ref with an odd JSON pointer", schema: { $defs: { "a/b": { type: "string" }, "~": { type: "integer" } }, properties: { x: { $ref: "#/$defs/a~1b" }, y: { $ref: "#/$defs/~0" }, z: { $ref: "#/$defs/%7E" } } } };
    case 13:
      return { label: "unknown type name", schema: { type: "strng" } };
    case 14:
      return { label: "type is a number", schema: { type: 5 } };
    case 15:
      return { label: "type list with junk", schema: { type: ["string", 7, null, "object"] } };
    case 16:
      return { label: "properties is a string", schema: { type: "object", properties: "x", required: "a" } };
    case 17:
      return { label: "empty enum", schema: { enum: [] } };
    case 18:
      return { label: "unsatisfiable allOf", schema: { allOf: [{ type: "string" }, { type: "number" }] } };
    case 19:
      return { label: "not {} (nothing matches)", schema: { not: {} } };
    case 20:
      return { label: "false schema property", schema: { type: "object", properties: { a: false, b: true }, required: ["a"] } };
    case 21:
      return { label: "invalid regex pattern", schema: { type: "object", properties: { s: { type: "string", pattern: rng.pick(["[", "(?<", "\\", "a{2,1}", "(?P<x>a)"]) } }, required: ["s"] } };
    case 22:
      return { label: "catastrophic regex pattern", schema: { type: "object", properties: { s: { type: "string", pattern: "^(a+)+$" } }, required: ["s"] } };
    case 23:
      return { label: "unknown format", schema: { type: "string", format: "no-such-format" } };
    case 24:
      return { label: "numeric bounds of the wrong type", schema: { type: "integer", minimum: "a", maximum: [], multipleOf: 0 } };
    case 25:
      return { label: "huge numeric bounds", schema: { type: "object", properties: { n: { type: "integer", minimum: 1e308, maximum: -1e308 }, m: { type: "number", multipleOf: 1e-300 } } } };
    case 26: {
      const n = rng.pick([500, 2000]);
      const properties: JsonObject = {};
      for (let i = 0; i < n; i++) properties[`p${i}_${randomName(rng, 3)}`] = { type: "integer" };
      return { label: `${n} required properties`, schema: { type: "object", properties, required: Object.keys(properties) } };
    }
    case 27:
      return {
        label: "odd property names",
        schema: { type: "object", properties: { '"': { type: "string" }, "\\": { type: "string" }, "\u0000": { type: "string" }, "<|im_end|>": { type: "string" }, __proto__x: { type: "string" }, constructor: { type: "string" } }, required: ['"', "\\", "<|im_end|>"] },
      };
    case 28:
      return { label: "schema is an array", schema: [{ type: "string" }] };
    case 29:
      return { label: "schema is a string", schema: "object" };
    case 30:
      return { label: "draft-04 $schema with exclusiveMinimum boolean", schema: { $schema: "http://json-schema.org/draft-04/schema#", type: "number", minimum: 0, exclusiveMinimum: true } };
    case 31:
      return { label: "patternProperties + propertyNames + dependencies", schema: { type: "object", patternProperties: { "^x-": { type: "string" }, "[": {} }, propertyNames: { maxLength: 3 }, dependencies: { a: ["b"] }, minProperties: 50 } };
    case 32:
      return { label: "const of a deep value", schema: { const: JSON.parse(`${"[".repeat(200)}1${"]".repeat(200)}`) as Json } };
    default:
      return { label: "additionalProperties $ref '#' with required", schema: { type: "object", additionalProperties: { $ref: "#" }, minProperties: 3 } };
  }
}

/** An ordinary function tool. */
export function ordinaryTool(rng: Rng): JsonObject {
  return rng.pick<() => JsonObject>([
    () => ({
      type: "function",
      function: { name: "get_weather", description: "Current weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
    }),
    () => ({
      type: "function",
      function: {
        name: "calculate",
        description: "Evaluate an arithmetic expression",
        parameters: { type: "object", properties: { expression: { type: "string" }, precision: { type: "integer", minimum: 0, maximum: 10 } }, required: ["expression"] },
      },
    }),
    () => ({ type: "function", function: { name: "search.web", description: "Search", parameters: { type: "object", properties: { q: { type: "string" }, limit: { type: "integer" } } }, strict: true } }),
    () => ({ type: "function", function: { name: "no_args" } }),
  ])();
}

/** A list of 1–3 ordinary tools (distinct names). */
export function ordinaryTools(rng: Rng): JsonObject[] {
  const n = rng.int(1, 3);
  const out: JsonObject[] = [];
  const names = new Set<string>();
  for (let i = 0; i < 8 && out.length < n; i++) {
    const t = ordinaryTool(rng);
    const name = (t.function as JsonObject).name as string;
    if (names.has(name)) continue;
    names.add(name);
    out.push(t);
  }
  return out;
}

export function toolName(tool: JsonObject): string {
  return String((tool.function as JsonObject | undefined)?.name ?? "");
}

/** Adversarial tools and tool_choice for chat bodies. */
export function adversarialTools(rng: Rng): { readonly label: string; readonly tools: Json; readonly toolChoice?: Json } {
  const kind = rng.int(0, 13);
  const fn = (name: string, parameters?: Json, description?: string): JsonObject => ({
    type: "function",
    function: { name, ...(description === undefined ? {} : { description }), ...(parameters === undefined ? {} : { parameters }) },
  });
  switch (kind) {
    case 0: {
      const s = adversarialSchema(rng);
      return { label: `tool parameters: ${s.label}`, tools: [fn("adversarial", s.schema)], toolChoice: rng.pick<Json>(["required", "auto", { type: "function", function: { name: "adversarial" } }]) };
    }
    case 1:
      return { label: "tool_choice names a missing tool", tools: [ordinaryTool(rng)], toolChoice: { type: "function", function: { name: "does_not_exist" } } };
    case 2:
      return { label: "tool_choice required with no tools", tools: [], toolChoice: "required" };
    case 3:
      return { label: "duplicate tool names", tools: [fn("dup", { type: "object" }), fn("dup", { type: "object", properties: { a: { type: "string" } } })], toolChoice: "required" };
    case 4: {
      const n = rng.pick([100, 500]);
      return { label: `${n} tools`, tools: Array.from({ length: n }, (_, i) => fn(`tool_${i}`, { type: "object", properties: { x: { type: "integer" } } })), toolChoice: rng.pick<Json>(["auto", "required"]) };
    }
    case 5:
      return { label: "64-character tool name", tools: [fn("a".repeat(64), { type: "object" })], toolChoice: { type: "function", function: { name: "a".repeat(64) } } };
    case 6:
      return { label: "invalid tool names", tools: [fn(rng.pick(["", "a b", "x".repeat(65), "名前", "<tool_call>", "a\nb"]), { type: "object" })] };
    case 7:
      return { label: "tool parameters of type string", tools: [fn("stringy", { type: "string" })], toolChoice: "required" };
    case 8:
      return { label: "tool with a 100 kB description", tools: [fn("verbose", { type: "object" }, "describe ".repeat(12_000))] };
    case 9:
      return { label: "tool type is not function", tools: [{ type: rng.pick(["code_interpreter", "retrieval", "", "FUNCTION"]), function: { name: "x" } }] };
    case 10:
      return { label: "tool_choice of an odd shape", tools: [ordinaryTool(rng)], toolChoice: rng.pick<Json>(["any", "", { type: "function" }, { type: "function", function: {} }, { function: { name: "get_weather" } }, ["auto"], 1]) };
    case 11:
      return { label: "tools is an object", tools: { type: "function", function: { name: "x" } } };
    case 12:
      return { label: "tool parameters with $ref into a sibling tool", tools: [fn("a", { $ref: "#/definitions/b" }), fn("b", { definitions: { b: { type: "string" } } })], toolChoice: "required" };
    default:
      return { label: "tool parameters null and strict", tools: [{ type: "function", function: { name: "nullish", parameters: null, strict: true } }], toolChoice: "required" };
  }
}
