import type { Command } from "commander";

// Placeholder: being written in this session.
export function register(program: Command): void {
  program.command("generate").action(() => {
    throw new Error("generate: not built yet");
  });
}
