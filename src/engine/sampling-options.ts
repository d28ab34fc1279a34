/**
 * Validation and normalisation of {@link SamplingOptions} (HF `generate` names and defaults).
 * Pure; throws {@link EngineError} `invalid_request` with one clear line per problem.
 */
import { EngineError, type SamplingOptions } from "./types.js";

/** HF `generate` defaults, as documented on {@link SamplingOptions}. */
export const SAMPLING_DEFAULTS = {
  temperature: 1.0,
  topP: 1.0,
  topK: 50,
  minP: 0,
  repetitionPenalty: 1.0,
  frequencyPenalty: 0,
  presencePenalty: 0,
} as const;

/** Sampling options with every default applied and every value checked. */
export interface ResolvedSampling {
  /** Greedy decoding: `doSample === false`, or temperature 0. */
  readonly greedy: boolean;
  /** > 0 when sampling; 0 when greedy. */
  readonly temperature: number;
  /** 0 = disabled. */
  readonly topK: number;
  /** 1 = disabled. */
  readonly topP: number;
  /** 0 = disabled. */
  readonly minP: number;
  /** 1 = disabled. */
  readonly repetitionPenalty: number;
  readonly frequencyPenalty: number;
  readonly presencePenalty: number;
  /** Token id → value added to its logit. -Infinity bans (OpenAI -100 is kept as -100). */
  readonly logitBias: ReadonlyMap<number, number>;
  /** Unsigned 32-bit seed, or undefined for a random one. */
  readonly seed: number | undefined;
}

function fail(message: string): never {
  throw new EngineError(message, "invalid_request");
}

function checkNumber(name: string, value: number | undefined, min: number, max: number, options: { minExclusive?: boolean } = {}): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isFinite(value)) fail(`${name} must be a finite number (got ${String(value)})`);
  const tooLow = options.minExclusive === true ? value <= min : value < min;
  if (tooLow || value > max) {
    const range = `${options.minExclusive === true ? "(" : "["}${min}, ${max === Infinity ? "∞)" : `${max}]`}`;
    fail(`${name} must be in ${range} (got ${value})`);
  }
}

/**
 * Apply defaults and validate.
 * @param vocabularySize When given, logit-bias token ids are checked against it.
 */
export function resolveSampling(options: SamplingOptions = {}, vocabularySize?: number): ResolvedSampling {
  checkNumber("temperature", options.temperature, 0, Infinity);
  checkNumber("topP", options.topP, 0, 1);
  checkNumber("minP", options.minP, 0, 1);
  checkNumber("repetitionPenalty", options.repetitionPenalty, 0, Infinity, { minExclusive: true });
  checkNumber("frequencyPenalty", options.frequencyPenalty, -2, 2);
  checkNumber("presencePenalty", options.presencePenalty, -2, 2);
  if (options.topK !== undefined && (!Number.isInteger(options.topK) || options.topK < 0)) {
    fail(`topK must be an integer >= 0 (got ${String(options.topK)})`);
  }
  if (options.doSample !== undefined && typeof options.doSample !== "boolean") {
    fail(`doSample must be a boolean (got ${String(options.doSample)})`);
  }
  let seed: number | undefined;
  if (options.seed !== undefined) {
    if (!Number.isSafeInteger(options.seed)) fail(`seed must be an integer (got ${String(options.seed)})`);
    seed = ((options.seed % 2 ** 32) + 2 ** 32) % 2 ** 32;
  }
  const logitBias = new Map<number, number>();
  for (const [key, value] of Object.entries(options.logitBias ?? {})) {
    const token = Number(key);
    if (!Number.isInteger(token) || token < 0) fail(`logitBias key must be a token id (got ${JSON.stringify(key)})`);
    if (vocabularySize !== undefined && token >= vocabularySize) {
      fail(`logitBias token id ${token} is outside the vocabulary (size ${vocabularySize})`);
    }
    if (typeof value !== "number" || !Number.isFinite(value) || value < -100 || value > 100) {
      fail(`logitBias value for token ${token} must be in [-100, 100] (got ${String(value)})`);
    }
    if (value !== 0) logitBias.set(token, value);
  }
  const temperature = options.temperature ?? SAMPLING_DEFAULTS.temperature;
  const greedy = options.doSample === false || temperature === 0;
  return {
    greedy,
    temperature: greedy ? 0 : temperature,
    topK: options.topK ?? SAMPLING_DEFAULTS.topK,
    topP: options.topP ?? SAMPLING_DEFAULTS.topP,
    minP: options.minP ?? SAMPLING_DEFAULTS.minP,
    repetitionPenalty: options.repetitionPenalty ?? SAMPLING_DEFAULTS.repetitionPenalty,
    frequencyPenalty: options.frequencyPenalty ?? SAMPLING_DEFAULTS.frequencyPenalty,
    presencePenalty: options.presencePenalty ?? SAMPLING_DEFAULTS.presencePenalty,
    logitBias,
    seed,
  };
}

/** True when the logits are used as the model produced them (no bias, no penalties). */
export function hasLogitProcessors(s: ResolvedSampling): boolean {
  return s.logitBias.size > 0 || s.repetitionPenalty !== 1 || s.frequencyPenalty !== 0 || s.presencePenalty !== 0;
}
