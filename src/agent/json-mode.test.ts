import { describe, expect, it } from "vitest";
import { createHermesMockEngine as createMockEngine } from "../../test/support/hermes-mock.js";
import { extractJsonAnswer, generateJson } from "./json-mode.js";

const schema = { type: "object", properties: { name: { type: "string" }, age: { type: "integer" } }, required: ["name", "age"] };

describe("extractJsonAnswer", () => {
  it("reads JSON, a Python literal, or a ```json fence", () => {
    expect(extractJsonAnswer(' {"a": 1} ')).toEqual({ ok: true, value: { a: 1 } });
    expect(extractJsonAnswer("{'a': True}")).toEqual({ ok: true, value: { a: true } });
    expect(extractJsonAnswer('Here:\n```json\n{"a": 2}\n```\nDone')).toEqual({ ok: true, value: { a: 2 } });
    expect(extractJsonAnswer("no json here")).toEqual({ ok: false });
    expect(extractJsonAnswer("")).toEqual({ ok: false });
  });
});

describe("generateJson", () => {
  it("puts the Hermes JSON-mode system prompt with the schema in the prompt and validates the answer", async () => {
    let prompt = "";
    const engine = createMockEngine({
      script: (p) => {
        prompt = p;
        return '{"name": "Ada", "age": 36}';
      },
    });
    const result = await generateJson({ engine, schema, query: "Who?" });
    expect(result).toMatchObject({ valid: true, value: { name: "Ada", age: 36 }, attempts: 1 });
    expect(prompt).toContain("You are a helpful assistant that answers in JSON. Here's the json schema you must adhere to:\n<schema>\n");
    expect(prompt).toContain('"required": ["name", "age"]');
  });

  it("reports an answer that fails the schema (never hides it), and retries when asked", async () => {
    let calls = 0;
    const engine = createMockEngine({
      script: () => {
        calls++;
        return calls === 1 ? '{"name": "Ada", "age": "old"}' : '{"name": "Ada", "age": 36}';
      },
    });
    const failed = await generateJson({ engine, schema, query: "Who?", constrained: false });
    expect(failed.valid).toBe(false);
    if (!failed.valid) {
      expect(failed.error).toMatch(/\/age must be integer/);
      expect(failed.value).toEqual({ name: "Ada", age: "old" });
    }
    calls = 0;
    const retried = await generateJson({ engine, schema, query: "Who?", retries: 1, constrained: false });
    expect(retried).toMatchObject({ valid: true, attempts: 2 });
  });

  it("without a schema asks for any JSON object", async () => {
    const engine = createMockEngine({ script: () => "[1, 2]" });
    const result = await generateJson({ engine, query: "list", constrained: false });
    expect(result.valid).toBe(false);
    // With the grammar (the default) the answer is an object whatever the model wanted to write.
    const forced = await generateJson({ engine, query: "list" });
    expect(forced.valid).toBe(true);
    const ok = await generateJson({ engine: createMockEngine({ script: () => '{"x": [1]}' }), query: "obj" });
    expect(ok).toMatchObject({ valid: true, value: { x: [1] } });
  });

  it("says so when the answer is not JSON", async () => {
    const result = await generateJson({ engine: createMockEngine({ script: () => "I am not JSON" }), schema, query: "?", constrained: false });
    expect(result).toMatchObject({ valid: false, error: "the answer is not JSON", text: "I am not JSON" });
  });
});
