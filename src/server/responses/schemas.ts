/**
 * zod schemas of OpenAI's Responses API request (`POST /v1/responses`) and its conversion to the chat
 * service's request. Following OpenAI's API reference: `input` as a string or items (messages with
 * `input_text` / `output_text` parts, `function_call`, `function_call_output`), `instructions`, function
 * `tools`, `tool_choice`, `parallel_tool_calls`, `text.format` (`text`, `json_object`, `json_schema`),
 * `max_output_tokens`, `temperature`, `top_p`, `metadata`, `store`, `previous_response_id`, `stream`.
 * What Talaria cannot do is a 400 naming the field: built-in tools (web search, file search, code
 * interpreter, …), reasoning items and effort, images, files and audio (the Hermes models take text).
 */
import { z } from "zod";
import type { ChatMessage, ChatRequest, ResponseFormat, ToolChoice, ToolDefinition } from "../../chat/types.js";
import { ApiError } from "../errors.js";
import { jsonDeeperThan, MAX_JSON_DEPTH, toSampling } from "../openai/schemas.js";

const TOOL_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;

const jsonObject = z
  .record(z.string(), z.unknown())
  .refine((v) => !jsonDeeperThan(v, MAX_JSON_DEPTH), { message: `nests deeper than ${MAX_JSON_DEPTH} levels` });

const textPart = z.object({ type: z.enum(["input_text", "output_text", "text"]), text: z.string(), annotations: z.array(z.unknown()).optional(), logprobs: z.unknown().optional() });
const refusalPart = z.object({ type: z.literal("refusal"), refusal: z.string() });

const messageItem = z.object({
  type: z.literal("message").optional(),
  id: z.string().optional(),
  status: z.string().optional(),
  role: z.enum(["user", "system", "developer", "assistant"]),
  content: z.union([z.string(), z.array(z.union([textPart, refusalPart]))]),
});
const functionCallItem = z.object({
  type: z.literal("function_call"),
  id: z.string().optional(),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  status: z.string().optional(),
});
const functionCallOutputItem = z.object({
  type: z.literal("function_call_output"),
  id: z.string().optional(),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(textPart)]),
  status: z.string().optional(),
});

const mcpListToolsItem = z.object({ type: z.literal("mcp_list_tools"), id: z.string().optional(), server_label: z.string(), tools: z.array(z.unknown()), error: z.unknown().optional() });
const mcpCallItem = z.object({
  type: z.literal("mcp_call"),
  id: z.string().min(1),
  server_label: z.string(),
  name: z.string().min(1),
  arguments: z.string(),
  output: z.string().nullish(),
  error: z.string().nullish(),
  approval_request_id: z.string().nullish(),
  status: z.string().optional(),
});
const mcpApprovalRequestItem = z.object({ type: z.literal("mcp_approval_request"), id: z.string().min(1), server_label: z.string(), name: z.string().min(1), arguments: z.string() });
const mcpApprovalResponseItem = z.object({ type: z.literal("mcp_approval_response"), id: z.string().optional(), approval_request_id: z.string().min(1), approve: z.boolean(), reason: z.string().nullish() });

export const inputItem = z.union([functionCallItem, functionCallOutputItem, mcpListToolsItem, mcpCallItem, mcpApprovalRequestItem, mcpApprovalResponseItem, messageItem]);
export type InputItem = z.infer<typeof inputItem>;

const functionTool = z.object({
  type: z.literal("function"),
  name: z.string().regex(TOOL_NAME, "must be 1–64 letters, digits, '_', '.' or '-'"),
  description: z.string().nullish(),
  parameters: jsonObject.nullish(),
  strict: z.boolean().nullish(),
});

const toolChoice = z.union([z.enum(["auto", "none", "required"]), z.object({ type: z.literal("function"), name: z.string().min(1) })]);

const textFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({ type: z.literal("json_schema"), name: z.string().min(1).max(64), schema: jsonObject, strict: z.boolean().nullish(), description: z.string().nullish() }),
]);

