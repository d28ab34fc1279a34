/**
 * The case generator: case `id` of a run seeded `seed` is built from its own PRNG ({@link caseSeed}), so
 * it is reproducible alone. Categories are drawn by weight; each builds a request for one route.
 */
import { caseSeed, Rng } from "./rng.js";
import { corpusBody, type CorpusBody, type CorpusContext } from "./corpus.js";
import { expandPlaceholders, mutate, mutateBytes } from "./mutators.js";
import { adversarialSchema, adversarialTools, type Json, type JsonObject } from "./schemas.js";
import { bulkText, messageText, randomName } from "./text.js";
import {
  FUZZ_CATEGORIES,
  ROUTE_PATHS,
  type BodyRoute,
  type FuzzCase,
  type FuzzCategory,
  type FuzzDisconnect,
  type FuzzExpectation,
  type FuzzRoute,
  type FuzzUpload,
  type GenerationRoute,
} from "./types.js";

export interface GeneratorOptions {
  readonly seed: number;
  /** Largest `max_tokens` of generation bodies. Default 8. */
  readonly maxTokens?: number;
  /** Model id sent in bodies. Default "talaria". */
  readonly modelId?: string;
  /** Largest `n` sent in valid bodies (the server's sequences). Default 1. */
  readonly maxN?: number;
  /** Whether `/v1/responses` and `/v1/messages` exist (found by the runner's probe). Default false. */
  readonly routes?: { readonly responses?: boolean; readonly messages?: boolean };
  /** Largest body of the `huge` category, in bytes. Default 2.5 MiB. */
  readonly hugeMaxBytes?: number;
  /** Relative weights of the categories (0 turns one off). Default {@link DEFAULT_WEIGHTS}. */
  readonly weights?: Partial<Readonly<Record<FuzzCategory, number>>>;
}

export const DEFAULT_WEIGHTS: Readonly<Record<FuzzCategory, number>> = {
  valid: 18,
  mutated: 22,
  "adversarial-schema": 9,
  "adversarial-tools": 6,
  "malformed-json": 9,
  headers: 5,
  huge: 3,
  "unknown-route": 4,
  method: 5,
  chunked: 10,
  disconnect: 9,
};

const utf8 = new TextEncoder();
const JSON_HEADERS: Readonly<Record<string, string>> = { "content-type": "application/json" };

interface Ctx extends CorpusContext {
  readonly responses: boolean;
  readonly messages: boolean;
  readonly hugeMaxBytes: number;
}

function bodyRoutes(ctx: Ctx): (readonly [BodyRoute, number])[] {
  const out: (readonly [BodyRoute, number])[] = [
    ["chat", 6],
    ["completions", 3],
    ["tokenize", 1],
    ["detokenize", 1],
    ["apply-template", 1],
  ];
  if (ctx.responses) out.push(["responses", 3]);
  if (ctx.messages) out.push(["messages", 3]);
  return out;
}

function generationRoutes(ctx: Ctx): (readonly [GenerationRoute, number])[] {
  const out: (readonly [GenerationRoute, number])[] = [
    ["chat", 3],
    ["completions", 1],
  ];
  if (ctx.responses) out.push(["responses", 1]);
  if (ctx.messages) out.push(["messages", 1]);
  return out;
}

function encode(body: Json): Uint8Array {
  return utf8.encode(expandPlaceholders(JSON.stringify(body)));
}

interface Draft {
  readonly label: string;
  readonly route: FuzzRoute;
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  readonly upload?: FuzzUpload;
  readonly disconnect?: FuzzDisconnect;
  readonly expect: FuzzExpectation;
  readonly stream?: boolean;
}

function pathOf(route: FuzzRoute): string {
  if (route === "model" || route === "unknown") throw new Error(`no fixed path for ${route}`);
  return ROUTE_PATHS[route];
}

function isStream(body: Json): boolean {
  return body !== null && typeof body === "object" && !Array.isArray(body) && (body as JsonObject).stream === true;
}

// ---- categories --------------------------------------------------------------------------------------

