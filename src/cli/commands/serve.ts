/**
 * `talaria serve`: the OpenAI-compatible HTTP server. The server listens at once (`/health` answers 503
 * while the model loads), then loads the model and answers requests. When the load fails, the command
 * prints one line with the commands to make and serve a test model, and exits 1.
 */
import { InvalidArgumentError, type Command } from "commander";
import { createHermesChat, describeHermesChatSetup, type HermesChatOptions, type HermesChatSetup } from "../../chat/hermes-chat.js";
import { getProfile, isProfileId, PROFILE_IDS, warnProfileOnce } from "../../hermes/profiles.js";
import type { PromptStyle } from "../../hermes/prompt.js";
import { startServer, type RunningServer } from "../../server/server.js";
import { DEFAULT_MAX_TOKENS, type ServerBackend } from "../../server/app.js";
import { DEFAULT_GRAMMAR_BUDGET } from "../../grammar/index.js";
import type { Engine } from "../../engine/types.js";
import { addBackendOptions, backendFlagsOf, loadBackendEngine, loadModelEngine, type BackendFlags } from "../engine-loader.js";
import { readServeConfig, type ServeConfigModel } from "../serve-config.js";
import { parseNumber, parsePositiveInt, parseTemplateChoice, TEMPLATE_OPTION_HELP } from "../option-parsers.js";
import { McpToolset, readMcpConfig, type McpServerConfig } from "../../mcp/index.js";

/** Hermes 3 Llama 3.2 3B, Q4_K_M, from NousResearch's GGUF repository (resolved by quantization tag). */
export const DEFAULT_SERVE_MODEL = "hf:NousResearch/Hermes-3-Llama-3.2-3B-GGUF:Q4_K_M";

export interface ServeFlags extends BackendFlags {
  /** Default {@link DEFAULT_SERVE_MODEL} (unless `backend` or `config` is given). */
  model?: string;
  /** A JSON file of models → embedded GGUFs or backend pools (docs/scale-out.md). Default none. */
  config?: string;
  /** Default 127.0.0.1. */
  host: string;
  /** Default 8080. */
  port: number;
  /** Sequences in the one context = requests generating at once. Default 1; with `backend`: the backends' slots. */
  parallel?: number;
  contextSize?: number;
  threads?: number;
  gpu?: string;
  modelsDir?: string;
  /** Default: `TALARIA_API_KEY`, else no auth. */
  apiKey?: string;
  /** Default none (CORS off). */
  corsOrigin?: string[];
  /** Host header names accepted (`*` = any). Default: loopback names on a loopback host, else any. */
  allowedHosts?: string[];
  /** Default 64. */
  maxQueue: number;
  /** Seconds. Default 600. */
  timeout: number;
  /** `max_tokens` of chat requests that give none; 0 = until the context is full. Default 2048. */
  maxTokensDefault?: number;
  /** Largest `max_tokens` a request may ask for (→ 400). Default: none. */
  maxTokensLimit?: number;
  /** Largest grammar built for one request, in KiB (→ 400 naming the schema). Default 512. */
  grammarMaxKb?: number;
  /** `auto` (from the GGUF metadata) or a profile id. Default auto. */
  profile: string;
  /** Default card. */
  style: string;
  /** The tool_use template of the template style. Default `model`. */
  template?: "model" | "official";
  /** Name in `/v1/models`. Default: the model file's base name. */
  modelId?: string;
  /** Stored Responses API responses (0 = none). Default 1,000. */
  responsesStore?: number;
  /** Seconds a stored response is kept. Default 3,600. */
  responsesTtl?: number;
  /** `mcpServers` JSON files: MCP servers whose tools requests may use (docs/mcp.md). Default none. */
  mcp?: string[];
  /** Seconds an MCP tool call may take where the config sets no `timeout`. Default 60. */
  mcpTimeout?: number;
  /** Seconds a chat-API MCP run waits for a live approval. Default 300. */
  mcpApprovalTimeout?: number;
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("expected a port number (0-65535)");
  return n;
}

function parseNonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected an integer >= 0");
  return n;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--allowed-hosts a.example,b.example` (repeatable; the lists add up). */
export function parseHostList(value: string, previous: string[] = []): string[] {
  const names = value.split(",").map((n) => n.trim()).filter((n) => n !== "");
  if (names.length === 0) throw new InvalidArgumentError("expected comma-separated host names (or *)");
  return [...previous, ...names];
}

/** The model id shown to clients: `--model-id`, else the file name without `.gguf`. */
export function defaultModelId(source: string): string {
  const last = source.split(/[/\\]/).pop() ?? source;
  return last.replace(/\.gguf$/i, "") || source;
}

/** Choose the Hermes profile: explicit, or detected from the model's metadata (warned about once when it is not a Hermes model). */
/** The chat service for a loaded engine, as `talaria serve` configures it (through the composition root). */
export function createServeBackend(
  engine: Engine,
  options: HermesChatOptions = {},
  warn?: (message: string) => void,
): ServerBackend & { readonly setup: HermesChatSetup } {
  const { service, setup } = createHermesChat(engine, options);
  // MCP runs: the agent loop validates arguments and answers unknown tools itself (same format).
  const agent = createHermesChat(engine, { ...options, validate: false, undeclaredToolCalls: "call" });
  if (warn !== undefined) warnProfileOnce(getProfile(setup.profile), warn);
  return { engine, chat: service, agentChat: agent.service, setup };
}

export interface RunServeResult {
  readonly server: RunningServer;
  /** Resolves with the engine once loaded; rejects when loading failed. */
  readonly engine: Promise<Engine>;
  /** Close the server and dispose the engine. */
  stop(): Promise<void>;
}

/** Start listening, then load the model (exported for tests; the command wraps it with signal handling). */
export async function runServe(flags: ServeFlags, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<RunServeResult> {
  if (flags.profile !== "auto" && !isProfileId(flags.profile)) {
    throw new InvalidArgumentError(`--profile must be auto or one of ${PROFILE_IDS.join(", ")} (got ${flags.profile})`);
  }
  if (flags.style !== "card" && flags.style !== "template") throw new InvalidArgumentError(`--style must be card or template (got ${flags.style})`);
  const style: PromptStyle = flags.style;
  const apiKey = flags.apiKey ?? process.env.TALARIA_API_KEY;
  const chatOptions: HermesChatOptions = {
    profile: flags.profile === "auto" ? "auto" : getProfile(flags.profile).id,
    style,
    ...(flags.template === undefined ? {} : { template: flags.template }),
    ...(flags.grammarMaxKb === undefined ? {} : { constrained: { budget: { maxGrammarBytes: flags.grammarMaxKb * 1024 } } }),
  };
  const remote = (flags.backend ?? []).length > 0;
  if (remote && flags.config !== undefined) throw new InvalidArgumentError("give --backend or --config, not both");
  if (remote && flags.model !== undefined) throw new InvalidArgumentError("give --model (an embedded model) or --backend (servers), not both");
  if (remote && flags.engine !== undefined) throw new InvalidArgumentError("--engine picks the engine of --model; with --backend, use --backend-kind");
  const id = flags.modelId === undefined ? {} : { id: flags.modelId };
  const config = flags.config === undefined ? undefined : await readServeConfig(flags.config, flags.mcpTimeout);
  const mcpConfigs: McpServerConfig[] = [...(config?.mcp ?? [])];
  for (const file of flags.mcp ?? []) mcpConfigs.push(...(await readMcpConfig(file, flags.mcpTimeout === undefined ? {} : { defaultTimeoutS: flags.mcpTimeout })));
  const entries: readonly ServeConfigModel[] =
    config !== undefined
      ? config.models
      : remote
        ? [{ ...id, backend: backendFlagsOf(flags) }]
        : [{ ...id, model: flags.model ?? DEFAULT_SERVE_MODEL, ...(flags.parallel === undefined ? {} : { parallel: flags.parallel }), ...(flags.contextSize === undefined ? {} : { contextSize: flags.contextSize }) }];
  // Remote pools connect before the server listens (their slots size the admission queue); embedded models load after.
  const loaded = await Promise.all(
    entries.map(async (entry) => {
      if (entry.backend !== undefined) {
        const engine = await loadBackendEngine({ ...entry.backend, log });
        const id = entry.id ?? defaultModelId(String(engine.info.metadata["talaria.backend.model"] ?? engine.info.name ?? "model"));
        return { id, parallel: entry.parallel ?? engine.stats().sequencesTotal, engine: Promise.resolve(engine as Engine), label: (entry.backend.backend ?? []).join(", ") };
      }
      const model = entry.model as string;
      const parallel = entry.parallel ?? 1;
      const engineKind = entry.engine ?? flags.engine;
      const engine = loadModelEngine({
        model,
        sequences: parallel,
        log,
        ...(engineKind !== undefined ? { engine: engineKind } : {}),
        ...(flags.llamaServerBin !== undefined ? { llamaServerBin: flags.llamaServerBin } : {}),
        ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
        ...(entry.contextSize !== undefined ? { contextSize: entry.contextSize } : {}),
        ...(flags.gpu !== undefined ? { gpu: flags.gpu } : {}),
        ...(flags.modelsDir !== undefined ? { modelsDir: flags.modelsDir } : {}),
      }) as Promise<Engine>;
      return { id: entry.id ?? defaultModelId(model), parallel, engine, label: engineKind === "llama-server" ? `${model} on a managed llama-server` : model };
    }),
  );
  const backends = loaded.map((m) =>
    m.engine.then((engine) => {
      const backend = createServeBackend(engine, chatOptions, log);
      log(`talaria serve: model ready: ${m.id} (${m.label}; ${describeHermesChatSetup(backend.setup)}; ${m.parallel} sequence(s) of ${engine.info.contextSize} tokens)`);
      return backend;
    }),
  );
  for (const b of backends) b.catch(() => undefined); // reported by the caller through `engine`
  const main = loaded[0] as (typeof loaded)[number];
  const backend = backends[0] as Promise<ServerBackend>;
  // MCP servers start before listening: one that cannot start is a start-up error naming it.
  let mcp: McpToolset | undefined;
  if (mcpConfigs.length > 0) {
    try {
      mcp = await McpToolset.start(mcpConfigs, { log });
    } catch (error) {
      await Promise.all(loaded.map(async (m) => (await m.engine.catch(() => undefined))?.dispose()));
      throw error;
    }
    for (const s of mcp.servers()) log(`talaria serve: MCP server ${s.label}: ${s.tools.length} tool(s) (${s.tools.map((t) => t.name).join(", ")})`);
  }
  const server = await startServer({
    ...(mcp === undefined ? {} : { mcp }),
    ...(flags.mcpApprovalTimeout === undefined ? {} : { mcpApprovalTimeoutMs: flags.mcpApprovalTimeout * 1000 }),
    backend,
    modelId: main.id,
    ...(loaded.length > 1 ? { models: loaded.slice(1).map((m, i) => ({ id: m.id, backend: backends[i + 1] as Promise<ServerBackend>, parallel: m.parallel })) } : {}),
    host: flags.host,
    port: flags.port,
    parallel: main.parallel,
    maxQueue: flags.maxQueue,
    timeoutMs: flags.timeout * 1000,
    ...(flags.maxTokensDefault !== undefined ? { maxTokensDefault: flags.maxTokensDefault === 0 ? Infinity : flags.maxTokensDefault } : {}),
    ...(flags.maxTokensLimit !== undefined ? { maxTokensLimit: flags.maxTokensLimit } : {}),
    ...(flags.responsesStore !== undefined || flags.responsesTtl !== undefined
      ? { responsesStore: { ...(flags.responsesStore === undefined ? {} : { maxEntries: flags.responsesStore }), ...(flags.responsesTtl === undefined ? {} : { ttlMs: flags.responsesTtl * 1000 }) } }
      : {}),
    ...(apiKey !== undefined && apiKey !== "" ? { apiKey } : {}),
    ...(flags.corsOrigin !== undefined && flags.corsOrigin.length > 0 ? { corsOrigins: flags.corsOrigin } : {}),
    ...(flags.allowedHosts !== undefined && flags.allowedHosts.length > 0 ? { allowedHosts: flags.allowedHosts } : {}),
    log,
  });
  const loading = loaded.length === 1 ? "loading the model" : `loading ${loaded.length} models`;
  log(
    `talaria serve: listening on ${server.url} (OpenAI base URL ${server.url}/v1); ${loaded.map((m) => `${m.id} ← ${m.label}`).join("; ")}; ` +
      `${loading} (/health answers 503 until it is ready)`,
  );
  let stopped = false;
  const ready = Promise.all(backends).then((b) => (b[0] as ServerBackend).engine);
  ready.catch(() => undefined); // the caller reads it (or stops first)
  return {
    server,
    engine: ready,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.close();
      await mcp?.close();
      await Promise.all(loaded.map(async (m) => (await m.engine.catch(() => undefined))?.dispose()));
    },
  };
}

/** What to run to serve without a download (printed with every failed model load). */
export const SERVE_TEST_MODEL_HINT =
  "To serve without a download, make a test model and serve it: `talaria make-test-model --kind scripted --out model.gguf` then `talaria serve --model model.gguf` (or pass --model /path/to/model.gguf).";

/**
 * The one line `talaria serve` prints when a model failed to load: what failed, why, and the exact
 * commands to make a test model and serve it (in place of the engine's shorter hint). `model`: the
 * `--model` source when one model is served (named in the line), else the error's text stands alone.
 */
export function describeServeLoadFailure(error: unknown, model?: string): string {
  const first = (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
  let reason = first.replace(/\s*Pass --model \S+, or create a test model with `talaria make-test-model`\.?\s*$/, "").replace(/\.$/, "");
  if (model !== undefined) {
    const download = `could not download ${model}: `;
    reason = `could not load ${model}: ${reason.startsWith(download) ? reason.slice(download.length) : reason}`;
  }
  return `talaria serve: ${reason}. ${SERVE_TEST_MODEL_HINT}`;
}

export function register(program: Command): void {
  const command = program
    .command("serve")
    .description("OpenAI-compatible server: /v1/chat/completions (tools, JSON mode, streaming), /v1/completions, /v1/models, /metrics")
    .option("--model <path|uri>", `GGUF file, hf:<user>/<repo>/<file>.gguf, hf:<user>/<repo>:<quant>, or https URL (default ${DEFAULT_SERVE_MODEL})`)
    .option("--config <file>", "JSON file of served models: embedded GGUFs and backend pools (docs/scale-out.md)")
    .option("--model-id <id>", "model name reported by /v1/models (default: the file name)")
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--port <n>", "port (0 = any free port)", parsePort, 8080)
    .option("--parallel <n>", "sequences generating at once (continuous batching in one context; --engine llama-server: its slots; default 1, with --backend the backends' slots)", parsePositiveInt)
    .option("--context-size <n>", "context size per sequence (default: min(model training context, 4096))", parsePositiveInt)
    .option("--threads <n>", "evaluation threads (default: available CPUs, at most 8)", parsePositiveInt)
    .option("--gpu <backend>", "auto, cuda, vulkan, metal or off (default auto; --engine llama-server: off → -ngl 0, else -ngl 999, for a GPU build of llama-server)")
    .option("--models-dir <dir>", "download cache for remote models (default ~/.cache/talaria/models)")
    .option("--api-key <key>", "require 'Authorization: Bearer <key>' on every route but /health (default: $TALARIA_API_KEY)")
    .option("--cors-origin <origin>", "allow browser requests from this origin (repeatable; * for any). Default: CORS off", collect)
    .option(
      "--allowed-hosts <list>",
      "comma-separated Host header names to accept (* for any; IP addresses and localhost always). Default: loopback names when --host is loopback, else any",
      parseHostList,
    )
    .option("--max-queue <n>", "requests that may wait for a sequence; beyond that 429", parseNonNegativeInt, 64)
    .option("--timeout <seconds>", "per-request deadline, queueing included (504)", parsePositiveInt, 600)
    .option("--max-tokens-default <n>", "max_tokens of chat requests that give none (0 = until the context is full)", parseNonNegativeInt, DEFAULT_MAX_TOKENS)
    .option("--grammar-max-kb <n>", `largest grammar built for one request's tools or JSON schema, in KiB; larger → 400 (default ${DEFAULT_GRAMMAR_BUDGET.maxGrammarBytes / 1024})`, parsePositiveInt)
    .option("--max-tokens-limit <n>", "largest max_tokens a request may ask for; above it 400 (default: no limit but the context)", parsePositiveInt)
    .option("--responses-store <n>", "Responses API: responses kept for previous_response_id and GET /v1/responses/{id}, least recently used evicted (0 = store none; default 1000)", parseNonNegativeInt)
    .option("--responses-ttl <seconds>", "Responses API: how long a stored response is kept (default 3600)", parsePositiveInt)
    .option("--mcp <file>", "MCP servers (an mcpServers JSON file, repeatable) whose tools requests may use: the server runs the calls (docs/mcp.md)", collect)
    .option("--mcp-timeout <seconds>", "seconds an MCP tool call may take where the config sets no timeout (default 60)", parseNumber)
    .option("--mcp-approval-timeout <seconds>", "seconds a chat-API MCP run waits for the user's approval before denying the call (default 300)", parsePositiveInt)
    .option("--profile <id>", `Hermes profile: auto or ${PROFILE_IDS.join(", ")}`, "auto")
    .option("--style <style>", "function-calling prompt style: card (model card text) or template (the tool_use chat template)", "card")
    .option("--template <which>", TEMPLATE_OPTION_HELP, parseTemplateChoice);
  addBackendOptions(command)
    .action(async (flags: ServeFlags) => {
      const running = await runServe(flags);
      const shutdown = (): void => {
        process.stderr.write("talaria serve: shutting down\n");
        void running.stop().finally(() => process.exit(0));
      };
      process.once("SIGINT", shutdown);
      process.once("SIGTERM", shutdown);
      try {
        await running.engine;
      } catch (error) {
        // One line, then exit 1. Until the server closes (right after), /health answers 503 model_unavailable.
        // (--backend pools connect before listening: their failures reject runServe itself.)
        process.stderr.write(`${describeServeLoadFailure(error, flags.config === undefined ? (flags.model ?? DEFAULT_SERVE_MODEL) : undefined)}\n`);
        await running.stop();
        process.off("SIGINT", shutdown);
        process.off("SIGTERM", shutdown);
        process.exitCode = 1;
      }
    });
}

