import { describe, expect, it } from "vitest";
import { CsvSyntaxError, parseCsv } from "./csv.js";

describe("parseCsv (RFC 4180)", () => {
  it("reads quoted fields with commas, doubled quotes and line breaks", () => {
    const text = 'q,passage,idx,label\nis it,"A -- b, ""c""\nd",0,1\r\nx,y,1,0\n';
    expect(parseCsv(text)).toEqual([
      ["q", "passage", "idx", "label"],
      ["is it", 'A -- b, "c"\nd', "0", "1"],
      ["x", "y", "1", "0"],
    ]);
  });
  it("keeps empty fields and a last record without a line break", () => {
    expect(parseCsv('a,,"",b')).toEqual([["a", "", "", "b"]]);
    expect(parseCsv("")).toEqual([]);
  });
  it("rejects malformed quoting", () => {
    expect(() => parseCsv('a,"b')).toThrow(CsvSyntaxError);
    expect(() => parseCsv('a,"b"c')).toThrow(CsvSyntaxError);
    expect(() => parseCsv('a,b"c')).toThrow(CsvSyntaxError);
  });
});