function validCase(rng: Rng, ctx: Ctx): Draft {
  if (rng.chance(0.15)) {
    const which = rng.int(0, 5);
    switch (which) {
      case 0:
        return { label: "GET /v1/models", route: "models", method: "GET", path: "/v1/models", expect: "ok" };
      case 1:
        return { label: "GET /v1/models/<id>", route: "model", method: "GET", path: `/v1/models/${encodeURIComponent(ctx.modelId)}`, expect: "ok" };
      case 2:
        return { label: "GET /v1/models/<unknown id>", route: "model", method: "GET", path: `/v1/models/${randomName(rng, 8)}`, expect: "error" };
      case 3:
        return { label: "GET /health", route: "health", method: "GET", path: rng.chance(0.3) ? "/health?probe=1" : "/health", expect: "ok" };
      case 4:
        return { label: "HEAD /health", route: "health", method: "HEAD", path: "/health", expect: "ok" };
      default:
        return { label: "GET /metrics", route: "metrics", method: "GET", path: "/metrics", expect: "ok" };
    }
  }
  const route = rng.weighted(bodyRoutes(ctx));
  const c = corpusBody(route, rng, ctx);
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (c.stream && rng.chance(0.5)) headers.accept = "text/event-stream";
  return { label: c.label, route, body: encode(c.body), headers, expect: "ok", stream: c.stream };
}

function mutatedCase(rng: Rng, ctx: Ctx): Draft {
  const route = rng.weighted(bodyRoutes(ctx));
  const c = corpusBody(route, rng, ctx);
  const m = mutate(rng, c.body);
  return { label: `${c.label} | ${m.label}`, route, body: encode(m.body), expect: "any", stream: isStream(m.body) };
}

/** Tools in the dialect of `route` (chat-style tools are converted for Responses and Messages). */
function toolsFor(route: GenerationRoute | "apply-template", tools: Json): Json {
  if (!Array.isArray(tools) || route === "chat" || route === "apply-template" || route === "completions") return tools;
  return tools.map((t) => {
    if (t === null || typeof t !== "object" || Array.isArray(t)) return t;
    const f = (t as JsonObject).function;
    if (f === null || typeof f !== "object" || Array.isArray(f)) return t;
    const fn = f as JsonObject;
    if (route === "responses") return { type: (t as JsonObject).type ?? "function", name: fn.name ?? null, description: fn.description ?? null, parameters: fn.parameters ?? null };
    return { name: fn.name ?? null, description: fn.description ?? "", input_schema: fn.parameters ?? { type: "object" } };
  });
}

function adversarialSchemaCase(rng: Rng, ctx: Ctx): Draft {
  const s = adversarialSchema(rng);
  const strict = rng.chance(0.6);
  const targets: (readonly ["chat" | "apply-template" | "responses" | "messages", number])[] = [
    ["chat", 6],
    ["apply-template", 1],
  ];
  if (ctx.responses) targets.push(["responses", 2]);
  if (ctx.messages) targets.push(["messages", 1]);
  const route = rng.weighted(targets);
  const c = corpusBody(route, rng, ctx);
  const body: JsonObject = { ...c.body };
  delete body.tools;
  delete body.tool_choice;
  if (route === "chat" || route === "apply-template") {
    body.response_format = { type: "json_schema", json_schema: { name: "adversarial", schema: s.schema, ...(strict ? { strict: true } : {}) } };
  } else if (route === "responses") {
    body.text = { format: { type: "json_schema", name: "adversarial", schema: s.schema, strict } };
  } else {
    // Messages has no response_format: a forced tool with the schema is its JSON mode.
    body.tools = [{ name: "adversarial", description: "", input_schema: s.schema }];
    body.tool_choice = { type: "tool", name: "adversarial" };
  }
  const stream = isStream(body);
  return { label: `${route}${stream ? " stream" : ""} schema: ${s.label}${strict ? " (strict)" : ""}`, route, body: encode(body), expect: "any", stream };
}

function adversarialToolsCase(rng: Rng, ctx: Ctx): Draft {
  const t = adversarialTools(rng);
  const targets: (readonly ["chat" | "apply-template" | "responses" | "messages", number])[] = [
    ["chat", 6],
    ["apply-template", 1],
  ];
  if (ctx.responses) targets.push(["responses", 1]);
  if (ctx.messages) targets.push(["messages", 1]);
  const route = rng.weighted(targets);
  const c = corpusBody(route, rng, ctx);
  const body: JsonObject = { ...c.body };
  delete body.response_format;
  delete body.text;
  body.tools = toolsFor(route, t.tools);
  if (t.toolChoice === undefined) delete body.tool_choice;
  else if (route === "messages") {
    const choice = t.toolChoice;
    body.tool_choice =
      choice === "required" ? { type: "any" } : choice === "auto" ? { type: "auto" } : choice !== null && typeof choice === "object" && !Array.isArray(choice) ? { type: "tool", name: ((choice as JsonObject).function as JsonObject | undefined)?.name ?? null } : choice;
  } else if (route === "responses" && t.toolChoice !== null && typeof t.toolChoice === "object" && !Array.isArray(t.toolChoice)) {
    body.tool_choice = { type: "function", name: ((t.toolChoice as JsonObject).function as JsonObject | undefined)?.name ?? null };
  } else body.tool_choice = t.toolChoice;
  const stream = isStream(body);
  return { label: `${route}${stream ? " stream" : ""} tools: ${t.label}`, route, body: encode(body), expect: "any", stream };
}

