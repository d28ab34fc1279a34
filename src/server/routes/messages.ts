/**
 * Anthropic's Messages API: `POST /v1/messages` (JSON or SSE) and `POST /v1/messages/count_tokens`, on the
 * same chat service as `/v1/chat/completions` (Hermes prompt, forced and lazy tool-call grammars,
 * validated arguments). Errors on these paths are in Anthropic's shape (`app.ts`).
 */
import type { Hono } from "hono";
import { randomId } from "../../chat/ids.js";
import { countTokensRequestSchema, checkUnsupported, messagesRequestSchema, toChatMessages, toChatRequest, toToolChoice, toToolDefinitions } from "../anthropic/schemas.js";
import { collectMessage, encodeAnthropicStreamError, MessageStreamEncoder } from "../anthropic/messages.js";
import { checkPromptChars, maxTokensFor, promptChars, readJson, type RouteContext } from "./context.js";
import { startGeneration } from "./generation.js";

export function mountMessagesRoutes(app: Hono, ctx: RouteContext): void {
  app.post("/v1/messages", async (c) => {
    const arrivedAt = performance.now();
    const raw = await readJson(c, ctx);
    checkUnsupported(raw);
    const body = messagesRequestSchema.parse(raw);
    const served = ctx.model(body.model);
    const backend = served.requireBackend();
    const maxTokens = maxTokensFor(ctx.maxTokens, body.max_tokens, "max_tokens");
    const request = { ...toChatRequest(body), ...(maxTokens === undefined ? {} : { maxTokens }) };
    checkPromptChars(backend, promptChars(request), "messages");
    const prepared = await backend.chat.prepare(request);
    const generation = await startGeneration(ctx, served.queue, c, 1, arrivedAt);
    const meta = { id: randomId("msg_"), model: body.model };
    const events = generation.observe(0, backend.chat.stream(prepared, { signal: generation.signal }));
    if (body.stream !== true) return c.json((await generation.collect([events], (e) => collectMessage(meta, e)))[0]);
    return generation.stream([events], new MessageStreamEncoder({ ...meta, inputTokens: prepared.promptTokens.length }), encodeAnthropicStreamError);
  });

  app.post("/v1/messages/count_tokens", async (c) => {
    const raw = await readJson(c, ctx);
    checkUnsupported(raw);
    const body = countTokensRequestSchema.parse(raw);
    const backend = ctx.model(body.model).requireBackend();
    const toolChoice = toToolChoice(body.tool_choice);
    const request = {
      messages: toChatMessages(body.system, body.messages),
      tools: toToolDefinitions(body.tools),
      ...(toolChoice === undefined ? {} : { toolChoice }),
    };
    checkPromptChars(backend, promptChars(request), "messages");
    const prepared = await backend.chat.prepare(request);
    return c.json({ input_tokens: prepared.promptTokens.length });
  });
}
