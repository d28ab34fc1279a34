/**
 * Synthetic benchmark inputs: seeded random English words for server prompts (each common word is
 * about one Llama 3 token), and seeded random token ids for engine prompts (as llama-bench does).
 */

import { mulberry32 } from "../util/random.js";

/** mulberry32: a small seeded PRNG returning floats in [0, 1). */
export const seededRandom: (seed: number) => () => number = mulberry32;

/** Common English words that are single tokens (with their leading space) in the Llama 3 vocabulary. */
export const PROMPT_WORDS: readonly string[] = (
  "time year people way day man thing woman life child world school state family student group country problem hand part " +
  "place case week company system program question work government number night point home water room mother area money " +
  "story fact month lot right study book eye job word business issue side kind head house service friend father power hour " +
  "game line end member law car city community name president team minute idea kid body information back parent face " +
  "others level office door health person art war history party result change morning reason research girl guy moment air " +
  "teacher force education foot boy age policy music market sense nation plan college interest death experience effect use " +
  "class control care field development role effort rate heart drug show leader light voice wife police mind price report " +
  "decision son view relationship town road arm difference value building action model season society tax director position " +
  "player record paper space ground form event official matter center couple site project activity star table need court " +
  "oil situation cost industry figure street image phone data picture practice piece land product doctor wall patient worker " +
  "news test movie north love support technology step baby computer type attention film tree source window"
).split(" ");

/** `count` seeded random words, space-separated. */
export function randomWords(seed: number, count: number): string {
  const random = seededRandom(seed);
  const words: string[] = [];
  for (let i = 0; i < count; i++) words.push(PROMPT_WORDS[Math.floor(random() * PROMPT_WORDS.length)] as string);
  return words.join(" ");
}

/**
 * A prompt of about `inputLen` tokens: seeded random words, calibrated with `countTokens` (e.g. the
 * server's `/tokenize`) when given — the word count is rescaled until the token count is within 1 of
 * the target or `maxRounds` calls were made. Without a counter, one word ≈ one token.
 */
export async function calibratedPrompt(
  seed: number,
  inputLen: number,
  countTokens?: (text: string) => Promise<number>,
  maxRounds = 4,
): Promise<{ text: string; tokens: number; calibrated: boolean }> {
  if (!Number.isInteger(inputLen) || inputLen < 1) throw new RangeError(`input length must be an integer >= 1 (got ${inputLen})`);
  let words = inputLen;
  let text = randomWords(seed, words);
  if (countTokens === undefined) return { text, tokens: inputLen, calibrated: false };
  let tokens = await countTokens(text);
  let best = { text, tokens };
  for (let round = 1; round < maxRounds && Math.abs(tokens - inputLen) > 1 && tokens > 0; round++) {
    const next = Math.max(1, Math.round((words * inputLen) / tokens));
    if (next === words) break;
    words = next;
    text = randomWords(seed, words);
    tokens = await countTokens(text);
    if (Math.abs(tokens - inputLen) < Math.abs(best.tokens - inputLen)) best = { text, tokens };
  }
  return { ...best, calibrated: true };
}

/**
 * `count` random token ids for an engine prompt, drawn uniformly from [0, vocabularySize) minus
 * `exclude` (special and end-of-generation tokens), as llama-bench fills its prompts.
 */
export function randomTokens(seed: number, count: number, vocabularySize: number, exclude: ReadonlySet<number> = new Set()): number[] {
  const random = seededRandom(seed);
  const out: number[] = [];
  while (out.length < count) {
    const t = Math.floor(random() * vocabularySize);
    if (!exclude.has(t)) out.push(t);
  }
  return out;
}