function malformedCase(rng: Rng, ctx: Ctx): Draft {
  const route = rng.weighted(bodyRoutes(ctx));
  const c = corpusBody(route, rng, ctx);
  const m = mutateBytes(rng, c.body);
  return { label: `${route}: ${m.label}`, route, body: m.bytes, expect: m.expect, stream: false };
}

function headersCase(rng: Rng, ctx: Ctx): Draft {
  const route = rng.weighted(bodyRoutes(ctx));
  const c = corpusBody(route, rng, ctx);
  const variants: readonly (readonly [string, Readonly<Record<string, string>>])[] = [
    ["no content-type", {}],
    ["content-type text/plain", { "content-type": "text/plain" }],
    ["content-type form-urlencoded", { "content-type": "application/x-www-form-urlencoded" }],
    ["content-type multipart without parts", { "content-type": "multipart/form-data; boundary=xyz" }],
    ["content-type charset=utf-16", { "content-type": "application/json; charset=utf-16" }],
    ["content-type charset=latin1", { "content-type": "application/json; charset=latin1" }],
    ["content-type upper case", { "content-type": "APPLICATION/JSON" }],
    ["content-type garbage", { "content-type": ";;;=;" }],
    ["content-encoding gzip (not gzipped)", { "content-type": "application/json", "content-encoding": "gzip" }],
    ["content-encoding br (not compressed)", { "content-type": "application/json", "content-encoding": "br" }],
    ["accept text/html", { "content-type": "application/json", accept: "text/html" }],
    ["accept text/event-stream", { "content-type": "application/json", accept: "text/event-stream" }],
    ["authorization junk", { "content-type": "application/json", authorization: "Bearer \u00ff junk" }],
    ["authorization basic", { "content-type": "application/json", authorization: "Basic dXNlcjpwYXNz" }],
    ["4 kB header", { "content-type": "application/json", "x-fuzz-padding": "p".repeat(4096) }],
    ["x-forwarded headers", { "content-type": "application/json", "x-forwarded-for": "10.0.0.1, 10.0.0.2", "x-forwarded-proto": "https", forwarded: "for=1.2.3.4" }],
    ["expect 100-continue", { "content-type": "application/json", expect: "100-continue" }],
  ];
  const [label, headers] = rng.pick(variants);
  // The authorization header may carry a latin1 byte: Node sends it as-is (a valid header octet).
  return { label: `${c.label} | ${label}`, route, body: encode(c.body), headers, expect: "any", stream: c.stream };
}

