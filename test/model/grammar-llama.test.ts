/**
 * Our grammars against the real llama.cpp (node-llama-cpp 3.22.1):
 * 1. every corpus grammar (both whitespace modes) and the Hermes tool-call grammar are accepted by
 *    llama.cpp's parser (`llama.createGrammar` runs `llama_grammar_init_impl`: parse, root,
 *    left-recursion checks), and llama.cpp's own recognizer agrees with ours on the fixtures and
 *    on random walks;
 * 2. sampling from the random test model at temperature 1 under each grammar yields text that
 *    is 100% parseable JSON valid for ajv whenever the grammar completed (llama.cpp then only
 *    allows end-of-generation); generations cut by maxTokens must be viable prefixes.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { getLlama, LlamaGrammarEvaluationState, LlamaLogLevel, type Llama, type LlamaContext, type LlamaGrammar, type LlamaModel, type Token } from "node-llama-cpp";
import { toolCallGbnf, jsonSchemaToGbnf, type WhitespaceMode } from "../../src/grammar/index.js";
import { HERMES_DIALECT } from "../../src/hermes/dialect.js";
import { parseGbnf } from "../../src/grammar/gbnf/parse.js";
import { GbnfRecognizer } from "../../src/grammar/gbnf/recognizer.js";
import { GrammarSampler, seededRandom } from "../../src/grammar/gbnf/sample.js";
import { ensureTestModel } from "../../src/testmodels/index.js";
import { loadCorpus, makeValidator } from "../standalone/grammar-support.js";

const corpus = loadCorpus();
let llama: Llama;

/** llama.cpp's own full-match check (`llama_grammar_accept` over code points). */
function llamaAccepts(grammar: LlamaGrammar, text: string): boolean {
  return (grammar as unknown as { _testText(text: string): boolean })._testText(text);
}

beforeAll(async () => {
  llama = await getLlama({ gpu: "auto", build: "never", maxThreads: 2, logLevel: LlamaLogLevel.error, progressLogs: false });
});

describe("llama.cpp accepts our grammars", () => {
  test("a malformed grammar is rejected (control)", async () => {
    await expect(async () => llama.createGrammar({ grammar: "root ::= missing\n" })).rejects.toThrow();
    await expect(async () => llama.createGrammar({ grammar: 'root ::= root "a" | "b"\n' })).rejects.toThrow();
  });

  test.each(corpus.map((e) => [e.name, e] as const))("%s", async (_name, entry) => {
    const validate = makeValidator(entry.schema);
    for (const whitespace of ["flexible", "compact"] as WhitespaceMode[]) {
      const { gbnf, rootRule } = jsonSchemaToGbnf(entry.schema, { whitespace });
      const grammar = await llama.createGrammar({ grammar: gbnf, rootRuleName: rootRule });
      const ours = GbnfRecognizer.fromText(gbnf, { root: rootRule });
      for (const v of entry.valid) expect(llamaAccepts(grammar, JSON.stringify(v)), JSON.stringify(v)).toBe(true);
      for (const v of entry.invalid) expect(llamaAccepts(grammar, JSON.stringify(v)), JSON.stringify(v)).toBe(false);
      const sampler = new GrammarSampler(parseGbnf(gbnf));
      const random = seededRandom(42);
      for (let i = 0; i < 5; i++) {
        const text = sampler.sample(random, { root: rootRule, budget: 150 });
        expect(llamaAccepts(grammar, text), text).toBe(true);
        expect(validate(JSON.parse(text))).toBe(true);
        // a truncated sample is incomplete for both recognizers
        const cut = [...text].slice(0, -1).join("");
        expect(llamaAccepts(grammar, cut)).toBe(ours.accepts(cut));
      }
    }
  });

  test("Hermes tool-call grammar over all corpus tools", async () => {
    const tools = corpus.filter((e) => e.tool !== undefined).map((e) => ({ name: e.tool?.name as string, parameters: e.schema }));
    expect(tools.length).toBeGreaterThanOrEqual(10);
    const { gbnf } = toolCallGbnf(HERMES_DIALECT.toolCall, tools, { maxCalls: 3 });
    const grammar = await llama.createGrammar({ grammar: gbnf });
    const weather = '<tool_call>\n{"name": "get_weather", "arguments": {"location": "Paris"}}\n</tool_call>';
    expect(llamaAccepts(grammar, weather)).toBe(true);
    expect(llamaAccepts(grammar, `${weather}\n${weather}`)).toBe(true);
    expect(llamaAccepts(grammar, weather.replace("get_weather", "send_email"))).toBe(false);
  });
});

/**
 * Every corpus schema is sampled once from the random model at temperature 1 (the acceptance
 * test). One thread: CI runs two test files at a time on 2 cores.
 */
describe("sampling the random model under our grammars", () => {
  let model: LlamaModel;
  let context: LlamaContext;
  const entries = corpus;
  const MAX_TOKENS = 120;

  beforeAll(async () => {
    const modelPath = await ensureTestModel({ kind: "random" });
    model = await llama.loadModel({ modelPath });
    context = await model.createContext({ contextSize: 512, threads: 1, sequences: 1 });
  });

  afterAll(async () => {
    await context?.dispose();
    await model?.dispose();
  });

  test("completed generations are 100% valid JSON for ajv; cut ones are viable prefixes", async () => {
    expect(entries.length).toBeGreaterThanOrEqual(40);
    const sequence = context.getSequence();
    const prompt = model.tokenize("<|im_start|>assistant\n", true);
    let completed = 0;
    let cut = 0;
    let tokens = 0;
    const started = Date.now();
    for (const [i, entry] of entries.entries()) {
      const validate = makeValidator(entry.schema);
      const { gbnf, rootRule } = jsonSchemaToGbnf(entry.schema);
      const grammar = await llama.createGrammar({ grammar: gbnf, rootRuleName: rootRule });
      const ours = GbnfRecognizer.fromText(gbnf, { root: rootRule });
      await sequence.clearHistory();
      const grammarEvaluationState = new LlamaGrammarEvaluationState({ model, grammar });
      const generated: Token[] = [];
      let sawEog = false;
      for await (const token of sequence.evaluate(prompt, { temperature: 1, seed: 1000 + i, grammarEvaluationState, yieldEogToken: true })) {
        if (model.isEogToken(token)) {
          sawEog = true;
          break;
        }
        generated.push(token);
        if (generated.length >= MAX_TOKENS) break;
      }
      tokens += generated.length;
      const text = model.detokenize(generated, true);
      if (sawEog) {
        completed++;
        let value: unknown;
        expect(() => (value = JSON.parse(text)), `${entry.name}: not JSON: ${text}`).not.toThrow();
        expect(validate(value), `${entry.name}: ajv rejects ${text}`).toBe(true);
        expect(ours.accepts(text), `${entry.name}: our recognizer rejects ${text}`).toBe(true);
      } else {
        cut++;
        // a token cut inside a multi-byte character detokenizes to U+FFFD
        const clean = text.replace(/\uFFFD+$/, "");
        expect(ours.isViablePrefix(clean), `${entry.name}: not a viable prefix: ${clean}`).toBe(true);
      }
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(`grammar sampling: ${entries.length} schemas, ${completed} completed, ${cut} cut at ${MAX_TOKENS} tokens, ${tokens} tokens in ${seconds.toFixed(1)} s`);
    expect(completed).toBeGreaterThanOrEqual(Math.ceil(entries.length / 2));
  }, 600_000);
});
