/**
 * Building {@link ModelInfo} from a loaded node-llama-cpp model: GGUF metadata (flattened back to
 * dotted keys, large arrays elided), chat templates, and special tokens resolved by tokenizing
 * their text with special tokens on (never hard-coded ids).
 */
import { GgufFileType, type LlamaModel } from "node-llama-cpp";
import { asToken } from "./tokens.js";
import type { ModelInfo, SpecialTokenInfo, SpecialTokens, TokenId } from "../types.js";

/** GGUF `tokenizer.ggml.token_type` values of added tokens: CONTROL (3) and USER_DEFINED (4). */
const ADDED_TOKEN_TYPES: ReadonlySet<unknown> = new Set([3, 4]);

/**
 * Every added token (CONTROL or USER_DEFINED in `tokenizer.ggml.token_type`) whose text tokenizes,
 * with special tokens on, back to exactly that one token: text → id. The engine knows no chat
 * format; a format looks its own markers up here (Hermes: `<|im_start|>`, `<tool_call>`, …).
 */
export function addedTokenMarkers(model: LlamaModel): Record<string, TokenId> {
  const ggml = (model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: unknown; token_type?: unknown } } }).tokenizer?.ggml;
  const tokens = ggml?.tokens;
  const types = ggml?.token_type;
  const markers: Record<string, TokenId> = {};
  if (!Array.isArray(tokens) || !Array.isArray(types)) return markers;
  for (let i = 0; i < types.length; i++) {
    const text = tokens[i];
    if (!ADDED_TOKEN_TYPES.has(types[i]) || typeof text !== "string" || text === "") continue;
    if (singleTokenId(model, text) === i) markers[text] = i;
  }
  return markers;
}

/** Arrays longer than this are replaced by a short description in {@link ModelInfo.metadata}. */
const MAX_METADATA_ARRAY = 64;

/** Flatten node-llama-cpp's nested metadata back to GGUF's dotted keys. */
export function flattenMetadata(nested: unknown, prefix = "", out: Record<string, unknown> = {}): Record<string, unknown> {
  if (nested === null || typeof nested !== "object" || Array.isArray(nested)) {
    out[prefix] = elide(nested);
    return out;
  }
  for (const [key, value] of Object.entries(nested as Record<string, unknown>)) {
    const full = prefix === "" ? key : `${prefix}.${key}`;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) flattenMetadata(value, full, out);
    else out[full] = elide(value);
  }
  return out;
}

function elide(value: unknown): unknown {
  if (Array.isArray(value) && value.length > MAX_METADATA_ARRAY) return `[array of ${value.length} items]`;
  if (typeof value === "bigint") return Number(value);
  return value;
}

/** `tokenizer.chat_template` → `default`; `tokenizer.chat_template.<name>` → `<name>`. */
export function chatTemplatesOf(flat: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(flat)) {
    if (typeof value !== "string") continue;
    if (key === "tokenizer.chat_template") out.default = value;
    else if (key.startsWith("tokenizer.chat_template.")) out[key.slice("tokenizer.chat_template.".length)] = value;
  }
  return out;
}

export function fileTypeName(value: unknown): string | undefined {
  if (typeof value !== "number") return undefined;
  const name = (GgufFileType as unknown as Record<number, string | undefined>)[value];
  return name ?? `type ${value}`;
}

/** Every token id llama.cpp treats as end-of-generation. */
export function endOfGenerationTokens(model: LlamaModel, vocabularySize: number): TokenId[] {
  const out: TokenId[] = [];
  for (let t = 0; t < vocabularySize; t++) if (model.isEogToken(asToken(t))) out.push(t);
  return out;
}

/** The id of `text` when it tokenizes (special tokens on) to exactly one token. */
export function singleTokenId(model: LlamaModel, text: string): TokenId | undefined {
  const tokens = model.tokenize(text, true);
  return tokens.length === 1 ? tokens[0] : undefined;
}

export function vocabularySizeOf(model: LlamaModel): number {
  const tokens = (model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: unknown } } }).tokenizer?.ggml?.tokens;
  if (Array.isArray(tokens)) return tokens.length;
  throw new Error("the model has no tokenizer.ggml.tokens array");
}

