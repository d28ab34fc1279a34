/** JSON Schema validation lives with the chat service (`src/chat/validate.ts`); re-exported here. */
export { JsonValidator, InvalidSchemaError, formatIssues, type ValidationIssue, type ValidationResult } from "../chat/validate.js";
