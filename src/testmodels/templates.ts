/** Chat templates embedded in the test models. */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TestModelError } from "./vocab.js";

/** Hermes 2 Pro / Hermes 3 default ChatML template (`tokenizer.chat_template`). */
export const CHATML_TEMPLATE =
  "{{bos_token}}{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** Repository root (this file is `src/testmodels/*.ts` or `dist/testmodels/*.js`). */
export function repoRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
}

/** The shared material directory: `$TALARIA_SHARED_DIR`, else `<repo>/../shared`. */
export function sharedDir(): string {
  return process.env["TALARIA_SHARED_DIR"] ?? path.resolve(repoRoot(), "../shared");
}

/** Path of the official Hermes `tool_use` template fixture. */
export function toolUseTemplatePath(): string {
  return path.join(sharedDir(), "fixtures", "hermes-prompts", "hermes-tool-use.jinja");
}

/** Reads the official Hermes `tool_use` template (`tokenizer.chat_template.tool_use`). */
export function readToolUseTemplate(): string {
  const p = toolUseTemplatePath();
  if (!existsSync(p)) {
    throw new TestModelError(`Hermes tool_use template not found at ${p}; set TALARIA_SHARED_DIR to the shared material directory`);
  }
  return readFileSync(p, "utf8");
}
