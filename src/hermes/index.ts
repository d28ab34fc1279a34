/**
 * The Hermes core: prompt formats, model profiles and the tool-call parser. Pure (no engine or
 * node-llama-cpp imports). See docs/hermes.md.
 */
export { HERMES_DIALECT, HERMES_MARKERS, IM_START, IM_END, type ChatDialect } from "./dialect.js";
export * from "./prompt.js";
export * from "./profiles.js";
export * from "./tools.js";
export * from "./tool-calls.js";
export { compileJinjaTemplate, renderJinjaTemplate, JinjaTemplateError, type JinjaErrorKind, type CompiledJinjaTemplate, type JinjaRenderOptions } from "./jinja.js";
export { OFFICIAL_TOOL_USE_TEMPLATE } from "./official-tool-use-template.js";
export { pyJsonDumps, pyRepr, PyFloat, type JsonDumpsOptions } from "./python-json.js";
export { parseLiteral, parseJsonOrPython, literalToPlain, LiteralSyntaxError, type LiteralValue, type LiteralSyntax } from "./literal.js";
