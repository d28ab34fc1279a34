/**
 * Allowed-token preselection (docs/decisions/0185) against llama.cpp's own grammar: wherever our
 * vocabulary trie lists the allowed tokens, the list must be exactly the tokens llama.cpp's grammar
 * state accepts (checked token by token over the whole 128k vocabulary), and generation with
 * preselection must stay valid and, greedy, pick what the whole-vocabulary mask picks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLlama, LlamaGrammarEvaluationState, type LlamaModel, type Token } from "node-llama-cpp";
import { createLlamaCppEngine, type LlamaCppEngine } from "../../src/engine/llama-cpp/index.js";
import { grammarStateControl } from "../../src/engine/llama-cpp/internals.js";
import { vocabularySizeOf } from "../../src/engine/llama-cpp/model-info.js";
import { GbnfRecognizer, TokenTrie, formatToolCall, jsonSchemaConstraint, toolCallsConstraint } from "../../src/grammar/index.js";
import { HERMES_DIALECT, renderPrompt } from "../../src/hermes/index.js";
import { ensureTestModel } from "../../src/testmodels/index.js";
import { collect } from "../conformance/engine-conformance.js";

const TOOLS = [
  {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string", maxLength: 12 }, unit: { enum: ["celsius", "fahrenheit"] }, days: { type: "integer", minimum: 1, maximum: 14 } },
      required: ["city", "unit", "days"],
      additionalProperties: false,
    },
  },
  { name: "get_time", description: "Time in a zone", parameters: { type: "object", properties: { zone: { type: "string" } }, required: ["zone"] } },
];
const SCHEMA = {
  type: "object",
  properties: { name: { type: "string", maxLength: 10 }, age: { type: "integer", minimum: 0, maximum: 120 }, member: { type: "boolean" }, tags: { type: "array", items: { enum: ["a", "bc"] }, maxItems: 2 } },
  required: ["name", "age", "member", "tags"],
  additionalProperties: false,
};

let model: LlamaModel;
let engine: LlamaCppEngine;
let plain: LlamaCppEngine;
let trie: TokenTrie;
let vocabulary: number;

beforeAll(async () => {
  const path = await ensureTestModel({ kind: "random" });
  const llama = await getLlama({ gpu: "auto", build: "never", maxThreads: 1 });
  model = await llama.loadModel({ modelPath: path });
  engine = await createLlamaCppEngine({ model: path, threads: 1, contextSize: 1024 });
  plain = await createLlamaCppEngine({ model: path, threads: 1, contextSize: 1024, preselect: false });
  await engine.preselectionReady();
  vocabulary = vocabularySizeOf(model);
  const eog = new Set(engine.info.specialTokens.endOfGeneration);
  const pieces = function* (): Generator<readonly [number, string]> {
    for (let id = 0; id < vocabulary; id++) yield [id, model.detokenize([id as Token], true)];
  };
  trie = TokenTrie.build(pieces(), eog);
}, 120_000);

afterAll(async () => {
  await engine?.dispose();
  await plain?.dispose();
  await model?.dispose();
});

/** Walks `text`'s tokens through llama.cpp's grammar state and our recognizer, comparing at every boundary. */
async function compareAlong(gbnf: string, text: string): Promise<{ listed: number; refused: number }> {
  const grammar = await model.llama.createGrammar({ grammar: gbnf });
  const state = new LlamaGrammarEvaluationState({ model, grammar });
  const control = grammarStateControl(state);
  if (control === undefined) throw new Error("no grammar state control");
  const recognizer = GbnfRecognizer.fromText(gbnf);
  let rs = recognizer.initial();
  let listed = 0;
  let refused = 0;
  let seen = "";
  for (const token of model.tokenize(text, true)) {
    const r = trie.allowedTokens(recognizer, rs, { limit: 4096, maxNodes: 200_000 });
    if (r.kind === "tokens") {
      listed++;
      const truth: number[] = [];
      for (let id = 0; id < vocabulary; id++) if (control.canBeNext(id)) truth.push(id);
      expect([...r.tokens].sort((a, b) => a - b), `allowed after ${JSON.stringify(seen)}`).toEqual(truth);
    } else {
      refused++;
    }
    expect(control.canBeNext(token)).toBe(true);
    control.accept(token);
    const piece = model.detokenize([token], true);
    rs = recognizer.feed(rs, piece);
    seen += piece;
  }
  return { listed, refused };
}

