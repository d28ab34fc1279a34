export * from "./prompt/text.js";
export * from "./engine/types.js";
