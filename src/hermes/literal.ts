/**
 * Parsers for tool-call payloads: strict JSON and Python literals (what `ast.literal_eval`
 * accepts: dict, list, tuple, str, int, float, True/False/None, unary minus), both producing
 * ordered values (objects as `Map`, so key order survives, integer-like keys included).
 *
 * Hand-written rather than `JSON.parse` because we need (a) key order for the arguments string,
 * (b) a sequence of whitespace-separated values in one payload and (c) the Python fallback, with
 * one grammar; see docs/decisions/0032-tool-call-parser.md.
 */
import { PyFloat } from "./python-json.js";

/** A parsed value: objects are `Map`s in source order; Python floats stay distinguishable. */
export type LiteralValue = null | boolean | number | PyFloat | string | LiteralValue[] | Map<string, LiteralValue>;

export type LiteralSyntax = "json" | "python";

export class LiteralSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = "LiteralSyntaxError";
  }
}

const JSON_WS = /[ \t\n\r]/;
const PY_WS = /[ \t\n\r\f\v]/;

class Parser {
  pos = 0;
  constructor(
    readonly text: string,
    readonly syntax: LiteralSyntax,
  ) {}

  fail(message: string): never {
    throw new LiteralSyntaxError(message, this.pos);
  }

  skipWs(): void {
    const ws = this.syntax === "json" ? JSON_WS : PY_WS;
    while (this.pos < this.text.length && ws.test(this.text[this.pos] as string)) this.pos++;
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  value(depth = 0): LiteralValue {
    if (depth > 512) this.fail("nesting too deep");
    this.skipWs();
    const ch = this.text[this.pos];
    if (ch === undefined) this.fail("unexpected end of input");
    if (ch === "{") return this.object(depth);
    if (ch === "[") return this.array("]", depth);
    if (ch === "(" && this.syntax === "python") return this.array(")", depth);
    if (ch === '"' || (ch === "'" && this.syntax === "python")) return this.string();
    if (this.syntax === "python" && /[rRuUbB]/.test(ch) && /['"]/.test(this.text[this.pos + 1] ?? "")) {
      return this.string();
    }
    if (ch === "-" || ch === "+" || /[0-9.]/.test(ch)) return this.number();
    const word = /^[A-Za-z_]+/.exec(this.text.slice(this.pos, this.pos + 16))?.[0] ?? "";
    const constants: Record<string, LiteralValue> =
      this.syntax === "json" ? { true: true, false: false, null: null } : { True: true, False: false, None: null };
    if (word !== "" && Object.hasOwn(constants, word)) {
      this.pos += word.length;
      return constants[word] as LiteralValue;
    }
    return this.fail(`unexpected ${JSON.stringify(ch)}`);
  }

  object(depth: number): Map<string, LiteralValue> {
    this.pos++; // {
    const map = new Map<string, LiteralValue>();
    this.skipWs();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return map;
    }
    for (;;) {
      this.skipWs();
      const keyValue = this.value(depth + 1);
      const key = dictKey(keyValue, this);
      this.skipWs();
      if (this.text[this.pos] !== ":") this.fail("expected ':'");
      this.pos++;
      const item = this.value(depth + 1);
      map.set(key, item); // a repeated key keeps its first position and its last value (Python and JSON.parse agree)
      this.skipWs();
      const sep = this.text[this.pos];
      if (sep === ",") {
        this.pos++;
        this.skipWs();
        if (this.syntax === "python" && this.text[this.pos] === "}") {
          this.pos++;
          return map;
        }
        continue;
      }
      if (sep === "}") {
        this.pos++;
        return map;
      }
      this.fail("expected ',' or '}'");
    }
  }

  array(close: "]" | ")", depth: number): LiteralValue {
    this.pos++;
    const items: LiteralValue[] = [];
    let sawComma = false;
    this.skipWs();
    if (this.text[this.pos] === close) {
      this.pos++;
      return items;
    }
    for (;;) {
      items.push(this.value(depth + 1));
      this.skipWs();
      const sep = this.text[this.pos];
      if (sep === ",") {
        this.pos++;
        sawComma = true;
        this.skipWs();
        if (this.syntax === "python" && this.text[this.pos] === close) {
          this.pos++;
          return items;
        }
        continue;
      }
      if (sep === close) {
        this.pos++;
        // `(x)` is just x in Python; only a comma makes a tuple (kept as a list).
        if (close === ")" && !sawComma && items.length === 1) return items[0] as LiteralValue;
        return items;
      }
      this.fail(`expected ',' or '${close}'`);
    }
  }

  string(): string {
    if (this.syntax === "json") return this.jsonString();
    let raw = false;
    while (/[rRuUbB]/.test(this.text[this.pos] ?? "")) {
      if (/[bB]/.test(this.text[this.pos] as string)) this.fail("bytes literals are not supported");
      if (/[rR]/.test(this.text[this.pos] as string)) raw = true;
      this.pos++;
    }
    const quote = this.text[this.pos] as string;
    const triple = this.text.startsWith(quote.repeat(3), this.pos);
    const delim = triple ? quote.repeat(3) : quote;
    this.pos += delim.length;
    let out = "";
    for (;;) {
      if (this.atEnd()) this.fail("unterminated string");
      if (this.text.startsWith(delim, this.pos)) {
        this.pos += delim.length;
        break;
      }
      const ch = this.text[this.pos] as string;
      if (!triple && ch === "\n") this.fail("newline in string");
      if (ch === "\\") {
        const next = this.text[this.pos + 1];
        if (next === undefined) this.fail("unterminated string");
        if (raw) {
          out += ch + next;
          this.pos += 2;
          continue;
        }
        this.pos += 2;
        out += this.pythonEscape(next);
        continue;
      }
      out += ch;
      this.pos++;
    }
    // Adjacent string literals concatenate in Python ('a' 'b').
    const save = this.pos;
    this.skipWs();
    const next = this.text[this.pos];
    if (next === "'" || next === '"') return out + this.string();
    this.pos = save;
    return out;
  }

  pythonEscape(next: string): string {
    const simple: Record<string, string> = {
      "\n": "",
      "\\": "\\",
      "'": "'",
      '"': '"',
      a: "\x07",
      b: "\b",
      f: "\f",
      n: "\n",
      r: "\r",
      t: "\t",
      v: "\v",
    };
    if (Object.hasOwn(simple, next)) return simple[next] as string;
    const hexLen = next === "x" ? 2 : next === "u" ? 4 : next === "U" ? 8 : 0;
    if (hexLen > 0) {
      const hex = this.text.slice(this.pos, this.pos + hexLen);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex)) this.fail("bad escape");
      this.pos += hexLen;
      return String.fromCodePoint(parseInt(hex, 16));
    }
    if (/[0-7]/.test(next)) {
      let digits = next;
      while (digits.length < 3 && /[0-7]/.test(this.text[this.pos] ?? "")) digits += this.text[this.pos++];
      return String.fromCodePoint(parseInt(digits, 8));
    }
    // Unknown escapes keep the backslash, as Python does.
    return "\\" + next;
  }

  jsonString(): string {
    const start = this.pos;
    this.pos++;
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === undefined) this.fail("unterminated string");
      if (ch === '"') break;
      if (ch === "\\") {
        const next = this.text[this.pos + 1];
        if (next === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) this.fail("bad \\u escape");
          this.pos += 6;
        } else if (next !== undefined && '"\\/bfnrt'.includes(next)) {
          this.pos += 2;
        } else {
          this.fail("bad escape");
        }
        continue;
      }
      if (ch.charCodeAt(0) < 0x20) this.fail("control character in string");
      this.pos++;
    }
    this.pos++;
    return JSON.parse(this.text.slice(start, this.pos)) as string;
  }

  number(): number | PyFloat {
    const rest = this.text.slice(this.pos);
    if (this.syntax === "json") {
      const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(rest);
      if (!m) this.fail("bad number");
      this.pos += m[0].length;
      const n = Number(m[0]);
      return m[2] !== undefined || m[3] !== undefined ? new PyFloat(n) : n;
    }
    // Python: unary signs, then int (decimal, 0x, 0o, 0b, underscores) or float.
    let sign = 1;
    let i = 0;
    while (rest[i] === "-" || rest[i] === "+" || (i > 0 && PY_WS.test(rest[i] ?? ""))) {
      if (rest[i] === "-") sign = -sign;
      i++;
    }
    const body = rest.slice(i);
    const prefixed = /^0([xX][0-9a-fA-F_]+|[oO][0-7_]+|[bB][01_]+)/.exec(body);
    if (prefixed) {
      this.pos += i + prefixed[0].length;
      return sign * Number(prefixed[0].replace(/_/g, "").replace(/^0[oO]/, "0o").replace(/^0[bB]/, "0b").replace(/^0[xX]/, "0x"));
    }
    const m = /^(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?/.exec(body);
    if (!m || m[0] === "") this.fail("bad number");
    const textNum = m[0].replace(/_/g, "");
    if (/^0\d/.test(textNum) && !/[.eE]/.test(textNum) && !/^0+$/.test(textNum)) this.fail("leading zeros in integer");
    this.pos += i + m[0].length;
    const n = sign * Number(textNum);
    return /[.eE]/.test(textNum) ? new PyFloat(n) : n;
  }
}

