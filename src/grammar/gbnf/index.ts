/** GBNF toolkit: AST and printer, builder, parser, compiler, recognizer, sampler. */
export * from "./ast.js";
export * from "./builder.js";
export * from "./charset.js";
export * from "./compile.js";
export * from "./parse.js";
export * from "./recognizer.js";
export * from "./sample.js";
export * from "./trigger-prefix.js";
export * from "./token-trie.js";
export * from "./portable.js";
