/** Remote engines: the engine port over HTTP to llama.cpp's llama-server or vLLM. */
export { createRemoteEngine, probeBackendKind, nameFromModelPath, RemoteEngine, REMOTE_ENGINE_DEFAULTS, DEFAULT_END_OF_GENERATION_TEXTS, type RemoteEngineOptions, type LocalModelInfo } from "./engine.js";
export { BackendHttp, BackendError, BACKEND_HTTP_DEFAULTS, type BackendHttpOptions, type BackendErrorKind } from "./http.js";
export type { BackendKind, BackendDescription, BackendDialect, BackendLoad } from "./dialect.js";
export { LLAMA_SERVER_CAPABILITIES, llamaServerCompletionBody } from "./llama-server.js";
export { VLLM_CAPABILITIES, createVllmDialect, vllmCompletionBody, vllmStructuredOutputs, toolCallStructuralTag } from "./vllm.js";
export {
  createManagedLlamaServerEngine,
  findLlamaServerBinary,
  llamaServerFlags,
  managedLlamaServerArgs,
  defaultManagedThreads,
  describeSupervisorEvent,
  ManagedLlamaServerEngine,
  LLAMA_SERVER_ENV,
  LLAMA_SERVER_BUILD_HINT,
  type ManagedLlamaServerOptions,
  type LlamaServerFlags,
} from "./managed.js";
export { LlamaServerSupervisor, SUPERVISOR_DEFAULTS, describeExit, type LlamaServerSupervisorOptions, type ServerInstance, type ServerExit, type SupervisorEvent } from "./supervisor.js";
