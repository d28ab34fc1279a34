/**
 * CONTRACT test: the vLLM dialect (src/engine/remote/vllm.ts) and the remote engine over it, checked
 * against the documented contract fixture test/fixtures/vllm/contract.json (vLLM's request and
 * response shapes read at a cited upstream commit; notes in the fixture). vLLM cannot run here (it
 * needs a GPU); a real `vllm serve` is checked by bench/gpu.
 *
 * The fake below answers like vLLM per the fixture, from a tiny invented vocabulary (the fixture's ids
 * plus `<tool_call>` 102 / `</tool_call>` 103; any other character is one token, 1000 + code point).
 * It is strict where vLLM is (a non-integer `max_tokens`, an out-of-vocabulary id, `stream_options`
 * without `stream`, … are 400s) and stricter in one place: a body without `model` is a 400 (vLLM
 * would use its served model). It records every request.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createRemoteEngine, type RemoteEngine, type RemoteEngineOptions } from "../../src/engine/remote/index.js";
import { EngineError, type GenerateEvent, type GenerateRequest, type GeneratedToken } from "../../src/engine/types.js";
import { gbnfConstraint, toolCallsConstraint } from "../../src/grammar/index.js";
import { HERMES_DIALECT } from "../../src/hermes/dialect.js";
import { joinPrompt, plain, special } from "../../src/prompt/text.js";

// ---- the fixture -------------------------------------------------------------------------------

type Obj = Record<string, unknown>;
/** A fixture entry (only the parts read here). */
interface Entry {
  readonly id: string;
  readonly path?: string;
  readonly request?: Obj;
  readonly response?: { readonly status: number; readonly body?: unknown; readonly body_lines?: string[] };
  readonly variants?: { readonly request: Obj; readonly response: { readonly body: unknown } }[];
  readonly chunks?: string[];
  readonly cases?: { readonly name: string; readonly response: { readonly status: number; readonly body: unknown }; readonly notes?: string[] }[];
}
type Logprobs = { text_offset: number[]; token_logprobs: number[]; tokens: string[]; top_logprobs: Record<string, number>[] };
interface Choice { text: string; token_ids?: number[] | null; prompt_token_ids?: number[] | null; logprobs: Logprobs | null; finish_reason: string | null; stop_reason: number | string | null }
interface Chunk { choices: Choice[]; usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number; prompt_tokens_details?: { cached_tokens: number } } }