export const responsesRequestSchema = z.object({
  /** Default: the server's (first) model, as the chat route takes any name. */
  model: z.string().nullish(),
  input: z.union([z.string(), z.array(inputItem)]),
  instructions: z.string().nullish(),
  tools: z.array(functionTool).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  text: z.object({ format: textFormat.nullish(), verbosity: z.string().nullish() }).nullish(),
  max_output_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  metadata: z.record(z.string(), z.string().max(512)).nullish(),
  store: z.boolean().nullish(),
  previous_response_id: z.string().nullish(),
  stream: z.boolean().nullish(),
  user: z.string().nullish(),
  truncation: z.enum(["disabled", "auto"]).nullish(),
  include: z.array(z.string()).nullish(),
  seed: z.number().int().nullish(),
  reasoning: z.object({ effort: z.string().nullish(), summary: z.string().nullish(), generate_summary: z.string().nullish() }).nullish(),
  service_tier: z.string().nullish(),
  prompt_cache_key: z.string().nullish(),
  safety_identifier: z.string().nullish(),
});
export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;

const UNSUPPORTED_ITEMS = new Set(["reasoning", "item_reference", "file_search_call", "web_search_call", "computer_call", "computer_call_output", "code_interpreter_call", "image_generation_call", "local_shell_call", "local_shell_call_output", "custom_tool_call", "custom_tool_call_output"]);
const UNSUPPORTED_PARTS = new Set(["input_image", "input_file", "input_audio"]);

function unsupported(message: string, param: string): never {
  throw new ApiError(400, "invalid_request_error", message, { param, code: "unsupported_value" });
}

/** 400s naming the field for what Talaria cannot do, before zod's schema errors would hide the reason. */
export function checkUnsupported(body: unknown): void {
  if (typeof body !== "object" || body === null) return;
  const b = body as { tools?: unknown; input?: unknown; reasoning?: unknown; background?: unknown; conversation?: unknown; prompt?: unknown };
  if (Array.isArray(b.tools)) {
    b.tools.forEach((t: unknown, i) => {
      const type = (t as { type?: unknown } | null)?.type;
      if (typeof type === "string" && type !== "function" && type !== "mcp") unsupported(`tools[${i}]: built-in tool '${type}' is not supported by this server; declare function tools (type "function") or this server's MCP servers (type "mcp").`, `tools[${i}].type`);
    });
  }
  if (Array.isArray(b.input)) {
    b.input.forEach((item: unknown, i) => {
      const type = (item as { type?: unknown } | null)?.type;
      if (typeof type === "string" && UNSUPPORTED_ITEMS.has(type)) unsupported(`input[${i}]: '${type}' items are not supported by this server.`, `input[${i}].type`);
      const content = (item as { content?: unknown } | null)?.content;
      if (Array.isArray(content)) {
        content.forEach((part: unknown, j) => {
          const t = (part as { type?: unknown } | null)?.type;
          if (typeof t === "string" && UNSUPPORTED_PARTS.has(t)) unsupported(`input[${i}].content[${j}]: '${t}' is not supported: this model takes text only.`, `input[${i}].content[${j}].type`);
        });
      }
    });
  }
  const reasoning = b.reasoning as { effort?: unknown } | null | undefined;
  if (reasoning !== null && typeof reasoning === "object" && reasoning.effort != null) unsupported("'reasoning.effort' is not supported: Hermes models have no reasoning mode.", "reasoning.effort");
  if (b.background === true) unsupported("'background' responses are not supported by this server.", "background");
  if (b.conversation != null) unsupported("'conversation' is not supported by this server; use previous_response_id.", "conversation");
  if (b.prompt != null) unsupported("'prompt' templates are not supported by this server.", "prompt");
}

const partsText = (content: string | readonly ({ type: string; text?: string; refusal?: string })[]): string =>
  typeof content === "string" ? content : content.map((p) => p.text ?? p.refusal ?? "").join("");

/**
 * The items of a response's conversation as chat messages (consecutive function calls join one assistant
 * turn). MCP calls become a call and its result (`exposedName` maps a server's tool to the name the model
 * saw); `mcp_list_tools` items and approval requests that were not answered are left out; an
 * `mcp_approval_response` must have been resolved into an `mcp_call` before (`../mcp/responses.ts`).
 */
