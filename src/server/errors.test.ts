import { describe, expect, it } from "vitest";
import { z } from "zod";
import { EngineError } from "../engine/types.js";
import { ChatError } from "../chat/errors.js";
import { ApiError, QueueFullError, RequestTimeoutError, formatIssuePath, toApiError } from "./errors.js";

describe("toApiError", () => {
  it("names the failing field of a zod error in message and param", () => {
    const schema = z.object({ messages: z.array(z.object({ role: z.enum(["user", "system"]) })) });
    const result = schema.safeParse({ messages: [{ role: "user" }, { role: "robot" }] });
    expect(result.success).toBe(false);
    const error = toApiError(result.error);
    expect(error.status).toBe(400);
    expect(error.toBody().error).toMatchObject({ type: "invalid_request_error", param: "messages[1].role", code: "invalid_value" });
    expect(error.message).toContain("messages[1].role");
  });

  it("maps context overflow from the engine and from the chat service to 400 context_length_exceeded", () => {
    for (const e of [
      new EngineError("too long", "context_length_exceeded"),
      new ChatError("too long", "context_length_exceeded", "messages"),
    ]) {
      const error = toApiError(e);
      expect(error.status).toBe(400);
      expect(error.code).toBe("context_length_exceeded");
      expect(error.param).toBe("messages");
    }
  });

  it("maps ChatError params through", () => {
    const error = toApiError(new ChatError("no such tool", "invalid_request", "tool_choice"));
    expect(error.toBody()).toEqual({
      error: { message: "no such tool", type: "invalid_request_error", param: "tool_choice", code: "invalid_value" },
    });
  });

  it("maps a full queue to 429 with Retry-After", () => {
    const error = toApiError(new QueueFullError(7));
    expect(error.status).toBe(429);
    expect(error.type).toBe("rate_limit_error");
    expect(error.headers).toEqual({ "Retry-After": "7" });
  });

  it("maps timeouts to 504 and a disposed engine to 503", () => {
    expect(toApiError(new RequestTimeoutError(1000)).status).toBe(504);
    expect(toApiError(new EngineError("gone", "disposed")).status).toBe(503);
  });

  it("maps an engine lacking a capability to 400 unsupported, and a grammar violation to 500 grammar_violation", () => {
    const unsupported = toApiError(new EngineError("the mock engine does not support logprobs", "unsupported"));
    expect(unsupported.status).toBe(400);
    expect(unsupported.toBody()).toEqual({
      error: { message: "the mock engine does not support logprobs", type: "invalid_request_error", param: null, code: "unsupported" },
    });
    const violation = toApiError(new EngineError("text after the trigger: 'secret generated text'", "grammar_violation"));
    expect(violation.status).toBe(500);
    expect(violation.toBody().error).toMatchObject({ type: "server_error", param: null, code: "grammar_violation" });
    expect(violation.message).not.toContain("secret");
  });

  it("never leaks the message or stack of unknown errors", () => {
    const secret = new Error("ENOENT: /etc/secret-path at Object.<anonymous> (/src/x.ts:1:1)");
    const body = toApiError(secret).toBody();
    expect(toApiError(secret).status).toBe(500);
    expect(JSON.stringify(body)).not.toContain("secret");
    expect(JSON.stringify(body)).not.toContain("/src/");
    // Engine internals are not echoed either.
    expect(JSON.stringify(toApiError(new EngineError("llama_decode failed at /tmp/x", "internal")).toBody())).not.toContain("/tmp/x");
  });

  it("passes ApiError through unchanged and always produces OpenAI's body shape", () => {
    const original = new ApiError(401, "invalid_request_error", "no key", { code: "invalid_api_key" });
    expect(toApiError(original)).toBe(original);
    expect(Object.keys(original.toBody().error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(original.toBody().error.param).toBeNull();
  });
});

describe("formatIssuePath", () => {
  it("renders dotted paths with array indexes", () => {
    expect(formatIssuePath(["tools", 0, "function", "name"])).toBe("tools[0].function.name");
    expect(formatIssuePath([])).toBe("");
    expect(formatIssuePath([3])).toBe("[3]");
  });
});
