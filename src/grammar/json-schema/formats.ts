/**
 * Grammars for string formats (the content between the quotes). Each grammar allows only strings
 * that ajv-formats' full validators accept (RFC 3339 dates with real month lengths and leap years).
 */
import { alt, chars, lit, rep, seq, type GbnfExpr } from "../gbnf/ast.js";

export const SUPPORTED_FORMATS = ["date", "time", "date-time", "uuid", "email"] as const;
export type SupportedFormat = (typeof SUPPORTED_FORMATS)[number];

export function isSupportedFormat(f: string): f is SupportedFormat {
  return (SUPPORTED_FORMATS as readonly string[]).includes(f);
}

const D = chars("0-9");
const d = (n: number): GbnfExpr => rep(D, n, n);

function date(): GbnfExpr {
  const day28 = alt(seq(lit("0"), chars("1-9")), seq(lit("1"), D), seq(lit("2"), chars("0-8")));
  const day30 = alt(seq(lit("0"), chars("1-9")), seq(chars("12"), D), lit("30"));
  const day31 = alt(seq(lit("0"), chars("1-9")), seq(chars("12"), D), seq(lit("3"), chars("01")));
  const monthDay = alt(
    seq(alt(lit("01"), lit("03"), lit("05"), lit("07"), lit("08"), lit("10"), lit("12")), lit("-"), day31),
    seq(alt(lit("04"), lit("06"), lit("09"), lit("11")), lit("-"), day30),
    seq(lit("02-"), day28),
  );
  // years divisible by 4, except centuries not divisible by 400
  const div4 = alt(seq(chars("02468"), chars("048")), seq(chars("13579"), chars("26")));
  const div4NotZero = alt(seq(lit("0"), chars("48")), seq(chars("2468"), chars("048")), seq(chars("13579"), chars("26")));
  const leapYear = alt(seq(d(2), div4NotZero), seq(div4, lit("00")));
  return alt(seq(d(4), lit("-"), monthDay), seq(leapYear, lit("-02-29")));
}

function time(): GbnfExpr {
  const hour = alt(seq(chars("01"), D), seq(lit("2"), chars("0-3")));
  const minute = seq(chars("0-5"), D);
  return seq(
    hour,
    lit(":"),
    minute,
    lit(":"),
    minute,
    rep(seq(lit("."), rep(D, 1, 6)), 0, 1),
    alt(lit("Z"), seq(chars("-+"), hour, lit(":"), minute)),
  );
}

function uuid(): GbnfExpr {
  const h = chars("0-9a-f");
  const hx = (n: number): GbnfExpr => rep(h, n, n);
  return seq(hx(8), lit("-"), hx(4), lit("-"), hx(4), lit("-"), hx(4), lit("-"), hx(12));
}

function email(): GbnfExpr {
  const atom = rep(chars("a-zA-Z0-9_%+-"), 1, 32);
  const local = seq(atom, rep(seq(lit("."), atom), 0, 3));
  const alnum = chars("a-zA-Z0-9");
  const label = seq(alnum, rep(seq(rep(chars("a-zA-Z0-9-"), 0, 20), alnum), 0, 1));
  return seq(local, lit("@"), label, rep(seq(lit("."), label), 1, 3));
}

/** Grammar for the characters of a formatted string (without quotes). */
export function formatGrammar(format: SupportedFormat): GbnfExpr {
  switch (format) {
    case "date":
      return date();
    case "time":
      return time();
    case "date-time":
      return seq(date(), lit("T"), time());
    case "uuid":
      return uuid();
    case "email":
      return email();
    default:
      return format satisfies never;
  }
}
