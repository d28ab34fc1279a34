/** What every route module gets from the app (`src/server/app.ts`), and small helpers they share. */
import type { Context } from "hono";
import type { Engine } from "../../engine/types.js";
import type { ChatService } from "../../chat/service.js";
import type { ChatRequest } from "../../chat/types.js";
import { ApiError } from "../errors.js";
import { readJsonBody } from "../body.js";
import type { AdmissionQueue } from "../queue.js";
import type { ServerMetrics } from "../metrics.js";
import type { ResponsesStore } from "../responses/store.js";
import type { McpToolset } from "../../mcp/index.js";
import type { ApprovalRegistry } from "../mcp/approvals.js";

/** What the server needs once the model is loaded. */
export interface ServerBackend {
  readonly engine: Engine;
  readonly chat: ChatService;
  /**
   * The chat service MCP runs use (the agent loop's: `validate: false`, `undeclaredToolCalls: "call"`, the
   * same format as `chat`). Default none: requests with MCP tools get a 500.
   */
  readonly agentChat?: ChatService;
}

/** One model the server answers with: its id, its backend (once loaded) and its own admission queue. */
export interface ServedModel {
  /** The id reported by `/v1/models` and in responses. */
  readonly id: string;
  /** The loaded backend; throws the 503 `ApiError` while the model loads or after a failed load. */
  readonly requireBackend: () => ServerBackend;
  /** The backend once loaded, else undefined. */
  readonly backend: () => ServerBackend | undefined;
  /** Admission control: sequences generating at once, and the waiting queue (429 when full). */
  readonly queue: AdmissionQueue;
}

/** The shared state a route module is mounted with. */
export interface RouteContext {
  /** Every model served, in `/v1/models` order. */
  readonly models: readonly ServedModel[];
  /**
   * The model a request names. With one model served, any name (or none) picks it, as llama.cpp's
   * server does; with several, an unknown name is a 404 `model_not_found` and no name picks the first.
   */
  readonly model: (name: string | null | undefined) => ServedModel;
  readonly metrics: ServerMetrics;
  /** Stored Responses API responses (`previous_response_id`, `GET /v1/responses/{id}`). */
  readonly responses: ResponsesStore;
  /** Per-request deadline in ms, queueing included (→ 504). */
  readonly timeoutMs: number;
  /** Largest accepted request body in bytes (→ 413). */
  readonly bodyLimitBytes: number;
  /** The `max_tokens` default and limit. */
  readonly maxTokens: MaxTokensPolicy;
  /** Where server-side errors and warnings are logged (one line each). */
  readonly log: (message: string) => void;
  /** The operator's MCP servers (`talaria serve --mcp`); undefined when none. */
  readonly mcp: McpToolset | undefined;
  /** Live approvals of chat-API MCP runs. */
  readonly approvals: ApprovalRegistry;
}

/**
 * `max_tokens` of a chat request that gives none: long enough for any tool call or JSON answer, short
 * enough that a few requests cannot hold every sequence until the context is full.
 */
export const DEFAULT_MAX_TOKENS = 2048;

/** How `max_tokens` is defaulted and bounded (`--max-tokens-default`, `--max-tokens-limit`). */
export interface MaxTokensPolicy {
  /** For requests that give none; `Infinity` = until the context is full. */
  readonly default: number;
  /** Largest accepted; `Infinity` = none. */
  readonly limit: number;
}

/** Validate the options; the default never exceeds the limit. */
export function resolveMaxTokensPolicy(defaultTokens: number | undefined, limit: number | undefined, fallback = DEFAULT_MAX_TOKENS): MaxTokensPolicy {
  const check = (value: number, name: string): number => {
    if (value !== Infinity && (!Number.isInteger(value) || value < 1)) throw new RangeError(`${name} must be an integer >= 1 (got ${value})`);
    return value;
  };
  const max = check(limit ?? Infinity, "maxTokensLimit");
  return { default: Math.min(check(defaultTokens ?? fallback, "maxTokensDefault"), max), limit: max };
}

/**
 * The `max_tokens` to generate: the request's (400 naming `param` above the limit) or the default.
 * undefined = until the context is full.
 */
export function maxTokensFor(policy: MaxTokensPolicy, requested: number | null | undefined, param: string): number | undefined {
  if (requested != null) {
    if (requested > policy.limit) {
      throw new ApiError(400, "invalid_request_error", `'${param}' is ${requested}; this server allows at most ${policy.limit} (--max-tokens-limit).`, {
        param,
        code: "invalid_value",
      });
    }
    return requested;
  }
  return policy.default === Infinity ? undefined : policy.default;
}

/**
 * The request body as JSON: 415 without a JSON `Content-Type`, 413 over the body limit (chunked bodies
 * included), 400 `invalid_json` when it does not parse (`../body.ts`).
 */
export async function readJson(c: Context, ctx: Pick<RouteContext, "bodyLimitBytes">): Promise<unknown> {
  return readJsonBody(c, ctx.bodyLimitBytes);
}

/**
 * Prompt text longer than this many characters per token of the context cannot fit (real tokenizers
 * average 3–5 characters per token; 16 leaves room for long whitespace or repeated-symbol tokens), so
 * it is refused before tokenizing, which runs on the event loop.
 */
export const PROMPT_CHARS_PER_TOKEN = 16;

/** The most prompt characters a request may carry for a context of `contextSize` tokens. */
export function maxPromptChars(contextSize: number): number {
  return contextSize * PROMPT_CHARS_PER_TOKEN;
}

/**
 * 400 `context_length_exceeded` naming `param` when `chars` characters of prompt text cannot fit in the
 * context (checked BEFORE tokenizing: tokenizing megabytes blocks every other request).
 */
export function checkPromptChars(backend: ServerBackend, chars: number, param: string): void {
  const contextSize = backend.engine.info.contextSize;
  const limit = maxPromptChars(contextSize);
  if (chars <= limit) return;
  throw new ApiError(
    400,
    "invalid_request_error",
    `'${param}' has ${chars} characters of prompt text; this server accepts at most ${limit} ` +
      `(${PROMPT_CHARS_PER_TOKEN} per token of its ${contextSize}-token context), so it cannot fit. Please reduce the length of '${param}'.`,
    { param, code: "context_length_exceeded" },
  );
}

/**
 * The characters of a request that end up in its prompt (message texts, tool calls, tool definitions,
 * the JSON-mode schema), counted before anything is rendered or tokenized.
 */
export function promptChars(request: Pick<ChatRequest, "messages" | "tools" | "responseFormat">): number {
  let n = 0;
  for (const m of request.messages) {
    n += m.content?.length ?? 0;
    if (m.role === "assistant") for (const call of m.toolCalls ?? []) n += call.name.length + call.arguments.length;
  }
  if (request.tools !== undefined && request.tools.length > 0) n += JSON.stringify(request.tools).length;
  if (request.responseFormat !== undefined) n += JSON.stringify(request.responseFormat).length;
  return n;
}
