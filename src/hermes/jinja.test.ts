import { describe, expect, it } from "vitest";
import { JinjaTemplateError, renderJinjaTemplate } from "./jinja.js";
import { readShared, readSharedJson } from "../../test/support/shared.js";

interface TemplateCase {
  id: string;
  messages: unknown[];
  tools: unknown[] | null;
  add_generation_prompt: boolean;
  bos_token: string;
  eos_token: string;
  expected_output?: string;
  expected_error?: { type: string; message: string };
}

const template = readShared("fixtures/hermes-prompts/hermes-tool-use.jinja");
const { cases } = readSharedJson<{ cases: TemplateCase[] }>("fixtures/hermes-prompts/tool-use-template-cases.json");

describe("hermes-tool-use.jinja rendered with Python Jinja2 semantics", () => {
  for (const c of cases) {
    it(c.id, () => {
      const render = () =>
        renderJinjaTemplate(template, {
          messages: c.messages,
          tools: c.tools,
          documents: null,
          add_generation_prompt: c.add_generation_prompt,
          bos_token: c.bos_token,
          eos_token: c.eos_token,
        });
      if (c.expected_error !== undefined) {
        expect(render).toThrow(JinjaTemplateError);
      } else {
        expect(render()).toBe(c.expected_output);
      }
    });
  }
});

const r = (source: string, context: Record<string, unknown> = {}) => renderJinjaTemplate(source, context);

describe("Python Jinja2 semantics", () => {
  it("prints Python str() of values", () => {
    expect(r("{{ none }}|{{ true }}|{{ 1.0 }}|{{ 2 }}|{{ [1, 'a', none] }}|{{ {'k': false} }}|{{ undefined_var }}")).toBe(
      "None|True|1.0|2|[1, 'a', None]|{'k': False}|",
    );
  });
  it("tojson is json.dumps with ensure_ascii=False and Python separators, keeping key order", () => {
    expect(r("{{ x|tojson }}", { x: { b: 1, a: [true, null, "é\n"], c: 0.5 } })).toBe('{"b": 1, "a": [true, null, "é\\n"], "c": 0.5}');
    expect(r("{{ x|tojson(indent=2) }}", { x: { a: [1] } })).toBe('{\n  "a": [\n    1\n  ]\n}');
    expect(r("{{ x|tojson(ensure_ascii=true) }}", { x: "é" })).toBe('"\\u00e9"');
    expect(r("{{ 1.0|tojson }}|{{ x|tojson }}|{{ y|tojson }}", { x: 1.5e-7, y: 2 ** 60 })).toBe("1.0|1.5e-07|1152921504606846976");
    expect(r("{{ x|tojson }}", { x: new Map([["2", 1], ["1", 2]]) })).toBe('{"2": 1, "1": 2}');
  });
  it("dict items, attribute vs item access and dict methods", () => {
    expect(r("{% for k, v in d|items %}{{ k }}={{ v }};{% endfor %}", { d: { z: 1, a: 2 } })).toBe("z=1;a=2;");
    expect(r("{% for k, v in d.items() %}{{ k }}{% endfor %}", { d: { items: 1, a: 2 } })).toBe("itemsa");
    expect(r("{{ d['items'] }}", { d: { items: 7 } })).toBe("7");
    expect(r("{{ d.get('x', 'dflt') }}", { d: {} })).toBe("dflt");
  });
  it("undefined: printing is empty, attribute access and + raise, iteration is empty", () => {
    expect(r("[{{ a.b }}]", { a: {} })).toBe("[]");
    expect(() => r("{{ a.b.c }}", { a: {} })).toThrow(/undefined/);
    expect(() => r("{{ 'x' + a.b }}", { a: {} })).toThrow(JinjaTemplateError);
    expect(r("{% for x in a.b %}X{% endfor %}ok", { a: {} })).toBe("ok");
    expect(r("{{ a.b is defined }}|{{ a.b is iterable }}|{{ a.b|trim }}|{{ a.b|length }}", { a: {} })).toBe("False|True||0");
    expect(() => r("{% for x in none %}{% endfor %}")).toThrow(/not iterable/);
  });
  it("Python equality and membership", () => {
    expect(r("{{ 1 == 1.0 }}|{{ none == undefined_x }}|{{ [1, 2] == [1, 2] }}|{{ {'a': 1} == {'a': 1} }}|{{ '1' == 1 }}")).toBe(
      "True|False|True|True|False",
    );
    expect(r("{{ 'a' in ['a'] }}|{{ 'k' in {'k': 1} }}|{{ 'x' in undefined_x }}|{{ 'b' not in 'abc' }}")).toBe("True|True|False|False");
  });
  it("string + non-string is a TypeError; ~ stringifies", () => {
    expect(() => r("{{ 'a' + 1 }}")).toThrow(/concatenate/);
    expect(r("{{ 'a' ~ 1 ~ none ~ true ~ undefined_x }}")).toBe("a1NoneTrue");
  });
  it("trim_blocks, lstrip_blocks and loop controls", () => {
    const source = "{% for i in range(5) %}\n  {% if i == 1 %}{% continue %}{% endif %}\n  {% if i == 3 %}{% break %}{% endif %}\n{{ i }}{{ ',' if not loop.last }}\n{% endfor %}";
    expect(r(source)).toBe("0,\n2,\n");
    expect(r("{% for x in 'ab' %}{{ loop.index }}{{ x }}{{ loop.previtem }}{% endfor %}")).toBe("1a2ba");
  });
  it("string methods and the strip filter follow Python", () => {
    expect(r("{{ '  hi  '.strip() }}|{{ 'a,b'.split(',') }}|{{ 'Hi'.upper() }}|{{ 'x'.startswith('x') }}")).toBe("hi|['a', 'b']|HI|True");
  });
  it("raise_exception throws a typed error; strftime_now uses the clock", () => {
    expect(() => r("{{ raise_exception('bad role') }}")).toThrow(expect.objectContaining({ kind: "raised", message: "bad role" }));
    const out = renderJinjaTemplate("{{ strftime_now('%d %b %Y %H:%M') }}", {}, { now: () => new Date(2024, 6, 1, 9, 5) });
    expect(out).toBe("01 Jul 2024 09:05");
  });
  it("unbounded macro recursion fails instead of hanging", () => {
    const source = "{% macro f(t) %}{{ f(t) }}{% endmacro %}{{ f(1) }}";
    expect(() => r(source)).toThrow(expect.objectContaining({ kind: "recursion" }));
  });
  it("syntax errors are typed", () => {
    expect(() => r("{% if %}")).toThrow(expect.objectContaining({ kind: "syntax" }));
  });
});
