/**
 * OpenAI's Responses API: `POST /v1/responses` (JSON or SSE), and for stored responses
 * `GET /v1/responses/{id}`, `DELETE /v1/responses/{id}`, `GET /v1/responses/{id}/input_items`. The same
 * chat service as `/v1/chat/completions` (Hermes prompt, forced and lazy tool-call grammars, validated
 * arguments); conversations continue with `previous_response_id` from the bounded store (`../responses/store.ts`).
 */
import type { Hono } from "hono";
import { randomId } from "../../chat/ids.js";
import { ApiError } from "../errors.js";
import { checkUnsupported, inputItems, responsesRequestSchema, toChatRequest, type InputItem } from "../responses/schemas.js";
import { collectResponse, outputAsInput, ResponseStreamEncoder, type OutputItem, type ResponseMeta } from "../responses/objects.js";
import { checkPromptChars, maxTokensFor, promptChars, readJson, type RouteContext } from "./context.js";
import { startGeneration } from "./generation.js";
import { takeMcpTools } from "../mcp/request.js";
import { AgentResponseEncoder, resolveApprovals } from "../mcp/responses.js";
import { checkMcpCombination, mcpRun } from "./mcp.js";
import { itemsToMessages } from "../responses/schemas.js";

function notFound(id: string): ApiError {
  return new ApiError(404, "not_found_error", `Response with id '${id}' not found.`, { param: "response_id", code: "response_not_found" });
}

