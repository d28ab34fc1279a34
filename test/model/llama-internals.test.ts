/**
 * Canaries for every node-llama-cpp private field Talaria touches (src/engine/llama-cpp/internals.ts).
 * If an upgrade moves one, these fail instead of the engine silently changing behaviour.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLlama, LlamaGrammarEvaluationState, type LlamaModel, type Token } from "node-llama-cpp";
import { createLlamaCppEngine, type LlamaCppEngine } from "../../src/engine/llama-cpp/index.js";
import { grammarStateControl, tokenBiasOf } from "../../src/engine/llama-cpp/internals.js";
import { ensureTestModel } from "../../src/testmodels/index.js";
import { CONFORMANCE_PROMPT, CONFORMANCE_REPLY, collect } from "../conformance/engine-conformance.js";

let model: LlamaModel;
let engine: LlamaCppEngine;

beforeAll(async () => {
  const path = await ensureTestModel({ kind: "scripted", reply: CONFORMANCE_REPLY });
  const llama = await getLlama({ gpu: "auto", build: "never", maxThreads: 1 });
  model = await llama.loadModel({ modelPath: path });
  engine = await createLlamaCppEngine({ model: path, threads: 1, contextSize: 256 });
});

afterAll(async () => {
  await engine?.dispose();
  await model?.dispose();
});

describe("node-llama-cpp internals (canaries)", () => {
  it("grammar state control (_state, _llama._bindings.AddonSampler) exists and follows the grammar", async () => {
    const grammar = await model.llama.createGrammar({ grammar: 'root ::= "a" "b"' });
    const state = new LlamaGrammarEvaluationState({ model, grammar });
    const control = grammarStateControl(state);
    expect(control).toBeDefined();
    const [a] = model.tokenize("a");
    const [b] = model.tokenize("b");
    expect(control?.canBeNext(a as number)).toBe(true);
    expect(control?.canBeNext(b as number)).toBe(false);
    control?.accept(a as number);
    expect(control?.canBeNext(b as number)).toBe(true);
    expect(control?.canBeNext(a as number)).toBe(false);
  });

  it("TokenBias._biases exists: an end-of-generation token can be biased", () => {
    const eog = new Set(engine.info.specialTokens.endOfGeneration);
    const [token] = [...eog];
    const bias = tokenBiasOf(model, new Map([[token as number, -Infinity]]), eog);
    const biases = (bias as unknown as { _biases: Map<Token, number> })._biases;
    expect(biases.get(token as Token)).toBe(-Infinity);
  });

  it("banning the end-of-generation tokens with logit_bias -100 runs to the length limit", async () => {
    const base = await collect(engine, { prompt: CONFORMANCE_PROMPT, sampling: { doSample: false }, maxTokens: 64 });
    expect(base.text).toBe(CONFORMANCE_REPLY);
    expect(base.finish.reason).toBe("stop");
    const limit = base.finish.usage.completionTokens + 4;
    const logitBias = Object.fromEntries(engine.info.specialTokens.endOfGeneration.map((t) => [t, -100]));
    const banned = await collect(engine, { prompt: CONFORMANCE_PROMPT, sampling: { doSample: false, logitBias }, maxTokens: limit });
    expect(banned.text.startsWith(CONFORMANCE_REPLY)).toBe(true);
    expect(banned.finish.reason).toBe("length");
    expect(banned.finish.usage.completionTokens).toBe(limit);
  });
});
