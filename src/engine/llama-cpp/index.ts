/** The llama.cpp engine adapter (node-llama-cpp 3.22.1). */
export { createLlamaCppEngine, DEFAULT_CONTEXT_SIZE, LlamaCppEngine, type LlamaCppEngineOptions } from "./engine.js";
export { defaultThreads, type GpuOption } from "./llama.js";
export { defaultModelsDirectory, isRemoteModelSource, resolveModelSource, type DownloadProgress, type ResolveModelSourceOptions } from "./model-source.js";
export { addedTokenMarkers, readLocalModelInfo } from "./model-info.js";
