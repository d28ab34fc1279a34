/** Small helpers shared by the `render`, `parse` and `chat` commands. */
import { readFile } from "node:fs/promises";
import { createLlamaCppEngine } from "../../engine/llama-cpp/index.js";
import type { Engine, ModelInfo } from "../../engine/types.js";
import { detectProfile, getProfile, type HermesProfile, type HermesMessage, type ToolInput } from "../../hermes/index.js";
export { parsePositiveInt } from "../option-parsers.js";

export async function readJsonFile(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new Error(`cannot read ${what} file ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${what} file ${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** A messages file: an array of messages, or `{messages, tools?}`. */
export async function readMessagesFile(file: string): Promise<{ messages: HermesMessage[]; tools?: ToolInput[] }> {
  const data = await readJsonFile(file, "messages");
  if (Array.isArray(data)) return { messages: data as HermesMessage[] };
  if (typeof data === "object" && data !== null && Array.isArray((data as { messages?: unknown }).messages)) {
    const { messages, tools } = data as { messages: HermesMessage[]; tools?: ToolInput[] };
    return Array.isArray(tools) ? { messages, tools } : { messages };
  }
  throw new Error(`messages file ${file} must hold an array of messages or {"messages": [...]}`);
}

/** A tools file: an array of OpenAI tools / function definitions, or `{tools}`. */
export async function readToolsFile(file: string): Promise<ToolInput[]> {
  const data = await readJsonFile(file, "tools");
  const tools = Array.isArray(data) ? data : (data as { tools?: unknown } | null)?.tools;
  if (!Array.isArray(tools)) throw new Error(`tools file ${file} must hold an array of tools or {"tools": [...]}`);
  return tools as ToolInput[];
}

/** Load a GGUF through the engine adapter (small context; the CLI only needs metadata or a short chat). */
export async function loadEngine(model: string, options: { threads?: number; contextSize?: number } = {}): Promise<Engine> {
  return createLlamaCppEngine({
    model,
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.contextSize === undefined ? {} : { contextSize: options.contextSize }),
  });
}

/** The profile to use: `--profile` if given, else detected from the model's metadata, else `hermes-3`. */
export function chooseProfile(requested: string | undefined, info: ModelInfo | undefined): { profile: HermesProfile; reason: string } {
  if (requested !== undefined) return { profile: getProfile(requested), reason: "--profile" };
  if (info === undefined) return { profile: getProfile("hermes-3"), reason: "default (no model given)" };
  const detection = detectProfile({
    name: info.name,
    basename: info.basename,
    finetune: info.finetune,
    sizeLabel: info.sizeLabel,
    chatTemplates: info.chatTemplates,
  });
  return { profile: getProfile(detection.profile), reason: detection.reason };
}
