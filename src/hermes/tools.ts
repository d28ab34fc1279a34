/**
 * Tool definitions: accept OpenAI tool objects, plain JSON Schema function definitions or zod
 * schemas, and normalise them to one {@link ToolDefinition}.
 */
import { z } from "zod";

/** A JSON Schema object, as plain JSON data. */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** The one internal shape of a function tool. */
export interface ToolDefinition {
  readonly name: string;
  /** Absent when the caller gave none (the official template then fails, as it does in Python). */
  readonly description?: string;
  /** JSON Schema of the arguments object. Absent when the caller gave none. */
  readonly parameters?: JsonSchema;
  /**
   * The function-level object exactly as given (OpenAI `function`, or the plain definition), so the
   * `template` style can pass the same dict HF transformers would (extra keys such as `return` included).
   */
  readonly source: Readonly<Record<string, unknown>>;
}

/** `{type: "function", function: {name, description?, parameters?, strict?}}` */
export interface OpenAITool {
  readonly type: "function";
  readonly function: {
    readonly name: string;
    readonly description?: string;
    readonly parameters?: JsonSchema;
    readonly strict?: boolean;
  };
}

/** A plain function definition with a JSON Schema for its parameters. */
export interface FunctionToolDefinition {
  readonly name: string;
  readonly description?: string;
  readonly parameters?: JsonSchema;
}

/** A function definition whose parameters are a zod schema (converted with `z.toJSONSchema`). */
export interface ZodToolDefinition {
  readonly name: string;
  readonly description?: string;
  readonly parameters: z.ZodType;
}

export type ToolInput = OpenAITool | FunctionToolDefinition | ZodToolDefinition | ToolDefinition;

export class ToolDefinitionError extends Error {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
    this.name = "ToolDefinitionError";
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isZodSchema(value: unknown): value is z.ZodType {
  return value instanceof z.ZodType || (isRecord(value) && "_zod" in value);
}

/** Convert a zod schema to JSON Schema (input side, without the `$schema` URI). */
export function zodToJsonSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: "input" }) as Record<string, unknown>;
  const { $schema: _ignored, ...rest } = json;
  return rest;
}

/** Normalise one tool. Throws {@link ToolDefinitionError} for anything that is not a function tool. */
export function normalizeTool(tool: unknown, index = 0): ToolDefinition {
  if (!isRecord(tool)) throw new ToolDefinitionError(`tool ${index} is not an object`, index);
  let fn: Record<string, unknown> = tool;
  if ("function" in tool && isRecord(tool["function"])) {
    if (tool["type"] !== undefined && tool["type"] !== "function") {
      throw new ToolDefinitionError(`tool ${index} has type ${JSON.stringify(tool["type"])}; only "function" is supported`, index);
    }
    fn = tool["function"];
  }
  const name = fn["name"];
  if (typeof name !== "string" || name === "") {
    throw new ToolDefinitionError(`tool ${index} needs a non-empty string name`, index);
  }
  const description = fn["description"];
  if (description !== undefined && typeof description !== "string") {
    throw new ToolDefinitionError(`tool ${name}: description must be a string`, index);
  }
  let parameters: JsonSchema | undefined;
  let source: Record<string, unknown> = fn;
  const rawParameters = fn["parameters"] ?? fn["schema"];
  if (isZodSchema(rawParameters)) {
    parameters = zodToJsonSchema(rawParameters);
    source = { name, ...(description === undefined ? {} : { description }), parameters };
  } else if (isRecord(rawParameters)) {
    parameters = rawParameters;
  } else if (rawParameters !== undefined) {
    throw new ToolDefinitionError(`tool ${name}: parameters must be a JSON Schema object or a zod schema`, index);
  }
  return {
    name,
    ...(description === undefined ? {} : { description }),
    ...(parameters === undefined ? {} : { parameters }),
    source,
  };
}

/** Normalise a list of tools; names must be unique. */
export function normalizeTools(tools: readonly unknown[]): ToolDefinition[] {
  const out = tools.map((tool, i) => normalizeTool(tool, i));
  const seen = new Set<string>();
  out.forEach((tool, i) => {
    if (seen.has(tool.name)) throw new ToolDefinitionError(`duplicate tool name ${tool.name}`, i);
    seen.add(tool.name);
  });
  return out;
}

/** The OpenAI tool object for a definition (what the card style serialises into `<tools>`). */
export function toOpenAITool(tool: ToolDefinition): Record<string, unknown> {
  return {
    type: "function",
    function: {
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      ...(tool.parameters === undefined ? {} : { parameters: tool.parameters }),
    },
  };
}
