/**
 * zod schemas of Anthropic's Messages API bodies (`POST /v1/messages`, `/v1/messages/count_tokens`) and
 * their conversion to the chat service's types. Following Anthropic's API reference (messages, tool use):
 * `system` (a string or text blocks), `messages` of `user` / `assistant` turns whose content is a string
 * or blocks (`text`, `tool_use`, `tool_result`), `tools` with `input_schema`, `tool_choice`
 * (`auto`, `any`, `tool`, `none`, with `disable_parallel_tool_use`), `max_tokens` (required),
 * `stop_sequences`, `temperature`, `top_p`, `top_k`, `metadata`, `stream`. Images and documents are
 * refused: the Hermes models take text only.
 */
import { z } from "zod";
import type { ChatMessage, ChatRequest, ToolChoice, ToolDefinition } from "../../chat/types.js";
import type { SamplingOptions } from "../../engine/types.js";
import { ApiError } from "../errors.js";
import { jsonDeeperThan, MAX_JSON_DEPTH } from "../openai/schemas.js";

// Anthropic documents letters, digits, "_" and "-"; "." is accepted too (OpenAI-style names such as search.web).
const TOOL_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;

const jsonObject = z
  .record(z.string(), z.unknown())
  .refine((v) => !jsonDeeperThan(v, MAX_JSON_DEPTH), { message: `nests deeper than ${MAX_JSON_DEPTH} levels` });

const textBlock = z.object({ type: z.literal("text"), text: z.string(), cache_control: z.unknown().optional(), citations: z.unknown().optional() });
const toolUseBlock = z.object({ type: z.literal("tool_use"), id: z.string().min(1), name: z.string().min(1), input: jsonObject, cache_control: z.unknown().optional() });
const toolResultBlock = z.object({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(textBlock)]).optional(),
  is_error: z.boolean().optional(),
  cache_control: z.unknown().optional(),
});
/** Blocks Talaria cannot take: named in a clear 400 (checked before zod's union error). */
const UNSUPPORTED_BLOCKS = new Set(["image", "document", "search_result", "thinking", "redacted_thinking", "server_tool_use", "web_search_tool_result", "container_upload"]);
const block = z.discriminatedUnion("type", [textBlock, toolUseBlock, toolResultBlock]);

const messageSchema = z.object({
  role: z.enum(["user", "assistant"]),
  content: z.union([z.string(), z.array(block)]),
});

const toolSchema = z.object({
  name: z.string().regex(TOOL_NAME, "must be 1–128 letters, digits, '_', '.' or '-'"),
  description: z.string().optional(),
  input_schema: jsonObject,
  type: z.literal("custom").optional(),
  cache_control: z.unknown().optional(),
});

const toolChoiceSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("auto"), disable_parallel_tool_use: z.boolean().optional() }),
  z.object({ type: z.literal("any"), disable_parallel_tool_use: z.boolean().optional() }),
  z.object({ type: z.literal("tool"), name: z.string().min(1), disable_parallel_tool_use: z.boolean().optional() }),
  z.object({ type: z.literal("none") }),
]);

const systemSchema = z.union([z.string(), z.array(textBlock)]);

const common = {
  model: z.string().min(1),
  system: systemSchema.optional(),
  messages: z.array(messageSchema).min(1),
  tools: z.array(toolSchema).optional(),
  tool_choice: toolChoiceSchema.optional(),
  metadata: z.object({ user_id: z.string().nullish() }).passthrough().optional(),
};

export const messagesRequestSchema = z.object({
  ...common,
  max_tokens: z.number().int().min(1),
  stop_sequences: z.array(z.string().min(1)).max(64).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
});

export const countTokensRequestSchema = z.object(common);

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;
export type CountTokensRequest = z.infer<typeof countTokensRequestSchema>;

/**
 * Refuse what the models cannot take before zod's schema error would hide it: an image, document or
 * other non-text block → 400 naming the block ("this model takes text only"); server tools (web search,
 * code execution, …) → 400 naming the tool.
 */
