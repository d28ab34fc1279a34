/** Chat templates embedded in the test models. */
import { OFFICIAL_TOOL_USE_TEMPLATE } from "../hermes/official-tool-use-template.js";

/** Hermes 2 Pro / Hermes 3 default ChatML template (`tokenizer.chat_template`). */
export const CHATML_TEMPLATE =
  "{{bos_token}}{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/**
 * The official Hermes `tool_use` template (`tokenizer.chat_template.tool_use`). It is bundled with the
 * package (MIT, llama.cpp's copy; a Hermes test checks it byte for byte against
 * `../shared/fixtures/hermes-prompts/hermes-tool-use.jinja`), so `make-test-model` works on a clean
 * install with no shared material beside it.
 */
export function readToolUseTemplate(): string {
  return OFFICIAL_TOOL_USE_TEMPLATE;
}
