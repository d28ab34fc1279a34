import { describe, expect, it } from "vitest";
import { pyCapitalize, pyIsSpace, pyLen, pyRstrip, pyStrip } from "./python-str.js";

describe("Python str semantics", () => {
  it("rstrip removes Python whitespace, which differs from JavaScript's \\s", () => {
    expect(pyRstrip("A: ")).toBe("A:");
    expect(pyRstrip("to \n")).toBe("to");
    // U+001C..U+001F and U+0085 are whitespace in Python, not in JS; U+FEFF is the reverse.
    expect(pyRstrip("x\u001c\u001f\u0085")).toBe("x");
    expect(pyRstrip("x\ufeff")).toBe("x\ufeff");
    expect("x\ufeff".trimEnd()).toBe("x");
    expect(pyStrip("\u3000 a b \u2029")).toBe("a b");
    expect(pyIsSpace(0x200b)).toBe(false);
  });

  it("len counts code points", () => {
    expect(pyLen("日本語")).toBe(3);
    expect(pyLen("𝔘x")).toBe(2);
    expect("𝔘x".length).toBe(3);
  });

  it("capitalize lower-cases the rest and title-cases the first character", () => {
    expect(pyCapitalize("he IS")).toBe("He is");
    expect(pyCapitalize("ǆemal")).toBe("ǅemal");
    expect(pyCapitalize("ßa")).toBe("Ssa");
    expect(pyCapitalize("")).toBe("");
    expect(pyCapitalize("1ABC")).toBe("1abc");
  });
});
