/** The fuzzer's vocabulary: routes, case categories, one generated case, and what came back. */

/** The routes the fuzzer knows how to build bodies for and check answers of. */
export type FuzzRoute =
  | "chat"
  | "completions"
  | "responses"
  | "messages"
  | "tokenize"
  | "detokenize"
  | "apply-template"
  | "models"
  | "model"
  | "health"
  | "metrics"
  | "unknown";

/** Where each route lives. */
export const ROUTE_PATHS: Readonly<Record<Exclude<FuzzRoute, "model" | "unknown">, string>> = {
  chat: "/v1/chat/completions",
  completions: "/v1/completions",
  responses: "/v1/responses",
  messages: "/v1/messages",
  tokenize: "/tokenize",
  detokenize: "/detokenize",
  "apply-template": "/apply-template",
  models: "/v1/models",
  health: "/health",
  metrics: "/metrics",
};

/** The generating routes: bodies with `max_tokens` (or `max_output_tokens`), streaming, disconnects. */
export const GENERATION_ROUTES = ["chat", "completions", "responses", "messages"] as const;
export type GenerationRoute = (typeof GENERATION_ROUTES)[number];

/** The POST routes with JSON bodies. */
export const BODY_ROUTES = ["chat", "completions", "responses", "messages", "tokenize", "detokenize", "apply-template"] as const;
export type BodyRoute = (typeof BODY_ROUTES)[number];

export type FuzzCategory =
  /** A valid body from the corpus, sent plainly. */
  | "valid"
  /** A valid body with 1–3 structural mutations (dropped keys, wrong types, extreme values, …). */
  | "mutated"
  /** `response_format` json_schema (or the Responses/Messages equivalent) with an adversarial schema. */
  | "adversarial-schema"
  /** Adversarial `tools` / `tool_choice`: bad schemas, duplicates, missing names, hundreds of tools. */
  | "adversarial-tools"
  /** Bytes that are not JSON (truncated, bad escapes, invalid UTF-8, deep nesting, NaN, …). */
  | "malformed-json"
  /** Odd headers: content types, charsets, encodings, Accept. */
  | "headers"
  /** Big bodies (bounded by the generator's `hugeMaxBytes`): huge messages, many messages, big arrays. */
  | "huge"
  /** Routes that do not exist. */
  | "unknown-route"
  /** Known routes with the wrong method. */
  | "method"
  /** A body (valid or not) uploaded with `Transfer-Encoding: chunked` (no Content-Length), in pieces. */
  | "chunked"
  /** A generation request the client abandons at a random point. */
  | "disconnect";

export const FUZZ_CATEGORIES: readonly FuzzCategory[] = [
  "valid",
  "mutated",
  "adversarial-schema",
  "adversarial-tools",
  "malformed-json",
  "headers",
  "huge",
  "unknown-route",
  "method",
  "chunked",
  "disconnect",
];

/** How the body goes out. */
export type FuzzUpload =
  | { readonly kind: "none" }
  | { readonly kind: "length" }
  /** No Content-Length: `chunks` are the byte sizes of the writes (the rest in one last write), `delayMs` between them. */
  | { readonly kind: "chunked"; readonly chunks: readonly number[]; readonly delayMs: number };

/** Where the client walks away. */
export type FuzzDisconnect =
  /** After writing `afterChunks` of the chunked upload (the body is never finished). */
  | { readonly stage: "upload"; readonly afterChunks: number }
  /** As soon as the response headers arrive. */
  | { readonly stage: "headers" }
  /** After `afterBytes` bytes of the response body. */
  | { readonly stage: "body"; readonly afterBytes: number }
  /** `afterMs` after the request started, wherever it is. */
  | { readonly stage: "time"; readonly afterMs: number };

/** What a correct server answers. */
export type FuzzExpectation =
  /** A 2xx (a valid request). A 4xx is reported as "rejected valid" (informational), a 5xx is a failure. */
  | "ok"
  /** A 4xx (an invalid request). A 2xx is a shape violation ("accepted invalid input"). */
  | "error"
  /** Either, as long as it is not a 5xx and has the right shape. */
  | "any";

export interface FuzzCase {
  /** Index in the run (0-based); with the seed it rebuilds the case. */
  readonly id: number;
  readonly category: FuzzCategory;
  /** One line: what the case is (route, variant, mutation). */
  readonly label: string;
  readonly route: FuzzRoute;
  readonly method: string;
  /** Path and query, starting with `/`. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  readonly upload: FuzzUpload;
  readonly disconnect?: FuzzDisconnect;
  readonly expect: FuzzExpectation;
  /** The body asks for a stream (the answer should be SSE when it is a 2xx). */
  readonly stream: boolean;
}

/** How one request ended, as the client saw it. */
export type FuzzOutcome =
  | {
      readonly kind: "response";
      readonly status: number;
      readonly headers: Readonly<Record<string, string | string[] | undefined>>;
      /** The body (the first `maxKeptBytes`; `bodyBytes` counts all of it). */
      readonly body: Uint8Array;
      readonly bodyBytes: number;
      readonly truncated: boolean;
      readonly ms: number;
      /** Answered on a fresh connection after a reused keep-alive socket was reset before any answer. */
      readonly staleSocketRetry?: boolean;
    }
  /** The client disconnected on purpose (`status` when the headers had arrived). */
  | { readonly kind: "disconnected"; readonly stage: FuzzDisconnect["stage"]; readonly status?: number; readonly ms: number }
  /** No complete answer within the request's limit. */
  | { readonly kind: "timeout"; readonly status?: number; readonly ms: number }
  /** The connection failed without the client asking (reset, hang-up). */
  | { readonly kind: "transport-error"; readonly message: string; readonly status?: number; readonly ms: number };
