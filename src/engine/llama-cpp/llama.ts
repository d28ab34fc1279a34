/**
 * One shared node-llama-cpp `Llama` instance per (gpu, threads) setting. Always `build: "never"`
 * (never compile at runtime) and an explicit thread limit (the library's CPU default of
 * `max(cores, 4)` oversubscribes small machines; see docs/decisions/0012-threads-default.md).
 */
import os from "node:os";
import { getLlama, LlamaLogLevel, type Llama, type LlamaGpuType } from "node-llama-cpp";
import { EngineError } from "../types.js";

export type GpuOption = "auto" | false | "cuda" | "vulkan" | "metal";

/**
 * Default evaluation threads: the number of CPUs this process may use, capped at 8
 * (measured in docs/decisions/0012-threads-default.md; more threads than physical cores slows
 * llama.cpp down sharply).
 */
export function defaultThreads(): number {
  return Math.max(1, Math.min(os.availableParallelism(), 8));
}

const instances = new Map<string, Promise<Llama>>();

export async function sharedLlama(gpu: GpuOption, threads: number): Promise<Llama> {
  const key = `${String(gpu)}:${threads}`;
  let instance = instances.get(key);
  if (instance === undefined) {
    instance = getLlama({
      gpu: gpu as "auto" | LlamaGpuType,
      build: "never",
      maxThreads: threads,
      logLevel: LlamaLogLevel.error,
      progressLogs: false,
    }).catch((error: unknown) => {
      instances.delete(key);
      throw new EngineError(
        `could not start llama.cpp (gpu: ${String(gpu)}): ${error instanceof Error ? error.message : String(error)}`,
        "model_load_failed",
        { cause: error },
      );
    });
    instances.set(key, instance);
  }
  return instance;
}
