/** Run CLI commands in-process (commander wiring included), capturing stdout, stderr and the exit code. */
import { Command } from "commander";
import { vi } from "vitest";

/** `register` functions of the commands to wire (e.g. `run`'s and `json`'s), then `args` as typed after `talaria`. */
export async function runCli(register: readonly ((program: Command) => void)[], args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const program = new Command().exitOverride();
  for (const r of register) r(program);
  let stdout = "";
  let stderr = "";
  const capture = (sink: "out" | "err") => (chunk: string | Uint8Array) => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    if (sink === "out") stdout += text;
    else stderr += text;
    return true;
  };
  vi.spyOn(process.stdout, "write").mockImplementation(capture("out"));
  vi.spyOn(process.stderr, "write").mockImplementation(capture("err"));
  process.exitCode = 0;
  try {
    await program.parseAsync(args, { from: "user" });
  } finally {
    vi.restoreAllMocks();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { stdout, stderr, code };
}
