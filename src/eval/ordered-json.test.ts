import { describe, expect, it } from "vitest";
import { getField, JsonSyntaxError, parseOrderedJson, pythonDumpsKey, toPlain } from "./ordered-json.js";

describe("parseOrderedJson", () => {
  it("keeps integer-like keys in file order (JSON.parse does not)", () => {
    const text = '{"target_scores": {"zero": 0, "2": 1, "0": 0, "1": 0}}';
    expect(Object.keys((JSON.parse(text) as { target_scores: object }).target_scores)).toEqual(["0", "1", "2", "zero"]);
    const scores = getField(parseOrderedJson(text), "target_scores");
    expect(scores?.type === "object" ? scores.entries.map(([k]) => k) : null).toEqual(["zero", "2", "0", "1"]);
  });

  it("parses every JSON value kind, escapes and CRLF whitespace", () => {
    const text = '[\r\n {"a": "x\\u00e9\\n\\"", "b": [true, false, null], "c": -1.5e2, "d": 0}\r\n]';
    expect(toPlain(parseOrderedJson(text))).toEqual(JSON.parse(text));
  });

  it("a repeated key keeps its first position and its last value, like Python", () => {
    const node = parseOrderedJson('{"a": 1, "b": 2, "a": 3}');
    expect(node.type === "object" ? node.entries.map(([k, v]) => [k, toPlain(v)]) : null).toEqual([
      ["a", 3],
      ["b", 2],
    ]);
  });

  it("rejects invalid JSON with an offset", () => {
    expect(() => parseOrderedJson('{"a": }')).toThrow(JsonSyntaxError);
    expect(() => parseOrderedJson("[1, 2")).toThrow(JsonSyntaxError);
    expect(() => parseOrderedJson('{"a": 1} x')).toThrow(/offset 9/);
    expect(() => parseOrderedJson("01")).toThrow(JsonSyntaxError);
    expect(() => parseOrderedJson('"a\nb"')).toThrow(JsonSyntaxError);
  });
});

describe("pythonDumpsKey", () => {
  const key = (s: string): string => pythonDumpsKey(parseOrderedJson(s));
  it("distinguishes what Python's json.dumps distinguishes", () => {
    expect(key('{"a": 1, "b": 2}')).not.toBe(key('{"b": 2, "a": 1}'));
    expect(key('{"a": 1}')).not.toBe(key('{"a": 1.0}'));
    expect(key('{"a": 0.0}')).not.toBe(key('{"a": -0.0}'));
    expect(key('{"a": "x"}')).not.toBe(key('{"a": ["x"]}'));
  });
  it("identifies what Python identifies", () => {
    expect(key('{"a": 1.0}')).toBe(key('{"a": 1.00}'));
    expect(key('{"a": 1e2}')).toBe(key('{"a": 100.0}'));
    expect(key('{"a": -0}')).toBe(key('{"a": 0}'));
    expect(key('{"a": "\\u00e9"}')).toBe(key('{ "a" : "é" }'));
  });
});
