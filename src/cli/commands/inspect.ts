import type { Command } from "commander";

// Placeholder: being written in this session.
export function register(program: Command): void {
  program.command("inspect").action(() => {
    throw new Error("inspect: not built yet");
  });
}
