/**
 * `talaria serve --config FILE`: the models a server answers with, each an embedded GGUF or a pool
 * of backend servers (llama-server / vLLM replicas). JSON, validated with zod; see docs/scale-out.md.
 *
 * An optional `"mcp"` section holds MCP servers in the `mcpServers` shape (docs/mcp.md).
 *
 * ```json
 * {
 *   "models": [
 *     { "id": "hermes-2-pro-70b", "backends": ["http://gpu-a:8000", "http://gpu-b:8000"], "kind": "vllm",
 *       "backendModel": "NousResearch/Hermes-2-Pro-Llama-3-70B", "apiKeyEnv": "VLLM_API_KEY" },
 *     { "id": "hermes-3-3b", "model": "./Hermes-3-Llama-3.2-3B.Q4_K_M.gguf", "parallel": 4 }
 *   ]
 * }
 * ```
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { InvalidArgumentError } from "commander";
import { z } from "zod";
import type { BackendFlags } from "./engine-loader.js";
import { parseMcpConfig, type McpServerConfig } from "../mcp/index.js";

const url = z.string().refine((u) => {
  try {
    return ["http:", "https:"].includes(new URL(u).protocol);
  } catch {
    return false;
  }
}, "must be an http:// or https:// URL");

const entrySchema = z
  .object({
    /** The id clients name in `model`. Default: the file name or the backend's model. */
    id: z.string().min(1).optional(),
    /** An embedded GGUF (path, hf: URI or URL)… */
    model: z.string().min(1).optional(),
    /** …or backend servers: replicas of one model. */
    backends: z.array(url).min(1).optional(),
    kind: z.enum(["auto", "llama-server", "vllm"]).optional(),
    /** The name of an environment variable holding the backends' API key (never the key itself in a file). */
    apiKeyEnv: z.string().min(1).optional(),
    backendModel: z.string().min(1).optional(),
    /** Seconds a backend may stay silent. Default 300. */
    timeout: z.number().int().positive().optional(),
    /** A local GGUF of the backend's model (names, templates). */
    modelInfo: z.string().min(1).optional(),
    /** Requests generating at once. Default 1 (embedded) or the backends' slots. */
    parallel: z.number().int().positive().optional(),
    /** Embedded: tokens per sequence. */
    contextSize: z.number().int().min(2).optional(),
    /** `model` entries: the engine that runs it (`--engine`). Default: `--engine`, else embedded. */
    engine: z.enum(["embedded", "llama-server"]).optional(),
  })
  .strict()
  .refine((e) => (e.model === undefined) !== (e.backends === undefined), "each model needs exactly one of 'model' (a GGUF) or 'backends' (server URLs)")
  .refine((e) => e.engine === undefined || e.model !== undefined, "'engine' applies to 'model' entries (backends: use 'kind')");

const configSchema = z.object({ models: z.array(entrySchema).min(1), mcp: z.unknown().optional() }).strict();

/** One served model, as `runServe` takes it. */
export interface ServeConfigModel {
  readonly id?: string;
  readonly model?: string;
  readonly backend?: BackendFlags;
  readonly parallel?: number;
  readonly contextSize?: number;
  /** `model` entries: `embedded` or `llama-server` (a supervised child). Default: the command's `--engine`. */
  readonly engine?: "embedded" | "llama-server";
}

/** Read and validate a config file; relative paths in it are relative to the file. */
export async function readServeConfig(file: string, mcpTimeoutS?: number): Promise<{ readonly models: readonly ServeConfigModel[]; readonly mcp: readonly McpServerConfig[] }> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new InvalidArgumentError(`--config ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidArgumentError(`--config ${file}: ${issue === undefined ? "invalid" : `${issue.path.join(".") || "(top)"}: ${issue.message}`}`);
  }
  const base = path.dirname(path.resolve(file));
  const local = (p: string): string => (/^(hf:|https?:)/.test(p) || path.isAbsolute(p) ? p : path.join(base, p));
  const ids = new Set<string>();
  const models = parsed.data.models.map((e, i): ServeConfigModel => {
    if (e.id !== undefined) {
      if (ids.has(e.id)) throw new InvalidArgumentError(`--config ${file}: models.${i}.id ${JSON.stringify(e.id)} is used twice`);
      ids.add(e.id);
    }
    const apiKey = e.apiKeyEnv === undefined ? undefined : process.env[e.apiKeyEnv];
    if (e.apiKeyEnv !== undefined && (apiKey === undefined || apiKey === "")) throw new InvalidArgumentError(`--config ${file}: models.${i}.apiKeyEnv names ${e.apiKeyEnv}, which is not set`);
    return {
      ...(e.id === undefined ? {} : { id: e.id }),
      ...(e.model === undefined ? {} : { model: local(e.model) }),
      ...(e.backends === undefined
        ? {}
        : {
            backend: {
              backend: e.backends,
              ...(e.kind === undefined ? {} : { backendKind: e.kind }),
              ...(apiKey === undefined ? {} : { backendApiKey: apiKey }),
              ...(e.backendModel === undefined ? {} : { backendModel: e.backendModel }),
              ...(e.timeout === undefined ? {} : { backendTimeout: e.timeout }),
              ...(e.modelInfo === undefined ? {} : { modelInfo: local(e.modelInfo) }),
            },
          }),
      ...(e.parallel === undefined ? {} : { parallel: e.parallel }),
      ...(e.contextSize === undefined ? {} : { contextSize: e.contextSize }),
      ...(e.engine === undefined ? {} : { engine: e.engine }),
    };
  });
  // `mcp`: an mcpServers document (or its bare map), as `--mcp FILE` takes (docs/mcp.md).
  const mcp =
    parsed.data.mcp === undefined
      ? []
      : parseMcpConfig(parsed.data.mcp, { source: `--config ${file}: mcp`, baseDir: base, ...(mcpTimeoutS === undefined ? {} : { defaultTimeoutS: mcpTimeoutS }) });
  return { models, mcp };
}