function dictKey(key: LiteralValue, parser: Parser): string {
  if (typeof key === "string") return key;
  if (parser.syntax === "json") return parser.fail("object keys must be strings");
  // json.dumps turns these keys into strings; do the same so the result is a JSON object.
  if (typeof key === "number") return String(key);
  if (key instanceof PyFloat) return String(key.value);
  if (typeof key === "boolean") return key ? "true" : "false";
  if (key === null) return "null";
  return parser.fail("unhashable dict key");
}

/** Parse exactly one value (surrounding whitespace allowed). */
export function parseLiteral(text: string, syntax: LiteralSyntax): LiteralValue {
  const parser = new Parser(text, syntax);
  const value = parser.value();
  parser.skipWs();
  if (!parser.atEnd()) parser.fail("trailing text");
  return value;
}

/** Parse one or more whitespace-separated values (Ollama's hermes3 template puts several calls in one tag). */
export function parseLiteralSequence(text: string, syntax: LiteralSyntax): LiteralValue[] {
  const parser = new Parser(text, syntax);
  const values: LiteralValue[] = [];
  parser.skipWs();
  while (!parser.atEnd()) {
    values.push(parser.value());
    parser.skipWs();
  }
  if (values.length === 0) parser.fail("no value");
  return values;
}

/** Strict JSON first, then a Python literal (P3 of the parsing policy). Returns undefined when neither parses. */
export function parseJsonOrPython(text: string, sequence: boolean): LiteralValue[] | undefined {
  for (const syntax of ["json", "python"] as const) {
    try {
      return sequence ? parseLiteralSequence(text, syntax) : [parseLiteral(text, syntax)];
    } catch (error) {
      if (!(error instanceof LiteralSyntaxError)) throw error;
    }
  }
  return undefined;
}

/** Ordered value → plain JS (objects become plain objects; PyFloat becomes number). */
export function literalToPlain(value: LiteralValue): unknown {
  if (value instanceof PyFloat) return value.value;
  if (Array.isArray(value)) return value.map(literalToPlain);
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) {
      Object.defineProperty(out, k, { value: literalToPlain(v), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}