export function itemsToMessages(items: readonly InputItem[], exposedName: (label: string, name: string) => string = (_l, n) => n): ChatMessage[] {
  const out: ChatMessage[] = [];
  const names = new Map<string, string>();
  const pushCall = (call: { id: string; name: string; arguments: string }): void => {
    const last = out[out.length - 1];
    if (last !== undefined && last.role === "assistant" && (last.toolCalls?.length ?? 0) > 0) out[out.length - 1] = { ...last, toolCalls: [...(last.toolCalls ?? []), call] };
    else if (last !== undefined && last.role === "assistant" && last.content !== null && (last.toolCalls?.length ?? 0) === 0) out[out.length - 1] = { ...last, toolCalls: [call] };
    else out.push({ role: "assistant", content: null, toolCalls: [call] });
  };
  for (const item of items) {
    if (item.type === "mcp_list_tools" || item.type === "mcp_approval_request" || item.type === "mcp_approval_response") continue;
    if (item.type === "mcp_call") {
      const name = exposedName(item.server_label, item.name);
      pushCall({ id: item.id, name, arguments: item.arguments });
      const content = item.error != null ? JSON.stringify({ error: item.error }) : (item.output ?? "");
      out.push({ role: "tool", content, toolCallId: item.id, name });
      continue;
    }
    if (item.type === "function_call") {
      names.set(item.call_id, item.name);
      const call = { id: item.call_id, name: item.name, arguments: item.arguments };
      const last = out[out.length - 1];
      if (last !== undefined && last.role === "assistant") out[out.length - 1] = { ...last, toolCalls: [...(last.toolCalls ?? []), call] };
      else out.push({ role: "assistant", content: null, toolCalls: [call] });
      continue;
    }
    if (item.type === "function_call_output") {
      const name = names.get(item.call_id);
      out.push({ role: "tool", content: partsText(item.output), toolCallId: item.call_id, ...(name === undefined ? {} : { name }) });
      continue;
    }
    const text = partsText(item.content);
    switch (item.role) {
      case "system":
      case "developer":
        out.push({ role: "system", content: text });
        break;
      case "user":
        out.push({ role: "user", content: text });
        break;
      case "assistant":
        out.push({ role: "assistant", content: text });
        break;
      default:
        item.role satisfies never;
    }
  }
  return out;
}

/** The request's input as items (a string is one user message). */
export function inputItems(input: ResponsesRequest["input"]): InputItem[] {
  return typeof input === "string" ? [{ type: "message", role: "user", content: input }] : [...input];
}

function toTools(tools: ResponsesRequest["tools"]): ToolDefinition[] {
  return (tools ?? []).map((t) => ({
    name: t.name,
    ...(t.description == null ? {} : { description: t.description }),
    ...(t.parameters == null ? {} : { parameters: t.parameters }),
    ...(t.strict == null ? {} : { strict: t.strict }),
  }));
}

function toToolChoice(value: ResponsesRequest["tool_choice"]): ToolChoice | undefined {
  if (value == null) return undefined;
  if (typeof value === "string") return { type: value };
  return { type: "function", name: value.name };
}

function toFormat(value: ResponsesRequest["text"]): ResponseFormat | undefined {
  const f = value?.format;
  if (f == null) return undefined;
  switch (f.type) {
    case "text":
    case "json_object":
      return { type: f.type };
    case "json_schema":
      return { type: "json_schema", name: f.name, schema: f.schema, strict: f.strict ?? false };
    default:
      return f satisfies never;
  }
}

/** The chat request of a Responses body whose conversation so far (previous responses' items) is `history`. */
export function toChatRequest(body: ResponsesRequest, history: readonly InputItem[], maxTokens: number | undefined): ChatRequest {
  const messages = itemsToMessages([...history, ...inputItems(body.input)]);
  if (body.instructions != null && body.instructions !== "") messages.unshift({ role: "system", content: body.instructions });
  const toolChoice = toToolChoice(body.tool_choice);
  const format = toFormat(body.text);
  return {
    messages,
    tools: toTools(body.tools),
    ...(toolChoice === undefined ? {} : { toolChoice }),
    ...(body.parallel_tool_calls == null ? {} : { parallelToolCalls: body.parallel_tool_calls }),
    ...(format === undefined ? {} : { responseFormat: format }),
    sampling: toSampling({ temperature: body.temperature, top_p: body.top_p, seed: body.seed }),
    ...(maxTokens === undefined ? {} : { maxTokens }),
  };
}
