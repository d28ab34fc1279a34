import { describe, expect, test } from "vitest";
import { JsonSchemaGrammarError } from "./errors.js";
import { GbnfBuilder } from "./gbnf/builder.js";
import { GbnfRecognizer } from "./gbnf/recognizer.js";
import { lit, ref, seq, alt, rep, chars } from "./gbnf/ast.js";
import {
  addOtherNameRule,
  addToolCallRules,
  toolCallGbnf,
  toolCallsConstraint,
  jsonOrToolCallsConstraint,
  formatToolCall,
  type ToolGrammarSpec,
} from "./tool-calls.js";
import type { ToolCallSyntax } from "./constraint.js";

/** A Hermes-shaped syntax (the grammar layer knows no format; src/hermes/dialect.ts declares the real one). */
const syntax: ToolCallSyntax = {
  open: "<tool_call>",
  close: "</tool_call>",
  afterOpen: "\n",
  beforeClose: "\n",
  envelope: { nameKey: "name", argumentsKey: "arguments", argumentsAliases: [], keySeparator: ": ", itemSeparator: ", " },
  between: { text: "\n", whitespace: " \t\n", maxWhitespace: 2 },
};
const hermesToolCallGbnf = (t: readonly ToolGrammarSpec[], o: Parameters<typeof toolCallGbnf>[2] = {}) => toolCallGbnf(syntax, t, o);

const tools: ToolGrammarSpec[] = [
  {
    name: "get_weather",
    parameters: { type: "object", properties: { location: { type: "string" }, unit: { enum: ["c", "f"] } }, required: ["location"], additionalProperties: false },
  },
  { name: "get_time", parameters: { type: "object", properties: { tz: { type: "string", pattern: "^[A-Z][a-z]+/[A-Z][a-z]+$" } }, required: ["tz"] } },
  { name: "ping" },
];

const call = (name: string, args: string): string => `<tool_call>\n{"name": "${name}", "arguments": ${args}}\n</tool_call>`;

describe("tool-call grammar (Hermes-shaped syntax)", () => {
  test("the name selects the arguments schema", () => {
    const r = GbnfRecognizer.fromText(hermesToolCallGbnf(tools).gbnf);
    expect(r.accepts(call("get_weather", '{"location": "Paris"}'))).toBe(true);
    expect(r.accepts(call("get_weather", '{"location": "Paris", "unit": "c"}'))).toBe(true);
    expect(r.accepts(call("get_time", '{"tz": "Europe/Paris"}'))).toBe(true);
    expect(r.accepts(call("ping", "{}"))).toBe(true);
    expect(r.accepts(call("get_time", '{"location": "Paris"}'))).toBe(false);
    expect(r.accepts(call("get_weather", '{"tz": "Europe/Paris"}'))).toBe(false);
    expect(r.accepts(call("get_news", "{}"))).toBe(false);
    expect(r.accepts(call("ping", '{"x": 1}'))).toBe(false);
    // one call by default
    expect(r.accepts(`${call("ping", "{}")}\n${call("ping", "{}")}`)).toBe(false);
  });

  test("forced text: the envelope is forced up to the tool name, and after the name", () => {
    const r = GbnfRecognizer.fromText(hermesToolCallGbnf(tools).gbnf);
    const start = r.forcedText(r.initial());
    expect(start.text).toBe('<tool_call>\n{"name": "');
    const afterP = r.forcedText(r.feed(start.state, "p"));
    expect(afterP.text).toBe('ing", "arguments": {');
  });

  test("sequences of calls", () => {
    const r = GbnfRecognizer.fromText(hermesToolCallGbnf(tools, { maxCalls: Infinity }).gbnf);
    const two = `${call("ping", "{}")}\n${call("get_time", '{"tz": "Asia/Tokyo"}')}`;
    expect(r.accepts(two)).toBe(true);
    expect(r.accepts(`${two}\n${call("ping", "{}")}`)).toBe(true);
    const limited = GbnfRecognizer.fromText(hermesToolCallGbnf(tools, { minCalls: 2, maxCalls: 2 }).gbnf);
    expect(limited.accepts(two)).toBe(true);
    expect(limited.accepts(call("ping", "{}"))).toBe(false);
  });

  test("embedding: tool-call rules inside a larger grammar (free text, then calls)", () => {
    const b = new GbnfBuilder({ prefix: "tc-" });
    const root = b.reserveExact("root");
    const { calls } = addToolCallRules(b, syntax, tools, { maxCalls: 3 });
    b.define(root, alt(seq(rep(chars("a-z "), 1, undefined)), ref(calls)));
    const r = GbnfRecognizer.fromText(b.toString());
    expect(r.accepts("hello there")).toBe(true);
    expect(r.accepts(call("ping", "{}"))).toBe(true);
    expect(r.accepts(`hello${call("ping", "{}")}`)).toBe(false);
    for (const line of b.toString().trim().split("\n")) expect(line).toMatch(/^(root|tc-[a-zA-Z0-9-]+) ::= /);
    expect(lit("x")).toBeDefined();
  });

  test("errors name the tool", () => {
    expect(() => hermesToolCallGbnf([])).toThrow(JsonSchemaGrammarError);
    expect(() => hermesToolCallGbnf([{ name: "a" }, { name: "a" }])).toThrow(/duplicate tool name/);
    try {
      hermesToolCallGbnf([{ name: "bad", parameters: { type: "object", properties: { x: { type: "string", format: "hostname" } } } }]);
      throw new Error("expected an error");
    } catch (e) {
      expect(e).toBeInstanceOf(JsonSchemaGrammarError);
      expect((e as JsonSchemaGrammarError).message).toBe('tool "bad": unsupported format "hostname" at #/properties/x');
      expect((e as JsonSchemaGrammarError).path).toBe("#/properties/x");
    }
  });
});

