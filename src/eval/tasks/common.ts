/** Helpers shared by the task builders. Pure. */
import { EvalDataError, type DataFiles } from "../types.js";

/** The text of a data file, or a typed error naming it. */
export function fileText(files: DataFiles, path: string): string {
  const text = files.get(path);
  if (text === undefined) throw new EvalDataError(`data file ${path} was not loaded`);
  return text;
}

/** Parses JSON Lines (blank lines skipped) with `JSON.parse` (only for rows whose key order is irrelevant). */
export function parseJsonLines(text: string, path: string): unknown[] {
  const rows: unknown[] = [];
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      rows.push(JSON.parse(line));
    } catch (cause) {
      throw new EvalDataError(`${path}:${i + 1}: invalid JSON`, { cause });
    }
  });
  return rows;
}

/** Narrowing helpers with useful errors. */
export function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new EvalDataError(`${where}: expected an object`);
  return value as Record<string, unknown>;
}

export function asString(value: unknown, where: string): string {
  if (typeof value !== "string") throw new EvalDataError(`${where}: expected a string`);
  return value;
}

export function asStringArray(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) throw new EvalDataError(`${where}: expected an array of strings`);
  return value as string[];
}

export function asInteger(value: unknown, where: string): number {
  if (typeof value !== "number" || !Number.isInteger(value)) throw new EvalDataError(`${where}: expected an integer`);
  return value;
}

/** Compares strings by Unicode code point (Python's `sorted` on `str`), not by UTF-16 unit. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done === true) return y.done === true ? 0 : -1;
    if (y.done === true) return 1;
    const cx = x.value.codePointAt(0) as number;
    const cy = y.value.codePointAt(0) as number;
    if (cx !== cy) return cx - cy;
  }
}