describe("allowed-token preselection", () => {
  it("the trie holds the vocabulary (whole-character pieces)", () => {
    expect(trie.stats.tokens).toBeGreaterThan(100_000);
    expect(trie.stats.tokens + trie.stats.skipped + engine.info.specialTokens.endOfGeneration.length).toBeGreaterThanOrEqual(vocabulary - 300);
  });

  it("lists exactly the tokens llama.cpp's grammar accepts, along a tool call", async () => {
    const c = toolCallsConstraint(HERMES_DIALECT.toolCall, TOOLS);
    const call = formatToolCall(HERMES_DIALECT.toolCall, "get_weather", JSON.stringify({ city: 'Pa"ris', unit: "celsius", days: 3 }));
    const { listed, refused } = await compareAlong(c.gbnf, call);
    expect(listed).toBeGreaterThan(5);
    expect(refused).toBeGreaterThan(0); // inside a string: any character may come
  }, 120_000);

  it("lists exactly the tokens llama.cpp's grammar accepts, along a JSON-schema answer", async () => {
    const c = jsonSchemaConstraint(SCHEMA);
    const { listed } = await compareAlong(c.gbnf, JSON.stringify({ name: "Ann", age: 42, member: true, tags: ["bc", "a"] }));
    expect(listed).toBeGreaterThan(5);
  }, 120_000);

  it("generation with preselection is valid; greedy it picks what the mask picks", async () => {
    const bos = engine.info.specialTokens.bos?.text ?? "";
    const prompt = renderPrompt({ messages: [{ role: "user", content: "Invent a member." }], jsonSchema: SCHEMA, bosToken: bos });
    const grammar = jsonSchemaConstraint(SCHEMA);
    const before = engine.preselectedStepCount;
    const a = await collect(engine, { prompt, grammar, jumpForward: false, sampling: { doSample: false }, maxTokens: 200 });
    expect(engine.preselectedStepCount).toBeGreaterThan(before);
    const b = await collect(plain, { prompt, grammar, jumpForward: false, sampling: { doSample: false }, maxTokens: 200 });
    expect(a.text).toBe(b.text);
    for (let seed = 1; seed <= 3; seed++) {
      const s = await collect(engine, { prompt, grammar, sampling: { temperature: 1, seed }, maxTokens: 200 });
      if (s.finish.reason === "stop") expect(() => JSON.parse(s.text)).not.toThrow();
      expect(GbnfRecognizer.fromText(grammar.gbnf).isViablePrefix(s.text)).toBe(true);
    }
  }, 120_000);
});

describe("allowed-token preselection: the vocabulary trie is built in the background", () => {
  it("a fresh engine answers a constrained request at once and preselects once the trie is ready", async () => {
    const path = await ensureTestModel({ kind: "random" });
    const fresh = await createLlamaCppEngine({ model: path, threads: 1, contextSize: 512 });
    try {
      const grammar = jsonSchemaConstraint(SCHEMA);
      const prompt = "<|im_start|>user\nA member?<|im_end|>\n<|im_start|>assistant\n";
      // the first request does not wait for the trie (it is built in slices: token-trie.test.ts)
      const first = await collect(fresh, { prompt, grammar, sampling: { doSample: false }, maxTokens: 8 });
      expect(first.finish.usage.completionTokens).toBeGreaterThan(0);
      await fresh.preselectionReady();
      const before = fresh.preselectedStepCount;
      await collect(fresh, { prompt, grammar, sampling: { doSample: false }, maxTokens: 8 });
      expect(fresh.preselectedStepCount).toBeGreaterThan(before);
    } finally {
      await fresh.dispose();
    }
  }, 120_000);
});
