/**
 * JSON Schema `pattern`s matched in linear time: an ECMAScript (`u`-mode) regex is translated to the
 * RE2 syntax and run by `re2js` (a pure-JS port of RE2: an automaton, never backtracking), so no
 * pattern can stall the event loop on model output (docs/decisions/0053).
 *
 * The translation keeps ECMAScript's meaning where RE2's differs: `.` excludes `\n \r \u2028 \u2029`,
 * `\s`/`\S` are ECMAScript's whitespace sets, `[]` matches nothing and `[^]` anything, `\uHHHH` and
 * surrogate pairs are code points, literals are emitted as `\x{…}` so RE2's extra syntax (`[[:alpha:]]`,
 * `\Q…\E`) cannot arise. What an automaton cannot do is refused with {@link UnsupportedRegexError}:
 * lookahead, lookbehind, backreferences, inline modifiers, and what RE2 itself refuses (a repetition
 * count above 1000, nested counts whose product is too large, Unicode properties RE2 lacks).
 */
import { RE2JS } from "re2js";
import { ECMASCRIPT_SPACE_RANGES } from "../grammar/json-schema/regex.js";

/** A valid ECMAScript regex that cannot be matched by the linear-time engine. */
export class UnsupportedRegexError extends Error {
  constructor(
    readonly pattern: string,
    /** What is unsupported: `lookahead (?=…)`, `backreference \1`, … */
    readonly reason: string,
  ) {
    super(`unsupported pattern ${JSON.stringify(pattern)}: ${reason}`);
    this.name = "UnsupportedRegexError";
  }
}

/** What ajv needs of a regex (its `RegExpLike`), plus a `toString` that identifies the pattern. */
export interface LinearRegExp {
  test(input: string): boolean;
  toString(): string;
}

/** RE2 counts repetitions up to 1000 (and the product of nested counts up to 1000). */
const MAX_REPEAT = 1000;
/** Larger counts are unrolled into repetitions of at most 1000, up to this count. */
const MAX_UNROLLED_REPEAT = 10_000;
const MAX_CODE_POINT = 0x10ffff;

type Range = readonly [number, number];

/** ECMAScript WhiteSpace and LineTerminator: `\s`. */
const SPACE: readonly Range[] = ECMASCRIPT_SPACE_RANGES;

function complement(ranges: readonly Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of ranges) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

