/**
 * One shared node-llama-cpp `Llama` instance per (gpu, threads) setting. Always `build: "never"`
 * (never compile at runtime) and an explicit thread limit (the library's CPU default of
 * `max(cores, 4)` oversubscribes small machines; see docs/decisions/0012-threads-default.md).
 */
import os from "node:os";
import { getLlama, LlamaLogLevel, type Llama, type LlamaGpuType } from "node-llama-cpp";
import { EngineError } from "../types.js";

export type GpuOption = "auto" | false | "cuda" | "vulkan" | "metal";

/** Most threads the default picks: llama.cpp's CPU decode stops scaling beyond memory bandwidth. */
export const MAX_DEFAULT_THREADS = 8;

/**
 * Default evaluation threads: the CPUs this process may use that are not already busy
 * (`availableParallelism − 1-minute load average`, rounded), at least 1 and at most
 * min(CPUs, {@link MAX_DEFAULT_THREADS}). llama.cpp's threads spin-wait on each other, so more
 * threads than idle cores is catastrophic: on a loaded 2-core box 2 threads ran 2.4 tok/s where 1
 * ran 339 (docs/decisions/0012-threads-default.md). Pass `threads` explicitly for benchmarks.
 */
export function defaultThreads(cpus: number = os.availableParallelism(), load1: number = os.loadavg()[0] ?? 0): number {
  const cap = Math.max(1, Math.min(cpus, MAX_DEFAULT_THREADS));
  return Math.max(1, Math.min(cap, Math.round(cpus - load1)));
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
