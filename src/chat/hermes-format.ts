/**
 * The Hermes {@link ChatFormat}: prompts from `src/hermes/prompt.ts` (card or template style, per model
 * profile, JSON mode for `response_format`), tool calls from `src/hermes/tool-calls.ts`.
 */
import { HermesPromptError, renderPrompt, type HermesMessage, type PromptStyle } from "../hermes/prompt.js";
import { ToolDefinitionError, type ToolInput } from "../hermes/tools.js";
import { JinjaTemplateError } from "../hermes/jinja.js";
import { ToolCallStreamParser } from "../hermes/tool-calls.js";
import { HERMES_DIALECT } from "../hermes/dialect.js";
import { createGrammarConstraints } from "./constraints.js";
import type { HermesProfileId } from "../hermes/profiles.js";
import type { PromptText } from "../prompt/text.js";
import { ChatError } from "./errors.js";
import type { ChatFormat, PromptRenderInput } from "./format.js";
import type { ChatMessage, ResponseFormat, ToolDefinition } from "./types.js";

export interface HermesChatFormatOptions {
  /** Model profile (tool-response role). Default `hermes-3`. */
  readonly profile?: HermesProfileId;
  /** Function-calling prompt style. Default `card`. */
  readonly style?: PromptStyle;
  /** BOS text to put first (the model's, e.g. `<|begin_of_text|>`). Default none. */
  readonly bosToken?: string;
  /** `template` style: a tool_use template (e.g. from the GGUF). Default: the official Hermes template. */
  readonly template?: string;
}

function toHermesMessage(message: ChatMessage): HermesMessage {
  switch (message.role) {
    case "system":
    case "user":
      return { role: message.role, content: message.content };
    case "assistant":
      return {
        role: "assistant",
        content: message.content,
        ...(message.toolCalls === undefined || message.toolCalls.length === 0
          ? {}
          : {
              tool_calls: message.toolCalls.map((c) => ({
                id: c.id,
                type: "function" as const,
                function: { name: c.name, arguments: c.arguments },
              })),
            }),
      };
    case "tool":
      return {
        role: "tool",
        content: message.content,
        ...(message.toolCallId === undefined ? {} : { tool_call_id: message.toolCallId }),
        ...(message.name === undefined ? {} : { name: message.name }),
      };
    default:
      message satisfies never;
      throw new Error("unreachable");
  }
}

/**
 * OpenAI allows tools without a description or parameters; the official template would fail on them
 * (as it does in Python), so the server fills in the empty values.
 */
function toHermesTool(tool: ToolDefinition): ToolInput {
  return {
    type: "function",
    function: {
      name: tool.name,
      description: tool.description ?? "",
      parameters: tool.parameters ?? { type: "object", properties: {} },
    },
  };
}

function jsonSchemaOf(format: ResponseFormat): Readonly<Record<string, unknown>> | undefined {
  switch (format.type) {
    case "text":
      return undefined;
    case "json_object":
      return { type: "object" };
    case "json_schema":
      return format.schema;
    default:
      format satisfies never;
      return undefined;
  }
}

export function createHermesChatFormat(options: HermesChatFormatOptions = {}): ChatFormat {
  const profile = options.profile ?? "hermes-3";
  const style = options.style ?? "card";
  return {
    name: `${profile}/${style}`,
    render(input: PromptRenderInput): PromptText {
      const jsonSchema = jsonSchemaOf(input.responseFormat);
      try {
        return renderPrompt({
          messages: input.messages.map(toHermesMessage),
          ...(input.tools.length === 0 ? {} : { tools: input.tools.map(toHermesTool) }),
          style,
          profile,
          ...(options.template === undefined ? {} : { template: options.template }),
          ...(options.bosToken === undefined ? {} : { bosToken: options.bosToken }),
          ...(jsonSchema === undefined ? {} : { jsonSchema }),
        });
      } catch (error) {
        if (error instanceof ToolDefinitionError) {
          throw new ChatError(error.message, "invalid_request", `tools[${error.index}]`, { cause: error });
        }
        if (error instanceof HermesPromptError || error instanceof JinjaTemplateError) {
          throw new ChatError(`The conversation cannot be rendered: ${error.message}`, "invalid_request", "messages", { cause: error });
        }
        throw error;
      }
    },
    createToolCallParser(toolNames: readonly string[], parserOptions = {}) {
      const undeclared = parserOptions.undeclared === "call" ? "flag" : "error";
      return new ToolCallStreamParser({ tools: toolNames, syntax: HERMES_DIALECT.toolCall, undeclared });
    },
    toolCallSyntax: HERMES_DIALECT.toolCall,
    constraints(constraintOptions = {}) {
      return createGrammarConstraints(HERMES_DIALECT.toolCall, constraintOptions);
    },
  };
}
