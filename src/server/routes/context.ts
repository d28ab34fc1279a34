/** What every route module gets from the app (`src/server/app.ts`), and small helpers they share. */
import type { Context } from "hono";
import type { Engine } from "../../engine/types.js";
import type { ChatService } from "../../chat/service.js";
import { ApiError } from "../errors.js";
import type { AdmissionQueue } from "../queue.js";
import type { ServerMetrics } from "../metrics.js";

/** What the server needs once the model is loaded. */
export interface ServerBackend {
  readonly engine: Engine;
  readonly chat: ChatService;
}

/** The shared state a route module is mounted with. */
export interface RouteContext {
  /** The model id reported by `/v1/models` and in responses. */
  readonly modelId: string;
  /** The loaded backend; throws the 503 `ApiError` while the model loads or after a failed load. */
  readonly requireBackend: () => ServerBackend;
  /** Admission control: sequences generating at once, and the waiting queue. */
  readonly queue: AdmissionQueue;
  readonly metrics: ServerMetrics;
  /** Per-request deadline in ms, queueing included (→ 504). */
  readonly timeoutMs: number;
  /** Where server-side errors and warnings are logged (one line each). */
  readonly log: (message: string) => void;
}

/** The request body as JSON; a body that is not JSON is a 400 `invalid_json`. */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError(400, "invalid_request_error", "The request body is not valid JSON.", { code: "invalid_json" });
  }
}