function hugeCase(rng: Rng, ctx: Ctx): Draft {
  const max = ctx.hugeMaxBytes;
  const size = rng.logInt(Math.min(64 * 1024, max), max);
  const kind = rng.int(0, 10);
  const kb = `${Math.round(size / 1024)} kB`;
  const chatWith = (mutateBody: (b: JsonObject) => void, label: string): Draft => {
    const c = corpusBody("chat", rng, ctx);
    const body = { ...c.body };
    mutateBody(body);
    return { label: `chat: ${label}`, route: "chat", body: encode(body), expect: "any", stream: isStream(body) };
  };
  switch (kind) {
    case 0:
    case 1:
      return chatWith((b) => {
        b.messages = [{ role: "user", content: bulkText(rng, size) }];
      }, `one ${kb} user message`);
    case 2: {
      const n = rng.logInt(1000, Math.max(1000, Math.floor(size / 40)));
      return chatWith((b) => {
        b.messages = Array.from({ length: n }, (_, i) => ({ role: i % 2 === 0 ? "user" : "assistant", content: messageText(rng) }));
      }, `${n} messages`);
    }
    case 3:
      return chatWith((b) => {
        b.stop = Array.from({ length: rng.pick([16, 17, 10_000]) }, (_, i) => `stop-${i}`);
      }, "a long stop list");
    case 4: {
      const n = rng.logInt(1000, 50_000);
      return chatWith((b) => {
        const bias: JsonObject = {};
        for (let i = 0; i < n; i++) bias[String(i)] = -1;
        b.logit_bias = bias;
      }, `logit_bias of ${n} entries`);
    }
    case 5:
      return { label: `completions: ${kb} prompt`, route: "completions", body: encode({ prompt: bulkText(rng, size), max_tokens: ctx.maxTokens }), expect: "any" };
    case 6: {
      const n = Math.floor(size / 4);
      return { label: `completions: ${n} prompt token ids`, route: "completions", body: encode({ prompt: Array.from({ length: n }, () => rng.int(32, 126)), max_tokens: ctx.maxTokens }), expect: "any" };
    }
    case 7: {
      const s = Math.min(size, 1024 * 1024);
      return { label: `tokenize: ${Math.round(s / 1024)} kB`, route: "tokenize", body: encode({ content: bulkText(rng, s) }), expect: "any" };
    }
    case 8: {
      const n = Math.min(Math.floor(size / 4), 300_000);
      return { label: `detokenize: ${n} tokens`, route: "detokenize", body: encode({ tokens: Array.from({ length: n }, () => rng.int(32, 126)) }), expect: "any" };
    }
    case 9:
      return { label: `apply-template: ${kb} message`, route: "apply-template", body: encode({ messages: [{ role: "user", content: bulkText(rng, size) }] }), expect: "any" };
    default: {
      if (ctx.responses && rng.chance(0.5)) return { label: `responses: ${kb} input`, route: "responses", body: encode({ input: bulkText(rng, size), max_output_tokens: ctx.maxTokens }), expect: "any" };
      if (ctx.messages) return { label: `messages: ${kb} message`, route: "messages", body: encode({ model: ctx.modelId, max_tokens: ctx.maxTokens, messages: [{ role: "user", content: bulkText(rng, size) }] }), expect: "any" };
      return chatWith((b) => {
        b.messages = [{ role: "system", content: bulkText(rng, size / 2) }, { role: "user", content: bulkText(rng, size / 2) }];
      }, `${kb} over two messages`);
    }
  }
}

const UNKNOWN_PATHS: readonly (readonly [string, FuzzExpectation])[] = [
  ["/v1/chat", "error"],
  ["/v1/chat/completions/extra", "error"],
  ["/v1/engines", "error"],
  ["/v2/chat/completions", "error"],
  ["/v1/models/", "error"],
  ["/V1/CHAT/COMPLETIONS", "error"],
  ["/v1//chat//completions", "any"],
  ["/v1/chat/completions/", "any"],
  ["/%2e%2e/%2e%2e/etc/passwd", "error"],
  ["/..%2f..%2fetc%2fpasswd", "error"],
  ["/v1/chat%2Fcompletions", "any"],
  ["/v1/embeddings", "error"],
  ["/v1/audio/speech", "error"],
  ["/v1/files", "error"],
  ["/tokenize/x", "error"],
  ["/health/", "any"],
  ["/metrics/x", "error"],
  ["/%00", "error"],
  ["/%ff%fe", "error"],
  ["/v1/models/%", "any"],
];

function unknownRouteCase(rng: Rng, ctx: Ctx): Draft {
  let path: string;
  let expect: FuzzExpectation;
  const r = rng.int(0, 9);
  if (r < 6) [path, expect] = rng.pick(UNKNOWN_PATHS);
  else if (r < 8) {
    path = `/${Array.from({ length: rng.int(1, 4) }, () => encodeURIComponent(randomName(rng, rng.int(1, 12)))).join("/")}`;
    expect = "error";
  } else if (r < 9) {
    path = `/v1/${"a".repeat(rng.pick([256, 2048, 6000]))}`;
    expect = "error";
  } else {
    path = `/v1/chat/completion?${"q=%ff&".repeat(rng.int(1, 200))}x=${encodeURIComponent(messageText(rng))}`;
    expect = "error";
  }
  if (!ctx.responses && rng.chance(0.1)) [path, expect] = ["/v1/responses", "error"];
  if (!ctx.messages && rng.chance(0.1)) [path, expect] = ["/v1/messages", "error"];
  const method = rng.chance(0.5) ? "GET" : "POST";
  const body = method === "POST" ? encode(corpusBody("chat", rng, ctx).body) : undefined;
  return { label: `${method} ${path.length > 60 ? `${path.slice(0, 60)}…` : path}`, route: "unknown", method, path, ...(body === undefined ? {} : { body }), expect };
}