export function checkUnsupported(body: unknown): void {
  if (typeof body !== "object" || body === null) return;
  const b = body as { messages?: unknown; tools?: unknown; system?: unknown };
  if (Array.isArray(b.messages)) {
    b.messages.forEach((m: unknown, i) => {
      const content = (m as { content?: unknown } | null)?.content;
      if (!Array.isArray(content)) return;
      content.forEach((part: unknown, j) => {
        const type = (part as { type?: unknown } | null)?.type;
        if (typeof type === "string" && UNSUPPORTED_BLOCKS.has(type)) {
          throw new ApiError(400, "invalid_request_error", `messages.${i}.content.${j}: '${type}' blocks are not supported: this model takes text only.`, { param: `messages.${i}.content.${j}.type`, code: "unsupported_value" });
        }
      });
    });
  }
  if (Array.isArray(b.tools)) {
    b.tools.forEach((t: unknown, i) => {
      const type = (t as { type?: unknown } | null)?.type;
      if (typeof type === "string" && type !== "custom") {
        throw new ApiError(400, "invalid_request_error", `tools.${i}: server tool '${type}' is not supported; declare client tools with name, description and input_schema.`, { param: `tools.${i}.type`, code: "unsupported_value" });
      }
    });
  }
}

const text = (content: string | readonly { text: string }[]): string => (typeof content === "string" ? content : content.map((b) => b.text).join(""));

/** Anthropic messages → chat messages: tool results become `tool` turns, tool uses the assistant's calls. */
export function toChatMessages(system: CountTokensRequest["system"], messages: CountTokensRequest["messages"]): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (system !== undefined && text(system) !== "") out.push({ role: "system", content: text(system) });
  const names = new Map<string, string>();
  messages.forEach((m, i) => {
    if (typeof m.content === "string") {
      out.push({ role: m.role, content: m.content });
      return;
    }
    if (m.role === "assistant") {
      const calls = m.content.flatMap((b) => (b.type === "tool_use" ? [{ id: b.id, name: b.name, arguments: JSON.stringify(b.input) }] : []));
      for (const c of calls) names.set(c.id, c.name);
      const content = m.content.flatMap((b) => (b.type === "text" ? [b.text] : [])).join("");
      if (m.content.some((b) => b.type === "tool_result")) {
        throw new ApiError(400, "invalid_request_error", `messages.${i}: tool_result blocks belong in a user turn.`, { param: `messages.${i}.content`, code: "invalid_value" });
      }
      out.push({ role: "assistant", content: content === "" && calls.length > 0 ? null : content, ...(calls.length > 0 ? { toolCalls: calls } : {}) });
      return;
    }
    let pending = "";
    for (const b of m.content) {
      if (b.type === "tool_use") {
        throw new ApiError(400, "invalid_request_error", `messages.${i}: tool_use blocks belong in an assistant turn.`, { param: `messages.${i}.content`, code: "invalid_value" });
      }
      if (b.type === "text") {
        pending += b.text;
        continue;
      }
      if (pending !== "") {
        out.push({ role: "user", content: pending });
        pending = "";
      }
      const result = b.content === undefined ? "" : text(b.content);
      const name = names.get(b.tool_use_id);
      out.push({ role: "tool", content: b.is_error === true ? `Error: ${result}` : result, toolCallId: b.tool_use_id, ...(name === undefined ? {} : { name }) });
    }
    if (pending !== "") out.push({ role: "user", content: pending });
  });
  return out;
}

export function toToolDefinitions(tools: CountTokensRequest["tools"]): ToolDefinition[] {
  return (tools ?? []).map((t) => ({ name: t.name, ...(t.description === undefined ? {} : { description: t.description }), parameters: t.input_schema }));
}

export function toToolChoice(choice: CountTokensRequest["tool_choice"]): ToolChoice | undefined {
  if (choice === undefined) return undefined;
  switch (choice.type) {
    case "auto":
      return { type: "auto" };
    case "any":
      return { type: "required" };
    case "tool":
      return { type: "function", name: choice.name };
    case "none":
      return { type: "none" };
    default:
      return choice satisfies never;
  }
}

/** The chat request of a Messages body. */
export function toChatRequest(body: MessagesRequest): ChatRequest {
  const toolChoice = toToolChoice(body.tool_choice);
  const sampling: SamplingOptions = {
    // Anthropic's default temperature is 1.
    ...(body.temperature === undefined ? {} : { temperature: body.temperature }),
    ...(body.top_p === undefined ? {} : { topP: body.top_p }),
    topK: body.top_k ?? 0,
  };
  const parallel = body.tool_choice !== undefined && body.tool_choice.type !== "none" && body.tool_choice.disable_parallel_tool_use === true ? false : undefined;
  return {
    messages: toChatMessages(body.system, body.messages),
    tools: toToolDefinitions(body.tools),
    ...(toolChoice === undefined ? {} : { toolChoice }),
    ...(parallel === undefined ? {} : { parallelToolCalls: parallel }),
    sampling,
    maxTokens: body.max_tokens,
    ...(body.stop_sequences === undefined ? {} : { stop: body.stop_sequences }),
  };
}
