/**
 * Valid request bodies, one generator per route: the starting points of the mutations. Generation
 * requests always carry a small `max_tokens` (or `max_output_tokens`), so a run stays bounded.
 */
import type { Rng } from "./rng.js";
import type { BodyRoute } from "./types.js";
import { ordinarySchema, ordinaryTools, toolName, type Json, type JsonObject } from "./schemas.js";
import { messageText, words } from "./text.js";

export interface CorpusContext {
  /** Largest `max_tokens` a generation body asks for (≥ 1). */
  readonly maxTokens: number;
  /** The model id to send (any id is accepted by Talaria; sometimes another one is sent). */
  readonly modelId: string;
  /** Largest `n` sent (the server's sequences). */
  readonly maxN: number;
}

/** A valid body and a few words on what it is. */
export interface CorpusBody {
  readonly label: string;
  readonly body: JsonObject;
  readonly stream: boolean;
}

function model(rng: Rng, ctx: CorpusContext): Json | undefined {
  return rng.weighted<Json | undefined>([
    [ctx.modelId, 6],
    [undefined, 2],
    ["gpt-4o-mini", 1],
    [null, 1],
  ]);
}

function put(target: JsonObject, key: string, value: Json | undefined): void {
  if (value !== undefined) target[key] = value;
}

function content(rng: Rng, text: string): Json {
  if (!rng.chance(0.2)) return text;
  const half = Math.floor(text.length / 2);
  return [
    { type: "text", text: text.slice(0, half) },
    { type: "text", text: text.slice(half) },
  ];
}

/** A chat conversation: optional system prompt, user turns, sometimes a tool call and its result. */
export function chatMessages(rng: Rng, tools: readonly JsonObject[]): JsonObject[] {
  const messages: JsonObject[] = [];
  if (rng.chance(0.4)) messages.push({ role: rng.chance(0.8) ? "system" : "developer", content: content(rng, messageText(rng)) });
  messages.push({ role: "user", content: content(rng, messageText(rng)) });
  if (rng.chance(0.3)) {
    const first = tools[0];
    if (first !== undefined && rng.chance(0.6)) {
      const id = `call_${rng.int(1000, 9999)}`;
      const args = rng.chance(0.7) ? JSON.stringify({ city: "Paris" }) : { city: "Paris" };
      messages.push({ role: "assistant", content: null, tool_calls: [{ id, type: "function", function: { name: toolName(first), arguments: args } }] });
      messages.push({ role: "tool", tool_call_id: id, content: JSON.stringify({ temperature: 21, unit: "C" }) });
    } else {
      messages.push({ role: "assistant", content: messageText(rng) });
      messages.push({ role: "user", content: messageText(rng) });
    }
  }
  return messages;
}

function sampling(rng: Rng, body: JsonObject): string[] {
  const notes: string[] = [];
  if (rng.chance(0.5)) {
    body.temperature = rng.pick([0, 0.2, 0.7, 1, 2]);
    notes.push(`t=${body.temperature}`);
  }
  if (rng.chance(0.2)) body.top_p = rng.pick([0.1, 0.9, 1]);
  if (rng.chance(0.15)) body.top_k = rng.pick([-1, 0, 1, 40]);
  if (rng.chance(0.1)) body.min_p = rng.pick([0, 0.05, 1]);
  if (rng.chance(0.1)) body.repetition_penalty = rng.pick([1, 1.1, 10]);
  if (rng.chance(0.1)) body.frequency_penalty = rng.pick([-2, 0, 2]);
  if (rng.chance(0.1)) body.presence_penalty = rng.pick([-2, 0, 2]);
  if (rng.chance(0.3)) body.seed = rng.int(0, 2 ** 31);
  if (rng.chance(0.1)) body.logit_bias = { [String(rng.int(0, 255))]: rng.pick([-100, -1, 5, 100]) };
  if (rng.chance(0.2)) {
    body.stop = rng.chance(0.5) ? rng.pick(["\n", ".", "</s>", "Paris"]) : ["\n\n", "END", ""];
    notes.push("stop");
  }
  return notes;
}

function maxTokens(rng: Rng, ctx: CorpusContext): number {
  return rng.int(1, Math.max(1, ctx.maxTokens));
}

