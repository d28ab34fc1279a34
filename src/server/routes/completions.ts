/** `POST /v1/completions`: a raw prompt (text or token ids) straight to the engine → `text_completion`. */
import type { Hono } from "hono";
import type { Engine, GeneratedToken } from "../../engine/types.js";
import { prepareCompletion, streamCompletion, type CompletionEvent } from "../../chat/completion.js";
import { randomId } from "../../chat/ids.js";
import { completionRequestSchema, toSampling, toStopList } from "../openai/schemas.js";
import { CompletionChunkEncoder, toTextCompletion, type CompletionChoiceResult } from "../openai/completions.js";
import { checkPromptChars, maxTokensFor, readJson, type RouteContext } from "./context.js";
import { forChoice, startGeneration } from "./generation.js";

export function mountCompletionRoutes(app: Hono, ctx: RouteContext): void {
  app.post("/v1/completions", async (c) => {
    const arrivedAt = performance.now();
    const body = completionRequestSchema.parse(await readJson(c, ctx));
    const served = ctx.model(body.model);
    const backend = served.requireBackend();
    const promptValue = body.prompt;
    const prompt = typeof promptValue === "string" ? promptValue : typeof promptValue[0] === "string" ? promptValue[0] : (promptValue as number[]);
    if (typeof prompt === "string") checkPromptChars(backend, prompt.length, "prompt");
    const stopList = toStopList(body.stop);
    const prepared = await prepareCompletion(backend.engine, {
      prompt,
      sampling: toSampling(body),
      // OpenAI's default for completions is 16 (not the server's chat default); the limit applies to what the request asks for
      maxTokens: body.max_tokens == null ? Math.min(16, ctx.maxTokens.limit) : (maxTokensFor(ctx.maxTokens, body.max_tokens, "max_tokens") as number),
      ...(stopList.length === 0 ? {} : { stop: stopList }),
      ...(body.logprobs == null ? {} : { logprobs: body.logprobs }),
    });
    const echo = body.echo === true ? await backend.engine.detokenize(prepared.promptTokens, { special: true }) : "";
    // echo + logprobs (as OpenAI): the prompt's tokens come first in the logprobs, the first without a value.
    const echoTokens = body.echo === true && body.logprobs != null ? await promptTokenLogprobs(backend.engine, prepared.promptTokens) : undefined;
    const n = body.n ?? 1;
    const generation = await startGeneration(ctx, served.queue, c, n, arrivedAt);
    const meta = { id: randomId("cmpl-"), created: Math.floor(Date.now() / 1000), model: served.id };
    const streams = Array.from({ length: n }, (_, choice) =>
      generation.observe(choice, streamCompletion(backend.engine, forChoice(prepared, choice), { signal: generation.signal })),
    );
    const logprobs = body.logprobs != null;
    if (body.stream !== true) {
      return c.json(toTextCompletion(meta, await generation.collect(streams, (events) => collectCompletion(events, echo, echoTokens ?? [])), logprobs));
    }
    return generation.stream(streams, new CompletionChunkEncoder({ ...meta, includeUsage: body.stream_options?.include_usage === true, logprobs, echo, ...(echoTokens === undefined ? {} : { echoTokens }) }));
  });
}

/** A whole choice from its events (`echo`: the prompt's text, prepended). */
async function collectCompletion(events: AsyncIterable<CompletionEvent>, echo: string, echoTokens: readonly GeneratedToken[]): Promise<CompletionChoiceResult> {
  let text = echo;
  const tokens: GeneratedToken[] = [...echoTokens];
  for await (const event of events) {
    if (event.type === "text-delta") {
      text += event.text;
      for (const token of event.tokens) tokens.push(token);
    } else if (event.type === "finish") {
      return { text, tokens, finishReason: event.reason === "length" ? "length" : "stop", usage: event.usage, aborted: event.reason === "abort" };
    }
  }
  throw new Error("completion stream ended without a finish event");
}

/**
 * The prompt's tokens with their log-probabilities (each given the tokens before it, from the engine's
 * `loglikelihood`; the first has none). An engine without `loglikelihood` gives the tokens without values.
 */
async function promptTokenLogprobs(engine: Engine, prompt: readonly number[]): Promise<GeneratedToken[]> {
  const texts = await Promise.all(prompt.map((id) => engine.detokenize([id], { special: true })));
  let logprobs: readonly number[] = [];
  if (engine.capabilities.loglikelihood && prompt.length > 1) {
    const [scored] = await engine.loglikelihood([{ context: prompt.slice(0, 1), continuation: prompt.slice(1) }]);
    logprobs = scored?.tokenLogprobs ?? [];
  }
  return prompt.map((id, i) => {
    const lp = i === 0 ? undefined : logprobs[i - 1];
    return { id, text: texts[i] as string, ...(lp === undefined ? {} : { logprob: lp }) };
  });
}
