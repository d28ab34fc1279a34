import { describe, expect, test } from "vitest";
import { alt, chars, lit, printGrammar, ref, rep, seq, type GbnfExpr } from "./ast.js";
import { GbnfBuilder } from "./builder.js";
import { parseGbnf, GbnfSyntaxError } from "./parse.js";
import { GbnfRecognizer } from "./recognizer.js";
import { GrammarSampler, seededRandom } from "./sample.js";

describe("parser (llama.cpp dialect)", () => {
  test("escapes, classes, comments, multi-line alternates, repetitions", () => {
    const g = `# comment
root ::= greeting "\\x21"? [\\u00e9\\U0001F600]{0,2} # trailing comment
greeting ::= "hi" |
  "ho" ( "\\"" | [^a-z\\n] )+ .
`;
    const r = GbnfRecognizer.fromText(g);
    expect(r.accepts("hi")).toBe(true);
    expect(r.accepts("hi!é😀")).toBe(true);
    expect(r.accepts("ho\"A!x")).toBe(true);
    expect(r.accepts("ho")).toBe(false);
    expect(r.accepts("hi!é😀é")).toBe(false);
  });

  test("errors: undefined rule, missing root, left recursion, bad syntax", () => {
    expect(() => parseGbnf("root ::= a\n")).toThrow(/Undefined rule identifier 'a'/);
    expect(() => GbnfRecognizer.fromText("start ::= \"a\"\n")).toThrow(/root/);
    expect(() => GbnfRecognizer.fromText("root ::= root \"a\" | \"b\"\n")).toThrow(/left recursion/);
    expect(() => GbnfRecognizer.fromText("root ::= x root | \"b\"\nx ::= \"a\"?\n")).toThrow(/left recursion/);
    expect(() => parseGbnf('root ::= "a\n')).toThrow(GbnfSyntaxError);
    expect(() => parseGbnf("root ::= *\n")).toThrow(/preceding item/);
    expect(() => parseGbnf('root ::= "a"{2001}\n')).toThrow(/repetitions/);
  });

  test("printer output round-trips through the parser", () => {
    const b = new GbnfBuilder();
    const root = b.reserveExact("root");
    const specials: GbnfExpr = { type: "char-class", negated: false, ranges: [[0x2d, 0x2d], [0x5d, 0x5d], [0x5c, 0x5c], [0x5e, 0x5e]] };
    const item = b.add("item", alt(lit('a"\\'), specials, chars("x-z"), seq(lit("\n"), rep(chars(" \t"), 0, 3))));
    b.define(root, seq(lit("["), rep(ref(item), 1, undefined), lit("]")));
    const text = b.toString();
    const again = printGrammar(parseGbnf(text));
    expect(GbnfRecognizer.fromText(again).accepts('[a"\\-]^y\n \t]')).toBe(true);
    expect(GbnfRecognizer.fromText(text).accepts("[w]")).toBe(false);
  });
});

describe("recognizer", () => {
  const r = GbnfRecognizer.fromText('root ::= "{\\"name\\": \\"" ("get_weather" | "get_time" | "search") "\\"}"\n');

  test("viable prefixes, dead states, completion", () => {
    expect(r.isViablePrefix('{"name": "get_')).toBe(true);
    expect(r.isViablePrefix('{"name": "got')).toBe(false);
    expect(r.accepts('{"name": "search"}')).toBe(true);
    const s = r.feed(r.initial(), '{"name": "search"}');
    expect(s.canEnd).toBe(true);
    expect(r.allowedNext(s).isEmpty).toBe(true);
  });

  test("allowedNext, forcedNext and forcedText (jump-forward)", () => {
    const start = r.forcedText(r.initial());
    expect(start.text).toBe('{"name": "');
    expect(r.allowedNext(start.state).toString()).toBe("U+0067,U+0073");
    expect(r.forcedNext(start.state)).toBeUndefined();
    const afterG = r.step(start.state, "g".codePointAt(0) as number);
    expect(r.forcedText(afterG).text).toBe("et_");
    const afterS = r.feed(start.state, "s");
    expect(r.forcedText(afterS).text).toBe('earch"}');
  });

  test("states are values: equal inputs give equal keys", () => {
    const a = r.feed(r.initial(), '{"name": "get_');
    const b = r.feed(r.feed(r.initial(), '{"name": '), '"get_');
    expect(a.key).toBe(b.key);
    expect(a.stackCount).toBe(2); // get_weather and get_time are both alive
  });

  test("repetition semantics follow llama.cpp", () => {
    const g = GbnfRecognizer.fromText('root ::= "a"{2,4} ("b" "c"){1,} [0-9]{3}\n');
    expect(g.accepts("aabc123")).toBe(true);
    expect(g.accepts("aaaabcbc000")).toBe(true);
    expect(g.accepts("abc123")).toBe(false);
    expect(g.accepts("aaaaabc123")).toBe(false);
    expect(g.accepts("aabc12")).toBe(false);
    // a maximum above 2000 is unbounded in llama.cpp
    expect(GbnfRecognizer.fromText('root ::= "a"{0,2001}\n').accepts("a".repeat(2500))).toBe(true);
  });
});

describe("sampler", () => {
  test("samples are sentences of the grammar and terminate on recursive grammars", () => {
    const text = 'root ::= value\nvalue ::= "[" (value ("," value)*)? "]" | [0-9]+\n';
    const grammar = parseGbnf(text);
    const r = GbnfRecognizer.fromGrammar(grammar);
    const s = new GrammarSampler(grammar);
    const random = seededRandom(3);
    let nested = 0;
    for (let i = 0; i < 200; i++) {
      const x = s.sample(random, { budget: 50 });
      expect(r.accepts(x), x).toBe(true);
      if (x.startsWith("[[")) nested++;
    }
    expect(nested).toBeGreaterThan(0);
  });

  test("is deterministic for a seed", () => {
    const grammar = parseGbnf('root ::= [a-z]{1,10} ("!" | "?")\n');
    const s = new GrammarSampler(grammar);
    const a = Array.from({ length: 5 }, ((rnd) => () => s.sample(rnd))(seededRandom(9)));
    const b = Array.from({ length: 5 }, ((rnd) => () => s.sample(rnd))(seededRandom(9)));
    expect(a).toEqual(b);
  });
});
