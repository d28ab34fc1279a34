/** `GET /v1/models` and `GET /v1/models/:id`: the models this server answers with. */
import type { Hono } from "hono";
import { ApiError } from "../errors.js";
import type { WireModel, WireModelList } from "../openai/wire.js";
import type { RouteContext, ServedModel, ServerBackend } from "./context.js";

/** The model card: OpenAI's fields plus llama.cpp's `max_model_len` and `meta`. */
export function toModelCard(modelId: string, backend: ServerBackend): WireModel {
  const { info } = backend.engine;
  return {
    id: modelId,
    object: "model",
    created: 0,
    owned_by: "talaria",
    max_model_len: info.contextSize,
    meta: {
      architecture: info.architecture,
      n_params: info.parameterCount,
      n_ctx_train: info.trainContextLength,
      n_vocab: info.vocabularySize,
      format: backend.chat.format.name,
    },
  } satisfies WireModel;
}

export function mountModelRoutes(app: Hono, ctx: Pick<RouteContext, "models">): void {
  app.get("/v1/models", (c) => {
    // Every model whose backend is loaded (503 while none is).
    const ready = ctx.models.flatMap((m) => {
      const backend = m.backend();
      return backend === undefined ? [] : [toModelCard(m.id, backend)];
    });
    if (ready.length === 0) (ctx.models[0] as ServedModel).requireBackend();
    return c.json({ object: "list", data: ready } satisfies WireModelList);
  });
  app.get("/v1/models/:id{.+}", (c) => {
    const served = ctx.models.find((m) => m.id === c.req.param("id"));
    if (served === undefined) {
      (ctx.models[0] as ServedModel).requireBackend(); // 503 first while loading, as before
      throw new ApiError(404, "invalid_request_error", `The model '${c.req.param("id")}' does not exist.`, {
        param: "model",
        code: "model_not_found",
      });
    }
    return c.json(toModelCard(served.id, served.requireBackend()));
  });
}
