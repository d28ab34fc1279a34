/**
 * The `talaria` command line. Each command lives in `commands/<name>.ts` and exports
 * `register(program)`; this file only wires them together.
 */
import { Command } from "commander";
import { register as registerMakeTestModel } from "./commands/make-test-model.js";
import { register as registerGenerate } from "./commands/generate.js";
import { register as registerInspect } from "./commands/inspect.js";
import { register as registerServe } from "./commands/serve.js";
import { register as registerRender } from "./commands/render.js";
import { register as registerParse } from "./commands/parse.js";
import { register as registerChat } from "./commands/chat.js";
import { register as registerEval } from "./commands/eval.js";
import { register as registerRun } from "./commands/run.js";
import { register as registerJson } from "./commands/json.js";
import { register as registerBench } from "./commands/bench.js";
import { register as registerFuzz } from "./commands/fuzz.js";

export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command();
  program
    .name("talaria")
    .description("Run NousResearch Hermes models: chat, tool calls, JSON mode, OpenAI-compatible serving.")
    .showHelpAfterError();
  registerMakeTestModel(program);
  registerGenerate(program);
  registerInspect(program);
  registerServe(program);
  registerRender(program);
  registerParse(program);
  registerChat(program);
  registerEval(program);
  registerRun(program);
  registerJson(program);
  registerBench(program);
  registerFuzz(program);
  await program.parseAsync([...argv]);
}