const FIXTURE = JSON.parse(readFileSync(new URL("../fixtures/vllm/contract.json", import.meta.url), "utf8")) as { entries: Entry[] };
function entry(id: string): Entry {
  const e = FIXTURE.entries.find((x) => x.id === id);
  if (e === undefined) throw new Error(`fixture has no entry ${id}`);
  return e;
}
const SERVED = "hermes-3-8b";
const MAX_MODEL_LEN = 8192;
const PROMPT = entry("completions").request?.["prompt"] as number[];
const STREAM = entry("completions_stream").chunks as string[];
const events = (chunks: readonly string[]): Chunk[] => chunks.filter((c) => !c.includes("[DONE]")).map((c) => JSON.parse(c.slice("data: ".length)) as Chunk);
const sse = (chunks: readonly Chunk[]): string[] => [...chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`), "data: [DONE]\n\n"];
const choiceOf = (c: Chunk): Choice => c.choices[0] as Choice;
/** The stream as a server older than v0.10.2 sends it: no `token_ids` keys (ids only in `logprobs.tokens`). */
const withoutTokenIds = (chunks: readonly Chunk[]): Chunk[] => chunks.map((c) => ({ ...c, choices: c.choices.map(({ token_ids: _t, prompt_token_ids: _p, ...rest }) => rest) }));
/** Two chunks as one (`--stream-interval` > 1): texts, ids and logprobs concatenated. */
function merged(a: Chunk, b: Chunk): Chunk {
  const [x, y] = [choiceOf(a), choiceOf(b)];
  const logprobs = Object.fromEntries((["text_offset", "token_logprobs", "tokens", "top_logprobs"] as const).map((k) => [k, [...(x.logprobs?.[k] ?? []), ...(y.logprobs?.[k] ?? [])]])) as Logprobs;
  return { ...b, choices: [{ ...y, text: x.text + y.text, token_ids: [...(x.token_ids ?? []), ...(y.token_ids ?? [])], logprobs }] };
}

// ---- the fake vocabulary -----------------------------------------------------------------------

const VOCAB = new Map<string, number>(
  Object.entries({ "<|begin_of_text|>": 1, "<|end_of_text|>": 2, "<|im_start|>": 100, "<|im_end|>": 101, "<tool_call>": 102, "</tool_call>": 103, user: 200, assistant: 201, "\n": 202, Hello: 300, ",": 301, " world": 302, "!": 303, " there": 400, " Hi": 401 }),
);
const TEXT = new Map([...VOCAB].map(([text, id]) => [id, text]));
const BY_LENGTH = [...VOCAB.keys()].sort((a, b) => b.length - a.length);
const CHAR = 1000;
const inVocab = (id: number): boolean => TEXT.has(id) || (id >= CHAR && id <= CHAR + 0x10ffff);
const textOf = (id: number): string => TEXT.get(id) ?? String.fromCodePoint(id - CHAR);
/** A Hugging Face tokenizer as vLLM runs it: added tokens always matched, here longest match first. */
function tokenizeText(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; ) {
    const word = BY_LENGTH.find((w) => text.startsWith(w, i));
    const cp = text.codePointAt(i) as number;
    out.push(word === undefined ? CHAR + cp : (VOCAB.get(word) as number));
    i += word?.length ?? (cp > 0xffff ? 2 : 1);
  }
  return out;
}

// ---- the fake vLLM server ----------------------------------------------------------------------

/** How the fake answers the next /v1/completions: a JSON status + body, or SSE chunks then end / hold open / cut the socket. */
type Plan = { readonly status: number; readonly body: unknown } | { readonly chunks: readonly string[]; readonly then?: "end" | "hold" | "cut" };
/** A request the fake saw; `closedEarly`: the client hung up before the answer was finished. */
interface Seen { readonly method: string; readonly path: string; readonly body: Obj; closedEarly: boolean }
/** The fake: `plans` answer the next /v1/completions requests in order (default: the fixture's stream, or its prompt_logprobs answer). */
interface Fake { readonly url: string; readonly seen: Seen[]; readonly plans: Plan[]; completions(): Seen[]; close(): Promise<void> }

const vllmError = (message: string, param: string | null, code = 400, type = "BadRequestError") => ({ error: { message, type, param, code } });
/** Why vLLM would refuse this /v1/completions body (status + documented error body), if it would. */
function completionProblem(b: Obj): { status: number; body: unknown } | undefined {
  const bad = (message: string, param: string | null) => ({ status: 400, body: vllmError(message, param) });
  const int = (v: unknown, min: number, max = Infinity): boolean => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
  if (typeof b["model"] !== "string") return bad("model: Field required (this fake demands it)", "model");
  if (b["model"] !== SERVED) return { status: 404, body: vllmError(`The model \`${String(b["model"])}\` does not exist.`, "model", 404, "NotFoundError") };
  if (!int(b["max_tokens"], 1)) return bad("max_tokens: Input should be a valid integer", "max_tokens");
  const prompt = b["prompt"];
  if (!Array.isArray(prompt) || prompt.length === 0 || !prompt.every((t) => int(t, 0))) return bad("prompt: this fake takes token ids only", "prompt");
  const oov = (prompt as number[]).find((t) => !inVocab(t));
  if (oov !== undefined) return bad(`Token id ${oov} is out of vocabulary`, null);
  if (b["stream_options"] !== undefined && b["stream"] !== true) return bad("Stream options can only be defined when `stream=True`.", "stream_options");
  if (b["stream"] === true && b["prompt_logprobs"] != null) return bad("`prompt_logprobs` are not available when `stream=True`.", "prompt_logprobs");
  if (b["top_k"] !== undefined && !int(b["top_k"], -1)) return bad("top_k must be 0 or -1 (disable), or at least 1", "top_k");
  if (b["temperature"] !== undefined && !(typeof b["temperature"] === "number" && b["temperature"] >= 0)) return bad("temperature must be non-negative", "temperature");
  for (const k of ["logprobs", "prompt_logprobs"]) if (b[k] != null && !int(b[k], 0, 20)) return bad(`Requested ${k === "logprobs" ? "sample" : "prompt"} logprobs of ${String(b[k])}, which is greater than max allowed: 20`, k);
  const max = b["max_tokens"] as number;
  if (max > MAX_MODEL_LEN) return bad(`max_tokens=${max} cannot be greater than max_model_len=max_total_tokens=${MAX_MODEL_LEN}. Please request fewer output tokens.`, "max_tokens");
  if (prompt.length + max > MAX_MODEL_LEN) return bad(`This model's maximum context length is ${MAX_MODEL_LEN} tokens. However, you requested ${max} output tokens and your prompt contains ${prompt.length} input tokens.`, "input_tokens");
  const so = (b["structured_outputs"] ?? {}) as Obj;
  const kinds = Object.keys(so).filter((k) => so[k] != null);
  if (b["structured_outputs"] !== undefined && (kinds.length !== 1 || !["json", "regex", "choice", "grammar", "json_object", "structural_tag"].includes(kinds[0] as string))) return bad("exactly one kind of structured output", "structured_outputs");
  if (so["structural_tag"] !== undefined && typeof so["structural_tag"] !== "string") return bad("structural_tag must be a JSON string", "structured_outputs");
  if (so["grammar"] !== undefined && !String(so["grammar"]).includes("::=")) return bad("Invalid grammar specification.", "structured_outputs");
  return undefined;
}