export function chatBody(rng: Rng, ctx: CorpusContext): CorpusBody {
  const body: JsonObject = {};
  const notes: string[] = [];
  put(body, "model", model(rng, ctx));
  const useTools = rng.chance(0.35);
  const tools = useTools ? ordinaryTools(rng) : [];
  body.messages = chatMessages(rng, tools);
  if (rng.chance(0.7)) body.max_tokens = maxTokens(rng, ctx);
  else body.max_completion_tokens = maxTokens(rng, ctx);
  if (useTools) {
    body.tools = tools;
    const choice = rng.weighted<Json | undefined>([
      [undefined, 3],
      ["auto", 3],
      ["none", 2],
      ["required", 2],
      [{ type: "function", function: { name: toolName(tools[0] as JsonObject) } }, 2],
      [null, 1],
    ]);
    put(body, "tool_choice", choice);
    if (rng.chance(0.2)) body.parallel_tool_calls = rng.chance(0.5);
    notes.push(`tools×${tools.length} tool_choice=${choice === undefined ? "-" : JSON.stringify(choice)}`);
  } else if (rng.chance(0.35)) {
    const format = rng.weighted<JsonObject>([
      [{ type: "json_object" }, 3],
      [{ type: "json_schema", json_schema: { name: "answer", schema: ordinarySchema(rng), strict: rng.chance(0.7) } }, 4],
      [{ type: "text" }, 1],
    ]);
    body.response_format = format;
    notes.push(`response_format=${String(format.type)}`);
  }
  notes.push(...sampling(rng, body));
  if (rng.chance(0.15)) {
    body.logprobs = true;
    if (rng.chance(0.6)) body.top_logprobs = rng.int(0, 5);
    notes.push("logprobs");
  }
  if (rng.chance(0.1) && ctx.maxN > 1) {
    body.n = rng.int(1, ctx.maxN);
    notes.push(`n=${body.n}`);
  }
  if (rng.chance(0.1)) body.user = "fuzz-user";
  const stream = rng.chance(0.4);
  if (stream) {
    body.stream = true;
    if (rng.chance(0.5)) body.stream_options = { include_usage: rng.chance(0.7) };
  } else if (rng.chance(0.1)) body.stream = false;
  return { label: `chat${stream ? " stream" : ""}${notes.length > 0 ? ` ${notes.join(" ")}` : ""}`, body, stream };
}

export function completionBody(rng: Rng, ctx: CorpusContext): CorpusBody {
  const body: JsonObject = {};
  const notes: string[] = [];
  put(body, "model", model(rng, ctx));
  const promptKind = rng.weighted<"string" | "array" | "ids">([
    ["string", 6],
    ["array", 1],
    ["ids", 2],
  ]);
  const text = messageText(rng);
  body.prompt = promptKind === "string" ? text : promptKind === "array" ? [text] : Array.from({ length: rng.int(1, 20) }, () => rng.int(32, 126));
  notes.push(`prompt=${promptKind}`);
  body.max_tokens = maxTokens(rng, ctx);
  if (rng.chance(0.2)) {
    body.echo = true;
    notes.push("echo");
  }
  if (rng.chance(0.2)) {
    body.logprobs = rng.int(0, 5);
    notes.push(`logprobs=${body.logprobs}`);
  }
  if (rng.chance(0.1) && ctx.maxN > 1) body.n = rng.int(1, ctx.maxN);
  if (rng.chance(0.05)) body.best_of = 1;
  if (rng.chance(0.05)) body.suffix = null;
  notes.push(...sampling(rng, body));
  const stream = rng.chance(0.4);
  if (stream) {
    body.stream = true;
    if (rng.chance(0.5)) body.stream_options = { include_usage: true };
  }
  return { label: `completions${stream ? " stream" : ""} ${notes.join(" ")}`, body, stream };
}

/** OpenAI Responses API (`/v1/responses`). */
export function responsesBody(rng: Rng, ctx: CorpusContext): CorpusBody {
  const body: JsonObject = {};
  const notes: string[] = [];
  put(body, "model", model(rng, ctx));
  const inputKind = rng.int(0, 2);
  body.input =
    inputKind === 0
      ? messageText(rng)
      : inputKind === 1
        ? [{ role: "user", content: messageText(rng) }]
        : [{ type: "message", role: "user", content: [{ type: "input_text", text: messageText(rng) }] }];
  notes.push(`input=${["string", "messages", "parts"][inputKind]}`);
  if (rng.chance(0.3)) body.instructions = messageText(rng);
  body.max_output_tokens = maxTokens(rng, ctx);
  if (rng.chance(0.3)) {
    const tools = ordinaryTools(rng).map((t) => {
      const f = t.function as JsonObject;
      const out: JsonObject = { type: "function", name: f.name as string };
      put(out, "description", f.description);
      put(out, "parameters", f.parameters ?? { type: "object", properties: {} });
      return out;
    });
    body.tools = tools;
    put(body, "tool_choice", rng.pick<Json | undefined>([undefined, "auto", "none", "required", { type: "function", name: tools[0]?.name as string }]));
    notes.push(`tools×${tools.length}`);
  } else if (rng.chance(0.3)) {
    body.text = { format: rng.chance(0.5) ? { type: "json_object" } : { type: "json_schema", name: "answer", schema: ordinarySchema(rng), strict: true } };
    notes.push("text.format");
  }
  if (rng.chance(0.4)) body.temperature = rng.pick([0, 0.7, 1]);
  const stream = rng.chance(0.4);
  if (stream) body.stream = true;
  return { label: `responses${stream ? " stream" : ""} ${notes.join(" ")}`, body, stream };
}

