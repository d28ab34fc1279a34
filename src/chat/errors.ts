/** Typed errors of the chat service (mapped to HTTP by `src/server/errors.ts`). */
export class ChatError extends Error {
  constructor(
    message: string,
    readonly code: "invalid_request" | "unsupported" | "context_length_exceeded",
    /** The request field at fault, in OpenAI's dotted form (`tool_choice`, `messages[2].content`). */
    readonly param?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ChatError";
  }
}
