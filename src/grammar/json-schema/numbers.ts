/**
 * Grammars for JSON numbers and integers, with exact integer ranges (digit-range grammars in the
 * spirit of llama.cpp's `_generate_min_max_int`) and sound bounds for `number`.
 */
import { alt, chars, lit, rep, seq, type GbnfExpr } from "../gbnf/ast.js";

/** Integers are written with at most this many digits (keeps them exact as JS doubles). */
export const MAX_INTEGER_DIGITS = 15;
export const MAX_INTEGER_MAGNITUDE = 10 ** MAX_INTEGER_DIGITS - 1;
/** Bounded numbers: a fraction is allowed only when the integer part is below this. */
export const MAX_FRACTION_INT_MAGNITUDE = 10 ** 9 - 1;
/** Bounded numbers: fraction digits. */
export const MAX_BOUNDED_FRACTION_DIGITS = 6;
/** Unbounded numbers: fraction digits. */
export const MAX_FRACTION_DIGITS = 15;

const DIGIT = chars("0-9");

function digits(n: number): GbnfExpr {
  return rep(DIGIT, n, n);
}

/** Decimal strings `xs`..`ys` of the same length (leading zeros allowed), as a grammar. */
function digitRange(xs: string, ys: string): GbnfExpr {
  if (xs.length === 0) return seq();
  if (xs === ys) return lit(xs);
  const x0 = xs.charCodeAt(0) - 48;
  const y0 = ys.charCodeAt(0) - 48;
  const xr = xs.slice(1);
  const yr = ys.slice(1);
  if (x0 === y0) return seq(lit(String(x0)), digitRange(xr, yr));
  const allLow = /^0*$/.test(xr);
  const allHigh = /^9*$/.test(yr);
  const options: GbnfExpr[] = [];
  if (!allLow) options.push(seq(lit(String(x0)), digitRange(xr, "9".repeat(xr.length))));
  const lo = allLow ? x0 : x0 + 1;
  const hi = allHigh ? y0 : y0 - 1;
  if (lo <= hi) options.push(seq(lo === hi ? lit(String(lo)) : chars(`${lo}-${hi}`), digits(xr.length)));
  if (!allHigh) options.push(seq(lit(String(y0)), digitRange("0".repeat(yr.length), yr)));
  return alt(...options);
}

/** Canonical decimal magnitudes `a..b` (1 ≤ a ≤ b, no leading zeros). */
function positiveRange(a: number, b: number): GbnfExpr {
  const options: GbnfExpr[] = [];
  const la = String(a).length;
  const lb = String(b).length;
  for (let len = la; len <= lb; len++) {
    const lo = Math.max(a, 10 ** (len - 1));
    const hi = Math.min(b, 10 ** len - 1);
    if (lo <= hi) options.push(digitRange(String(lo), String(hi)));
  }
  return alt(...options);
}

/** Non-negative magnitudes `a..b` (0 allowed, written "0"), canonical. Returns undefined when empty. */
function magnitudeRange(a: number, b: number): GbnfExpr | undefined {
  if (a > b) return undefined;
  const options: GbnfExpr[] = [];
  if (a === 0) options.push(lit("0"));
  if (b >= 1) options.push(positiveRange(Math.max(a, 1), b));
  return alt(...options);
}

/**
 * Canonical JSON integers in `[lo, hi]` (clamped to ±{@link MAX_INTEGER_MAGNITUDE}). No `-0`.
 * Returns undefined when the range is empty.
 */
export function integerRange(lo: number | undefined, hi: number | undefined): GbnfExpr | undefined {
  const a = Math.max(lo ?? -MAX_INTEGER_MAGNITUDE, -MAX_INTEGER_MAGNITUDE);
  const b = Math.min(hi ?? MAX_INTEGER_MAGNITUDE, MAX_INTEGER_MAGNITUDE);
  if (a > b) return undefined;
  const options: GbnfExpr[] = [];
  if (a < 0) {
    const neg = magnitudeRange(Math.max(1, -Math.min(b, -1)), -a);
    if (neg !== undefined) options.push(seq(lit("-"), neg));
  }
  if (a <= 0 && b >= 0) options.push(lit("0"));
  if (b >= 1) options.push(positiveRange(Math.max(a, 1), b));
  return options.length === 0 ? undefined : alt(...options);
}

/** Any JSON integer (at most {@link MAX_INTEGER_DIGITS} digits). */
export function anyInteger(): GbnfExpr {
  return seq(rep(lit("-"), 0, 1), alt(lit("0"), seq(chars("1-9"), rep(DIGIT, 0, MAX_INTEGER_DIGITS - 1))));
}

/** Any JSON number: integer part ≤ 15 digits, fraction ≤ 15 digits, exponent ≤ 2 digits. */
export function anyNumber(): GbnfExpr {
  return seq(
    anyInteger(),
    rep(seq(lit("."), rep(DIGIT, 1, MAX_FRACTION_DIGITS)), 0, 1),
    rep(seq(chars("eE"), rep(chars("-+"), 0, 1), rep(DIGIT, 1, 2)), 0, 1),
  );
}

