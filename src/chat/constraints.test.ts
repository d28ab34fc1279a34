import { describe, expect, it } from "vitest";
import { GbnfRecognizer } from "../grammar/index.js";
import { createGrammarConstraints, noConstraints } from "./constraints.js";
import { ChatError } from "./errors.js";
import type { ToolDefinition } from "./types.js";
import { HERMES_DIALECT } from "../hermes/dialect.js";

const syntax = HERMES_DIALECT.toolCall;

const weather: ToolDefinition = {
  name: "get_weather",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false },
  strict: true,
};
const time: ToolDefinition = { name: "get_time", parameters: { type: "object", properties: {} } };
const build = createGrammarConstraints(syntax);
const text = { type: "text" } as const;

describe("createGrammarConstraints", () => {
  it("tool_choice required: one or more Hermes tool calls with schema-valid arguments", () => {
    const g = build({ tools: [weather, time], toolChoice: { type: "required" }, responseFormat: text, parallelToolCalls: true });
    const r = GbnfRecognizer.fromText(g!.gbnf);
    const call = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
    expect(r.accepts(call)).toBe(true);
    expect(r.accepts(`${call}\n${call}`)).toBe(true);
    expect(r.accepts('<tool_call>\n{"name": "get_weather", "arguments": {"town": "Paris"}}\n</tool_call>')).toBe(false);
    expect(r.accepts('<tool_call>\n{"name": "nope", "arguments": {}}\n</tool_call>')).toBe(false);
    expect(r.accepts("Sure!")).toBe(false);
    const single = build({ tools: [weather, time], toolChoice: { type: "required" }, responseFormat: text, parallelToolCalls: false });
    expect(GbnfRecognizer.fromText(single!.gbnf).accepts(`${call}\n${call}`)).toBe(false);
  });

  it("named tool choice allows only that function", () => {
    const g = build({ tools: [weather, time], toolChoice: { type: "function", name: "get_time" }, responseFormat: text, parallelToolCalls: true });
    const r = GbnfRecognizer.fromText(g!.gbnf);
    expect(r.accepts('<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>')).toBe(true);
    expect(r.accepts('<tool_call>\n{"name": "get_weather", "arguments": {"city": "x"}}\n</tool_call>')).toBe(false);
  });

  it("json_schema and json_object constrain the reply; plain text does not", () => {
    const schema = { type: "object", properties: { answer: { type: "integer" } }, required: ["answer"] };
    const g = build({ tools: [], toolChoice: { type: "none" }, responseFormat: { type: "json_schema", name: "a", schema, strict: true }, parallelToolCalls: true });
    const r = GbnfRecognizer.fromText(g!.gbnf);
    expect(r.accepts('{"answer": 42}')).toBe(true);
    expect(r.accepts('{"answer": "42"}')).toBe(false);
    expect(r.accepts('{"answer": 42, "extra": 1}')).toBe(false);
    const obj = build({ tools: [], toolChoice: { type: "none" }, responseFormat: { type: "json_object" }, parallelToolCalls: true });
    expect(GbnfRecognizer.fromText(obj!.gbnf).accepts('{"x": [1, 2]}')).toBe(true);
    expect(build({ tools: [], toolChoice: { type: "none" }, responseFormat: text, parallelToolCalls: true })).toBeUndefined();
    expect(noConstraints({ tools: [], toolChoice: { type: "none" }, responseFormat: { type: "json_object" }, parallelToolCalls: true })).toBeUndefined();
  });

  it("an unenforceable schema is a ChatError naming the field", () => {
    const bad = { type: "object", properties: { x: { type: "string", format: "no-such-format" } } };
    try {
      build({ tools: [], toolChoice: { type: "none" }, responseFormat: { type: "json_schema", name: "a", schema: bad, strict: true }, parallelToolCalls: true });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ChatError);
      expect((error as ChatError).param).toBe("response_format.json_schema.schema");
      expect((error as ChatError).code).toBe("unsupported");
    }
    const badTool = { name: "t2", parameters: bad };
    expect(() => build({ tools: [weather, badTool], toolChoice: { type: "required" }, responseFormat: text, parallelToolCalls: true })).toThrow(
      expect.objectContaining({ param: "tools[1].function.parameters" }),
    );
  });

  it("tool_choice auto: a lazy grammar after <tool_call> (one call without parallel calls)", () => {
    const g = build({ tools: [weather, time], toolChoice: { type: "auto" }, responseFormat: text, parallelToolCalls: true });
    expect(g?.lazyTriggers).toEqual(["<tool_call>"]);
    const r = GbnfRecognizer.fromText(g!.gbnf);
    const body = '\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
    expect(r.accepts(body)).toBe(true);
    expect(r.accepts(`${body}\n<tool_call>${body}`)).toBe(true);
    expect(r.accepts('\n{"name": "get_weather", "arguments": {"town": "Paris"}}\n</tool_call>')).toBe(false);
    // an undeclared name is the model's choice: kept (any object), reported by the parser; required rejects it
    const undeclared = '\n{"name": "delete_everything", "arguments": {"all": true}}\n</tool_call>';
    expect(r.accepts(undeclared)).toBe(true);
    const required = build({ tools: [weather, time], toolChoice: { type: "required" }, responseFormat: text, parallelToolCalls: true });
    expect(GbnfRecognizer.fromText(required!.gbnf).accepts(`<tool_call>${undeclared}`)).toBe(false);
    const single = build({ tools: [weather, time], toolChoice: { type: "auto" }, responseFormat: text, parallelToolCalls: false });
    expect(GbnfRecognizer.fromText(single!.gbnf).accepts(`${body}\n<tool_call>${body}`)).toBe(false);
  });

  it("tool_choice auto with a JSON response format: the JSON value or tool calls, from the first token", () => {
    const schema = { type: "object", properties: { answer: { type: "integer" } }, required: ["answer"] };
    const g = build({ tools: [weather], toolChoice: { type: "auto" }, responseFormat: { type: "json_schema", name: "a", schema, strict: true }, parallelToolCalls: true });
    expect(g?.lazyTriggers).toBeUndefined();
    const r = GbnfRecognizer.fromText(g!.gbnf);
    expect(r.accepts('{"answer": 42}')).toBe(true);
    expect(r.accepts('{"answer": "no"}')).toBe(false);
    expect(r.accepts('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>')).toBe(true);
    expect(r.accepts("Plain text")).toBe(false);
    const any = build({ tools: [weather], toolChoice: { type: "auto" }, responseFormat: { type: "json_object" }, parallelToolCalls: true });
    expect(GbnfRecognizer.fromText(any!.gbnf).accepts('{"x": 1}')).toBe(true);
  });

  it("tool_choice auto with a schema it cannot enforce: unconstrained (told), or a ChatError when asked", () => {
    const bad = { name: "bad", parameters: { type: "object", properties: { x: { type: "string", format: "no-such-format" } } } };
    const told: string[] = [];
    const lenient = createGrammarConstraints(syntax, { onUnconstrained: (m) => told.push(m) });
    expect(lenient({ tools: [weather, bad], toolChoice: { type: "auto" }, responseFormat: text, parallelToolCalls: true })).toBeUndefined();
    expect(told[0]).toMatch(/tool "bad"/);
    const strict = createGrammarConstraints(syntax, { autoFallback: "error" });
    expect(() => strict({ tools: [weather, bad], toolChoice: { type: "auto" }, responseFormat: text, parallelToolCalls: true })).toThrow(
      expect.objectContaining({ param: "tools[1].function.parameters" }),
    );
  });

  it("every constraint states its intent in the format's own syntax", () => {
    const base = { tools: [weather, time], responseFormat: text, parallelToolCalls: true };
    expect(build({ ...base, toolChoice: { type: "required" } })?.intent).toMatchObject({ type: "tool-calls", syntax, lazy: false, minCalls: 1, maxCalls: Infinity, otherNames: false });
    expect(build({ ...base, toolChoice: { type: "function", name: "get_time" } })?.intent).toMatchObject({ type: "tool-calls", lazy: false, maxCalls: 1, tools: [{ name: "get_time" }], otherNames: false });
    expect(build({ ...base, toolChoice: { type: "auto" }, parallelToolCalls: false })?.intent).toMatchObject({ type: "tool-calls", lazy: true, maxCalls: 1, otherNames: true });
    const schema = { type: "object", properties: { n: { type: "integer" } } };
    expect(build({ tools: [], toolChoice: { type: "none" }, responseFormat: { type: "json_schema", name: "n", schema, strict: true }, parallelToolCalls: true })?.intent).toEqual({
      type: "json-schema",
      schema,
      strict: true,
    });
    expect(build({ tools: [], toolChoice: { type: "none" }, responseFormat: { type: "json_object" }, parallelToolCalls: true })?.intent).toEqual({ type: "json-schema", strict: false });
  });
});