/** Anthropic Messages API (`/v1/messages`). */
export function messagesBody(rng: Rng, ctx: CorpusContext): CorpusBody {
  const body: JsonObject = {};
  const notes: string[] = [];
  body.model = rng.chance(0.9) ? ctx.modelId : "claude-3-5-haiku-latest";
  body.max_tokens = maxTokens(rng, ctx);
  const messages: JsonObject[] = [{ role: "user", content: rng.chance(0.7) ? messageText(rng) : [{ type: "text", text: messageText(rng) }] }];
  if (rng.chance(0.2)) messages.push({ role: "assistant", content: messageText(rng) }, { role: "user", content: messageText(rng) });
  body.messages = messages;
  if (rng.chance(0.3)) body.system = rng.chance(0.7) ? messageText(rng) : [{ type: "text", text: messageText(rng) }];
  if (rng.chance(0.3)) {
    const tools = ordinaryTools(rng).map((t) => {
      const f = t.function as JsonObject;
      const out: JsonObject = { name: f.name as string, input_schema: f.parameters ?? { type: "object", properties: {} } };
      put(out, "description", f.description);
      return out;
    });
    body.tools = tools;
    put(body, "tool_choice", rng.pick<Json | undefined>([undefined, { type: "auto" }, { type: "any" }, { type: "none" }, { type: "tool", name: tools[0]?.name as string }]));
    notes.push(`tools×${tools.length}`);
  }
  if (rng.chance(0.3)) body.temperature = rng.pick([0, 0.5, 1]);
  if (rng.chance(0.2)) body.stop_sequences = ["\n\n"];
  const stream = rng.chance(0.4);
  if (stream) body.stream = true;
  return { label: `messages${stream ? " stream" : ""} ${notes.join(" ")}`, body, stream };
}

export function tokenizeBody(rng: Rng): CorpusBody {
  const body: JsonObject = {};
  body[rng.chance(0.7) ? "content" : "prompt"] = messageText(rng);
  if (rng.chance(0.3)) body.add_special = rng.chance(0.5);
  if (rng.chance(0.3)) body.with_pieces = rng.chance(0.5);
  return { label: `tokenize${body.with_pieces === true ? " with_pieces" : ""}`, body, stream: false };
}

export function detokenizeBody(rng: Rng): CorpusBody {
  return { label: "detokenize", body: { tokens: Array.from({ length: rng.int(0, 24) }, () => rng.int(32, 126)) }, stream: false };
}

export function applyTemplateBody(rng: Rng): CorpusBody {
  const useTools = rng.chance(0.4);
  const tools = useTools ? ordinaryTools(rng) : [];
  const body: JsonObject = { messages: chatMessages(rng, tools) };
  if (useTools) {
    body.tools = tools;
    if (rng.chance(0.5)) body.tool_choice = rng.pick<Json>(["auto", "none", "required"]);
  } else if (rng.chance(0.3)) body.response_format = { type: "json_schema", json_schema: { name: "x", schema: ordinarySchema(rng) } };
  return { label: `apply-template${useTools ? " tools" : ""}`, body, stream: false };
}

/** A valid body for `route`. */
export function corpusBody(route: BodyRoute, rng: Rng, ctx: CorpusContext): CorpusBody {
  switch (route) {
    case "chat":
      return chatBody(rng, ctx);
    case "completions":
      return completionBody(rng, ctx);
    case "responses":
      return responsesBody(rng, ctx);
    case "messages":
      return messagesBody(rng, ctx);
    case "tokenize":
      return tokenizeBody(rng);
    case "detokenize":
      return detokenizeBody(rng);
    case "apply-template":
      return applyTemplateBody(rng);
    default:
      route satisfies never;
      throw new Error("unreachable");
  }
}

/** A few words of user text, for bodies built by hand elsewhere. */
export { words };
