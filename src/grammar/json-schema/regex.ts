/**
 * The regex subset for JSON Schema `pattern` (ECMAScript syntax with the `u` flag, as ajv
 * compiles it), translated to a grammar over JSON string content.
 *
 * Supported: literals; escapes `\d \D \w \W \s \S \t \n \r \f \v \0 \xHH \uHHHH \u{H…}` and escaped
 * metacharacters; classes `[...]`/`[^...]` with ranges and class escapes; `.`; groups `(...)`,
 * `(?:...)`, `(?<name>...)`; alternation `|`; quantifiers `? * + {n} {n,} {n,m}` (lazy `?` suffix
 * accepted: it does not change the language); `^` only at the very start and `$` only at the very
 * end. Without `^` (`$`) any text may come before (after) the match, as JSON Schema patterns are
 * unanchored. Rejected: backreferences, lookaround, word boundaries, inline flags, and unbounded
 * quantifiers over sub-patterns that can match the empty string.
 */
import { CodePointSet, MAX_CODE_POINT } from "../gbnf/charset.js";

export type RegexNode =
  | { readonly type: "chars"; readonly set: CodePointSet }
  | { readonly type: "sequence"; readonly items: readonly RegexNode[] }
  | { readonly type: "alternation"; readonly options: readonly RegexNode[] }
  | { readonly type: "repetition"; readonly item: RegexNode; readonly min: number; readonly max: number | undefined };

export interface ParsedPattern {
  readonly node: RegexNode;
  readonly anchoredStart: boolean;
  readonly anchoredEnd: boolean;
}

export class RegexSubsetError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = "RegexSubsetError";
  }
}

const DIGITS = CodePointSet.of([[0x30, 0x39]]);
const WORD = CodePointSet.of([
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
]);
/** ECMAScript `\s`: the WhiteSpace and LineTerminator code points, as inclusive ranges. */
export const ECMASCRIPT_SPACE_RANGES: readonly (readonly [number, number])[] = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];

/** ECMAScript `\s` as a set. */
const SPACE = CodePointSet.of(ECMASCRIPT_SPACE_RANGES);
/** `.` without the `s` flag: anything but line terminators. */
const DOT = CodePointSet.fromChars("\n\r\u2028\u2029").complement();
const SYNTAX_CHARS = "^$\\.*+?()[]{}|/-";

/** Deepest nesting of groups in a pattern (the parser and the translation recurse per group). */
export const MAX_PATTERN_NESTING = 64;
/** Longest `{n,m}` quantifier text looked at. */
const QUANTIFIER_WINDOW = 48;

export function isNullable(n: RegexNode): boolean {
  switch (n.type) {
    case "chars":
      return false;
    case "sequence":
      return n.items.every(isNullable);
    case "alternation":
      return n.options.some(isNullable);
    case "repetition":
      return n.min === 0 || isNullable(n.item);
    default:
      return n satisfies never;
  }
}

