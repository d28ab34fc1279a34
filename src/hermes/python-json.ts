/**
 * Python-compatible serialisation of plain JS values: `json.dumps` (the separators, escaping and
 * number formatting Python uses) and `repr`/`str` (for Jinja2 output and Python-literal payloads).
 *
 * Values are plain JSON-like JS values: string, number, boolean, null, arrays, plain objects or
 * `Map`s (a `Map` keeps any key order, including integer-like keys that JS objects would reorder).
 * A number is treated as a Python `int` when it is an integer and as a `float` otherwise; wrap a
 * number in {@link PyFloat} to force float formatting (`1.0`).
 */

/** A number that must be formatted as a Python float even when it is integral (`1.0`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

export interface JsonDumpsOptions {
  /** `ensure_ascii`: escape every non-ASCII character as `\uXXXX`. Default false (as HF `tojson`). */
  readonly ensureAscii?: boolean;
  /** `indent`: a number of spaces or an indent string; null = one line. Default null. */
  readonly indent?: number | string | null;
  /** `separators` = [item, key]. Default `[", ", ": "]`, or `[",", ": "]` when indenting (as Python). */
  readonly separators?: readonly [string, string] | null;
  /** `sort_keys`: sort object keys by code point. Default false (insertion order). */
  readonly sortKeys?: boolean;
}

export class PythonJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PythonJsonError";
  }
}

/** Python `float.__repr__` of a finite or non-finite number (`1.0`, `1e+16`, `1.5e-05`, `inf`, `nan`). */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  // toExponential() without an argument gives the shortest round-trip digits, as Python's repr does.
  const [mantissa, expText] = x.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exp >= -4 && exp < 16) {
    let out: string;
    if (exp >= 0) {
      const intPart = digits.length > exp + 1 ? digits.slice(0, exp + 1) : digits.padEnd(exp + 1, "0");
      const frac = digits.length > exp + 1 ? digits.slice(exp + 1) : "";
      out = `${intPart}.${frac === "" ? "0" : frac}`;
    } else {
      out = `0.${"0".repeat(-exp - 1)}${digits}`;
    }
    return sign + out;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : `${Math.abs(exp)}`;
  return `${sign}${m}e${exp < 0 ? "-" : "+"}${e}`;
}

/** Python `int.__str__` for a JS integer (no exponent notation for large values). */
export function pyIntRepr(x: number): string {
  return Number.isSafeInteger(x) ? String(x) : BigInt(x).toString();
}

function jsonNumber(x: number | PyFloat): string {
  if (x instanceof PyFloat) {
    const v = x.value;
    if (Number.isNaN(v)) return "NaN";
    if (v === Infinity) return "Infinity";
    if (v === -Infinity) return "-Infinity";
    return pyFloatRepr(v);
  }
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  return Number.isInteger(x) && !Object.is(x, -0) ? pyIntRepr(x) : pyFloatRepr(x);
}

/** JSON string literal as Python's json encoder writes it. */
export function jsonString(s: string, ensureAscii = false): string {
  // JSON.stringify escapes exactly what Python escapes with ensure_ascii=False: `"`, `\`, and
  // control characters below U+0020 (\b \f \n \r \t short forms, lowercase \u00XX otherwise).
  const out = JSON.stringify(s);
  if (!ensureAscii) return out;
  let ascii = "";
  for (let i = 0; i < out.length; i++) {
    const code = out.charCodeAt(i);
    ascii += code < 0x7f ? out[i] : `\\u${code.toString(16).padStart(4, "0")}`;
  }
  return ascii;
}

function entriesOf(value: object): Array<[unknown, unknown]> {
  return value instanceof Map ? [...value.entries()] : Object.entries(value);
}

function jsonKey(key: unknown, ensureAscii: boolean): string {
  if (typeof key === "string") return jsonString(key, ensureAscii);
  // Python converts int/float/bool/None keys to strings.
  if (typeof key === "number") return `"${jsonNumber(key)}"`;
  if (key instanceof PyFloat) return `"${jsonNumber(key)}"`;
  if (typeof key === "boolean") return key ? '"true"' : '"false"';
  if (key === null) return '"null"';
  throw new PythonJsonError(`keys must be str, int, float, bool or None, not ${typeof key}`);
}

/** Python's `json.dumps(value, ensure_ascii=…, indent=…, separators=…, sort_keys=…)`. */
export function pyJsonDumps(value: unknown, options: JsonDumpsOptions = {}): string {
  const ensureAscii = options.ensureAscii ?? false;
  const indentOpt = options.indent ?? null;
  const indent = typeof indentOpt === "number" ? " ".repeat(indentOpt) : indentOpt;
  const [itemSep, keySep] = options.separators ?? (indent === null ? [", ", ": "] : [",", ": "]);
  const sortKeys = options.sortKeys ?? false;
  const seen = new Set<object>();

  const encode = (v: unknown, depth: number): string => {
    if (v === null || v === undefined) return "null";
    if (typeof v === "string") return jsonString(v, ensureAscii);
    if (typeof v === "number" || v instanceof PyFloat) return jsonNumber(v);
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v !== "object") throw new PythonJsonError(`Object of type ${typeof v} is not JSON serializable`);
    if (seen.has(v)) throw new PythonJsonError("Circular reference detected");
    seen.add(v);
    try {
      const inner = indent === null ? "" : "\n" + indent.repeat(depth + 1);
      const outer = indent === null ? "" : "\n" + indent.repeat(depth);
      if (Array.isArray(v)) {
        if (v.length === 0) return "[]";
        return `[${inner}${v.map((x) => encode(x, depth + 1)).join(itemSep + inner)}${outer}]`;
      }
      let entries = entriesOf(v);
      if (entries.length === 0) return "{}";
      if (sortKeys) entries = [...entries].sort(([a], [b]) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
      const items = entries.map(([k, x]) => `${jsonKey(k, ensureAscii)}${keySep}${encode(x, depth + 1)}`);
      return `{${inner}${items.join(itemSep + inner)}${outer}}`;
    } finally {
      seen.delete(v);
    }
  };
  return encode(value, 0);
}

/** Python `repr()` of a str: single quotes unless the text holds `'` and no `"`. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || (code >= 0x7f && code <= 0xa0) || code === 0xad) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else if ((code >= 0xd800 && code <= 0xdfff) || code === 0x2028 || code === 0x2029)
      out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out + quote;
}

/** Python `repr()` of a JSON-like value (`{'a': [1, True, None]}`). */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (typeof v === "string") return pyStrRepr(v);
  if (typeof v === "boolean") return v ? "True" : "False";
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (typeof v === "number") return Number.isInteger(v) && !Object.is(v, -0) ? pyIntRepr(v) : pyFloatRepr(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  if (typeof v === "object") return `{${entriesOf(v).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(", ")}}`;
  return String(v);
}
