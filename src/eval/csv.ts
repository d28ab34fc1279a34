/**
 * A small RFC 4180 CSV reader (quoted fields, `""` escapes, commas and line breaks inside quotes;
 * records end with CRLF or LF). Used for the BoolQ file. See docs/decisions/0070. Pure.
 */

export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = "CsvSyntaxError";
  }
}

/** Parses CSV text into records (arrays of fields). A final line break does not start an empty record. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  if (pos >= n) return records;
  for (;;) {
    // Start of a field.
    let field: string;
    if (text[pos] === '"') {
      const start = pos;
      pos++;
      let value = "";
      for (;;) {
        const q = text.indexOf('"', pos);
        if (q < 0) throw new CsvSyntaxError("unterminated quoted field", start);
        value += text.slice(pos, q);
        if (text[q + 1] === '"') {
          value += '"';
          pos = q + 2;
          continue;
        }
        pos = q + 1;
        break;
      }
      field = value;
      const c = text[pos];
      if (pos < n && c !== "," && c !== "\n" && c !== "\r") {
        throw new CsvSyntaxError("unexpected character after a closing quote", pos);
      }
    } else {
      let end = pos;
      while (end < n) {
        const c = text[end];
        if (c === "," || c === "\n" || c === "\r") break;
        if (c === '"') throw new CsvSyntaxError("quote inside an unquoted field", end);
        end++;
      }
      field = text.slice(pos, end);
      pos = end;
    }
    record.push(field);
    if (pos >= n) {
      records.push(record);
      return records;
    }
    const c = text[pos];
    if (c === ",") {
      pos++;
      continue;
    }
    // End of record: CRLF or LF (a lone CR also ends it).
    pos += c === "\r" && text[pos + 1] === "\n" ? 2 : 1;
    records.push(record);
    record = [];
    if (pos >= n) return records;
  }
}
