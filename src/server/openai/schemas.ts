/**
 * zod schemas of the OpenAI request bodies this server accepts, and their conversion to the chat
 * service's framework-free types. Unknown fields are ignored (as OpenAI-compatible servers do);
 * `null` is accepted wherever a field is optional, since many clients send it.
 */
import { z } from "zod";
import { ApiError } from "../errors.js";
import type { SamplingOptions } from "../../engine/types.js";
import type { ChatMessage, ChatRequest, ResponseFormat, ToolChoice, ToolDefinition } from "../../chat/types.js";

const TOOL_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;

/**
 * The deepest nesting accepted in a JSON-valued field (tool call arguments, tool parameters, schemas).
 * `JSON.parse` handles any depth, but the code that prints and walks these values recurses (a few
 * thousand levels overflow the stack); real arguments and schemas are a handful of levels deep.
 */
export const MAX_JSON_DEPTH = 128;

/** True when `value` has objects/arrays nested more than `max` levels deep (the value itself is level 1). Iterative. */
export function jsonDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<readonly [unknown, number]> = [[value, 1]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [v, depth] = item;
    if (typeof v !== "object" || v === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** A JSON object field, at most {@link MAX_JSON_DEPTH} levels deep (deeper → 400 naming the field). */
const jsonObject = z
  .record(z.string(), z.unknown())
  .refine((v) => !jsonDeeperThan(v, MAX_JSON_DEPTH), { message: `nests deeper than ${MAX_JSON_DEPTH} levels` });

const textPart = z.object({ type: z.literal("text"), text: z.string() });
/** Text, or an array of text parts (images, audio and files are not supported by the Hermes models). */
const content = z.union([z.string(), z.array(textPart)]);

const toolCall = z.object({
  id: z.string().min(1),
  type: z.literal("function").optional(),
  function: z.object({
    name: z.string().min(1),
    /** OpenAI sends a JSON string; HF-style clients send an object. */
    arguments: z.union([z.string(), jsonObject]),
  }),
});

const message = z.discriminatedUnion("role", [
  z.object({ role: z.literal("system"), content, name: z.string().nullish() }),
  z.object({ role: z.literal("developer"), content, name: z.string().nullish() }),
  z.object({ role: z.literal("user"), content, name: z.string().nullish() }),
  z.object({
    role: z.literal("assistant"),
    content: content.nullish(),
    name: z.string().nullish(),
    refusal: z.string().nullish(),
    tool_calls: z.array(toolCall).nullish(),
  }),
  z.object({
    role: z.literal("tool"),
    content,
    tool_call_id: z.string().nullish(),
    name: z.string().nullish(),
  }),
]);

const tool = z.object({
  type: z.literal("function"),
  function: z.object({
    name: z.string().regex(TOOL_NAME, "must be 1-64 characters of a-z, A-Z, 0-9, '_', '.' or '-'"),
    description: z.string().nullish(),
    parameters: jsonObject.nullish(),
    strict: z.boolean().nullish(),
  }),
});

const toolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.object({ type: z.literal("function"), function: z.object({ name: z.string().min(1) }) }),
]);

const responseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    json_schema: z.object({
      name: z.string().min(1).max(64),
      description: z.string().nullish(),
      schema: jsonObject.nullish(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

const stop = z.union([z.string(), z.array(z.string()).max(16)]).nullish();
const logitBias = z.record(z.string().regex(/^\d+$/, "keys must be token ids"), z.number().min(-100).max(100));

/** Sampling fields shared by both endpoints (OpenAI names plus Talaria's `top_k`, `min_p`, `repetition_penalty`). */
const samplingFields = {
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  logit_bias: logitBias.nullish(),
  seed: z.number().int().nullish(),
  /** Keep the k most likely tokens; 0 or -1 disables (the default). */
  top_k: z.number().int().min(-1).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  /** HF repetition penalty (1 disables). */
  repetition_penalty: z.number().gt(0).max(10).nullish(),
};

const streamOptions = z.object({ include_usage: z.boolean().nullish() }).nullish();

export const chatCompletionRequestSchema = z.object({
  model: z.string().nullish(),
  messages: z.array(message).min(1),
  tools: z.array(tool).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: responseFormat.nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  stop,
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  n: z.number().int().min(1).max(16).nullish(),
  user: z.string().nullish(),
  stream: z.boolean().nullish(),
  stream_options: streamOptions,
  ...samplingFields,
});
export type ChatCompletionRequestBody = z.infer<typeof chatCompletionRequestSchema>;

export const completionRequestSchema = z.object({
  model: z.string().nullish(),
  /** A string (special tokens honoured), a one-element array of strings, or token ids. */
  prompt: z.union([z.string(), z.array(z.string()).length(1), z.array(z.number().int().min(0)).min(1)]),
  /** OpenAI's default for this endpoint is 16. */
  max_tokens: z.number().int().min(1).nullish(),
  stop,
  /** Completions API: number of top log-probabilities per token (0–5); 0 = only the sampled token's. */
  logprobs: z.number().int().min(0).max(5).nullish(),
  echo: z.boolean().nullish(),
  n: z.number().int().min(1).max(16).nullish(),
  best_of: z.literal(1).nullish(),
  suffix: z.null().optional(),
  user: z.string().nullish(),
  stream: z.boolean().nullish(),
  stream_options: streamOptions,
  ...samplingFields,
});
export type CompletionRequestBody = z.infer<typeof completionRequestSchema>;

/** llama.cpp's `content` or vLLM's `prompt`; special tokens are parsed when `add_special`/`special` is true. */
export const tokenizeRequestSchema = z
  .object({
    model: z.string().nullish(),
    content: z.string().optional(),
    prompt: z.string().optional(),
    add_special: z.boolean().nullish(),
    with_pieces: z.boolean().nullish(),
  })
  .refine((v) => v.content !== undefined || v.prompt !== undefined, { message: "'content' (or 'prompt') is required", path: ["content"] });

export const detokenizeRequestSchema = z.object({ model: z.string().nullish(), tokens: z.array(z.number().int().min(0)) });

export const applyTemplateRequestSchema = z.object({
  model: z.string().nullish(),
  messages: z.array(message).min(1),
  tools: z.array(tool).nullish(),
  tool_choice: toolChoice.nullish(),
  response_format: responseFormat.nullish(),
});

type ContentValue = z.infer<typeof content>;

function contentText(value: ContentValue): string {
  return typeof value === "string" ? value : value.map((p) => p.text).join("");
}

/** Content parts of other kinds than text, which the Hermes models cannot take. */
const NON_TEXT_PARTS = new Set(["image_url", "input_audio", "file", "image", "audio", "input_image", "input_file"]);

/**
 * A 400 naming the part for an image, audio or file content part in `messages` (checked before zod's
 * union error would hide the reason): "this model takes text only".
 */
export function checkTextOnly(body: unknown): void {
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return;
  messages.forEach((m: unknown, i) => {
    const content = (m as { content?: unknown } | null)?.content;
    if (!Array.isArray(content)) return;
    content.forEach((part: unknown, j) => {
      const type = (part as { type?: unknown } | null)?.type;
      if (typeof type === "string" && NON_TEXT_PARTS.has(type)) {
        throw new ApiError(400, "invalid_request_error", `messages[${i}].content[${j}]: '${type}' content is not supported: this model takes text only.`, { param: `messages[${i}].content[${j}].type`, code: "unsupported_value" });
      }
    });
  });
}

export function toChatMessages(messages: z.infer<typeof message>[]): ChatMessage[] {
  return messages.map((m): ChatMessage => {
    switch (m.role) {
      case "system":
      case "developer":
        return { role: "system", content: contentText(m.content) };
      case "user":
        return { role: "user", content: contentText(m.content) };
      case "assistant": {
        const text = m.content == null ? null : contentText(m.content);
        const calls = (m.tool_calls ?? []).map((c) => ({
          id: c.id,
          name: c.function.name,
          arguments: typeof c.function.arguments === "string" ? c.function.arguments : JSON.stringify(c.function.arguments),
        }));
        return calls.length > 0 ? { role: "assistant", content: text, toolCalls: calls } : { role: "assistant", content: text };
      }
      case "tool":
        return {
          role: "tool",
          content: contentText(m.content),
          ...(m.tool_call_id == null ? {} : { toolCallId: m.tool_call_id }),
          ...(m.name == null ? {} : { name: m.name }),
        };
      default:
        m satisfies never;
        throw new Error("unreachable");
    }
  });
}

export function toToolDefinitions(tools: z.infer<typeof tool>[] | null | undefined): ToolDefinition[] {
  return (tools ?? []).map((t) => ({
    name: t.function.name,
    ...(t.function.description == null ? {} : { description: t.function.description }),
    ...(t.function.parameters == null ? {} : { parameters: t.function.parameters }),
    ...(t.function.strict == null ? {} : { strict: t.function.strict }),
  }));
}

export function toToolChoice(value: z.infer<typeof toolChoice> | null | undefined): ToolChoice | undefined {
  if (value == null) return undefined;
  if (typeof value === "string") return { type: value };
  return { type: "function", name: value.function.name };
}

export function toResponseFormat(value: z.infer<typeof responseFormat> | null | undefined): ResponseFormat | undefined {
  if (value == null) return undefined;
  switch (value.type) {
    case "text":
    case "json_object":
      return { type: value.type };
    case "json_schema":
      return {
        type: "json_schema",
        name: value.json_schema.name,
        schema: value.json_schema.schema ?? {},
        strict: value.json_schema.strict ?? false,
      };
    default:
      value satisfies never;
      return undefined;
  }
}

/**
 * OpenAI sampling fields → engine sampling options. OpenAI defaults apply (temperature 1, top_p 1, and
 * top_k OFF — not HF's 50); temperature 0 means greedy.
 */
export function toSampling(body: {
  temperature?: number | null | undefined;
  top_p?: number | null | undefined;
  frequency_penalty?: number | null | undefined;
  presence_penalty?: number | null | undefined;
  logit_bias?: Record<string, number> | null | undefined;
  seed?: number | null | undefined;
  top_k?: number | null | undefined;
  min_p?: number | null | undefined;
  repetition_penalty?: number | null | undefined;
}): SamplingOptions {
  const temperature = body.temperature ?? 1;
  const logitBias: Record<number, number> = {};
  for (const [key, value] of Object.entries(body.logit_bias ?? {})) logitBias[Number(key)] = value;
  return {
    doSample: temperature > 0,
    temperature,
    topP: body.top_p ?? 1,
    topK: Math.max(0, body.top_k ?? 0),
    minP: body.min_p ?? 0,
    repetitionPenalty: body.repetition_penalty ?? 1,
    frequencyPenalty: body.frequency_penalty ?? 0,
    presencePenalty: body.presence_penalty ?? 0,
    ...(Object.keys(logitBias).length > 0 ? { logitBias } : {}),
    ...(body.seed == null ? {} : { seed: body.seed }),
  };
}

export function toStopList(value: string | string[] | null | undefined): string[] {
  if (value == null) return [];
  return (typeof value === "string" ? [value] : value).filter((s) => s !== "");
}

/** A validated chat body → the chat service's request. */
export function toChatRequest(body: ChatCompletionRequestBody): ChatRequest {
  const toolChoiceValue = toToolChoice(body.tool_choice);
  const responseFormatValue = toResponseFormat(body.response_format);
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  const stopList = toStopList(body.stop);
  return {
    messages: toChatMessages(body.messages),
    tools: toToolDefinitions(body.tools),
    ...(toolChoiceValue === undefined ? {} : { toolChoice: toolChoiceValue }),
    ...(body.parallel_tool_calls == null ? {} : { parallelToolCalls: body.parallel_tool_calls }),
    ...(responseFormatValue === undefined ? {} : { responseFormat: responseFormatValue }),
    sampling: toSampling(body),
    ...(maxTokens == null ? {} : { maxTokens }),
    ...(stopList.length === 0 ? {} : { stop: stopList }),
    ...(body.logprobs === true ? { logprobs: true } : {}),
    ...(body.logprobs === true && (body.top_logprobs ?? 0) > 0 ? { topLogprobs: body.top_logprobs ?? 0 } : {}),
  };
}
