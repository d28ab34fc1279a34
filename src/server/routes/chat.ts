/** `POST /v1/chat/completions`: OpenAI chat requests → the chat service → `chat.completion` (JSON or SSE). */
import type { Hono } from "hono";
import { collectChat } from "../../chat/service.js";
import { randomId } from "../../chat/ids.js";
import { chatCompletionRequestSchema, checkTextOnly, toChatRequest } from "../openai/schemas.js";
import { ChatChunkEncoder, toChatCompletion } from "../openai/responses.js";
import { checkPromptChars, maxTokensFor, promptChars, readJson, type RouteContext } from "./context.js";
import { forChoice, startGeneration } from "./generation.js";

export function mountChatRoutes(app: Hono, ctx: RouteContext): void {
  app.post("/v1/chat/completions", async (c) => {
    const arrivedAt = performance.now();
    const raw = await readJson(c, ctx);
    checkTextOnly(raw);
    const body = chatCompletionRequestSchema.parse(raw);
    const served = ctx.model(body.model);
    const backend = served.requireBackend();
    const maxTokens = maxTokensFor(ctx.maxTokens, body.max_completion_tokens ?? body.max_tokens, body.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens");
    const request = { ...toChatRequest(body), ...(maxTokens === undefined ? {} : { maxTokens }) };
    checkPromptChars(backend, promptChars(request), "messages");
    const n = body.n ?? 1;
    const prepared = await backend.chat.prepare(request);
    const generation = await startGeneration(ctx, served.queue, c, n, arrivedAt);
    const meta = { id: randomId("chatcmpl-"), created: Math.floor(Date.now() / 1000), model: served.id };
    const streams = Array.from({ length: n }, (_, choice) =>
      generation.observe(choice, backend.chat.stream(forChoice(prepared, choice), { signal: generation.signal })),
    );
    if (body.stream !== true) return c.json(toChatCompletion(meta, await generation.collect(streams, collectChat)));
    return generation.stream(streams, new ChatChunkEncoder({ ...meta, includeUsage: body.stream_options?.include_usage === true }));
  });
}
