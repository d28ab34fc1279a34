/**
 * The GBNF toolkit on large and deep grammars (issue 16): no recursion proportional to the
 * grammar's size (long chains of skippable rules, deep groups), and repetitions of any count in
 * O(log count) rules, exactly.
 */
import { describe, expect, test } from "vitest";
import { lit, ref } from "./ast.js";
import { GbnfBuilder, MAX_INLINE_REPETITION } from "./builder.js";
import { compileGbnf } from "./compile.js";
import { GbnfSyntaxError, MAX_GROUP_NESTING, parseGbnf } from "./parse.js";
import { GbnfRecognizer } from "./recognizer.js";

/** `root ::= r0`, `ri ::= "a"? r(i+1)`, `rN ::= last`: a chain of N skippable rules. */
function chain(n: number, last: string): string {
  const lines = ["root ::= r0"];
  for (let i = 0; i < n; i++) lines.push(`r${i} ::= "a"? r${i + 1}`);
  lines.push(`r${n} ::= ${last}`);
  return `${lines.join("\n")}\n`;
}

describe("long chains of skippable rules (a stack overflow before)", () => {
  test("30,000 optional rules in a row: compiled and recognized", () => {
    const r = GbnfRecognizer.fromText(chain(30_000, '"b"'));
    expect(r.accepts("b")).toBe(true);
    expect(r.accepts("aab")).toBe(true);
    expect(r.accepts("ba")).toBe(false);
    // (each "a" may come from any later rule, so long inputs are slow here: bounds on a short chain)
    const short = GbnfRecognizer.fromText(chain(50, '"b"'));
    expect(short.accepts(`${"a".repeat(50)}b`)).toBe(true);
    expect(short.accepts(`${"a".repeat(51)}b`)).toBe(false);
  });

  test("left recursion at the end of such a chain is still found", () => {
    expect(() => compileGbnf(parseGbnf(chain(30_000, 'r0 "b" | "c"')))).toThrow(/left recursion detected for nonterminal 'r0'/);
  });

  test("groups nested deeper than the parser's limit are a syntax error", () => {
    const deep = (n: number) => `root ::= ${"(".repeat(n)}"a"${")".repeat(n)}\n`;
    expect(GbnfRecognizer.fromText(deep(MAX_GROUP_NESTING)).accepts("a")).toBe(true);
    expect(() => parseGbnf(deep(20_000))).toThrow(GbnfSyntaxError);
  });
});

function repeated(min: number, max: number | undefined, maxInlineRepetition?: number): { rules: number; text: string } {
  const b = new GbnfBuilder(maxInlineRepetition === undefined ? {} : { maxInlineRepetition });
  const root = b.reserveExact("root");
  const a = b.add("a", lit("a"));
  b.define(root, b.repeat("x", ref(a), min, max));
  return { rules: b.rulesList().length, text: b.toString() };
}

describe("repetitions of any count (a stack overflow above a few million before)", () => {
  test.each([
    [0, 300],
    [0, 242],
    [5, 243],
    [81, 81],
    [100, 333],
    [27, 27 * 9 + 5],
    [200, undefined],
  ])("{%d,%s} with blocks of 3: exactly those counts, nested blocks in O(log n) rules", (min, max) => {
    const { rules, text } = repeated(min, max, 3);
    expect(rules).toBeLessThan(40);
    for (const m of text.matchAll(/\{(\d+)(?:,(\d*))?\}/g)) {
      expect(Number(m[1])).toBeLessThanOrEqual(3);
      if (m[2]) expect(Number(m[2])).toBeLessThanOrEqual(3);
    }
    const r = GbnfRecognizer.fromText(text);
    const top = (max ?? min + 50) + 5;
    for (let n = 0; n <= top; n++) expect(r.accepts("a".repeat(n)), `${n} in {${min},${max ?? ""}}`).toBe(n >= min && (max === undefined || n <= max));
  });

  test.each([
    [0, 1e9],
    [2, 123_456_789],
    [1_000_001, 2_000_000_003],
    [7, 1_000_000_000_000],
    [1e9, undefined],
  ])("{%d,%s} with llama.cpp's blocks of 1000: a few rules, counts llama.cpp accepts", (min, max) => {
    const { rules, text } = repeated(min, max);
    expect(rules).toBeLessThan(40);
    for (const m of text.matchAll(/\{(\d+)(?:,(\d*))?\}/g)) {
      expect(Number(m[1])).toBeLessThanOrEqual(MAX_INLINE_REPETITION);
      if (m[2]) expect(Number(m[2])).toBeLessThanOrEqual(MAX_INLINE_REPETITION);
    }
    const r = GbnfRecognizer.fromText(text);
    if (min <= 2) for (const n of [min, min + 1, 2500]) expect(r.accepts("a".repeat(n)), String(n)).toBe(true);
    if (min > 0) expect(r.accepts("a".repeat(Math.min(min - 1, 3000)))).toBe(false);
  });
});

describe("builder names", () => {
  test("many rules from one hint get consecutive suffixes; a released name is handed out again", () => {
    const b = new GbnfBuilder();
    const names = Array.from({ length: 5000 }, () => b.reserve("x"));
    expect(names[0]).toBe("x");
    expect(names[4999]).toBe("x-4999");
    expect(new Set(names).size).toBe(5000);
    b.release("x-17");
    expect(b.reserve("x")).toBe("x-17");
    expect(b.reserve("x")).toBe("x-5000");
  });
});
