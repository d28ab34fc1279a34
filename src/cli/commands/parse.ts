/**
 * `talaria parse`: raw model output on stdin → an OpenAI-style assistant message on stdout.
 */
import type { Command } from "commander";
import { getProfile, normalizeTools, parseToolCalls, toOpenAIAssistantMessage } from "../../hermes/index.js";
import { readToolsFile } from "./hermes-io.js";

export function register(program: Command): void {
  program
    .command("parse")
    .description("Parse Hermes tool calls in raw model output (stdin) into an OpenAI assistant message (stdout).")
    .option("--profile <profile>", "hermes-2-pro | hermes-3 | hermes-3-llama-3.2-3b | chatml (all parse the same <tool_call> syntax)")
    .option("--tools <file>", "declared tools (JSON array); calls to other names are flagged unknown_tool")
    .action(async (options: { profile?: string; tools?: string }) => {
      if (options.profile !== undefined) getProfile(options.profile);
      const tools = options.tools === undefined ? undefined : normalizeTools(await readToolsFile(options.tools)).map((t) => t.name);
      let input = "";
      process.stdin.setEncoding("utf8");
      for await (const chunk of process.stdin) input += chunk as string;
      process.stdout.write(JSON.stringify(parseOutput(input, tools)) + "\n");
    });
}

/** Strip a trailing `<|im_end|>` (the stop token, when the output was copied with it) and parse. */
export function parseOutput(raw: string, tools: readonly string[] | undefined): ReturnType<typeof toOpenAIAssistantMessage> {
  const text = raw.replace(/<\|im_end\|>\s*$/, "");
  return toOpenAIAssistantMessage(parseToolCalls(text, { tools: tools ?? null }));
}