/** The fixture's prompt_logprobs answer for a prefix of its prompt. */
function promptLogprobsAnswer(prompt: readonly number[]): unknown {
  const body = structuredClone(entry("completions_prompt_logprobs").response?.body) as { choices: { prompt_logprobs: unknown[] }[]; usage: Obj };
  const c = body.choices[0] as { prompt_logprobs: unknown[] };
  c.prompt_logprobs = c.prompt_logprobs.slice(0, prompt.length);
  body.usage = { prompt_tokens: prompt.length, total_tokens: prompt.length + 1, completion_tokens: 1, prompt_tokens_details: null };
  return body;
}

function answer(s: Seen, res: http.ServerResponse, plans: Plan[]): void {
  const json = (status: number, body: unknown): void => void res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  const { body: b } = s;
  switch (`${s.method} ${s.path}`) {
    case "GET /v1/models": return json(200, entry("models").response?.body);
    case "GET /version": return json(200, versionOverride === undefined ? entry("version").response?.body : { version: versionOverride });
    case "GET /health": return void res.writeHead(200, { "content-length": "0" }).end();
    case "GET /metrics": return void res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(`${(entry("metrics").response?.body_lines ?? []).join("\n")}\n`);
    case "POST /tokenize": {
      if (typeof b["prompt"] !== "string") return json(400, vllmError("prompt: Field required", "prompt"));
      const ids = [...(b["add_special_tokens"] === false ? [] : [1]), ...tokenizeText(b["prompt"])];
      const strs = b["return_token_strs"] === true ? ids.map((id) => textOf(id).replace(/ /g, "Ġ").replace(/\n/g, "Ċ")) : null;
      return json(200, { count: ids.length, max_model_len: MAX_MODEL_LEN, tokens: ids, token_strs: strs });
    }
    case "POST /detokenize": {
      const t = b["tokens"];
      if (!Array.isArray(t) || !t.every((x) => Number.isInteger(x) && x >= 0)) return json(400, vllmError("tokens: Input should be a list of integers >= 0", "tokens", 400, "Bad Request"));
      return json(200, { prompt: (t as number[]).map(textOf).join("") });
    }
    case "POST /v1/completions": {
      const problem = completionProblem(b);
      if (problem !== undefined) return json(problem.status, problem.body);
      const plan = plans.shift() ?? (b["stream"] === true ? { chunks: STREAM } : undefined);
      if (plan === undefined) return json(200, b["prompt_logprobs"] != null ? promptLogprobsAnswer(b["prompt"] as number[]) : entry("completions").response?.body);
      if ("status" in plan) return json(plan.status, plan.body);
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8" });
      for (const c of plan.chunks) res.write(c);
      if (plan.then === "cut") setTimeout(() => res.socket?.destroy(), 20);
      else if (plan.then !== "hold") res.end();
      return;
    }
    default: return json(404, { detail: "Not Found" });
  }
}

