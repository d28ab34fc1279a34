/**
 * The chat service's {@link ConstraintBuilder} with `tool_choice: "auto"` constrained too: a lazy
 * grammar that leaves the reply free until `<tool_call>` and then allows only a well-formed call of a
 * declared tool with valid arguments. Everything else (`required`, a named tool, JSON modes) is the
 * chat service's own grammar builder (`src/chat/constraints.ts`).
 */
import { createGrammarConstraints, type ConstraintBuilder, type ConstraintInput } from "../chat/constraints.js";
import { JsonSchemaGrammarError } from "../grammar/index.js";
import { lazyToolCallGrammar } from "./grammars.js";

export interface ToolConstraintOptions {
  /**
   * What to do when `auto` cannot be constrained because a tool's schema uses a keyword the grammar
   * cannot enforce: `"unconstrained"` (the reply is free; arguments are still validated with ajv) or
   * `"error"` (throw the converter's error). Default `"unconstrained"`.
   */
  readonly autoFallback?: "unconstrained" | "error";
  /** Told when `auto` falls back to unconstrained decoding. Default: nothing. */
  readonly onUnconstrained?: (reason: string) => void;
}

/** Grammar constraints for every tool choice, `auto` included (lazy). */
export function createToolConstraints(options: ToolConstraintOptions = {}): ConstraintBuilder {
  const base = createGrammarConstraints();
  return (input: ConstraintInput) => {
    if (input.toolChoice.type !== "auto" || input.tools.length === 0) return base(input);
    try {
      return lazyToolCallGrammar(
        input.tools.map((t) => ({ name: t.name, ...(t.parameters === undefined ? {} : { parameters: t.parameters }) })),
        { maxCalls: input.parallelToolCalls ? Infinity : 1, strict: input.tools.every((t) => t.strict === true) },
      );
    } catch (error) {
      if (!(error instanceof JsonSchemaGrammarError) || options.autoFallback === "error") throw error;
      options.onUnconstrained?.(`tool_choice auto is unconstrained: ${error.message}`);
      return undefined;
    }
  };
}