/** Parses a pattern in the supported subset. Throws {@link RegexSubsetError}. */
export function parsePattern(pattern: string): ParsedPattern {
  const cps = [...pattern].map((c) => c.codePointAt(0) as number);
  let pos = 0;
  const fail = (msg: string): never => {
    throw new RegexSubsetError(`${msg} at offset ${pos} of pattern ${JSON.stringify(pattern)}`, pos);
  };
  const peek = (k = 0): string | undefined => {
    const c = cps[pos + k];
    return c === undefined ? undefined : String.fromCodePoint(c);
  };

  let nesting = 0;
  let anchoredStart = false;
  let anchoredEnd = false;
  if (peek() === "^") {
    anchoredStart = true;
    pos++;
  }
  let end = cps.length;
  if (end > pos && cps[end - 1] === 0x24 /* $ */) {
    // `\$` is a literal: count preceding backslashes
    let bs = 0;
    for (let i = end - 2; i >= 0 && cps[i] === 0x5c; i--) bs++;
    if (bs % 2 === 0) {
      anchoredEnd = true;
      end--;
    }
  }

  const parseHexDigits = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const c = peek();
      if (c === undefined || !/[0-9a-fA-F]/.test(c)) fail("invalid hex escape");
      v = v * 16 + parseInt(c as string, 16);
      pos++;
    }
    return v;
  };

  /** Parses an escape after the backslash; returns a set. `inClass` changes `\b` and `\-`. */
  const parseEscape = (inClass: boolean): CodePointSet => {
    const c = peek();
    if (c === undefined) return fail("pattern ends with a backslash");
    pos++;
    switch (c) {
      case "d":
        return DIGITS;
      case "D":
        return DIGITS.complement();
      case "w":
        return WORD;
      case "W":
        return WORD.complement();
      case "s":
        return SPACE;
      case "S":
        return SPACE.complement();
      case "t":
        return CodePointSet.single(9);
      case "n":
        return CodePointSet.single(10);
      case "r":
        return CodePointSet.single(13);
      case "f":
        return CodePointSet.single(12);
      case "v":
        return CodePointSet.single(11);
      case "0":
        if (peek() !== undefined && /[0-9]/.test(peek() as string)) fail("octal escapes are not supported");
        return CodePointSet.single(0);
      case "x":
        return CodePointSet.single(parseHexDigits(2));
      case "u": {
        if (peek() === "{") {
          pos++;
          const start = pos;
          while (peek() !== undefined && peek() !== "}" && pos - start <= 6) pos++;
          const hex = String.fromCodePoint(...cps.slice(start, pos));
          if (peek() !== "}" || !/^[0-9a-fA-F]{1,6}$/.test(hex)) fail("invalid \\u{...} escape");
          pos++;
          const v = parseInt(hex, 16);
          if (v > MAX_CODE_POINT) fail("code point out of range");
          return CodePointSet.single(v);
        }
        const v = parseHexDigits(4);
        if (v >= 0xd800 && v <= 0xdfff) fail("surrogate escapes are not supported");
        return CodePointSet.single(v);
      }
      case "b":
        if (inClass) return CodePointSet.single(8);
        return fail("word boundaries (\\b) are not supported");
      case "B":
        return fail("word boundaries (\\B) are not supported");
      case "-":
        if (inClass) return CodePointSet.single(0x2d);
        return fail("invalid escape \\-");
      default:
        if (/[1-9]/.test(c) || c === "k") return fail("backreferences are not supported");
        if (c === "p" || c === "P") return fail("Unicode property escapes are not supported");
        if (c === "c") return fail("control escapes (\\c) are not supported");
        if (SYNTAX_CHARS.includes(c)) return CodePointSet.single(c.codePointAt(0) as number);
        return fail(`invalid escape \\${c}`);
    }
  };

  const parseClass = (): CodePointSet => {
    // after "["
    let negated = false;
    if (peek() === "^") {
      negated = true;
      pos++;
    }
    let set = CodePointSet.EMPTY;
    const atom = (): { set: CodePointSet; single: number | undefined } => {
      const c = peek();
      if (c === undefined) return fail("unterminated character class");
      if (c === "\\") {
        pos++;
        const s = parseEscape(true);
        return { set: s, single: s.single };
      }
      if (c === "[") fail("nested classes are not supported");
      pos++;
      const cp = c.codePointAt(0) as number;
      return { set: CodePointSet.single(cp), single: cp };
    };
    while (peek() !== "]") {
      if (pos >= end) fail("unterminated character class");
      const a = atom();
      if (peek() === "-" && peek(1) !== "]" && peek(1) !== undefined) {
        pos++;
        const b = atom();
        if (a.single === undefined || b.single === undefined) fail("class escapes cannot bound a range");
        if ((a.single as number) > (b.single as number)) fail("range out of order in character class");
        set = set.union(CodePointSet.of([[a.single as number, b.single as number]]));
      } else {
        set = set.union(a.set);
      }
    }
    pos++;
    return negated ? set.complement() : set;
  };

  const parseQuantifier = (item: RegexNode): RegexNode => {
    let min: number;
    let max: number | undefined;
    const c = peek();
    if (c === "?") [min, max] = [0, 1];
    else if (c === "*") [min, max] = [0, undefined];
    else if (c === "+") [min, max] = [1, undefined];
    else if (c === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(String.fromCodePoint(...cps.slice(pos, Math.min(end, pos + QUANTIFIER_WINDOW))));
      if (m === null) return fail("invalid quantifier");
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === "" ? undefined : Number(m[3]);
      if (max !== undefined && max < min) fail("quantifier range out of order");
      pos += (m[0] as string).length - 1;
    } else {
      return item;
    }
    pos++;
    if (peek() === "?") pos++; // lazy: same language
    if (max === undefined && isNullable(item)) fail("unbounded quantifier over a sub-pattern that can match the empty string");
    const node: RegexNode = { type: "repetition", item, min, max };
    const next = peek();
    if (pos < end && (next === "?" || next === "*" || next === "+" || next === "{")) fail("nothing to repeat");
    return node;
  };

  const parseAlternation = (): RegexNode => {
    const options: RegexNode[] = [parseSequence()];
    while (pos < end && peek() === "|") {
      pos++;
      options.push(parseSequence());
    }
    return options.length === 1 ? (options[0] as RegexNode) : { type: "alternation", options };
  };

  const parseSequence = (): RegexNode => {
    const items: RegexNode[] = [];
    while (pos < end) {
      const c = peek() as string;
      if (c === "|" || c === ")") break;
      let atom: RegexNode;
      if (c === "(") {
        if (++nesting > MAX_PATTERN_NESTING) fail(`groups nested deeper than ${MAX_PATTERN_NESTING}`);
        pos++;
        if (peek() === "?") {
          if (peek(1) === ":") pos += 2;
          else if (peek(1) === "<" && peek(2) !== "=" && peek(2) !== "!") {
            pos += 2;
            while (pos < end && peek() !== ">") pos++;
            if (peek() !== ">") fail("unterminated group name");
            pos++;
          } else return fail("lookaround and inline flags are not supported");
        }
        atom = parseAlternation();
        nesting--;
        if (peek() !== ")") fail("missing )");
        pos++;
      } else if (c === "[") {
        pos++;
        atom = { type: "chars", set: parseClass() };
      } else if (c === ".") {
        pos++;
        atom = { type: "chars", set: DOT };
      } else if (c === "\\") {
        pos++;
        atom = { type: "chars", set: parseEscape(false) };
      } else if (c === "^" || c === "$") {
        return fail(`anchor ${c} is only supported at the ${c === "^" ? "start" : "end"} of the pattern`);
      } else if (c === "*" || c === "+" || c === "?" || (c === "{" && /^\{\d/.test(String.fromCodePoint(...cps.slice(pos, Math.min(end, pos + 2)))))) {
        return fail("nothing to repeat");
      } else if (c === "]" || c === "}" || c === "{") {
        return fail(`lone ${c} is not allowed with the u flag`);
      } else {
        pos++;
        atom = { type: "chars", set: CodePointSet.single(c.codePointAt(0) as number) };
      }
      items.push(parseQuantifier(atom));
    }
    return items.length === 1 ? (items[0] as RegexNode) : { type: "sequence", items };
  };

  const node = parseAlternation();
  if (pos < end) fail(peek() === ")" ? "unmatched )" : "unexpected character");
  return { node, anchoredStart, anchoredEnd };
}