describe("tool-call constraints carry their intent", () => {
  test("eager: intent, min/max and the forced envelope", () => {
    const c = toolCallsConstraint(syntax, tools, { maxCalls: Infinity });
    expect(c.intent).toEqual({ type: "tool-calls", syntax, tools, minCalls: 1, maxCalls: Infinity, lazy: false, strict: false, otherNames: false });
    expect(c.lazyTriggers).toBeUndefined();
    const r = GbnfRecognizer.fromText(c.gbnf);
    expect(r.accepts(`${call("ping", "{}")}\n${call("get_time", '{"tz": "Europe/Paris"}')}`)).toBe(true);
  });

  test("lazy: the root matches the text after the open tag, up to two whitespace characters between calls", () => {
    const c = toolCallsConstraint(syntax, tools, { lazy: true, maxCalls: 2 });
    expect(c.lazyTriggers).toEqual(["<tool_call>"]);
    expect(c.intent).toMatchObject({ type: "tool-calls", lazy: true, minCalls: 1, maxCalls: 2, otherNames: true });
    const r = GbnfRecognizer.fromText(c.gbnf);
    const after = (text: string) => text.slice("<tool_call>".length);
    expect(r.accepts(after(call("ping", "{}")))).toBe(true);
    expect(r.accepts(after(`${call("ping", "{}")} \n${call("ping", "{}")}`))).toBe(true);
    expect(r.accepts(after(`${call("ping", "{}")}   ${call("ping", "{}")}`))).toBe(false);
    expect(r.accepts(after(`${call("ping", "{}")}\n${call("ping", "{}")}\n${call("ping", "{}")}`))).toBe(false);
  });

  test("JSON or calls: intent orJson, either branch accepted", () => {
    const schema = { type: "object", properties: { a: { type: "integer" } }, required: ["a"] };
    const c = jsonOrToolCallsConstraint(syntax, schema, tools, { jsonStrict: true });
    expect(c.intent).toMatchObject({ type: "tool-calls", lazy: false, orJson: { schema, strict: true } });
    const r = GbnfRecognizer.fromText(c.gbnf);
    expect(r.accepts('{"a": 1}')).toBe(true);
    expect(r.accepts(call("ping", "{}"))).toBe(true);
    expect(r.accepts('{"a": "x"}')).toBe(false);
  });

  test("the builders are generic: another syntax, other keys and separators", () => {
    const other: ToolCallSyntax = {
      open: "[CALL]",
      close: "[/CALL]",
      afterOpen: "",
      beforeClose: "",
      envelope: { nameKey: "tool", argumentsKey: "args", argumentsAliases: [], keySeparator: ":", itemSeparator: "," },
      between: { text: ";", whitespace: " ", maxWhitespace: 1 },
    };
    const text = formatToolCall(other, "ping", "{}");
    expect(text).toBe('[CALL]{"tool":"ping","args":{}}[/CALL]');
    const r = GbnfRecognizer.fromText(toolCallGbnf(other, tools, { maxCalls: 2 }).gbnf);
    expect(r.accepts(`${text};${text}`)).toBe(true);
    expect(r.accepts(call("ping", "{}"))).toBe(false);
    expect(formatToolCall(syntax, "ping", "{}")).toBe(call("ping", "{}"));
  });
});

