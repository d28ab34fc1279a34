/** llama.cpp's utility routes: `POST /tokenize`, `POST /detokenize`, `POST /apply-template`. */
import type { Hono } from "hono";
import { promptToString } from "../../prompt/text.js";
import { ApiError } from "../errors.js";
import {
  applyTemplateRequestSchema,
  detokenizeRequestSchema,
  toChatMessages,
  toResponseFormat,
  toToolChoice,
  toToolDefinitions,
  tokenizeRequestSchema,
} from "../openai/schemas.js";
import { checkPromptChars, promptChars, readJson, type RouteContext } from "./context.js";

export function mountTokenizeRoutes(app: Hono, ctx: Pick<RouteContext, "model" | "bodyLimitBytes">): void {
  app.post("/tokenize", async (c) => {
    const body = tokenizeRequestSchema.parse(await readJson(c, ctx));
    const backend = ctx.model(body.model).requireBackend();
    const text = body.content ?? body.prompt ?? "";
    checkPromptChars(backend, text.length, body.content !== undefined ? "content" : "prompt");
    let tokens = await backend.engine.tokenize(text, { special: true });
    const bos = backend.engine.info.specialTokens.bos;
    if (body.add_special === true && bos !== undefined) tokens = [bos.id, ...tokens];
    const result: Record<string, unknown> = {
      tokens:
        body.with_pieces === true
          ? await Promise.all(tokens.map(async (id) => ({ id, piece: await backend.engine.detokenize([id], { special: true }) })))
          : tokens,
      count: tokens.length,
      max_model_len: backend.engine.info.contextSize,
    };
    return c.json(result);
  });

  app.post("/detokenize", async (c) => {
    const body = detokenizeRequestSchema.parse(await readJson(c, ctx));
    const backend = ctx.model(body.model).requireBackend();
    // Bounded like prompts: detokenizing runs on the event loop (embedded) or costs a backend round trip.
    const maxTokens = Math.max(65_536, backend.engine.info.contextSize * 4);
    if (body.tokens.length > maxTokens) {
      throw new ApiError(400, "invalid_request_error", `'tokens' has ${body.tokens.length} ids; this server detokenizes at most ${maxTokens} at once.`, { param: "tokens", code: "invalid_value" });
    }
    const vocabularySize = backend.engine.info.vocabularySize;
    // A remote backend may not say its vocabulary size (0): it checks the ids itself then.
    const bad = vocabularySize > 0 ? body.tokens.findIndex((t) => t >= vocabularySize) : -1;
    if (bad >= 0) {
      throw new ApiError(400, "invalid_request_error", `Token id ${body.tokens[bad]} is outside the vocabulary.`, {
        param: `tokens[${bad}]`,
        code: "invalid_value",
      });
    }
    const text = await backend.engine.detokenize(body.tokens, { special: true });
    return c.json({ content: text, prompt: text });
  });

  app.post("/apply-template", async (c) => {
    const body = applyTemplateRequestSchema.parse(await readJson(c, ctx));
    const backend = ctx.model(body.model).requireBackend();
    const toolChoice = toToolChoice(body.tool_choice);
    const responseFormat = toResponseFormat(body.response_format);
    const request = {
      messages: toChatMessages(body.messages),
      tools: toToolDefinitions(body.tools),
      ...(toolChoice === undefined ? {} : { toolChoice }),
      ...(responseFormat === undefined ? {} : { responseFormat }),
    };
    checkPromptChars(backend, promptChars(request), "messages"); // the chat route would refuse it too
    const prompt = backend.chat.render(request);
    return c.json({ prompt: promptToString(prompt) });
  });
}
