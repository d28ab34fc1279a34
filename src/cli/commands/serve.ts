import type { Command } from "commander";

export function register(program: Command): void {
  program
    .command("serve")
    .description("OpenAI-compatible server (coming with the server issue)")
    .option("--model <file-or-uri>", "GGUF path or hf: URI")
    .action(() => {
      process.stderr.write("talaria serve: coming with the server issue (#5). Use `talaria generate` meanwhile.\n");
      process.exitCode = 2;
    });
}