const GET_ROUTES: readonly FuzzRoute[] = ["models", "health", "metrics"];
const ODD_METHODS = ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND", "PURGE", "SEARCH", "REPORT", "MKCOL", "LOCK", "UNLINK"];

function methodCase(rng: Rng, ctx: Ctx): Draft {
  const getRoute = rng.chance(0.3);
  const route: FuzzRoute = getRoute ? rng.pick(GET_ROUTES) : rng.weighted(bodyRoutes(ctx));
  const methods = getRoute ? ODD_METHODS.filter((m) => m !== "GET").concat(["POST"]) : ODD_METHODS;
  const method = rng.pick(methods);
  const path = pathOf(route);
  const withBody = !getRoute && method !== "GET" && method !== "HEAD" && rng.chance(0.7);
  const body = withBody ? encode(corpusBody(route as BodyRoute, rng, ctx).body) : undefined;
  const expect: FuzzExpectation = method === "OPTIONS" || (getRoute && method === "HEAD") ? "any" : "error";
  return { label: `${method} ${path}${withBody ? " with a body" : ""}`, route, method, path, ...(body === undefined ? {} : { body, headers: JSON_HEADERS }), expect };
}

function chunkPlan(rng: Rng, length: number, maxChunks = 64): { chunks: number[]; delayMs: number } {
  const count = Math.max(1, Math.min(maxChunks, rng.logInt(1, Math.max(1, length))));
  const chunks: number[] = [];
  let left = length;
  for (let i = 0; i < count - 1 && left > 1; i++) {
    const size = rng.int(1, Math.max(1, Math.floor((2 * left) / (count - i))));
    chunks.push(size);
    left -= size;
  }
  const delay = rng.pick([0, 0, 0, 1, 2, 5, 20]);
  return { chunks, delayMs: count > 1 ? Math.min(delay, Math.floor(200 / count)) : 0 };
}

function chunkedCase(rng: Rng, ctx: Ctx): Draft {
  const inner = rng.weighted<"valid" | "mutated" | "malformed" | "oversized">([
    ["valid", 6],
    ["mutated", 2],
    ["malformed", 2],
    ["oversized", 1],
  ]);
  let draft: Draft;
  if (inner === "valid") draft = validBodyDraft(rng, ctx);
  else if (inner === "mutated") draft = mutatedCase(rng, ctx);
  else if (inner === "malformed") draft = malformedCase(rng, ctx);
  else {
    const size = rng.logInt(Math.min(512 * 1024, ctx.hugeMaxBytes), ctx.hugeMaxBytes);
    const body = encode({ messages: [{ role: "user", content: bulkText(rng, size) }], max_tokens: ctx.maxTokens });
    draft = { label: `chat: ${Math.round(size / 1024)} kB user message`, route: "chat", body, expect: "any" };
  }
  const length = draft.body?.length ?? 0;
  const plan = inner === "oversized" ? { chunks: Array.from({ length: Math.floor(length / 65536) }, () => 65536), delayMs: 0 } : chunkPlan(rng, length);
  return { ...draft, label: `${draft.label} | chunked ×${plan.chunks.length + 1}${plan.delayMs > 0 ? ` every ${plan.delayMs} ms` : ""}`, upload: { kind: "chunked", ...plan } };
}

function validBodyDraft(rng: Rng, ctx: Ctx): Draft {
  const route = rng.weighted(bodyRoutes(ctx));
  const c: CorpusBody = corpusBody(route, rng, ctx);
  return { label: c.label, route, body: encode(c.body), expect: "ok", stream: c.stream };
}