export function mountResponsesRoutes(app: Hono, ctx: RouteContext): void {
  const store = ctx.responses;

  app.post("/v1/responses", async (c) => {
    const arrivedAt = performance.now();
    const { body: raw, mcp } = takeMcpTools(await readJson(c, ctx), ctx.mcp, "always");
    checkUnsupported(raw);
    const body = responsesRequestSchema.parse(raw);
    const served = ctx.model(body.model);
    const backend = served.requireBackend();
    let history: readonly InputItem[] = [];
    if (body.previous_response_id != null) {
      const previous = store.get(body.previous_response_id);
      if (previous === undefined) {
        throw new ApiError(400, "invalid_request_error", `Previous response with id '${body.previous_response_id}' not found${store.enabled ? "" : " (this server stores no responses: --responses-store 0)"}.`, {
          param: "previous_response_id",
          code: "previous_response_not_found",
        });
      }
      history = previous.conversation;
    }
    const maxTokens = maxTokensFor(ctx.maxTokens, body.max_output_tokens, "max_output_tokens");
    const request = toChatRequest(body, history, maxTokens);
    checkPromptChars(backend, promptChars(request), "input");
    if (mcp === undefined && inputItems(body.input).some((i) => i.type === "mcp_approval_response")) {
      throw new ApiError(400, "invalid_request_error", "An 'mcp_approval_response' needs the request's tools to include its MCP server (type \"mcp\").", { param: "input", code: "invalid_value" });
    }
    const prepared = mcp === undefined ? await backend.chat.prepare(request) : undefined;
    let resolved: Awaited<ReturnType<typeof resolveApprovals>> | undefined;
    if (mcp !== undefined) {
      checkMcpCombination(request, 1);
      const allowed = new Set(ctx.mcp?.summaries(mcp.selection).map((t) => t.name) ?? []);
      // Approved calls run first, before admission (they use no sequence), within the request's deadline.
      const signal = AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(ctx.timeoutMs)]);
      resolved = await resolveApprovals([...history, ...inputItems(body.input)], ctx.mcp, (name) => allowed.has(name), signal);
    }
    const generation = await startGeneration(ctx, served.queue, c, 1, arrivedAt);
    const meta: ResponseMeta = {
      id: randomId("resp_"),
      createdAt: Math.floor(Date.now() / 1000),
      model: body.model ?? served.id,
      echo: {
        instructions: body.instructions ?? null,
        max_output_tokens: body.max_output_tokens ?? null,
        metadata: body.metadata ?? {},
        parallel_tool_calls: body.parallel_tool_calls ?? true,
        previous_response_id: body.previous_response_id ?? null,
        temperature: body.temperature ?? 1,
        top_p: body.top_p ?? 1,
        tool_choice: body.tool_choice ?? "auto",
        tools: [
          ...(body.tools ?? []).map((t) => ({ type: "function", name: t.name, description: t.description ?? null, parameters: t.parameters ?? null, strict: t.strict ?? null })),
          ...(mcp?.entries ?? []),
        ],
        text: { format: body.text?.format ?? { type: "text" } },
        store: body.store !== false && store.enabled,
        truncation: body.truncation ?? "disabled",
        user: body.user ?? null,
      },
    };
    const input = inputItems(body.input).map((item) => ({ ...item, id: item.id ?? randomId(item.type === "function_call_output" ? "fco_" : item.type === "function_call" ? "fc_" : "msg_") }));
    if (mcp !== undefined && resolved !== undefined) {
      const toolset = ctx.mcp;
      if (toolset === undefined) throw new Error("unreachable: MCP tools without a toolset");
      const run = resolved;
      const exposed = (label: string, name: string): string => toolset.summaries().find((t) => t.server === label && t.remoteName === name)?.name ?? name;
      const messages = itemsToMessages(run.items, exposed);
      if (body.instructions != null && body.instructions !== "") messages.unshift({ role: "system", content: body.instructions });
      const keepRun = (response: Record<string, unknown>, output: readonly OutputItem[]): void => {
        if (body.store === false || !store.enabled) return;
        const fresh = run.items.slice(history.length);
        store.put(meta.id, { response, input, conversation: [...history, ...fresh.filter((i) => i.type !== "mcp_call" || !run.executed.some((e) => e.id === i.id)), ...outputAsInput(output)] });
      };
      const encoder = new AgentResponseEncoder({ meta, toolset, selection: mcp.selection, preface: run.executed, onComplete: keepRun });
      const events = mcpRun(ctx, backend, generation, mcp, { ...request, messages }, async (call) => (mcp.needsApproval(call.name) ? "defer" : "approve"));
      if (body.stream !== true) {
        await generation.collect([events], async (e) => {
          for await (const event of e) encoder.encode(0, event);
        });
        if (encoder.response === undefined) throw new Error("no response");
        return c.json(encoder.response);
      }
      return generation.stream([events], encoder, (error) => encoder.errorEvent(error));
    }
    if (prepared === undefined) throw new Error("unreachable: no prepared request");
    const keep = (response: Record<string, unknown>, output: readonly OutputItem[]): void => {
      if (body.store === false || !store.enabled) return;
      store.put(meta.id, { response, input, conversation: [...history, ...inputItems(body.input), ...outputAsInput(output)] });
    };
    const events = generation.observe(0, backend.chat.stream(prepared, { signal: generation.signal }));
    if (body.stream !== true) {
      const [result] = await generation.collect([events], (e) => collectResponse(meta, e));
      if (result === undefined) throw new Error("no response");
      keep(result.response, result.output);
      return c.json(result.response);
    }
    const encoder = new ResponseStreamEncoder({ meta, onComplete: keep });
    return generation.stream([events], encoder, (error) => encoder.errorEvent(error));
  });

  app.get("/v1/responses/:id", (c) => {
    const entry = store.get(c.req.param("id"));
    if (entry === undefined) throw notFound(c.req.param("id"));
    return c.json(entry.response);
  });

  app.delete("/v1/responses/:id", (c) => {
    const id = c.req.param("id");
    if (!store.delete(id)) throw notFound(id);
    return c.json({ id, object: "response", deleted: true });
  });

  app.get("/v1/responses/:id/input_items", (c) => {
    const entry = store.get(c.req.param("id"));
    if (entry === undefined) throw notFound(c.req.param("id"));
    const order = c.req.query("order") ?? "desc";
    if (order !== "asc" && order !== "desc") throw new ApiError(400, "invalid_request_error", "'order' must be 'asc' or 'desc'.", { param: "order", code: "invalid_value" });
    const limitText = c.req.query("limit") ?? "20";
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new ApiError(400, "invalid_request_error", "'limit' must be an integer from 1 to 100.", { param: "limit", code: "invalid_value" });
    let items = order === "desc" ? [...entry.input].reverse() : [...entry.input];
    const after = c.req.query("after");
    if (after !== undefined) {
      const at = items.findIndex((i) => i.id === after);
      if (at < 0) throw new ApiError(400, "invalid_request_error", `'after' names no item of this response.`, { param: "after", code: "invalid_value" });
      items = items.slice(at + 1);
    }
    const page = items.slice(0, limit);
    return c.json({ object: "list", data: page, first_id: page[0]?.id ?? null, last_id: page[page.length - 1]?.id ?? null, has_more: items.length > page.length });
  });
}
