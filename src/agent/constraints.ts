/**
 * The chat service's grammar builder covers every tool choice, `auto` included (lazy grammar); the
 * agent uses it as it is. Kept as a named export for callers of the agent API.
 */
export { createGrammarConstraints as createToolConstraints, type GrammarConstraintsOptions as ToolConstraintOptions } from "../chat/constraints.js";
