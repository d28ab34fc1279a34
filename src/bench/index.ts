/** Benchmarks: vLLM-compatible serving metrics, a load generator, llama-bench-style engine tests, SVG reports. */
export * from "./stats.js";
export * from "./serve-metrics.js";
export * from "./sse-client.js";
export * from "./loopback.js";
export * from "./prompts.js";
export * from "./serve-bench.js";
export * from "./engine-bench.js";
export * from "./environment.js";
export * from "./svg.js";
export * from "./report.js";
export * from "./format.js";