export interface NumericBounds {
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
}

interface Bound {
  readonly value: number;
  readonly exclusive: boolean;
}

function lowerOf(b: NumericBounds): Bound | undefined {
  const candidates: Bound[] = [];
  if (b.minimum !== undefined) candidates.push({ value: b.minimum, exclusive: false });
  if (b.exclusiveMinimum !== undefined) candidates.push({ value: b.exclusiveMinimum, exclusive: true });
  // the tightest: the largest value; at equal values the exclusive one
  return candidates.sort((x, y) => y.value - x.value || Number(y.exclusive) - Number(x.exclusive))[0];
}

function upperOf(b: NumericBounds): Bound | undefined {
  const candidates: Bound[] = [];
  if (b.maximum !== undefined) candidates.push({ value: b.maximum, exclusive: false });
  if (b.exclusiveMaximum !== undefined) candidates.push({ value: b.exclusiveMaximum, exclusive: true });
  return candidates.sort((x, y) => x.value - y.value || Number(y.exclusive) - Number(x.exclusive))[0];
}

/** Smallest integer satisfying the lower bound. */
function intLow(lower: Bound | undefined): number | undefined {
  if (lower === undefined) return undefined;
  const c = Math.ceil(lower.value);
  return lower.exclusive && c === lower.value ? c + 1 : c;
}

/** Largest integer satisfying the upper bound. */
function intHigh(upper: Bound | undefined): number | undefined {
  if (upper === undefined) return undefined;
  const f = Math.floor(upper.value);
  return upper.exclusive && f === upper.value ? f - 1 : f;
}

/** Integers within the bounds (undefined when none). */
export function boundedInteger(bounds: NumericBounds): GbnfExpr | undefined {
  return integerRange(intLow(lowerOf(bounds)), intHigh(upperOf(bounds)));
}

/**
 * Numbers within the bounds, soundly: every string the grammar allows satisfies the bounds.
 * Allowed: every integer in range (≤ 15 digits), and `n.f` (1–6 fraction digits, |n| < 10^9)
 * whenever the whole interval that `n.f` spans lies in range. No exponent. Non-integer bounds
 * therefore exclude the fractional values between the bound and the next integer.
 * Returns undefined when nothing is allowed.
 */
export function boundedNumber(bounds: NumericBounds): GbnfExpr | undefined {
  const lower = lowerOf(bounds);
  const upper = upperOf(bounds);
  const options: GbnfExpr[] = [];
  const ints = integerRange(intLow(lower), intHigh(upper));
  if (ints !== undefined) options.push(ints);

  const frac = seq(lit("."), rep(DIGIT, 1, MAX_BOUNDED_FRACTION_DIGITS));
  const nonzeroFrac = seq(lit("."), rep(lit("0"), 0, MAX_BOUNDED_FRACTION_DIGITS - 1), chars("1-9"), rep(DIGIT, 0, MAX_BOUNDED_FRACTION_DIGITS - 1));
  const cap = MAX_FRACTION_INT_MAGNITUDE;
  const lo = lower?.value;
  const hi = upper?.value;

  // positive n.f spans [n, n+1): needs n to satisfy the lower bound and n+1 <= hi.
  const posLo = Math.max(0, intLow(lower) ?? 0);
  const posHi = Math.min(cap, hi === undefined ? cap : Math.floor(hi) - 1);
  const posFull = magnitudeRange(posLo, posHi);
  if (posFull !== undefined) options.push(seq(posFull, frac));
  // (n, n+1) only: n is an exclusive integer lower bound
  if (lower !== undefined && lower.exclusive && Number.isInteger(lower.value) && lower.value >= 0 && lower.value <= cap) {
    const n = lower.value;
    if (hi === undefined || n + 1 <= hi) options.push(seq(lit(String(n)), nonzeroFrac));
  }

  // negative -n.f spans (-(n+1), -n]: needs -n to satisfy the upper bound and -(n+1) >= lo.
  const ih = intHigh(upper);
  const negLo = Math.max(0, ih === undefined ? 0 : -ih);
  const negHi = Math.min(cap, lo === undefined ? cap : Math.floor(-lo) - 1);
  const negFull = magnitudeRange(negLo, negHi);
  if (negFull !== undefined) options.push(seq(lit("-"), negFull, frac));
  // (-(n+1), -n) only: -n is an exclusive integer upper bound
  if (upper !== undefined && upper.exclusive && Number.isInteger(upper.value) && upper.value <= 0 && -upper.value <= cap) {
    const n = -upper.value;
    if (lo === undefined || -(n + 1) >= lo) options.push(seq(lit(`-${n}`), nonzeroFrac));
  }
  return options.length === 0 ? undefined : alt(...options);
}