export function buildModelInfo(args: {
  readonly model: LlamaModel;
  readonly source: string;
  readonly path: string;
  readonly contextSize: number;
}): ModelInfo {
  const { model } = args;
  const metadata = flattenMetadata(model.fileInfo.metadata);
  const vocabularySize = vocabularySizeOf(model);
  const str = (key: string): string | undefined => (typeof metadata[key] === "string" ? (metadata[key] as string) : undefined);
  const architecture = str("general.architecture") ?? "unknown";
  const special = (id: TokenId | null): SpecialTokenInfo | undefined =>
    id === null ? undefined : { id, text: model.detokenize([asToken(id)], true) };
  const markers = addedTokenMarkers(model);
  const bos = special(model.tokens.bos);
  const eos = special(model.tokens.eos);
  const eot = special(model.tokens.eot);
  const specialTokens: SpecialTokens = {
    ...(bos !== undefined ? { bos } : {}),
    ...(eos !== undefined ? { eos } : {}),
    ...(eot !== undefined ? { eot } : {}),
    endOfGeneration: endOfGenerationTokens(model, vocabularySize),
    markers,
  };
  const optional = (key: keyof ModelInfo, value: string | undefined): Partial<Record<keyof ModelInfo, string>> =>
    value === undefined ? {} : { [key]: value };
  return {
    source: args.source,
    path: args.path,
    architecture,
    ...optional("name", str("general.name")),
    ...optional("basename", str("general.basename")),
    ...optional("finetune", str("general.finetune")),
    ...optional("sizeLabel", str("general.size_label")),
    parameterCount: model.fileInsights.totalParameters,
    trainContextLength: model.trainContextSize,
    contextSize: args.contextSize,
    vocabularySize,
    ...optional("fileType", fileTypeName(metadata["general.file_type"])),
    chatTemplates: chatTemplatesOf(metadata),
    specialTokens,
    metadata,
  } as ModelInfo;
}

/**
 * Model facts from a local GGUF's header alone (no weights loaded): what a remote engine in front of
 * the same model lacks from its backend (`--model-info`: names for profile detection, chat templates,
 * vocabulary size). The shape is `engine/remote`'s `LocalModelInfo`.
 */
export async function readLocalModelInfo(path: string): Promise<{
  readonly path: string;
  readonly architecture: string;
  readonly name?: string;
  readonly basename?: string;
  readonly finetune?: string;
  readonly sizeLabel?: string;
  readonly trainContextLength?: number;
  readonly vocabularySize?: number;
  readonly fileType?: string;
  readonly chatTemplates: Readonly<Record<string, string>>;
  readonly metadata: Readonly<Record<string, unknown>>;
}> {
  const { readGgufFileInfo } = await import("node-llama-cpp");
  const file = await readGgufFileInfo(path, { readTensorInfo: false });
  const metadata = flattenMetadata(file.metadata);
  const str = (key: string): string | undefined => (typeof metadata[key] === "string" ? (metadata[key] as string) : undefined);
  const architecture = str("general.architecture") ?? "unknown";
  const tokens = (file.metadata as { tokenizer?: { ggml?: { tokens?: unknown } } }).tokenizer?.ggml?.tokens;
  const context = metadata[`${architecture}.context_length`];
  const fileType = fileTypeName(metadata["general.file_type"]);
  const name = str("general.name");
  const basename = str("general.basename");
  const finetune = str("general.finetune");
  const sizeLabel = str("general.size_label");
  return {
    path,
    architecture,
    ...(name === undefined ? {} : { name }),
    ...(basename === undefined ? {} : { basename }),
    ...(finetune === undefined ? {} : { finetune }),
    ...(sizeLabel === undefined ? {} : { sizeLabel }),
    ...(typeof context === "number" ? { trainContextLength: context } : {}),
    ...(Array.isArray(tokens) ? { vocabularySize: tokens.length } : {}),
    ...(fileType === undefined ? {} : { fileType }),
    chatTemplates: chatTemplatesOf(metadata),
    metadata,
  };
}
