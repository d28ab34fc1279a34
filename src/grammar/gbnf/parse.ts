/**
 * GBNF text → {@link GbnfGrammar}, following llama.cpp's `llama_grammar_parser` (same tokens,
 * escapes, whitespace and newline rules, same "undefined rule" check). Token references
 * (`<[id]>`, `<token>`) need a vocabulary and are rejected here.
 */
import { type GbnfExpr, type GbnfGrammar, type GbnfRule } from "./ast.js";
import type { CodePointRange } from "./charset.js";

export class GbnfSyntaxError extends Error {
  constructor(
    message: string,
    /** Offset in the grammar text (UTF-16 index). */
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = "GbnfSyntaxError";
  }
}

/** Deepest nesting of parenthesized groups the parser accepts (it recurses per group). */
export const MAX_GROUP_NESTING = 256;

const isWordChar = (c: string | undefined): boolean => {
  if (c === undefined || c.length !== 1) return false;
  const x = c.charCodeAt(0);
  return (x >= 0x61 && x <= 0x7a) || (x >= 0x41 && x <= 0x5a) || (x >= 0x30 && x <= 0x39) || x === 0x2d;
};
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";

/** Parses GBNF text. Throws {@link GbnfSyntaxError}. */
export function parseGbnf(text: string): GbnfGrammar {
  let pos = 0;
  let nesting = 0;
  const rules = new Map<string, GbnfExpr>();
  const referenced = new Map<string, number>();

  const fail = (msg: string): never => {
    throw new GbnfSyntaxError(msg, pos);
  };

  const parseSpace = (newlineOk: boolean): void => {
    for (;;) {
      const c = text[pos];
      if (c === " " || c === "\t") pos++;
      else if (c === "#") {
        while (pos < text.length && text[pos] !== "\r" && text[pos] !== "\n") pos++;
      } else if (newlineOk && (c === "\r" || c === "\n")) pos++;
      else return;
    }
  };

  const parseName = (): string => {
    const start = pos;
    while (isWordChar(text[pos])) pos++;
    if (pos === start) fail("expecting name");
    return text.slice(start, pos);
  };

  const parseInt10 = (): number => {
    const start = pos;
    while (isDigit(text[pos])) pos++;
    if (pos === start) fail("expecting integer");
    return Number(text.slice(start, pos));
  };

  const parseHex = (size: number): number => {
    const s = text.slice(pos, pos + size);
    if (s.length !== size || !/^[0-9a-fA-F]+$/.test(s)) fail(`expecting ${size} hex chars`);
    pos += size;
    return parseInt(s, 16);
  };

  const parseChar = (): number => {
    if (pos >= text.length) fail("unexpected end of input");
    if (text[pos] === "\\") {
      const e = text[pos + 1];
      pos += 2;
      switch (e) {
        case "x":
          return parseHex(2);
        case "u":
          return parseHex(4);
        case "U":
          return parseHex(8);
        case "t":
          return 9;
        case "r":
          return 13;
        case "n":
          return 10;
        case "\\":
        case '"':
        case "[":
        case "]":
        case "-":
          return (e as string).codePointAt(0) as number;
        default:
          pos -= 2;
          return fail("unknown escape");
      }
    }
    const cp = text.codePointAt(pos) as number;
    pos += cp > 0xffff ? 2 : 1;
    return cp;
  };

  const parseAlternates = (nested: boolean): GbnfExpr => {
    const options: GbnfExpr[] = [parseSequence(nested)];
    while (text[pos] === "|") {
      pos++;
      parseSpace(true);
      options.push(parseSequence(nested));
    }
    return options.length === 1 ? (options[0] as GbnfExpr) : { type: "alternation", options };
  };

  const parseSequence = (nested: boolean): GbnfExpr => {
    const items: GbnfExpr[] = [];
    // index of the last symbol (a literal counts as one symbol, as in llama.cpp)
    let lastIsSymbol = false;
    const repeat = (min: number, max: number | undefined): void => {
      const last = items[items.length - 1];
      if (!lastIsSymbol || last === undefined) fail("expecting preceding item to */+/?/{");
      items[items.length - 1] = { type: "repetition", item: last as GbnfExpr, min, max };
    };
    while (pos < text.length) {
      const c = text[pos];
      if (c === '"') {
        pos++;
        let s = "";
        while (text[pos] !== '"') {
          if (pos >= text.length) fail("unexpected end of input");
          s += String.fromCodePoint(parseChar());
        }
        pos++;
        parseSpace(nested);
        // an empty literal adds no symbol in llama.cpp
        if (s === "") {
          lastIsSymbol = false;
        } else {
          items.push({ type: "literal", text: s });
          lastIsSymbol = true;
        }
      } else if (c === "[") {
        pos++;
        let negated = false;
        if (text[pos] === "^") {
          pos++;
          negated = true;
        }
        const ranges: CodePointRange[] = [];
        while (text[pos] !== "]") {
          if (pos >= text.length) fail("unexpected end of input");
          const a = parseChar();
          if (text[pos] === "-" && text[pos + 1] !== "]") {
            pos++;
            if (pos >= text.length) fail("unexpected end of input");
            const b = parseChar();
            ranges.push([a, b]);
          } else {
            ranges.push([a, a]);
          }
        }
        pos++;
        parseSpace(nested);
        items.push({ type: "char-class", negated, ranges });
        lastIsSymbol = true;
      } else if (c === "<" || c === "!") {
        fail("token references (<...>) are not supported without a vocabulary");
      } else if (isWordChar(c)) {
        const start = pos;
        const name = parseName();
        if (!referenced.has(name)) referenced.set(name, start);
        parseSpace(nested);
        items.push({ type: "rule-ref", name });
        lastIsSymbol = true;
      } else if (c === "(") {
        if (++nesting > MAX_GROUP_NESTING) fail(`groups nested deeper than ${MAX_GROUP_NESTING}`);
        pos++;
        parseSpace(true);
        const inner = parseAlternates(true);
        nesting--;
        if (text[pos] !== ")") fail("expecting ')'");
        pos++;
        parseSpace(nested);
        // keep groups as a unit so a following repetition applies to the whole group
        items.push(inner.type === "sequence" || inner.type === "alternation" ? inner : { type: "sequence", items: [inner] });
        lastIsSymbol = true;
      } else if (c === ".") {
        pos++;
        parseSpace(nested);
        items.push({ type: "any-char" });
        lastIsSymbol = true;
      } else if (c === "*") {
        pos++;
        parseSpace(nested);
        repeat(0, undefined);
      } else if (c === "+") {
        pos++;
        parseSpace(nested);
        repeat(1, undefined);
      } else if (c === "?") {
        pos++;
        parseSpace(nested);
        repeat(0, 1);
      } else if (c === "{") {
        pos++;
        parseSpace(nested);
        if (!isDigit(text[pos])) fail("expecting an int");
        const min = parseInt10();
        parseSpace(nested);
        let max: number | undefined;
        if (text[pos] === "}") {
          max = min;
          pos++;
          parseSpace(nested);
        } else if (text[pos] === ",") {
          pos++;
          parseSpace(nested);
          if (isDigit(text[pos])) {
            max = parseInt10();
            parseSpace(nested);
          }
          if (text[pos] !== "}") fail("expecting '}'");
          pos++;
          parseSpace(nested);
        } else {
          fail("expecting ','");
        }
        if (min > 2000) fail("number of repetitions exceeds sane defaults");
        // llama.cpp treats a maximum above 2000 as unbounded
        if (max !== undefined && max > 2000) max = undefined;
        if (max !== undefined && max < min) fail("repetition maximum below minimum");
        repeat(min, max);
      } else {
        break;
      }
    }
    return items.length === 1 ? (items[0] as GbnfExpr) : { type: "sequence", items };
  };

  parseSpace(true);
  while (pos < text.length) {
    const name = parseName();
    parseSpace(false);
    if (text.slice(pos, pos + 3) !== "::=") fail("expecting ::=");
    pos += 3;
    parseSpace(true);
    const expr = parseAlternates(false);
    if (text[pos] === "\r") pos += text[pos + 1] === "\n" ? 2 : 1;
    else if (text[pos] === "\n") pos++;
    else if (pos < text.length) fail("expecting newline or end");
    parseSpace(true);
    rules.set(name, expr);
  }
  for (const [name, at] of referenced) {
    if (!rules.has(name)) throw new GbnfSyntaxError(`Undefined rule identifier '${name}'`, at);
  }
  const out: GbnfRule[] = [...rules].map(([name, expr]) => ({ name, expr }));
  return { rules: out };
}

