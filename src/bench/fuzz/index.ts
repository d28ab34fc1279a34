/** `talaria fuzz`: a seeded, bounded fuzzer of request bodies for every route of an OpenAI-compatible server. */
export * from "./types.js";
export { Rng, caseSeed } from "./rng.js";
export { generateCase, DEFAULT_WEIGHTS, type GeneratorOptions } from "./generator.js";
export { checkOutcome, findLeaks, openAIErrorViolation, anthropicErrorViolation, parseSse, LEAK_PATTERNS, OPENAI_ERROR_TYPES } from "./checks.js";
export { executeCase, type ExecuteOptions } from "./http.js";
export { runFuzz, describeCase, prometheusValue, type FuzzOptions, type RssSampler } from "./runner.js";
export { formatFuzzReport, summarizeLatency, type FuzzReport, type FindingGroup, type FindingKind, type FindingExample } from "./report.js";
