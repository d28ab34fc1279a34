/** Small helpers shared by the `render`, `parse` and `chat` commands. */
import { readFile } from "node:fs/promises";
import type { ModelInfo } from "../../engine/types.js";
import { getProfile, isProfileId, type HermesProfile, type HermesMessage, type ToolInput } from "../../hermes/index.js";
import { resolveHermesChatSetup } from "../../chat/hermes-chat.js";

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

/**
 * The profile to use: `--profile` if given, else detected from the model's metadata, else `hermes-3`
 * (the composition root's rule, `resolveHermesChatSetup`). Throws for an unknown profile id.
 */
export function chooseProfile(requested: string | undefined, info: ModelInfo | undefined): { profile: HermesProfile; reason: string } {
  if (requested !== undefined && requested !== "auto" && !isProfileId(requested)) getProfile(requested);
  const setup = resolveHermesChatSetup(info, { profile: requested === undefined || !isProfileId(requested) ? "auto" : requested });
  return { profile: getProfile(setup.profile), reason: requested !== undefined && requested !== "auto" ? "--profile" : setup.profileReason };
}
