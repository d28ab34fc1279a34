/**
 * The llama.cpp engine on the generated random model: metadata, exact log-likelihoods against an
 * independent full-vocabulary log-softmax, HF repetition-penalty parity, logit bias, logprobs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLlama, type LlamaContext, type LlamaContextSequence, type LlamaModel, type Token } from "node-llama-cpp";
import { createLlamaCppEngine, type LlamaCppEngine } from "../../src/engine/llama-cpp/index.js";
import { applyRepetitionPenalty, argmax, logSoftmax } from "../../src/engine/logits.js";
import { ensureTestModel } from "../../src/testmodels/index.js";
import { gbnfConstraint } from "../../src/grammar/index.js";
import { HERMES_MARKERS } from "../../src/hermes/dialect.js";
import { collect } from "../conformance/engine-conformance.js";

// 1 thread: fastest for this tiny model on a busy 2-core machine (docs/decisions/0012-threads-default.md).
const THREADS = 1;
let modelPath: string;
let engine: LlamaCppEngine;
// An independent reference: the same GGUF loaded directly, full logits per position.
let refModel: LlamaModel;
let refContext: LlamaContext;
let refSequence: LlamaContextSequence;

/** Full logits after each of `positions` (default: the last token), by a separate evaluation from scratch. */
async function referenceLogits(tokens: readonly number[], positions: readonly number[] = [tokens.length - 1]): Promise<Float32Array[]> {
  await refSequence.clearHistory();
  const wanted = new Set(positions);
  const items = tokens.map((t, i) => (wanted.has(i) ? ([t as Token, { generateNext: { logits: true } }] as [Token, { generateNext: { logits: true } }]) : (t as Token)));
  const out = await refSequence.controlledEvaluate(items);
  return positions.map((p) => {
    const arr = new Float32Array(engine.info.vocabularySize).fill(-Infinity);
    for (const [t, l] of out[p]?.next.logits ?? []) arr[t] = l;
    return arr;
  });
}

beforeAll(async () => {
  modelPath = await ensureTestModel({ kind: "random" });
  engine = await createLlamaCppEngine({ model: modelPath, threads: THREADS, contextSize: 512, sequences: 2 });
  const llama = await getLlama({ gpu: "auto", build: "never", maxThreads: THREADS });
  refModel = await llama.loadModel({ modelPath });
  refContext = await refModel.createContext({ contextSize: 512, threads: THREADS });
  refSequence = refContext.getSequence();
});

afterAll(async () => {
  await engine?.dispose();
  await refContext?.dispose();
  await refModel?.dispose();
});

describe("llama.cpp engine: model info", () => {
  it("reads GGUF metadata, chat templates and special tokens", async () => {
    const info = engine.info;
    expect(info.architecture).toBe("llama");
    expect(info.name).toBe("Hermes 3 Llama 3.2 3B");
    expect(info.basename).toBe("Hermes-3-Llama-3.2");
    expect(info.sizeLabel).toBe("3B");
    expect(info.vocabularySize).toBe(128256);
    expect(info.trainContextLength).toBe(8192);
    expect(info.contextSize).toBeGreaterThanOrEqual(512);
    expect(info.parameterCount).toBeGreaterThan(1_000_000);
    expect(info.fileType).toMatch(/Q4_0/);
    expect(info.chatTemplates.default).toContain("<|im_start|>");
    expect(info.chatTemplates.tool_use).toContain("tool_call");
    expect(info.path).toBe(modelPath);
    expect(info.metadata["general.architecture"]).toBe("llama");
    expect(info.metadata["tokenizer.ggml.tokens"]).toBe("[array of 128256 items]");
    for (const [text, id] of Object.entries(info.specialTokens.markers)) {
      expect(await engine.tokenize(text, { special: true })).toEqual([id]);
      expect(await engine.detokenize([id], { special: true })).toBe(text);
    }
    // every added token is a marker; the Hermes ones among them
    for (const marker of HERMES_MARKERS) expect(info.specialTokens.markers[marker]).toBeTypeOf("number");
    expect(info.specialTokens.bos?.text).toBe("<|begin_of_text|>");
    expect(info.specialTokens.eos?.text).toBe("<|im_end|>");
    expect(info.specialTokens.endOfGeneration).toContain(info.specialTokens.markers["<|im_end|>"]);
    expect(info.specialTokens.endOfGeneration).not.toContain(info.specialTokens.markers["<|im_start|>"]);
  });
});

