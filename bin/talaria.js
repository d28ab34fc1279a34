#!/usr/bin/env node
import { spawn } from "node:child_process";

// `talaria serve` on Linux runs with MALLOC_ARENA_MAX=2: glibc's per-thread malloc arenas otherwise
// keep the native memory of every grammar llama.cpp ever built (RSS +170 MB over 320 distinct JSON
// schemas, against +50 MB with 2 arenas; docs/reliability.md). glibc reads it only at start-up, so the
// command re-runs itself once with it set. Set MALLOC_ARENA_MAX yourself (any value) to skip this.
if (process.platform === "linux" && process.env.MALLOC_ARENA_MAX === undefined && process.argv[2] === "serve") {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: { ...process.env, MALLOC_ARENA_MAX: "2" },
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => {
    if (signal !== null) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
} else {
  const { main } = await import("../dist/cli/main.js");
  main(process.argv).catch((error) => {
    process.stderr.write(`talaria: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