/** The version the fake reports instead of the fixture's (an older vLLM). */
let versionOverride: string | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  versionOverride = undefined;
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startFake(): Promise<Fake> {
  const seen: Seen[] = [];
  const plans: Plan[] = [];
  const server = http.createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (raw += c));
    req.on("end", () => {
      const s: Seen = { method: req.method ?? "", path: req.url ?? "", body: raw === "" ? {} : (JSON.parse(raw) as Obj), closedEarly: false };
      seen.push(s);
      res.on("close", () => void (res.writableFinished || (s.closedEarly = true)));
      answer(s, res, plans);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const close = (): Promise<void> => new Promise((resolve) => (server.closeAllConnections(), server.listening ? server.close(() => resolve()) : resolve()));
  cleanups.push(close);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, plans, completions: () => seen.filter((s) => s.path === "/v1/completions"), close };
}

/** A fresh fake and a remote engine of kind vllm on it (Hermes markers, 1 ms retry backoff). */
async function setup(options: Partial<RemoteEngineOptions> = {}): Promise<{ fake: Fake; engine: RemoteEngine }> {
  const fake = await startFake();
  const engine = await createRemoteEngine({ url: fake.url, kind: "vllm", markerTexts: HERMES_DIALECT.markers, retryBackoffMs: 1, ...options });
  cleanups.push(() => engine.dispose());
  return { fake, engine };
}

type Finish = Extract<GenerateEvent, { type: "finish" }>;
/** A generation's text, output tokens and finish event; `onDelta` sees each text delta. */
async function run(engine: RemoteEngine, request: GenerateRequest, onDelta?: (text: string) => void): Promise<{ text: string; tokens: GeneratedToken[]; finish: Finish }> {
  let text = "";
  const tokens: GeneratedToken[] = [];
  let finish: Finish | undefined;
  for await (const e of engine.generate(request)) {
    if (e.type === "text-delta") (text += e.text), tokens.push(...e.tokens), onDelta?.(e.text);
    else if (e.type === "finish") finish = e;
  }
  if (finish === undefined) throw new Error("no finish event");
  return { text, tokens, finish };
}
async function failure(p: Promise<unknown>): Promise<EngineError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(EngineError);
  return e as EngineError;
}
const lastBody = (fake: Fake): Obj => (fake.completions().at(-1) as Seen).body;
async function until(cond: () => boolean): Promise<void> {
  for (const t0 = Date.now(); !cond(); await new Promise((r) => setTimeout(r, 5))) if (Date.now() - t0 > 3000) throw new Error("timed out waiting");
}

// ---- the tests ---------------------------------------------------------------------------------