describe("llama.cpp engine: log-likelihood", () => {
  it("equals an independent full-vocabulary log-softmax within 1e-4, with greedy flags", async () => {
    const context = await engine.tokenize("<|begin_of_text|>The capital of France is", { special: true });
    const continuation = await engine.tokenize(" Paris, of course.");
    const logits = await referenceLogits(
      [...context, ...continuation],
      continuation.map((_, i) => context.length - 1 + i),
    );
    const expected: number[] = [];
    let greedy = true;
    for (let i = 0; i < continuation.length; i++) {
      const position = logits[i] as Float32Array;
      const target = continuation[i] as number;
      expected.push(logSoftmax(position)[target] as number);
      if (argmax(position) !== target) greedy = false;
    }
    // the greedy continuation, token by token
    const greedyTokens: number[] = [];
    let ctx = [...context];
    for (let i = 0; i < 4; i++) {
      const l = await referenceLogits(ctx);
      const next = argmax(l[l.length - 1] as Float32Array);
      greedyTokens.push(next);
      ctx = [...ctx, next];
    }
    const [scored, greedyScored] = await engine.loglikelihood([
      { context, continuation },
      { context, continuation: greedyTokens },
    ]);
    scored?.tokenLogprobs.forEach((lp, i) => expect(Math.abs(lp - (expected[i] as number))).toBeLessThan(1e-4));
    expect(Math.abs((scored?.loglik ?? 0) - expected.reduce((a, b) => a + b, 0))).toBeLessThan(1e-4 * continuation.length);
    expect(scored?.isGreedy).toBe(greedy);
    expect(greedy).toBe(false);
    expect(greedyScored?.isGreedy).toBe(true);
  });
});

