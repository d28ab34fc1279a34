import { describe, expect, it } from "vitest";
import { PlainTextGuard } from "./plain-text-guard.js";

describe("PlainTextGuard", () => {
  const guard = new PlainTextGuard(["<tool_call>", "</tool_call>", "x", ""]);

  it("ignores texts that cannot be split (empty, one character)", () => {
    expect(guard.texts).toEqual(["</tool_call>", "<tool_call>"]);
    expect(guard.split("xxx")).toEqual(["xxx"]);
  });

  it("leaves text without guarded texts as one piece", () => {
    expect(guard.split("call the tool")).toEqual(["call the tool"]);
    expect(guard.matches("call the tool")).toBe(false);
  });

  it("cuts after the first character of every occurrence; no piece contains a guarded text; text preserved", () => {
    const text = 'a<tool_call>\n{"q": "<tool_call>"}</tool_call>b';
    const pieces = guard.split(text);
    expect(pieces.join("")).toBe(text);
    for (const p of pieces) {
      expect(p.includes("<tool_call>")).toBe(false);
      expect(p.includes("</tool_call>")).toBe(false);
    }
    expect(pieces[0]).toBe("a<");
    expect(pieces.at(-1)).toBe("/tool_call>b");
  });

  it("handles adjacent and overlapping occurrences", () => {
    const g = new PlainTextGuard(["aba"]);
    const pieces = g.split("ababa");
    expect(pieces.join("")).toBe("ababa");
    for (const p of pieces) expect(p.includes("aba")).toBe(false);
  });

  it("cuts after a whole code point (astral first character)", () => {
    const g = new PlainTextGuard(["😀x"]);
    expect(g.split("a😀xb")).toEqual(["a😀", "xb"]);
  });

  it("with no guarded texts, never splits", () => {
    const g = new PlainTextGuard([]);
    expect(g.split("<tool_call>")).toEqual(["<tool_call>"]);
    expect(g.matches("<tool_call>")).toBe(false);
  });
});
