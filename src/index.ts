/**
 * Talaria's public API. Layers: typed prompt text → engine port (+ adapters) → Hermes formats,
 * grammar, chat service, agent loop, eval, server.
 */
export * from "./prompt/text.js";
export * from "./engine/types.js";
export {
  createLlamaCppEngine,
  DEFAULT_CONTEXT_SIZE,
  LlamaCppEngine,
  type LlamaCppEngineOptions,
  defaultThreads,
  type GpuOption,
  defaultModelsDirectory,
  isRemoteModelSource,
  resolveModelSource,
  type DownloadProgress,
  type ResolveModelSourceOptions,
} from "./engine/llama-cpp/index.js";
export * from "./engine/mock/mock-engine.js";
export * from "./hermes/index.js";
export * from "./grammar/index.js";
export { ensureTestModel, writeTestModel } from "./testmodels/index.js";
