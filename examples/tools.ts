/**
 * Example tools for `talaria run`:
 *
 *   talaria run --model hermes.gguf --tools examples/tools.ts "What is 17% of 2,340 in km if it were miles?"
 *
 * Every tool is safe to run: no network, no file system, no `eval`. The file is self-contained (only
 * `zod` and type-only imports), because `talaria run` transpiles this one file to JavaScript and
 * imports it; relative imports of other TypeScript files would not resolve.
 */
import { z } from "zod";
import type { AgentTool, ToolExecutionContext } from "../src/agent/index.js";

// ---------------------------------------------------------------------------------------------
// calculator: a recursive-descent parser for arithmetic (docs/decisions/0143-calculator-expression-parser.md)

const FUNCTIONS: Readonly<Record<string, { readonly arity: readonly [number, number]; readonly fn: (...xs: number[]) => number }>> = {
  sqrt: { arity: [1, 1], fn: Math.sqrt },
  cbrt: { arity: [1, 1], fn: Math.cbrt },
  abs: { arity: [1, 1], fn: Math.abs },
  sin: { arity: [1, 1], fn: Math.sin },
  cos: { arity: [1, 1], fn: Math.cos },
  tan: { arity: [1, 1], fn: Math.tan },
  asin: { arity: [1, 1], fn: Math.asin },
  acos: { arity: [1, 1], fn: Math.acos },
  atan: { arity: [1, 1], fn: Math.atan },
  ln: { arity: [1, 1], fn: Math.log },
  log: { arity: [1, 2], fn: (x, base) => (base === undefined ? Math.log10(x) : Math.log(x) / Math.log(base)) },
  log2: { arity: [1, 1], fn: Math.log2 },
  exp: { arity: [1, 1], fn: Math.exp },
  round: { arity: [1, 2], fn: (x, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits },
  floor: { arity: [1, 1], fn: Math.floor },
  ceil: { arity: [1, 1], fn: Math.ceil },
  min: { arity: [1, 64], fn: Math.min },
  max: { arity: [1, 64], fn: Math.max },
  pow: { arity: [2, 2], fn: Math.pow },
};
const CONSTANTS: Readonly<Record<string, number>> = { pi: Math.PI, e: Math.E, tau: 2 * Math.PI };

export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at position ${position + 1}`);
    this.name = "ExpressionError";
  }
}

const MAX_EXPRESSION_LENGTH = 1000;
const MAX_DEPTH = 64;

/**
 * Evaluate an arithmetic expression: numbers (`1000`, `1_000`, `2.5e3`), `+ - * /`, `%` (remainder),
 * `^` or `**` (power, right-associative), unary `+`/`-`, parentheses, the functions in
 * {@link FUNCTIONS} and the constants `pi`, `e`, `tau`. Throws {@link ExpressionError}.
 * Grammar: expr = term (("+"|"-") term)*; term = unary (("*"|"/"|"%") unary)*; unary = ("+"|"-") unary | power;
 * power = atom (("^"|"**") unary)?; atom = number | name | name "(" args ")" | "(" expr ")".
 */
export function evaluateExpression(source: string): number {
  if (source.length > MAX_EXPRESSION_LENGTH) throw new ExpressionError(`expression longer than ${MAX_EXPRESSION_LENGTH} characters`, MAX_EXPRESSION_LENGTH);
  let pos = 0;
  let depth = 0;
  const skip = (): void => {
    while (pos < source.length && /\s/.test(source[pos] as string)) pos++;
  };
  const peek = (text: string): boolean => {
    skip();
    return source.startsWith(text, pos);
  };
  const eat = (text: string): boolean => {
    if (!peek(text)) return false;
    pos += text.length;
    return true;
  };
  const nested = <T>(f: () => T): T => {
    if (++depth > MAX_DEPTH) throw new ExpressionError("expression nested too deeply", pos);
    try {
      return f();
    } finally {
      depth--;
    }
  };
  const expr = (): number =>
    nested(() => {
      let value = term();
      for (;;) {
        if (eat("+")) value += term();
        else if (eat("-")) value -= term();
        else return value;
      }
    });
  const term = (): number => {
    let value = unary();
    for (;;) {
      if (peek("**")) return value;
      if (eat("*")) value *= unary();
      else if (eat("/")) {
        const at = pos;
        const d = unary();
        if (d === 0) throw new ExpressionError("division by zero", at);
        value /= d;
      } else if (eat("%")) value %= unary();
      else return value;
    }
  };
  const unary = (): number =>
    nested(() => {
      if (eat("+")) return unary();
      if (eat("-")) return -unary();
      return power();
    });
  const power = (): number => {
    const base = atom();
    if (eat("^") || eat("**")) return base ** unary();
    return base;
  };
  const atom = (): number => {
    skip();
    const start = pos;
    const number = /^(?:\d[\d_]*(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?/.exec(source.slice(pos));
    if (number !== null) {
      pos += number[0].length;
      return Number(number[0].replaceAll("_", ""));
    }
    const name = /^[A-Za-z][A-Za-z0-9]*/.exec(source.slice(pos));
    if (name !== null) {
      pos += name[0].length;
      const id = name[0].toLowerCase();
      if (eat("(")) {
        const f = Object.hasOwn(FUNCTIONS, id) ? FUNCTIONS[id] : undefined;
        if (f === undefined) throw new ExpressionError(`unknown function ${name[0]}`, start);
        const args: number[] = [];
        if (!eat(")")) {
          do args.push(expr());
          while (eat(","));
          if (!eat(")")) throw new ExpressionError("expected )", pos);
        }
        if (args.length < f.arity[0] || args.length > f.arity[1]) {
          throw new ExpressionError(`${id} takes ${f.arity[0] === f.arity[1] ? f.arity[0] : `${f.arity[0]} to ${f.arity[1]}`} arguments`, start);
        }
        return f.fn(...args);
      }
      const c = Object.hasOwn(CONSTANTS, id) ? CONSTANTS[id] : undefined;
      if (c === undefined) throw new ExpressionError(`unknown name ${name[0]}`, start);
      return c;
    }
    if (eat("(")) {
      const value = expr();
      if (!eat(")")) throw new ExpressionError("expected )", pos);
      return value;
    }
    throw new ExpressionError(pos >= source.length ? "unexpected end of expression" : `unexpected ${JSON.stringify(source[pos])}`, pos);
  };
  const value = expr();
  skip();
  if (pos < source.length) throw new ExpressionError(`unexpected ${JSON.stringify(source[pos])}`, pos);
  if (!Number.isFinite(value)) throw new ExpressionError("the result is not a finite number", 0);
  return value;
}

const calculatorParameters = z.object({
  expression: z.string().min(1).max(MAX_EXPRESSION_LENGTH).describe("An arithmetic expression, e.g. (2 + 3) * sqrt(16) / 2^3"),
});

export const calculator = {
  name: "calculator",
  description:
    "Evaluates an arithmetic expression exactly as written: + - * / % ^, parentheses, functions sqrt cbrt abs sin cos tan asin acos atan ln log log2 exp round floor ceil min max pow, constants pi e tau.",
  parameters: calculatorParameters,
  execute: ({ expression }: z.output<typeof calculatorParameters>) => ({ expression, result: evaluateExpression(expression) }),
} satisfies AgentTool<z.output<typeof calculatorParameters>>;

// ---------------------------------------------------------------------------------------------
// get_current_time

export const getCurrentTime = {
  name: "get_current_time",
  description: "The current date and time in an IANA time zone (default UTC).",
  parameters: {
    type: "object",
    properties: { timezone: { type: "string", description: "IANA time zone such as Europe/Paris or America/New_York" } },
    additionalProperties: false,
  },
  execute: (args: { timezone?: string }) => {
    const timezone = args.timezone ?? "UTC";
    let format: Intl.DateTimeFormat;
    try {
      format = new Intl.DateTimeFormat("en-CA", {
        timeZone: timezone,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        hour12: false,
        weekday: "long",
      });
    } catch {
      throw new Error(`unknown time zone ${JSON.stringify(timezone)}`);
    }
    const now = new Date();
    const parts = Object.fromEntries(format.formatToParts(now).map((p) => [p.type, p.value]));
    return {
      timezone,
      date: `${parts["year"]}-${parts["month"]}-${parts["day"]}`,
      time: `${parts["hour"]}:${parts["minute"]}:${parts["second"]}`,
      weekday: parts["weekday"],
      iso_utc: now.toISOString(),
    };
  },
} satisfies AgentTool<{ timezone?: string }>;

// ---------------------------------------------------------------------------------------------
// convert_units

type Dimension = "length" | "mass" | "volume" | "time" | "speed" | "temperature";
/** Factor to the dimension's base unit (m, kg, l, s, m/s). */
const UNITS: Readonly<Record<string, { readonly dimension: Dimension; readonly factor: number }>> = {
  mm: { dimension: "length", factor: 0.001 },
  cm: { dimension: "length", factor: 0.01 },
  m: { dimension: "length", factor: 1 },
  km: { dimension: "length", factor: 1000 },
  in: { dimension: "length", factor: 0.0254 },
  ft: { dimension: "length", factor: 0.3048 },
  yd: { dimension: "length", factor: 0.9144 },
  mi: { dimension: "length", factor: 1609.344 },
  nmi: { dimension: "length", factor: 1852 },
  mg: { dimension: "mass", factor: 1e-6 },
  g: { dimension: "mass", factor: 0.001 },
  kg: { dimension: "mass", factor: 1 },
  t: { dimension: "mass", factor: 1000 },
  oz: { dimension: "mass", factor: 0.028349523125 },
  lb: { dimension: "mass", factor: 0.45359237 },
  ml: { dimension: "volume", factor: 0.001 },
  l: { dimension: "volume", factor: 1 },
  m3: { dimension: "volume", factor: 1000 },
  "fl oz": { dimension: "volume", factor: 0.0295735295625 },
  cup: { dimension: "volume", factor: 0.2365882365 },
  pt: { dimension: "volume", factor: 0.473176473 },
  qt: { dimension: "volume", factor: 0.946352946 },
  gal: { dimension: "volume", factor: 3.785411784 },
  s: { dimension: "time", factor: 1 },
  min: { dimension: "time", factor: 60 },
  h: { dimension: "time", factor: 3600 },
  day: { dimension: "time", factor: 86400 },
  week: { dimension: "time", factor: 604800 },
  "m/s": { dimension: "speed", factor: 1 },
  "km/h": { dimension: "speed", factor: 1000 / 3600 },
  mph: { dimension: "speed", factor: 1609.344 / 3600 },
  kn: { dimension: "speed", factor: 1852 / 3600 },
};
const TEMPERATURES = ["C", "F", "K"] as const;
const UNIT_NAMES = [...Object.keys(UNITS), ...TEMPERATURES];

function toKelvin(value: number, unit: (typeof TEMPERATURES)[number]): number {
  return unit === "K" ? value : unit === "C" ? value + 273.15 : ((value - 32) * 5) / 9 + 273.15;
}
function fromKelvin(kelvin: number, unit: (typeof TEMPERATURES)[number]): number {
  return unit === "K" ? kelvin : unit === "C" ? kelvin - 273.15 : ((kelvin - 273.15) * 9) / 5 + 32;
}

/** Convert between units of one dimension. Throws for unknown units or mixed dimensions. */
export function convertUnits(value: number, from: string, to: string): number {
  const isTemp = (u: string): u is (typeof TEMPERATURES)[number] => (TEMPERATURES as readonly string[]).includes(u);
  if (isTemp(from) || isTemp(to)) {
    if (!isTemp(from) || !isTemp(to)) throw new Error(`cannot convert ${from} to ${to}: different dimensions`);
    const kelvin = toKelvin(value, from);
    if (kelvin < 0) throw new Error("below absolute zero");
    return fromKelvin(kelvin, to);
  }
  const a = Object.hasOwn(UNITS, from) ? UNITS[from] : undefined;
  const b = Object.hasOwn(UNITS, to) ? UNITS[to] : undefined;
  if (a === undefined) throw new Error(`unknown unit ${from}`);
  if (b === undefined) throw new Error(`unknown unit ${to}`);
  if (a.dimension !== b.dimension) throw new Error(`cannot convert ${from} (${a.dimension}) to ${to} (${b.dimension})`);
  return (value * a.factor) / b.factor;
}

export const convertUnitsTool = {
  name: "convert_units",
  description: "Converts a value between units of length, mass, volume, time, speed or temperature (C, F, K).",
  parameters: {
    type: "object",
    properties: {
      value: { type: "number", description: "The amount to convert" },
      from: { type: "string", enum: UNIT_NAMES, description: "Unit of the value" },
      to: { type: "string", enum: UNIT_NAMES, description: "Unit to convert to" },
    },
    required: ["value", "from", "to"],
    additionalProperties: false,
  },
  execute: ({ value, from, to }: { value: number; from: string; to: string }) => {
    const result = convertUnits(value, from, to);
    return { value, from, to, result: Number(result.toPrecision(12)) };
  },
} satisfies AgentTool<{ value: number; from: string; to: string }>;

// ---------------------------------------------------------------------------------------------
// lookup_country: a static table

const COUNTRIES: Readonly<Record<string, { readonly capital: string; readonly currency: string; readonly continent: string }>> = {
  argentina: { capital: "Buenos Aires", currency: "ARS", continent: "South America" },
  australia: { capital: "Canberra", currency: "AUD", continent: "Oceania" },
  brazil: { capital: "Brasília", currency: "BRL", continent: "South America" },
  canada: { capital: "Ottawa", currency: "CAD", continent: "North America" },
  china: { capital: "Beijing", currency: "CNY", continent: "Asia" },
  egypt: { capital: "Cairo", currency: "EGP", continent: "Africa" },
  france: { capital: "Paris", currency: "EUR", continent: "Europe" },
  germany: { capital: "Berlin", currency: "EUR", continent: "Europe" },
  india: { capital: "New Delhi", currency: "INR", continent: "Asia" },
  italy: { capital: "Rome", currency: "EUR", continent: "Europe" },
  japan: { capital: "Tokyo", currency: "JPY", continent: "Asia" },
  kenya: { capital: "Nairobi", currency: "KES", continent: "Africa" },
  mexico: { capital: "Mexico City", currency: "MXN", continent: "North America" },
  nigeria: { capital: "Abuja", currency: "NGN", continent: "Africa" },
  norway: { capital: "Oslo", currency: "NOK", continent: "Europe" },
  spain: { capital: "Madrid", currency: "EUR", continent: "Europe" },
  "united kingdom": { capital: "London", currency: "GBP", continent: "Europe" },
  "united states": { capital: "Washington, D.C.", currency: "USD", continent: "North America" },
};

const lookupParameters = z.object({ country: z.string().min(1).max(64).describe("Country name in English, e.g. Japan") });

export const lookupCountry = {
  name: "lookup_country",
  description: `Capital, currency and continent of a country (a small offline table: ${Object.keys(COUNTRIES).length} countries).`,
  parameters: lookupParameters,
  execute: ({ country }: z.output<typeof lookupParameters>, _context: ToolExecutionContext) => {
    const key = country.trim().toLowerCase().replace(/^the /, "");
    const entry = Object.hasOwn(COUNTRIES, key) ? COUNTRIES[key] : undefined;
    if (entry === undefined) return { country, found: false, known: Object.keys(COUNTRIES) };
    return { country, found: true, ...entry };
  },
} satisfies AgentTool<z.output<typeof lookupParameters>>;

export default [calculator, getCurrentTime, convertUnitsTool, lookupCountry];
