import type { Command } from "commander";

// Placeholder: being written in this session.
export function register(program: Command): void {
  program.command("make-test-model").action(() => {
    throw new Error("make-test-model: not built yet");
  });
}
