/**
 * Property tests over the schema corpus (test/fixtures/schemas): for every schema and both
 * whitespace modes,
 * - the grammar parses and compiles (our llama.cpp-dialect parser, left-recursion check);
 * - hand-written valid instances validate with ajv and are accepted by the recognizer;
 * - hand-written invalid instances fail ajv and are rejected by the recognizer;
 * - random walks over the grammar are 100% parseable JSON that ajv accepts (soundness), and the
 *   recognizer accepts them with every prefix viable;
 * - seeded mutations of valid instances that ajv rejects are rejected by the recognizer.
 */
import { describe, expect, test } from "vitest";
import { jsonSchemaToGbnf, type WhitespaceMode } from "../../src/grammar/index.js";
import { parseGbnf } from "../../src/grammar/gbnf/parse.js";
import { GbnfRecognizer } from "../../src/grammar/gbnf/recognizer.js";
import { GrammarSampler, seededRandom } from "../../src/grammar/gbnf/sample.js";
import { loadCorpus, makeValidator, mutations } from "./grammar-support.js";

const corpus = loadCorpus();
const SAMPLES = 40;
const MUTATIONS_PER_VALUE = 6;

test("the corpus has at least 40 schemas", () => {
  expect(corpus.length).toBeGreaterThanOrEqual(40);
});

describe.each(corpus.map((e) => [e.name, e] as const))("%s", (_name, entry) => {
  const validate = makeValidator(entry.schema);

  test("fixture instances agree with ajv", () => {
    for (const v of entry.valid) expect(validate(v), `valid: ${JSON.stringify(v)}`).toBe(true);
    for (const v of entry.invalid) expect(validate(v), `invalid: ${JSON.stringify(v)}`).toBe(false);
  });

  describe.each(["flexible", "compact"] as WhitespaceMode[])("whitespace %s", (whitespace) => {
    const { gbnf, rootRule } = jsonSchemaToGbnf(entry.schema, { whitespace });
    const grammar = parseGbnf(gbnf);
    const recognizer = GbnfRecognizer.fromGrammar(grammar, { root: rootRule });

    test("accepts valid instances and rejects invalid ones", () => {
      for (const v of entry.valid) {
        expect(recognizer.accepts(JSON.stringify(v)), `valid: ${JSON.stringify(v)}`).toBe(true);
        if (whitespace === "flexible") {
          const pretty = JSON.stringify(v, null, 2);
          expect(recognizer.accepts(pretty), `pretty: ${pretty}`).toBe(true);
        } else {
          if (JSON.stringify(v) !== JSON.stringify(v, null, 1)) {
            expect(recognizer.accepts(JSON.stringify(v, null, 1)), "compact rejects whitespace").toBe(false);
          }
        }
      }
      for (const v of entry.invalid) {
        expect(recognizer.accepts(JSON.stringify(v)), `invalid: ${JSON.stringify(v)}`).toBe(false);
      }
    });

    test("random walks are valid JSON for ajv, and the recognizer follows them", () => {
      const sampler = new GrammarSampler(grammar);
      const random = seededRandom(0xc0ffee ^ entry.name.length);
      for (let i = 0; i < SAMPLES; i++) {
        const text = sampler.sample(random, { root: rootRule, budget: 200 });
        let value: unknown;
        expect(() => (value = JSON.parse(text)), `not JSON: ${text}`).not.toThrow();
        expect(validate(value), `ajv rejects sample: ${text}`).toBe(true);
        if (i < 8) {
          // step by step: every prefix viable, each next character announced by allowedNext
          let state = recognizer.initial();
          for (const ch of text) {
            const cp = ch.codePointAt(0) as number;
            expect(recognizer.allowedNext(state).has(cp), `char ${JSON.stringify(ch)} not announced in ${text}`).toBe(true);
            state = recognizer.step(state, cp);
            expect(state.isDead).toBe(false);
          }
          expect(state.canEnd).toBe(true);
        } else {
          expect(recognizer.accepts(text), `recognizer rejects sample: ${text}`).toBe(true);
        }
      }
    });

    test("mutations that ajv rejects are rejected", () => {
      const sampler = new GrammarSampler(grammar);
      const random = seededRandom(0xbadf00d ^ entry.name.length);
      const seeds = [...entry.valid, ...Array.from({ length: 10 }, () => JSON.parse(sampler.sample(random, { root: rootRule, budget: 120 })) as unknown)];
      let rejectedByAjv = 0;
      for (const seed of seeds) {
        for (const m of mutations(seed, random, MUTATIONS_PER_VALUE)) {
          if (validate(m)) continue;
          rejectedByAjv++;
          const text = JSON.stringify(m);
          if (text === undefined) continue;
          expect(recognizer.accepts(text), `accepts ajv-invalid ${text}`).toBe(false);
          if (whitespace === "flexible") expect(recognizer.accepts(JSON.stringify(m, null, 2))).toBe(false);
        }
      }
      if (entry.name !== "any-value") expect(rejectedByAjv).toBeGreaterThan(0);
    });
  });
});
