import { describe, expect, it } from "vitest";
import { mulberry32 } from "../util/random.js";
import { UnsupportedRegexError, compileLinearRegExp, linearRegExpEngine, translateToRe2 } from "./linear-regexp.js";

/** Same answer as ECMAScript's `new RegExp(pattern, "u").test(input)` (safe patterns only). */
function expectParity(pattern: string, inputs: readonly string[]): void {
  const native = new RegExp(pattern, "u");
  const linear = compileLinearRegExp(pattern);
  for (const input of inputs) expect(linear.test(input), `${JSON.stringify(pattern)} on ${JSON.stringify(input)}`).toBe(native.test(input));
}

describe("compileLinearRegExp: ECMAScript u-mode semantics on RE2", () => {
  it("matches unanchored, with ^ and $ at the ends of the input only", () => {
    expectParity("b", ["abc", "ac", ""]);
    expectParity("^ab", ["abc", "cab", "\nab"]);
    expectParity("ab$", ["cab", "ab\n", "abc"]);
    expectParity("^a|b$", ["ax", "xb", "xa", "bx"]);
    expectParity("^$", ["", "\n"]);
  });

  it("keeps ECMAScript's classes where RE2's differ: ., \\s, \\S, [] and [^]", () => {
    const spaces = ["\t", "\n", "\v", "\f", "\r", " ", "\u00a0", "\u1680", "\u2000", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\ufeff", "x", "\u200b", "\u0085"];
    expectParity("^\\s$", spaces);
    expectParity("^\\S$", spaces);
    expectParity("^[\\s]$", spaces);
    expectParity("^[\\S]$", spaces);
    expectParity("^[^\\s]$", spaces);
    expectParity("^[\\sx]$", spaces);
    expectParity("^.$", ["a", "\n", "\r", "\u2028", "\u2029", "\u0085", "😀", "\t"]);
    expectParity("^[]$", ["", "a"]);
    expectParity("a[]", ["a", "ab"]);
    expectParity("^[^]$", ["a", "\n", "😀", ""]);
    expectParity("^[\\s\\S]+$", ["a\nb", ""]);
  });

  it("treats literals literally (no RE2-only syntax), escapes and code points", () => {
    expectParity("^[[:alpha:\\]]$", ["a", "[", ":", "]", "[:", "b"]);
    expectParity("^[[:alpha:]+$", ["[:alpha:", "b"]);
    expectParity("^\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\/\\\\\\^\\$$", [".*+?()[]{}|/\\^$", "x"]);
    expectParity("^a\\/b$", ["a/b"]);
    expectParity("^[\\b]$", ["\b", "b"]);
    expectParity("^[a\\-z]$", ["-", "b", "a", "z"]);
    expectParity("^[a-]$", ["-", "a", "b"]);
    expectParity("^[-a]$", ["-", "a"]);
    expectParity("^[\\]]$", ["]"]);
    expectParity("^\\0$", ["\0", "0"]);
    expectParity("^\\cJ\\x41\\u0042\\u{43}$", ["\nABC"]);
    expectParity("^\\t\\n\\v\\f\\r$", ["\t\n\v\f\r"]);
    expectParity("^\\uD83D\\uDE00$", ["😀", "\uD83D"]);
    expectParity("^\\u{1F600}$", ["😀"]);
    expectParity("^😀+$", ["😀😀", "\uDE00"]);
    expectParity("^[😀-😂]$", ["😁", "😃"]);
    expectParity("^[\\u0000-\\u001f]$", ["\u0001", " "]);
  });

  it("word characters, digits and boundaries are ASCII, as in u-mode without i", () => {
    expectParity("^\\w+$", ["abc_09", "é", "ab-c"]);
    expectParity("^\\W$", ["é", "a", "-"]);
    expectParity("^\\d{2,3}$", ["12", "123", "1234", "١٢"]);
    expectParity("^[\\D]$", ["a", "1"]);
    expectParity("\\bcat\\b", ["a cat here", "concat", "cat", "écat"]);
    expectParity("\\Bcat", ["concat", "cat"]);
  });

  it("groups, alternation, quantifiers (greedy and lazy), Unicode properties", () => {
    expectParity("^(?:ab|cd)+$", ["abcd", "abc", ""]);
    expectParity("^(ab){2}$", ["abab", "ab"]);
    expectParity("^(?<year>\\d{4})-(?<m>\\d{2})$", ["2024-02", "24-02"]);
    expectParity("^a{2,}?b*?c??$", ["aab", "aaaabbbc", "ab"]);
    expectParity("^a{0}$", ["", "a"]);
    expectParity("^a{1000}$", ["a".repeat(1000), "a".repeat(999)]);
    // RE2 counts to 1000: larger counts are unrolled (the grammar converter accepts them too)
    expectParity("^a{1500}$", ["a".repeat(1500), "a".repeat(1499), "a".repeat(1501)]);
    expectParity("^x[0-9]{2,2500}?y$", [`x${"1".repeat(2500)}y`, `x${"1".repeat(2501)}y`, "x1y", "x12y"]);
    expectParity("^(?:ab){1001,}$", ["ab".repeat(1001), "ab".repeat(1000), `${"ab".repeat(1200)}a`]);
    expectParity("^(?:a|bc){999,1001}$", ["a".repeat(1001), "bc".repeat(999), "a".repeat(998), "a".repeat(1002)]);
    expectParity("^\\p{L}+$", ["Ωmega", "abc1"]);
    expectParity("^\\P{L}+$", ["123", "a1"]);
    expectParity("^\\p{Lu}\\p{Script=Greek}\\p{sc=Latin}\\p{General_Category=Nd}$", ["AΩa1", "aΩa1"]);
    expectParity("^[\\p{N}_]+$", ["12_", "a"]);
  });

  it("agrees with RegExp on seeded random patterns and inputs", () => {
    const rand = mulberry32(16);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const atoms = ["a", "b", ".", "\\s", "\\S", "\\d", "\\w", "\\W", "\\b", "[ab]", "[^a]", "[a-c\\d]", "[^\\d\\s]", "\\.", " ", "\\n", "\\u00e9", "é", "[^\\s]"];
    const gen = (depth: number): string => {
      const r = rand();
      if (depth > 2 || r < 0.4) {
        const atom = pick(atoms);
        return atom === "\\b" ? atom : atom + pick(["", "", "*", "+", "?", "{1,2}", "*?", "{2}"]); // an assertion takes no quantifier
      }
      if (r < 0.6) return `(?:${gen(depth + 1)}|${gen(depth + 1)})${pick(["", "*", "+", "?"])}`;
      return gen(depth + 1) + gen(depth + 1);
    };
    const alphabet = ["a", "b", "c", "1", " ", "\n", ".", "é", "\u00a0", "_"];
    for (let n = 0; n < 300; n++) {
      const pattern = pick(["", "^"]) + gen(0) + pick(["", "$"]);
      const inputs = Array.from({ length: 8 }, () => Array.from({ length: Math.floor(rand() * 6) }, () => pick(alphabet)).join(""));
      expectParity(pattern, inputs);
    }
  });

  it("runs in linear time where a backtracking RegExp takes exponential time", () => {
    // Natively, 30 a's and a "!" take minutes (each extra character doubles it); measured here: ~20 ms.
    const input = `${"a".repeat(20_000)}!`;
    const start = performance.now();
    for (const pattern of ["^(a+)+$", "^(a|a)*$", "^(a*)*b$", "^(\\w+\\s?)*$"]) expect(compileLinearRegExp(pattern).test(input)).toBe(false);
    expect(performance.now() - start).toBeLessThan(5_000);
  });

  it("refuses what an automaton cannot do, naming it", () => {
    const cases: Array<[string, RegExp]> = [
      ["^(?=a)(a+)+$", /lookahead \(\?=…\) \(at offset 1\)/],
      ["^(?!a)b", /negative lookahead/],
      ["(?<=a)b", /lookbehind/],
      ["(?<!a)b", /negative lookbehind/],
      ["(a)\\1", /backreference \\1/],
      ["(?<x>a)\\k<x>", /backreference \\k/],
      ["a{10001}", /repetition count above 10000/],
      ["a{0,20000}", /repetition count above 10000/],
      ["(?:a{100}){100}", /RE2\) rejects it/],
      ["\\p{Script_Extensions=Greek}", /Unicode property Script_Extensions/],
    ];
    for (const [pattern, reason] of cases) {
      let error: unknown;
      try {
        compileLinearRegExp(pattern);
      } catch (e) {
        error = e;
      }
      expect(error, pattern).toBeInstanceOf(UnsupportedRegexError);
      expect((error as UnsupportedRegexError).pattern).toBe(pattern);
      expect((error as UnsupportedRegexError).reason, pattern).toMatch(reason);
    }
  });

  it("throws SyntaxError for an invalid ECMAScript regex, as RegExp does", () => {
    for (const bad of ["(", "a{2,1}", "\\", "[b-a]", "a**", "\\-", "{1}"]) expect(() => compileLinearRegExp(bad), bad).toThrow(SyntaxError);
  });

  it("emits literals as \\x{…} and keeps structure", () => {
    expect(translateToRe2("^a.b(c|d)[e-f]{2}$")).toBe("^a[^\\x{a}\\x{d}\\x{2028}\\x{2029}]b(?:c|d)[e-f]{2}$");
    expect(translateToRe2("[[:x:]")).toBe("[\\x{5b}\\x{3a}x\\x{3a}]");
  });

  it("is an ajv regExp engine whose instances name their pattern (ajv keys shared regexes by toString)", () => {
    expect(linearRegExpEngine("^a", "u").toString()).not.toBe(linearRegExpEngine("^b", "u").toString());
    expect(linearRegExpEngine("^a", "u").test("ab")).toBe(true);
    expect(typeof linearRegExpEngine.code).toBe("string");
  });
});