describe("vLLM dialect against the documented contract fixture (vLLM cannot run here; a real vllm serve is checked by bench/gpu)", () => {
  it("the fake answers the fixture's own requests as the fixture documents (keeps the fake honest)", async () => {
    const fake = await startFake();
    const post = async (path: string, body: unknown) => (await fetch(`${fake.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).json();
    const tok = entry("tokenize");
    expect(await post("/tokenize", tok.request)).toEqual(tok.response?.body);
    for (const v of tok.variants?.filter((x) => typeof x.response === "object" && x.request["prompt"] !== undefined) ?? []) expect(await post("/tokenize", v.request)).toEqual(v.response.body);
    expect(await post("/detokenize", entry("detokenize").request)).toEqual(entry("detokenize").response?.body);
    expect(await post("/v1/completions", entry("completions_prompt_logprobs").request)).toEqual(entry("completions_prompt_logprobs").response?.body);
    const whole = (entry("completions").response?.body as Chunk).choices[0] as Choice;
    expect(events(STREAM).flatMap((c) => c.choices.flatMap((x) => x.token_ids ?? []))).toEqual(whole.token_ids);
    expect((await fetch(`${fake.url}/props`)).status).toBe(404);
  });

  it("a vLLM older than 0.11 (which ignores structured_outputs silently) gets no grammar: refused by name, never unconstrained", async () => {
    versionOverride = "0.10.2";
    const { fake, engine } = await setup();
    expect(engine.capabilities.grammar).toBe(false);
    await expect(run(engine, { prompt: PROMPT, maxTokens: 4, grammar: gbnfConstraint('root ::= "a"') })).rejects.toMatchObject({ code: "unsupported" });
    expect(fake.completions()).toHaveLength(0);
  });

  it("auto-detects vLLM (/props 404, /version) and describes the model: max_model_len, id, markers, end of generation", async () => {
    const { fake, engine } = await setup({ kind: "auto" });
    expect(engine.kind).toBe("vllm");
    expect(fake.seen.slice(0, 2).map((s) => s.path)).toEqual(["/props", "/version"]);
    expect(engine.info.contextSize).toBe(MAX_MODEL_LEN);
    expect(engine.description).toMatchObject({ kind: "vllm", modelId: SERVED, modelPath: "NousResearch/Hermes-3-Llama-3.1-8B", version: "vllm 0.21.0" });
    expect(engine.info.metadata).toMatchObject({ "talaria.backend.kind": "vllm", "talaria.backend.model": SERVED });
    expect(engine.info.specialTokens.markers).toMatchObject({ "<|im_start|>": 100, "<|im_end|>": 101, "<tool_call>": 102, "</tool_call>": 103 });
    expect(engine.info.specialTokens.markers["<tools>"]).toBeUndefined(); // not one token in this vocabulary
    expect(engine.info.specialTokens.endOfGeneration).toContain(101);
    expect(engine.info.specialTokens.eot).toEqual({ text: "<|im_end|>", id: 101 });
    for (const s of fake.seen.filter((x) => x.path === "/tokenize" || x.path === "/detokenize")) expect(s.body["model"]).toBe(SERVED);
    // Every tokenization of prompt text is without BOS; the one pair with and without it learns the BOS text.
    const withBos = fake.seen.filter((x) => x.path === "/tokenize" && x.body["add_special_tokens"] !== false);
    expect(withBos.map((x) => x.body["prompt"])).toEqual(["x"]);
    expect(engine.info.specialTokens.bos?.text).toBe("<|begin_of_text|>");
    // tokenize / detokenize through the engine, as the fixture documents them
    expect(await engine.tokenize(entry("tokenize").request?.["prompt"] as string, { special: true })).toEqual(PROMPT);
    expect(await engine.tokenize(joinPrompt(special("<|im_start|>"), plain("user <tool_call>")))).not.toContain(102);
    expect(await engine.detokenize(entry("detokenize").request?.["tokens"] as number[], { special: true })).toBe("Hello, world!<|im_end|>");
    expect(await engine.detokenize(entry("detokenize").request?.["tokens"] as number[])).toBe("Hello, world!");
  });

  // vLLM's tokenizer always matches added tokens: plain text reaches it cut at every marker text.
  it("tokenize(text, { special: false }) never yields a marker token", async () => {
    const { engine } = await setup();
    expect(await engine.tokenize("say <tool_call>", { special: false })).not.toContain(102);
  });

  it("sends every documented /v1/completions field with the documented values", async () => {
    const { fake, engine } = await setup();
    await run(engine, { prompt: PROMPT, maxTokens: 64, sampling: { temperature: 0.7, topP: 0.9, topK: 40, minP: 0.05, repetitionPenalty: 1.05, seed: 1234 }, topLogprobs: 2 });
    const body = lastBody(fake);
    const { stop_token_ids: documentedStops, ...documented } = entry("completions_stream").request as Obj;
    for (const [key, value] of Object.entries(documented)) expect(body[key], key).toEqual(value);
    expect(body["stop_token_ids"]).toEqual(expect.arrayContaining(documentedStops as number[]));
    expect(body).toMatchObject({ frequency_penalty: 0, presence_penalty: 0 });
    // vLLM ignores unknown fields silently (extra="allow"): every field sent must be one it reads.
    const known = new Set([...FIXTURE.entries.filter((e) => e.path === "/v1/completions").flatMap((e) => Object.keys(e.request ?? {})), "frequency_penalty", "presence_penalty", "logit_bias"]);
    expect(Object.keys(body).filter((k) => !known.has(k))).toEqual([]);
    // greedy, topK 0 (= off in Talaria) → -1 (off on every vLLM version), no seed
    await run(engine, { prompt: PROMPT, maxTokens: 5, sampling: { temperature: 0, topK: 0 } });
    const greedy = lastBody(fake);
    expect(greedy).toMatchObject({ model: SERVED, prompt: PROMPT, max_tokens: 5, stream: true, stream_options: { include_usage: true }, temperature: 0, top_k: -1, top_p: 1, min_p: 0, repetition_penalty: 1, logprobs: 0 });
    expect([greedy["seed"], greedy["stop_token_ids"]]).toEqual([undefined, expect.arrayContaining([101])]);
    await run(engine, { prompt: PROMPT, sampling: { doSample: false, topK: 7 } });
    expect(lastBody(fake)).toMatchObject({ temperature: 0, top_k: 7, max_tokens: MAX_MODEL_LEN - PROMPT.length });
  });

  describe("streaming", () => {
    it.each([
      ["with token_ids (v0.10.2+)", STREAM],
      ["without token_ids (ids from logprobs.tokens, older servers)", sse(withoutTokenIds(events(STREAM)))],
      ["several tokens per chunk, the stop token with the last text (--stream-interval)", sse((([a, b, c, d, e, u]) => [merged(a as Chunk, b as Chunk), c, merged(d as Chunk, e as Chunk), u] as Chunk[])(events(STREAM)))],
    ])("parses the fixture's stream %s: text, ids, logprobs, stop token, usage", async (_name, chunks) => {
      const { fake, engine } = await setup();
      fake.plans.push({ chunks });
      const r = await run(engine, { prompt: PROMPT, maxTokens: 64, topLogprobs: 2 });
      expect(r.text).toBe("Hello, world!");
      expect(r.tokens.map((t) => t.id)).toEqual([300, 301, 302, 303]); // the stop token 101 is not output
      expect(r.tokens.map((t) => t.logprob)).toEqual([-0.0513, -0.2107, -1.6094, -0.0101]);
      expect(r.tokens[2]?.top?.map((t) => [t.token, t.logprob])).toEqual([[400, -0.5108], [303, -1.204]]);
      expect(r.tokens[0]?.top?.map((t) => t.token)).toEqual([300, 401]);
      expect(r.finish).toEqual({ type: "finish", reason: "stop", stopText: "<|im_end|>", usage: { promptTokens: 9, completionTokens: 5, cachedPromptTokens: 0 } });
    });

    it("reads cached prompt tokens from usage.prompt_tokens_details and finish_reason length", async () => {
      const { fake, engine } = await setup();
      const [a, b, , , , usage] = events(STREAM) as Chunk[];
      const cut = { ...b, choices: [{ ...choiceOf(b as Chunk), finish_reason: "length" }] } as Chunk;
      fake.plans.push({ chunks: sse([a as Chunk, cut, { ...usage, usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11, prompt_tokens_details: { cached_tokens: 6 } } } as Chunk]) });
      const r = await run(engine, { prompt: PROMPT, maxTokens: 2 });
      expect(r.text).toBe("Hello,");
      expect(r.finish).toEqual({ type: "finish", reason: "length", usage: { promptTokens: 9, completionTokens: 2, cachedPromptTokens: 6 } });
    });

    it("ends on a stop string engine-side and closes the connection", async () => {
      const { fake, engine } = await setup();
      fake.plans.push({ chunks: STREAM.slice(0, 3), then: "hold" });
      const r = await run(engine, { prompt: PROMPT, stop: [", w"] });
      expect(r.text).toBe("Hello");
      expect(r.finish).toMatchObject({ reason: "stop-string", stopText: ", w" });
      expect(lastBody(fake)["stop"]).toBeUndefined();
      await until(() => fake.completions()[0]?.closedEarly === true);
    });

    it("an abort mid-stream closes the connection to vLLM", async () => {
      const { fake, engine } = await setup();
      fake.plans.push({ chunks: STREAM.slice(0, 1), then: "hold" });
      const controller = new AbortController();
      const r = await run(engine, { prompt: PROMPT, signal: controller.signal }, () => controller.abort());
      expect(r.text).toBe("Hello");
      expect(r.finish.reason).toBe("abort");
      await until(() => fake.completions()[0]?.closedEarly === true);
    });
  });

  describe("structured_outputs", () => {
    const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false };
    it("sends an eager grammar as {grammar: GBNF} with '.' rewritten as [^] (xgrammar)", async () => {
      const { fake, engine } = await setup();
      const documented = entry("completions_structured_grammar").request?.["structured_outputs"] as { grammar: string };
      await run(engine, { prompt: PROMPT, maxTokens: 8, grammar: gbnfConstraint(documented.grammar) });
      expect(lastBody(fake)["structured_outputs"]).toEqual(documented);
      await run(engine, { prompt: PROMPT, maxTokens: 8, grammar: gbnfConstraint('root ::= "a" . "b" [x]?\n') });
      const sent = (lastBody(fake)["structured_outputs"] as { grammar: string }).grammar;
      expect(sent).toContain("[^]");
      expect(sent.replace(/"(?:[^"\\]|\\.)*"|\[(?:[^\]\\]|\\.)*\]/g, "")).not.toContain(".");
      await run(engine, { prompt: PROMPT, maxTokens: 8, grammar: toolCallsConstraint(HERMES_DIALECT.toolCall, [{ name: "get_weather", parameters: schema }]) });
      expect(Object.keys(lastBody(fake)["structured_outputs"] as Obj)).toEqual(["grammar"]); // tool_choice required: eager
    });

    it("sends lazy tool calls as a structural_tag JSON string in the documented shape", async () => {
      const { fake, engine } = await setup();
      await run(engine, { prompt: PROMPT, maxTokens: 8, grammar: toolCallsConstraint(HERMES_DIALECT.toolCall, [{ name: "get_weather", parameters: schema }], { lazy: true }) });
      const so = lastBody(fake)["structured_outputs"] as { structural_tag: unknown };
      expect(Object.keys(so)).toEqual(["structural_tag"]);
      expect(typeof so.structural_tag).toBe("string");
      const documented = entry("completions_structural_tag").request?.["structured_outputs"] as { structural_tag: string };
      expect(JSON.parse(so.structural_tag as string)).toEqual(JSON.parse(documented.structural_tag));
      const tag = { type: "structural_tag", structures: [{ begin: '<tool_call>\n{"name": "get_weather", "arguments": ', schema, end: "}\n</tool_call>" }], triggers: ["<tool_call>"] };
      expect(JSON.parse(so.structural_tag as string)).toEqual(tag);
    });

    it("refuses a lazy raw GBNF grammar with EngineError unsupported, sending nothing", async () => {
      const { fake, engine } = await setup();
      const e = await failure(run(engine, { prompt: PROMPT, grammar: gbnfConstraint('root ::= "x"', { lazyTriggers: ["<x>"] }) }));
      expect(e.code).toBe("unsupported");
      expect(fake.completions()).toHaveLength(0);
    });
  });

  it("serves loglikelihood from prompt_logprobs as the fixture documents them", async () => {
    const { fake, engine } = await setup();
    const [a, b] = await engine.loglikelihood([{ context: PROMPT.slice(0, 3), continuation: PROMPT.slice(3) }, { context: PROMPT.slice(0, 2), continuation: PROMPT.slice(2, 3) }]);
    const expected = [-5.3011, -0.7012, -0.0004, -0.0001, -0.0109, -0.0001];
    expect(a?.tokenLogprobs).toEqual(expected);
    expect(a?.loglik).toBeCloseTo(expected.reduce((x, y) => x + y, 0), 10);
    expect(a?.isGreedy).toBe(false); // "Hello" had rank 12
    expect(b).toEqual({ loglik: -0.0302, isGreedy: true, tokenLogprobs: [-0.0302] });
    const bodies = fake.completions().map((s) => s.body);
    expect(bodies.map((x) => [x["model"], x["max_tokens"], x["prompt_logprobs"], "stream" in x])).toEqual([[SERVED, 1, 1, false], [SERVED, 1, 1, false]]);
    expect(bodies.map((x) => x["prompt"])).toEqual(expect.arrayContaining([PROMPT, PROMPT.slice(0, 3)]));
  });

  describe("errors", () => {
    const cases = entry("errors").cases ?? [];
    const contextCases = cases.filter((c) => /context length|max_model_len/.test(JSON.stringify(c.response.body)));
    const refusals = cases.filter((c) => !contextCases.includes(c) && c.response.status >= 400 && c.response.status < 500 && c.response.status !== 401);

    it.each(refusals.map((c) => [c.name, c] as const))("documented refusal → invalid_request: %s", async (_name, c) => {
      const { fake, engine } = await setup();
      fake.plans.push({ status: c.response.status, body: c.response.body });
      const e = await failure(run(engine, { prompt: PROMPT, maxTokens: 8 }));
      expect(e.code).toBe("invalid_request");
      expect(fake.completions()).toHaveLength(1);
    });

    it.each(contextCases.map((c) => [c.name, c] as const))("documented context-length 400 → context_length_exceeded: %s", async (_name, c) => {
      const { fake, engine } = await setup();
      fake.plans.push({ status: 400, body: c.response.body });
      expect((await failure(run(engine, { prompt: PROMPT, maxTokens: 8 }))).code).toBe("context_length_exceeded");
    });

    it("the fake's own refusals: an out-of-vocabulary prompt id; the older context-length wording", async () => {
      const { fake, engine } = await setup();
      const e = await failure(run(engine, { prompt: [100, 999_999_999], maxTokens: 8 }));
      expect([e.code, e.message]).toEqual(["invalid_request", expect.stringContaining("out of vocabulary")]);
      const older = (cases.find((c) => c.name.startsWith("prompt + max_tokens"))?.notes ?? []).find((n) => n.startsWith("Before PR")) ?? "";
      fake.plans.push({ status: 400, body: vllmError(older.slice(older.indexOf("'") + 1, older.lastIndexOf("'")), "input_tokens") });
      expect((await failure(run(engine, { prompt: PROMPT, maxTokens: 8 }))).code).toBe("context_length_exceeded");
    });

    it("503 before any token → backend_unavailable after the configured retries; a later success is served", async () => {
      const { fake, engine } = await setup({ retries: 1 });
      const unavailable = { status: 503, body: vllmError("engine dead", null, 503, "ServiceUnavailableError") };
      fake.plans.push(unavailable, unavailable);
      expect((await failure(run(engine, { prompt: PROMPT }))).code).toBe("backend_unavailable");
      expect(fake.completions()).toHaveLength(2);
      fake.plans.push(unavailable);
      expect((await run(engine, { prompt: PROMPT })).text).toBe("Hello, world!");
      expect(fake.completions()).toHaveLength(4);
    });

    it("connection refused before any token → backend_unavailable", async () => {
      const { fake, engine } = await setup({ retries: 1 });
      await fake.close();
      expect((await failure(run(engine, { prompt: PROMPT }))).code).toBe("backend_unavailable");
    });

    it("a stream cut after tokens → backend_failed and no retry", async () => {
      const { fake, engine } = await setup({ retries: 2 });
      fake.plans.push({ chunks: STREAM.slice(0, 2), then: "cut" });
      let seenText = "";
      const e = await failure(run(engine, { prompt: PROMPT }, (t) => (seenText += t)));
      expect(e.code).toBe("backend_failed");
      expect(seenText).toBe("Hello,");
      expect(fake.completions()).toHaveLength(1);
    });

    it("an error event after the stream began (HTTP 200, data: {error}) → backend_failed and no retry", async () => {
      const { fake, engine } = await setup({ retries: 2 });
      fake.plans.push({ chunks: [STREAM[0] as string, `data: ${JSON.stringify(vllmError("engine core died", null, 500, "InternalServerError"))}\n\n`, "data: [DONE]\n\n"] });
      const e = await failure(run(engine, { prompt: PROMPT }));
      expect([e.code, e.message]).toEqual(["backend_failed", expect.stringContaining("engine core died")]);
      expect(fake.completions()).toHaveLength(1);
    });
  });

  it("reads load from /metrics and health from /health", async () => {
    const { fake, engine } = await setup();
    expect(await engine.load()).toEqual({ running: 3, waiting: 1 });
    expect(await engine.healthy()).toBe(true);
  });
});
