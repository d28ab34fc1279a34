/**
 * Turns generated tokens into {@link GenerateEvent}s: incremental detokenization with UTF-8
 * hold-back, then stop-string matching with hold-back of a possible stop prefix. Shared by every
 * engine adapter so that streaming behaves identically. Pure (the decoder is injected).
 */
import { IncrementalDetokenizer, type ContextualDecoder } from "./incremental-detokenizer.js";
import { StopStringMatcher } from "./stop-strings.js";
import type { FinishReason, GenerateEvent, GeneratedToken, TokenLogprob, Usage } from "./types.js";

export interface GenerationOutputOptions {
  /** Stop strings (validated non-empty). */
  readonly stop: readonly string[];
  /** Decoder rendering special tokens, `decode(tokens, previous)`. */
  readonly decode: ContextualDecoder;
  /** Tokens before the first generated one (the prompt), for detokenizer context. */
  readonly previous: readonly number[];
}

export interface TokenInput {
  readonly id: number;
  readonly logprob?: number;
  readonly top?: readonly TokenLogprob[];
}

export interface PushResult {
  readonly events: GenerateEvent[];
  /** The stop string that matched; generation must end with reason `stop-string`. */
  readonly stopString?: string;
}

export class GenerationOutput {
  readonly #decode: ContextualDecoder;
  readonly #detokenizer: IncrementalDetokenizer;
  readonly #matcher: StopStringMatcher;
  #pendingTokens: GeneratedToken[] = [];
  #recent: number[];
  #stopString: string | undefined;
  #text = "";

  constructor(options: GenerationOutputOptions) {
    this.#decode = options.decode;
    this.#detokenizer = new IncrementalDetokenizer(options.decode, { previous: options.previous });
    this.#matcher = new StopStringMatcher(options.stop);
    this.#recent = options.previous.slice(-16);
  }

  /** All text emitted so far. */
  get text(): string {
    return this.#text;
  }

  /** Feed one generated (non-terminal) token. */
  push(token: TokenInput): PushResult {
    if (this.#stopString !== undefined) return { events: [] };
    const tokenText = this.#decode([token.id], this.#recent);
    this.#recent = [...this.#recent.slice(-15), token.id];
    this.#pendingTokens.push({
      id: token.id,
      text: tokenText,
      ...(token.logprob !== undefined ? { logprob: token.logprob } : {}),
      ...(token.top !== undefined ? { top: token.top } : {}),
    });
    return this.#feed(this.#detokenizer.push(token.id));
  }

  /**
   * End the stream: release held text and emit the finish event. A stop string completed by the
   * released text turns `reason` into `stop-string`.
   */
  finish(reason: FinishReason, usage: Usage, stopText?: string): GenerateEvent[] {
    const events: GenerateEvent[] = [];
    let finalReason = reason;
    let finalStopText = stopText;
    if (this.#stopString === undefined) {
      const flushed = this.#feed(this.#detokenizer.flush());
      events.push(...flushed.events);
      if (flushed.stopString !== undefined) {
        finalReason = "stop-string";
        finalStopText = flushed.stopString;
      } else {
        const rest = this.#matcher.flush();
        if (rest !== "" || this.#pendingTokens.length > 0) events.push(this.#delta(rest));
      }
    } else {
      finalReason = "stop-string";
      finalStopText = this.#stopString;
    }
    events.push({
      type: "finish",
      reason: finalReason,
      ...(finalStopText !== undefined ? { stopText: finalStopText } : {}),
      usage,
    });
    return events;
  }

  #feed(piece: string): PushResult {
    if (piece === "") return { events: [] };
    const r = this.#matcher.push(piece);
    if (r.stop !== undefined) {
      this.#stopString = r.stop;
      return { events: [this.#delta(r.text)], stopString: r.stop };
    }
    return { events: r.text === "" ? [] : [this.#delta(r.text)] };
  }

  #delta(text: string): GenerateEvent {
    const tokens = this.#pendingTokens;
    this.#pendingTokens = [];
    this.#text += text;
    return { type: "text-delta", text, tokens };
  }
}
