import { describe, expect, it } from "vitest";
import { GbnfRecognizer } from "./recognizer.js";
import { prefixGrammarWithTriggers } from "./trigger-prefix.js";

const accepts = (gbnf: string, text: string): boolean => {
  const r = GbnfRecognizer.fromText(gbnf);
  const s = r.feed(r.initial(), text);
  return !s.isDead && s.canEnd;
};

describe("prefixGrammarWithTriggers", () => {
  it("accepts trigger + what the grammar accepted, and nothing without the trigger", () => {
    const g = 'root ::= "\\n{" item* "}"\nitem ::= [a-z]\n';
    const out = prefixGrammarWithTriggers(g, ["<tool_call>"]);
    expect(accepts(out, "<tool_call>\n{ab}")).toBe(true);
    expect(accepts(out, "\n{ab}")).toBe(false);
    expect(accepts(out, "<tool_call>x")).toBe(false);
  });

  it("renames references to root and avoids clashes with existing rule names", () => {
    const g = 'root ::= "a" | "(" root ")"\nafter-trigger ::= "z"\n';
    const out = prefixGrammarWithTriggers(g, ["<t>", "<u>"]);
    expect(accepts(out, "<t>((a))")).toBe(true);
    expect(accepts(out, "<u>a")).toBe(true);
    expect(accepts(out, "<t>(a")).toBe(false);
    expect(out).toContain("after-trigger-2");
  });
});

describe("portableGbnf", () => {
  it("writes llama.cpp's any-character as [^] and accepts the same texts", async () => {
    const { portableGbnf } = await import("./portable.js");
    const g = 'root ::= "a" . item\nitem ::= [0-9]\n';
    const out = portableGbnf(g);
    expect(out).toContain("[^]");
    expect(out).not.toMatch(/(^|\s)\.(\s|$)/m);
    for (const text of ["a!1", "aé9", "a\n0"]) expect(accepts(out, text)).toBe(accepts(g, text));
    expect(accepts(out, "a1")).toBe(false);
    expect(portableGbnf('root ::= "x"\n')).toBe('root ::= "x"\n');
  });
});