describe("undeclared names (tool_choice auto): the model's choice is kept, never rewritten", () => {
  const after = (text: string) => text.slice("<tool_call>".length);

  test("the complement of the declared names: every other non-empty name, no declared one, no escapes", () => {
    const b = new GbnfBuilder();
    const root = b.reserveExact("root");
    b.define(root, ref(addOtherNameRule(b, ["get_weather", "get_time", "get", "ping"])));
    const r = GbnfRecognizer.fromText(b.toString());
    for (const declared of ["get_weather", "get_time", "get", "ping"]) expect(r.accepts(declared), declared).toBe(false);
    for (const other of ["g", "ge", "get_", "get_w", "get_weathe", "get_weatherx", "get_timer", "gets", "pin", "pings", "x", "delete_everything", "Ping", "über"]) {
      expect(r.accepts(other), other).toBe(true);
    }
    expect(r.accepts("")).toBe(false);
    expect(r.accepts("a\\u005f")).toBe(false);
    expect(r.accepts('a"b')).toBe(false);
    // linear: one rule per trie node (plus the shared tail), not per pair of names
    const many = new GbnfBuilder();
    const names = Array.from({ length: 200 }, (_, i) => `tool_number_${i}`);
    many.define(many.reserveExact("root"), ref(addOtherNameRule(many, names)));
    const rules = many.toString().trim().split("\n").length;
    expect(rules).toBeLessThan(names.join("").length + 5);
  });

  test("lazy (auto): an undeclared name with any object is accepted; a declared name still gets its schema", () => {
    const r = GbnfRecognizer.fromText(toolCallsConstraint(syntax, tools, { lazy: true, maxCalls: 2 }).gbnf);
    expect(r.accepts(after(call("delete_everything", "{}")))).toBe(true);
    expect(r.accepts(after(call("delete_everything", '{"really": true, "paths": ["/", 1]}')))).toBe(true);
    expect(r.accepts(after(call("get_weathe", '{"tz": 1}')))).toBe(true);
    expect(r.accepts(after(call("get_weatherx", "{}")))).toBe(true);
    expect(r.accepts(after(`${call("delete_everything", "{}")}\n${call("ping", "{}")}`))).toBe(true);
    // a declared name is not a way around its schema
    expect(r.accepts(after(call("get_weather", '{"tz": "Europe/Paris"}')))).toBe(false);
    expect(r.accepts(after(call("ping", '{"x": 1}')))).toBe(false);
    expect(r.accepts(after(call("get_weather", '{"location": "Paris"}')))).toBe(true);
    // still a call: the arguments are an object, the envelope is fixed
    expect(r.accepts(after(call("delete_everything", "[1]")))).toBe(false);
    expect(r.accepts(after(call("", "{}")))).toBe(false);
    expect(r.isViablePrefix('\n{"name": "delete_everything", "arguments": "x')).toBe(false);
  });

  test("forced (required / named): only declared names", () => {
    const forced = GbnfRecognizer.fromText(toolCallsConstraint(syntax, tools).gbnf);
    expect(forced.accepts(call("delete_everything", "{}"))).toBe(false);
    expect(forced.isViablePrefix('<tool_call>\n{"name": "d')).toBe(false);
    expect(forced.accepts(call("ping", "{}"))).toBe(true);
    const lazyClosed = GbnfRecognizer.fromText(toolCallsConstraint(syntax, tools, { lazy: true, otherNames: false }).gbnf);
    expect(lazyClosed.accepts(after(call("delete_everything", "{}")))).toBe(false);
  });

  test("forced text: the envelope up to the name, then nothing until the name is complete", () => {
    const r = GbnfRecognizer.fromText(toolCallsConstraint(syntax, tools, { lazy: true }).gbnf);
    expect(r.forcedText(r.initial()).text).toBe('\n{"name": "');
    expect(r.forcedText(r.feed(r.initial(), '\n{"name": "p')).text).toBe("");
    expect(r.forcedText(r.feed(r.initial(), '\n{"name": "ping"')).text).toBe(', "arguments": {');
  });

  test("JSON or calls (auto with JSON mode): undeclared names too, unless turned off", () => {
    const schema = { type: "object", properties: { a: { type: "integer" } }, required: ["a"] };
    const c = jsonOrToolCallsConstraint(syntax, schema, tools);
    expect(c.intent).toMatchObject({ otherNames: true });
    expect(GbnfRecognizer.fromText(c.gbnf).accepts(call("delete_everything", '{"x": 1}'))).toBe(true);
    const closed = jsonOrToolCallsConstraint(syntax, schema, tools, { otherNames: false });
    expect(GbnfRecognizer.fromText(closed.gbnf).accepts(call("delete_everything", '{"x": 1}'))).toBe(false);
  });
});
