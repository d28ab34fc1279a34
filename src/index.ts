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
export { ChatService, collectChat, type ChatServiceOptions, type PreparedChat, type ChatRunOptions } from "./chat/service.js";
export type {
  ChatToolCall,
  ChatMessage,
  ToolDefinition as ChatToolDefinition,
  ToolChoice,
  ResponseFormat,
  ChatRequest,
  ChatFinishReason,
  ChatEvent,
  ChatResult,
  ChatValidationError,
} from "./chat/types.js";
export { ChatError } from "./chat/errors.js";
export { createHermesChatFormat, type HermesChatFormatOptions } from "./chat/hermes-format.js";
export { createGrammarConstraints, noConstraints, type ConstraintBuilder, type ConstraintInput, type GrammarConstraintsOptions } from "./chat/constraints.js";
export { prepareCompletion, streamCompletion, type CompletionRequest, type CompletionEvent } from "./chat/completion.js";
export { startServer, type RunningServer, type TalariaServerOptions } from "./server/server.js";
export { createTalariaApp, type TalariaApp, type TalariaAppOptions, type ServerBackend } from "./server/app.js";
export { ApiError, toApiError } from "./server/errors.js";
export * from "./eval/index.js";
export * from "./agent/index.js";
export * as bench from "./bench/index.js";
