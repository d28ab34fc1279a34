/** `POST /v1/chat/completions`: OpenAI chat requests → the chat service → `chat.completion` (JSON or SSE). */
import type { Hono } from "hono";
import { collectChat } from "../../chat/service.js";
import { randomId } from "../../chat/ids.js";
import { chatCompletionRequestSchema, checkTextOnly, toChatRequest } from "../openai/schemas.js";
import { ChatChunkEncoder, toChatCompletion } from "../openai/responses.js";
import { checkPromptChars, maxTokensFor, promptChars, readJson, type RouteContext } from "./context.js";
import { forChoice, startGeneration } from "./generation.js";
import { takeMcpTools } from "../mcp/request.js";
import { AgentChatChunkEncoder, collectAgentChat } from "../mcp/chat.js";
import { checkMcpCombination, mcpRun } from "./mcp.js";

export function mountChatRoutes(app: Hono, ctx: RouteContext): void {
  app.post("/v1/chat/completions", async (c) => {
    const arrivedAt = performance.now();
    const { body: raw, mcp } = takeMcpTools(await readJson(c, ctx), ctx.mcp, "never");
    checkTextOnly(raw);
    const body = chatCompletionRequestSchema.parse(raw);
    const served = ctx.model(body.model);
    const backend = served.requireBackend();
    const maxTokens = maxTokensFor(ctx.maxTokens, body.max_completion_tokens ?? body.max_tokens, body.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens");
    const request = { ...toChatRequest(body), ...(maxTokens === undefined ? {} : { maxTokens }) };
    checkPromptChars(backend, promptChars(request), "messages");
    const n = body.n ?? 1;
    if (mcp !== undefined) {
      checkMcpCombination(request, n);
      const toolset = ctx.mcp;
      if (toolset === undefined) throw new Error("unreachable: MCP tools without a toolset");
      const stream = body.stream === true;
      const generation = await startGeneration(ctx, served.queue, c, 1, arrivedAt);
      const meta = { id: randomId("chatcmpl-"), created: Math.floor(Date.now() / 1000), model: served.id };
      // A live approval opens when its request is streamed (the loop then waits for the answer); without a
      // stream nobody could answer, so a call that needs approval is denied.
      const opened = new Map<string, { readonly id: string; readonly answer: Promise<boolean> }>();
      const approvalId = (callId: string, name: string): string | undefined => {
        if (!mcp.needsApproval(name)) return undefined;
        const pending = ctx.approvals.open(generation.signal);
        opened.set(callId, pending);
        return pending.id;
      };
      const approve = async (call: { readonly id: string; readonly name: string }): Promise<"approve" | "deny"> => {
        if (!mcp.needsApproval(call.name)) return "approve";
        const pending = opened.get(call.id);
        return pending !== undefined && (await pending.answer) ? "approve" : "deny";
      };
      const events = mcpRun(ctx, backend, generation, mcp, request, approve);
      if (!stream) {
        const [result] = await generation.collect([events], (e) => collectAgentChat(meta, toolset, e));
        return c.json(result);
      }
      return generation.stream([events], new AgentChatChunkEncoder(meta, toolset, { includeUsage: body.stream_options?.include_usage === true, approvalId }));
    }
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
