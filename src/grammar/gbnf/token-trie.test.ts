import { describe, expect, it } from "vitest";
import { GbnfRecognizer } from "./recognizer.js";
import { TokenTrie } from "./token-trie.js";

const VOCAB = ["{", "}", '"', '{"', '":', '", "', "a", "ab", "abc", "b", " ", "  ", "1", "12", "123", "true", "tr", "é", "\uFFFD", "", "\u0000x", "x"];
const EOS = 100;
const pieces = (): (readonly [number, string])[] => [...VOCAB.map((p, i) => [i, p] as const), [EOS, "</s>"]];
const trie = TokenTrie.build(pieces(), [EOS]);

/** Brute force: every token whose piece keeps the grammar alive, EOS when it may end. */
function truth(r: GbnfRecognizer, text: string): number[] {
  const s = r.feed(r.initial(), text);
  const out = VOCAB.flatMap((p, i) => (p !== "" && !p.startsWith("\u0000") && !p.includes("\uFFFD") && !r.feed(s, p).isDead ? [i] : []));
  return (s.canEnd ? [...out, EOS] : out).sort((a, b) => a - b);
}

describe("TokenTrie", () => {
  it("skips empty, NUL-led and partial-character pieces; end tokens are not matched as text", () => {
    expect(trie.stats).toMatchObject({ tokens: VOCAB.length - 3, skipped: 3 });
  });

  it("lists exactly the allowed tokens at every prefix of a sentence", () => {
    const r = GbnfRecognizer.fromText('root ::= "{" ws "\\"" [ab]{1,3} "\\":" ws ("true" | [0-9]{1,3}) ws "}"\nws ::= " "{0,2}');
    const sentence = '{ "ab": 123 }';
    for (let i = 0; i <= sentence.length; i++) {
      const prefix = sentence.slice(0, i);
      const got = trie.allowedTokens(r, r.feed(r.initial(), prefix));
      expect(got.kind, prefix).toBe("tokens");
      if (got.kind === "tokens") expect([...got.tokens].sort((a, b) => a - b), prefix).toEqual(truth(r, prefix));
    }
  });

  it("lists end-of-generation tokens only where the grammar may end", () => {
    const r = GbnfRecognizer.fromText('root ::= "a" "b"?');
    const at = (text: string) => trie.allowedTokens(r, r.feed(r.initial(), text));
    const start = at("");
    expect(start.kind === "tokens" && start.tokens.includes(EOS)).toBe(false);
    const end = at("a");
    expect(end.kind === "tokens" && [...end.tokens].sort((x, y) => x - y)).toEqual([VOCAB.indexOf("b"), EOS]);
  });

  it("refuses where a non-ASCII character may come (a token could end inside one)", () => {
    const r = GbnfRecognizer.fromText('root ::= "a" [^"]*');
    expect(trie.allowedTokens(r, r.feed(r.initial(), "a"))).toMatchObject({ kind: "refused", why: "non-ascii" });
  });

  it("refuses past the token limit and past the node budget", () => {
    const r = GbnfRecognizer.fromText('root ::= [a-z0-9{}" ]*');
    expect(trie.allowedTokens(r, r.initial(), { limit: 3 })).toMatchObject({ kind: "refused", why: "too-many" });
    expect(trie.allowedTokens(r, r.initial(), { maxNodes: 2 })).toMatchObject({ kind: "refused", why: "too-costly" });
  });

  it("refuses a wide position with far more tokens below it than the limit without walking", () => {
    const wide = TokenTrie.build(
      Array.from({ length: 2000 }, (_, i) => [i, String.fromCharCode(0x41 + (i % 26)) + i.toString(36)] as const),
      [],
    );
    const r = GbnfRecognizer.fromText("root ::= [A-Za-z0-9]+");
    expect(wide.allowedTokens(r, r.initial(), { limit: 100 })).toMatchObject({ kind: "refused", why: "too-many", visited: 0 });
  });

  it("a dead state allows nothing", () => {
    const r = GbnfRecognizer.fromText('root ::= "a"');
    expect(trie.allowedTokens(r, r.feed(r.initial(), "b"))).toMatchObject({ kind: "tokens", tokens: [] });
  });

  it("buildInSlices yields to the event loop between slices and builds the same trie", async () => {
    const many = Array.from({ length: 20_000 }, (_, i) => [i, `t${i.toString(36)}`] as const);
    const order: string[] = [];
    const built = TokenTrie.buildInSlices(many, [], 0).then((t) => {
      order.push("built");
      return t;
    });
    setImmediate(() => order.push("immediate"));
    const t = await built;
    expect(order).toEqual(["immediate", "built"]);
    expect(t.stats).toEqual(TokenTrie.build(many, []).stats);
  });
});
