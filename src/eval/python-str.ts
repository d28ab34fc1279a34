/**
 * Python `str` semantics that the old lm-evaluation-harness relies on. JavaScript's `trim`, `\s` and
 * `toUpperCase` differ from Python's `strip`, `isspace` and `capitalize` on a handful of characters
 * (U+001C–U+001F, U+0085, U+FEFF, title-case digraphs), and `String.length` counts UTF-16 units where
 * Python's `len` counts code points. Pure; no dependencies.
 */

/**
 * Python's whitespace set (`_PyUnicode_IsWhitespace`, used by `str.isspace`, `strip`, `split`):
 * bidirectional class WS, B or S, or general category Zs.
 */
const PY_WHITESPACE = new Set<number>([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002,
  0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

/** Python `ch.isspace()` for one code point. */
export function pyIsSpace(codePoint: number): boolean {
  return PY_WHITESPACE.has(codePoint);
}

/** Python `s.rstrip()` (no argument): removes trailing Python whitespace. */
export function pyRstrip(s: string): string {
  let end = s.length;
  // Every Python whitespace character is in the BMP, so UTF-16 units can be tested one by one.
  while (end > 0 && PY_WHITESPACE.has(s.charCodeAt(end - 1))) end--;
  return s.slice(0, end);
}

/** Python `s.lstrip()` (no argument). */
export function pyLstrip(s: string): string {
  let start = 0;
  while (start < s.length && PY_WHITESPACE.has(s.charCodeAt(start))) start++;
  return s.slice(start);
}

/** Python `s.strip()` (no argument). */
export function pyStrip(s: string): string {
  return pyLstrip(pyRstrip(s));
}

/** Python `len(s)`: the number of Unicode code points (a lone surrogate counts as one). */
export function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Title-case mappings where Python's `str.title()` of one character differs from `toUpperCase()`. */
const TITLE_CASE: ReadonlyMap<string, string> = new Map([
  ["\u01c4", "\u01c5"],
  ["\u01c5", "\u01c5"],
  ["\u01c6", "\u01c5"],
  ["\u01c7", "\u01c8"],
  ["\u01c8", "\u01c8"],
  ["\u01c9", "\u01c8"],
  ["\u01ca", "\u01cb"],
  ["\u01cb", "\u01cb"],
  ["\u01cc", "\u01cb"],
  ["\u01f1", "\u01f2"],
  ["\u01f2", "\u01f2"],
  ["\u01f3", "\u01f2"],
  ["\u00df", "Ss"],
  ["\ufb00", "Ff"],
  ["\ufb01", "Fi"],
  ["\ufb02", "Fl"],
  ["\ufb03", "Ffi"],
  ["\ufb04", "Ffl"],
  ["\ufb05", "St"],
  ["\ufb06", "St"],
]);

/**
 * Python 3.8+ `s.capitalize()`: the first character in title case, the rest in lower case
 * (full Unicode case mappings, as `toLowerCase` does, final sigma included).
 */
export function pyCapitalize(s: string): string {
  if (s === "") return s;
  const first = String.fromCodePoint(s.codePointAt(0) as number);
  const rest = s.slice(first.length);
  return (TITLE_CASE.get(first) ?? first.toUpperCase()) + rest.toLowerCase();
}