describe("llama.cpp engine: sampling", () => {
  it("greedy with repetition penalty follows the HF-penalised argmax of the full logits", async () => {
    // > 64 tokens, so a truncated penalty window (llama.cpp's usual last-64) would give other tokens
    const prompt = await engine.tokenize(
      "<|begin_of_text|>Once upon a time there was a little fox who lived in the woods near a quiet river. " +
        "Every morning she walked to the water, counted the stones, greeted the heron and the otter, and told " +
        "them stories about mountains, comets, lanterns, violins, bakeries, harbours and the wide grey sea.",
      { special: true },
    );
    expect(prompt.length).toBeGreaterThan(64);
    // < 1 rewards repetition: the random model never repeats itself, so a penalty > 1 would change nothing
    const penalty = 0.3;
    const steps = 8;
    // reference: HF semantics, every token of prompt + generated text
    const tokens = [...prompt];
    let changed = 0;
    for (let i = 0; i < steps; i++) {
      const l = await referenceLogits(tokens);
      const last = l[l.length - 1] as Float32Array;
      const next = argmax(applyRepetitionPenalty(last, tokens, penalty));
      if (next !== argmax(last)) changed++;
      tokens.push(next);
    }
    expect(changed).toBeGreaterThan(0); // the penalty mattered
    const expected = tokens.slice(prompt.length);
    const viaSampler = await collect(engine, { prompt, sampling: { doSample: false, repetitionPenalty: penalty }, maxTokens: steps, stopTokens: [] });
    expect(viaSampler.events.flatMap((e) => (e.type === "text-delta" ? e.tokens.map((t) => t.id) : []))).toEqual(expected);
    const viaLogprobs = await collect(engine, { prompt, sampling: { doSample: false, repetitionPenalty: penalty }, maxTokens: steps, logprobs: true });
    expect(viaLogprobs.events.flatMap((e) => (e.type === "text-delta" ? e.tokens.map((t) => t.id) : []))).toEqual(expected);
  });

  it("logit bias {logit: 50} forces a token even when sampling", async () => {
    const prompt = await engine.tokenize("<|begin_of_text|>Once upon a time", { special: true });
    const forced = (await engine.tokenize(" zebra"))[0] as number;
    for (const logprobs of [false, true]) {
      const r = await collect(engine, { prompt, sampling: { temperature: 0.7, logitBias: { [forced]: 50 } }, maxTokens: 3, logprobs });
      expect(r.tokens).toEqual([forced, forced, forced]);
    }
    const banned = await collect(engine, { prompt, sampling: { doSample: false }, maxTokens: 1 });
    const first = banned.tokens[0] as number;
    const r = await collect(engine, { prompt, sampling: { doSample: false, logitBias: { [first]: -100 } }, maxTokens: 1 });
    expect(r.tokens[0]).not.toBe(first);
  });

  it("logprobs are full-vocabulary (not truncated by top-k) while sampling", async () => {
    const prompt = await engine.tokenize("<|begin_of_text|>Hello", { special: true });
    const r = await collect(engine, { prompt, sampling: { temperature: 1, topK: 2, seed: 7 }, maxTokens: 4, topLogprobs: 5 });
    const generated = r.events.flatMap((e) => (e.type === "text-delta" ? e.tokens : []));
    expect(generated).toHaveLength(4);
    let context = [...prompt];
    for (const t of generated) {
      const l = await referenceLogits(context);
      const lp = logSoftmax(l[l.length - 1] as Float32Array);
      expect(Math.abs((t.logprob as number) - (lp[t.id] as number))).toBeLessThan(1e-4);
      expect(t.top).toHaveLength(5); // more than topK: the distribution before truncation
      for (const alt of t.top ?? []) expect(Math.abs(alt.logprob - (lp[alt.token] as number))).toBeLessThan(1e-4);
      context = [...context, t.id];
    }
  });

  it("temperature 1 without truncation (llama.cpp samples, no full-logit copy): the same full-vocabulary logprobs", async () => {
    const prompt = await engine.tokenize("<|begin_of_text|>Hello", { special: true });
    const r = await collect(engine, { prompt, sampling: { temperature: 1, topK: 0, seed: 11 }, maxTokens: 6, topLogprobs: 3 });
    const generated = r.events.flatMap((e) => (e.type === "text-delta" ? e.tokens : []));
    expect(generated).toHaveLength(6);
    let context = [...prompt];
    for (const t of generated) {
      const l = await referenceLogits(context);
      const lp = logSoftmax(l[l.length - 1] as Float32Array);
      expect(Math.abs((t.logprob as number) - (lp[t.id] as number))).toBeLessThan(1e-3);
      expect(t.top).toHaveLength(3);
      for (const alt of t.top ?? []) expect(Math.abs(alt.logprob - (lp[alt.token] as number))).toBeLessThan(1e-3);
      context = [...context, t.id];
    }
    // seeded: the same draws again
    const again = await collect(engine, { prompt, sampling: { temperature: 1, topK: 0, seed: 11 }, maxTokens: 6, topLogprobs: 3 });
    expect(again.tokens).toEqual(r.tokens);
  });

  it("applies a GBNF grammar, and a lazy grammar only after its trigger", async () => {
    const prompt = await engine.tokenize("<|begin_of_text|>Answer:", { special: true });
    const strict = await collect(engine, { prompt, sampling: { doSample: false }, grammar: gbnfConstraint('root ::= " yes" | " no"'), maxTokens: 8 });
    expect([" yes", " no"]).toContain(strict.text);
    expect(strict.finish.reason).toBe("stop");
    const zebra = (await engine.tokenize(" zebra"))[0] as number;
    const trigger = await engine.detokenize([zebra]);
    const lazy = await collect(engine, {
      prompt,
      sampling: { doSample: false, logitBias: { [zebra]: 50 } },
      grammar: gbnfConstraint('root ::= " yes"', { lazyTriggers: [trigger] }),
      maxTokens: 8,
    });
    expect(lazy.text).toBe(`${trigger} yes`);
    expect(lazy.finish.reason).toBe("stop");
    await expect(collect(engine, { prompt, grammar: gbnfConstraint("root ::= oops") })).rejects.toMatchObject({ code: "invalid_request" });
  });
});