const hex = (cp: number): string => `\\x{${cp.toString(16)}}`;
const isAlnum = (cp: number): boolean => (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
/** One code point as an RE2 literal, valid inside and outside a class. */
const literal = (cp: number): string => (isAlnum(cp) ? String.fromCharCode(cp) : hex(cp));
const rangeText = (ranges: readonly Range[]): string => ranges.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join("");

const SPACE_TEXT = rangeText(SPACE);
const NOT_SPACE_TEXT = rangeText(complement(SPACE));
/** `.` without the `s` flag: any code point but a line terminator. */
const DOT = `[^${hex(0x0a)}${hex(0x0d)}${hex(0x2028)}${hex(0x2029)}]`;
const ANYTHING = `[${hex(0)}-${hex(MAX_CODE_POINT)}]`;
const NOTHING = `[^${hex(0)}-${hex(MAX_CODE_POINT)}]`;

/** A class atom: one code point (may bound a range) or a set (`\d`, `\p{L}`, …). */
type ClassAtom = { readonly cp: number } | { readonly set: string };

/**
 * Translate a `u`-mode ECMAScript pattern (already known to be valid: `new RegExp(source, "u")`
 * accepted it) to RE2 syntax. Throws {@link UnsupportedRegexError}.
 */
export function translateToRe2(source: string): string {
  let i = 0;
  const unsupported = (reason: string): never => {
    throw new UnsupportedRegexError(source, `${reason} (at offset ${i}); the linear-time matcher supports no lookaround or backreferences`);
  };
  const codePointHere = (): number => {
    const cp = source.codePointAt(i) as number;
    i += cp > 0xffff ? 2 : 1;
    return cp;
  };
  const hexDigits = (from: number, count: number): number | undefined => {
    const text = source.slice(from, from + count);
    return text.length === count && /^[0-9a-fA-F]+$/.test(text) ? Number.parseInt(text, 16) : undefined;
  };

  /** A CharacterEscape after `\` (i at the backslash): its code point. */
  const characterEscape = (): number => {
    const c = source[i + 1] as string;
    switch (c) {
      case "f":
        i += 2;
        return 0x0c;
      case "n":
        i += 2;
        return 0x0a;
      case "r":
        i += 2;
        return 0x0d;
      case "t":
        i += 2;
        return 0x09;
      case "v":
        i += 2;
        return 0x0b;
      case "0":
        i += 2;
        return 0;
      case "c": {
        const letter = source.charCodeAt(i + 2);
        i += 3;
        return letter % 32;
      }
      case "x": {
        const cp = hexDigits(i + 2, 2) ?? 0;
        i += 4;
        return cp;
      }
      case "u": {
        if (source[i + 2] === "{") {
          const end = source.indexOf("}", i + 3);
          const cp = Number.parseInt(source.slice(i + 3, end), 16);
          i = end + 1;
          return cp;
        }
        const lead = hexDigits(i + 2, 4) ?? 0;
        i += 6;
        if (lead >= 0xd800 && lead <= 0xdbff && source.startsWith("\\u", i)) {
          const trail = hexDigits(i + 2, 4);
          if (trail !== undefined && trail >= 0xdc00 && trail <= 0xdfff) {
            i += 6;
            return (lead - 0xd800) * 0x400 + (trail - 0xdc00) + 0x10000;
          }
        }
        return lead;
      }
      default:
        // IdentityEscape: a syntax character, `/` (or `-` in a class).
        i += 1;
        return codePointHere();
    }
  };

  /** `\p{…}` / `\P{…}` (i at the backslash). */
  const property = (): string => {
    const negated = source[i + 1] === "P";
    const end = source.indexOf("}", i + 3);
    const body = source.slice(i + 3, end);
    const eq = body.indexOf("=");
    let name = body;
    if (eq >= 0) {
      const key = body.slice(0, eq);
      if (!["General_Category", "gc", "Script", "sc"].includes(key)) unsupported(`the Unicode property ${key}`);
      name = body.slice(eq + 1);
    }
    i = end + 1;
    return `\\${negated ? "P" : "p"}{${name}}`;
  };

  /** An AtomEscape outside a class (i at the backslash). */
  const atomEscape = (): string => {
    const c = source[i + 1] as string;
    switch (c) {
      case "d":
      case "D":
      case "w":
      case "W":
      case "b":
      case "B":
        i += 2;
        return `\\${c}`;
      case "s":
        i += 2;
        return `[${SPACE_TEXT}]`;
      case "S":
        i += 2;
        return `[^${SPACE_TEXT}]`;
      case "p":
      case "P":
        return property();
      case "k":
        return unsupported("the backreference \\k<…>");
      default:
        if (c >= "1" && c <= "9") return unsupported(`the backreference \\${c}`);
        return literal(characterEscape());
    }
  };

  const classAtom = (): ClassAtom => {
    if (source[i] !== "\\") return { cp: codePointHere() };
    const c = source[i + 1] as string;
    switch (c) {
      case "d":
      case "D":
      case "w":
      case "W":
        i += 2;
        return { set: `\\${c}` };
      case "s":
        i += 2;
        return { set: SPACE_TEXT };
      case "S":
        i += 2;
        return { set: NOT_SPACE_TEXT };
      case "p":
      case "P":
        return { set: property() };
      case "b":
        i += 2;
        return { cp: 0x08 };
      case "-":
        i += 2;
        return { cp: 0x2d };
      default:
        return { cp: characterEscape() };
    }
  };

  const characterClass = (): string => {
    i++; // [
    const negated = source[i] === "^";
    if (negated) i++;
    const items: string[] = [];
    while (i < source.length && source[i] !== "]") {
      const first = classAtom();
      if ("cp" in first && source[i] === "-" && source[i + 1] !== "]" && i + 1 < source.length) {
        i++; // -
        const last = classAtom();
        // u-mode forbids a set as a range bound, so `last` is a code point.
        items.push(`${literal(first.cp)}-${"cp" in last ? literal(last.cp) : last.set}`);
      } else {
        items.push("cp" in first ? literal(first.cp) : first.set);
      }
    }
    i++; // ]
    if (items.length === 0) return negated ? ANYTHING : NOTHING;
    return `[${negated ? "^" : ""}${items.join("")}]`;
  };

  const group = (): string => {
    if (source.startsWith("(?:", i)) {
      i += 3;
      return "(?:";
    }
    if (source.startsWith("(?=", i)) return unsupported("the lookahead (?=…)");
    if (source.startsWith("(?!", i)) return unsupported("the negative lookahead (?!…)");
    if (source.startsWith("(?<=", i)) return unsupported("the lookbehind (?<=…)");
    if (source.startsWith("(?<!", i)) return unsupported("the negative lookbehind (?<!…)");
    if (source.startsWith("(?<", i)) {
      i = source.indexOf(">", i) + 1; // a named group: no captures are needed
      return "(?:";
    }
    if (source.startsWith("(?", i)) return unsupported("the inline modifier group (?…)");
    i++;
    return "(?:";
  };

  let out = "";
  /** Where the atom a quantifier would apply to starts in `out`. */
  let atomStart = 0;
  const groupStarts: number[] = [];

  /** `{n}`, `{n,}`, `{n,m}` (lazy `?` suffix included): counts above RE2's 1000 are unrolled. */
  const braces = (): void => {
    const m = /^\{(\d+)(,(\d*))?\}(\??)/.exec(source.slice(i));
    if (m === null) return unsupported("a malformed repetition"); // not reachable for a valid u-mode pattern
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === "" ? undefined : Number(m[3]);
    i += m[0].length;
    if (Math.max(min, max ?? 0) > MAX_UNROLLED_REPEAT) unsupported(`a repetition count above ${MAX_UNROLLED_REPEAT}`);
    if (min <= MAX_REPEAT && (max ?? 0) <= MAX_REPEAT) {
      out += `${m[2] === undefined ? `{${min}}` : max === undefined ? `{${min},}` : `{${min},${max}}`}${m[4] ?? ""}`;
      return;
    }
    // RE2 refuses counts above 1000 (to bound its program): the same language as a sequence of
    // repetitions of at most 1000 each (laziness does not change what `test` answers).
    const atom = out.slice(atomStart);
    const parts: string[] = [];
    let left = min;
    for (; left > MAX_REPEAT; left -= MAX_REPEAT) parts.push(`${atom}{${MAX_REPEAT}}`);
    if (left > 0) parts.push(`${atom}{${left}}`);
    if (max === undefined) parts.push(`${atom}*`);
    else for (let extra = max - min; extra > 0; extra -= MAX_REPEAT) parts.push(`${atom}{0,${Math.min(extra, MAX_REPEAT)}}`);
    out = `${out.slice(0, atomStart)}(?:${parts.join("")})`;
  };

  while (i < source.length) {
    const c = source[i] as string;
    switch (c) {
      case "{":
        braces();
        continue;
      case "^":
      case "$":
      case "|":
      case "*":
      case "+":
      case "?":
        out += c;
        i++;
        continue;
      case "(": {
        groupStarts.push(out.length);
        out += group();
        continue;
      }
      case ")":
        out += c;
        i++;
        atomStart = groupStarts.pop() ?? 0;
        continue;
    }
    atomStart = out.length;
    switch (c) {
      case "\\":
        out += atomEscape();
        break;
      case "[":
        out += characterClass();
        break;
      case ".":
        out += DOT;
        i++;
        break;
      default:
        out += literal(codePointHere());
    }
  }
  return out;
}

/**
 * Compile an ECMAScript pattern (`u` flag semantics, unanchored `test` like `RegExp.prototype.test`)
 * for linear-time matching. Throws `SyntaxError` for an invalid ECMAScript regex and
 * {@link UnsupportedRegexError} for one the engine cannot run.
 */
export function compileLinearRegExp(pattern: string): LinearRegExp {
  new RegExp(pattern, "u"); // syntax check only: compiling is linear, only matching can backtrack
  const translated = translateToRe2(pattern);
  let re: RE2JS;
  try {
    re = RE2JS.compile(translated);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new UnsupportedRegexError(pattern, `the linear-time matcher (RE2) rejects it: ${detail}`);
  }
  const key = `linear:/${pattern}/u`;
  return { test: (input) => re.test(input), toString: () => key };
}

/**
 * ajv's `code.regExp` option: every `pattern`, `patternProperties` key and `propertyNames.pattern`
 * compiled by ajv goes through this. The `u` argument is ignored: patterns always get `u`-mode
 * semantics (ajv's default, `unicodeRegExp: true`).
 */
export const linearRegExpEngine = Object.assign((pattern: string, _u: string): LinearRegExp => compileLinearRegExp(pattern), {
  /** Used by ajv only for standalone code, which Talaria never generates. */
  code: "linearRegExpEngine",
});
