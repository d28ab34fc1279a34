/**
 * The mock engine with a Hermes vocabulary: the engine knows no chat format, so tests give it the
 * Hermes dialect's markers (single special tokens, as in Hermes models) and `<|im_end|>` as the
 * end-of-turn token that follows every scripted reply.
 */
import { createMockEngine, type MockEngine, type MockEngineOptions } from "../../src/engine/mock/mock-engine.js";
import { HERMES_DIALECT } from "../../src/hermes/dialect.js";

export function createHermesMockEngine(options: MockEngineOptions): MockEngine {
  return createMockEngine({ specialTokens: HERMES_DIALECT.markers, endOfTurn: HERMES_DIALECT.turn.end, ...options });
}