function disconnectCase(rng: Rng, ctx: Ctx): Draft {
  const route = rng.weighted(generationRoutes(ctx));
  const c = corpusBody(route, rng, ctx);
  const body: JsonObject = { ...c.body };
  if (rng.chance(0.7)) body.stream = true;
  const bytes = encode(body);
  const stage = rng.weighted<FuzzDisconnect["stage"]>([
    ["upload", 2],
    ["headers", 2],
    ["body", 3],
    ["time", 3],
  ]);
  let disconnect: FuzzDisconnect;
  let upload: FuzzUpload = { kind: "length" };
  if (stage === "upload") {
    const plan = chunkPlan(rng, bytes.length, 16);
    if (plan.chunks.length === 0) plan.chunks.push(Math.max(1, Math.floor(bytes.length / 2)));
    upload = { kind: "chunked", ...plan };
    disconnect = { stage, afterChunks: rng.int(0, plan.chunks.length) };
  } else if (stage === "headers") disconnect = { stage };
  else if (stage === "body") disconnect = { stage, afterBytes: rng.logInt(1, 4000) };
  else disconnect = { stage, afterMs: rng.int(0, 80) };
  const where = disconnect.stage === "upload" ? `during upload after ${disconnect.afterChunks} chunk(s)` : disconnect.stage === "headers" ? "at the response headers" : disconnect.stage === "body" ? `after ${disconnect.afterBytes} response bytes` : `after ${disconnect.afterMs} ms`;
  return { label: `${c.label}${body.stream === true && !c.stream ? " (stream)" : ""} | disconnect ${where}`, route, body: bytes, upload, disconnect, expect: "any", stream: body.stream === true };
}

// ---- the case --------------------------------------------------------------------------------------------

/** Case `id` of the run described by `options`. */
export function generateCase(id: number, options: GeneratorOptions): FuzzCase {
  const rng = new Rng(caseSeed(options.seed, id));
  const ctx: Ctx = {
    maxTokens: Math.max(1, options.maxTokens ?? 8),
    modelId: options.modelId ?? "talaria",
    maxN: Math.max(1, options.maxN ?? 1),
    responses: options.routes?.responses === true,
    messages: options.routes?.messages === true,
    hugeMaxBytes: Math.max(1024, options.hugeMaxBytes ?? Math.floor(2.5 * 1024 * 1024)),
  };
  const weights = { ...DEFAULT_WEIGHTS, ...options.weights };
  const category = rng.weighted(FUZZ_CATEGORIES.map((c) => [c, weights[c]] as const).filter(([, w]) => w > 0));
  const draft = build(category, rng, ctx);
  const method = draft.method ?? "POST";
  const path = draft.path ?? pathOf(draft.route);
  const hasBody = draft.body !== undefined;
  return {
    id,
    category,
    label: draft.label,
    route: draft.route,
    method,
    path,
    headers: draft.headers ?? (hasBody ? JSON_HEADERS : {}),
    ...(hasBody ? { body: draft.body } : {}),
    upload: draft.upload ?? (hasBody ? { kind: "length" } : { kind: "none" }),
    ...(draft.disconnect === undefined ? {} : { disconnect: draft.disconnect }),
    expect: draft.expect,
    stream: streamOf(draft.body, draft.stream ?? false),
  };
}

const lenientUtf8 = new TextDecoder("utf-8", { fatal: false });

/** Whether the server will see `stream: true` (decoded as it decodes: BOM dropped, bad bytes replaced). */
function streamOf(body: Uint8Array | undefined, fallback: boolean): boolean {
  if (body === undefined) return false;
  if (body.length > 4 * 1024 * 1024) return fallback;
  try {
    return isStream(JSON.parse(lenientUtf8.decode(body)) as Json);
  } catch (error) {
    // Not JSON: the server cannot stream it. Too deep for this parser: trust the draft.
    return error instanceof SyntaxError ? false : fallback;
  }
}

function build(category: FuzzCategory, rng: Rng, ctx: Ctx): Draft {
  switch (category) {
    case "valid":
      return validCase(rng, ctx);
    case "mutated":
      return mutatedCase(rng, ctx);
    case "adversarial-schema":
      return adversarialSchemaCase(rng, ctx);
    case "adversarial-tools":
      return adversarialToolsCase(rng, ctx);
    case "malformed-json":
      return malformedCase(rng, ctx);
    case "headers":
      return headersCase(rng, ctx);
    case "huge":
      return hugeCase(rng, ctx);
    case "unknown-route":
      return unknownRouteCase(rng, ctx);
    case "method":
      return methodCase(rng, ctx);
    case "chunked":
      return chunkedCase(rng, ctx);
    case "disconnect":
      return disconnectCase(rng, ctx);
    default:
      category satisfies never;
      throw new Error("unreachable");
  }
}
