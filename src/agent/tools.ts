/**
 * Agent tools: TypeScript functions with zod or JSON Schema parameters.
 *
 * ```ts
 * const weather = defineTool({
 *   name: "get_weather",
 *   description: "Current weather for a city",
 *   parameters: z.object({ city: z.string() }),
 *   execute: async ({ city }, { signal }) => fetchWeather(city, signal),
 * });
 * ```
 */
import { z } from "zod";
import { zodToJsonSchema, type JsonSchema } from "../hermes/tools.js";

/** What a tool's `execute` receives besides its arguments. */
export interface ToolExecutionContext {
  /** Fires when the agent run is aborted; long tools should stop. */
  readonly signal: AbortSignal;
  /** The call's id (`call_…`). */
  readonly callId: string;
  /** The agent step (1-based model turn) that made the call. */
  readonly step: number;
}

/** A tool the agent can call. Build one with {@link defineTool}, or write the object directly. */
export interface AgentTool<Args = Record<string, unknown>> {
  readonly name: string;
  readonly description?: string;
  /** JSON Schema of the arguments object, or a zod schema. Default: no arguments (`{}`). */
  readonly parameters?: JsonSchema | z.ZodType;
  /**
   * `json-object`: the grammar holds the arguments to a JSON object only, and the schema is checked by
   * the validator (for schemas the grammar cannot enforce, e.g. MCP tools'). Default `schema`.
   */
  readonly argumentsConstraint?: "schema" | "json-object";
  /**
   * Runs the tool with validated arguments. The result goes back to the model as the tool response's
   * `content`: a string as it is, anything else as JSON. A thrown error goes back as an error response.
   */
  execute(args: Args, context: ToolExecutionContext): unknown;
}

/** Define a tool whose parameters are a zod schema: `execute` gets the parsed (typed) arguments. */
export function defineTool<S extends z.ZodType>(tool: {
  readonly name: string;
  readonly description?: string;
  readonly parameters: S;
  readonly execute: (args: z.output<S>, context: ToolExecutionContext) => unknown;
}): AgentTool<z.output<S>>;
/** Define a tool whose parameters are a JSON Schema (or none). */
export function defineTool(tool: {
  readonly name: string;
  readonly description?: string;
  readonly parameters?: JsonSchema;
  readonly execute: (args: Record<string, unknown>, context: ToolExecutionContext) => unknown;
}): AgentTool;
export function defineTool(tool: AgentTool<never>): AgentTool<never> {
  checkTool(tool, 0);
  return tool;
}

/** A tool with its parameters resolved to JSON Schema (what the prompt, grammar and validator use). */
export interface ResolvedTool {
  readonly name: string;
  readonly description?: string;
  readonly parameters: JsonSchema;
  /** Present when the tool was defined with zod: parses (and transforms) the arguments after ajv. */
  readonly zod?: z.ZodType;
  readonly argumentsConstraint?: "schema" | "json-object";
  readonly execute: (args: unknown, context: ToolExecutionContext) => unknown;
}

export class AgentToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AgentToolError";
  }
}

function isZod(value: unknown): value is z.ZodType {
  return value instanceof z.ZodType || (typeof value === "object" && value !== null && "_zod" in value);
}

const NO_PARAMETERS: JsonSchema = { type: "object", properties: {} };

function checkTool(tool: unknown, index: number): asserts tool is AgentTool<never> {
  if (typeof tool !== "object" || tool === null) throw new AgentToolError(`tool ${index} is not an object`);
  const t = tool as Partial<AgentTool<never>>;
  if (typeof t.name !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(t.name)) {
    throw new AgentToolError(`tool ${index}: name must be 1-64 characters of A-Z a-z 0-9 _ . - (got ${JSON.stringify(t.name)})`);
  }
  if (t.description !== undefined && typeof t.description !== "string") throw new AgentToolError(`tool ${t.name}: description must be a string`);
  if (typeof t.execute !== "function") throw new AgentToolError(`tool ${t.name}: execute must be a function`);
  const p = t.parameters;
  if (p !== undefined && !isZod(p) && (typeof p !== "object" || p === null || Array.isArray(p))) {
    throw new AgentToolError(`tool ${t.name}: parameters must be a JSON Schema object or a zod schema`);
  }
}

/** Check and resolve tools (names unique). Throws {@link AgentToolError}. */
export function resolveTools(tools: readonly AgentTool<never>[]): ResolvedTool[] {
  const seen = new Set<string>();
  return tools.map((tool, i) => {
    checkTool(tool, i);
    if (seen.has(tool.name)) throw new AgentToolError(`duplicate tool name ${tool.name}`);
    seen.add(tool.name);
    const p = tool.parameters;
    const zod = isZod(p) ? p : undefined;
    const parameters = zod !== undefined ? zodToJsonSchema(zod) : ((p as JsonSchema | undefined) ?? NO_PARAMETERS);
    return {
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      parameters,
      ...(zod === undefined ? {} : { zod }),
      ...(tool.argumentsConstraint === undefined ? {} : { argumentsConstraint: tool.argumentsConstraint }),
      execute: (args, context) => tool.execute(args as never, context),
    };
  });
}

/** Whether a value looks like a tool (for loading tool modules). */
export function isToolLike(value: unknown): value is AgentTool<never> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { name?: unknown }).name === "string" &&
    typeof (value as { execute?: unknown }).execute === "function"
  );
}

/** A tool result as tool-response content: strings as they are, other values as JSON. */
export function resultToContent(result: unknown): string {
  if (typeof result === "string") return result;
  if (result === undefined) return "null";
  try {
    const json = JSON.stringify(result, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
    return json ?? "null";
  } catch {
    return JSON.stringify(String(result));
  }
}
