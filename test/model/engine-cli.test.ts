/** `talaria generate` and `talaria inspect` in-process on a generated scripted model. */
import { Command } from "commander";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { register as registerGenerate } from "../../src/cli/commands/generate.js";
import { register as registerInspect } from "../../src/cli/commands/inspect.js";
import { ensureTestModel } from "../../src/testmodels/index.js";

let model: string;
const PROMPT = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n";

/** Runs the CLI in-process; `tty` says whether stdout looks like a terminal (default: piped). */
async function run(args: string[], tty = false): Promise<string> {
  const program = new Command().exitOverride();
  const wasTty = Object.getOwnPropertyDescriptor(process.stdout, "isTTY");
  Object.defineProperty(process.stdout, "isTTY", { value: tty, configurable: true, writable: true });
  registerGenerate(program);
  registerInspect(program);
  let out = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    return true;
  });
  try {
    await program.parseAsync(args, { from: "user" });
  } finally {
    spy.mockRestore();
    if (wasTty === undefined) delete (process.stdout as { isTTY?: boolean }).isTTY;
    else Object.defineProperty(process.stdout, "isTTY", wasTty);
  }
  return out;
}

beforeAll(async () => {
  model = await ensureTestModel({ kind: "scripted", reply: "Hello from Talaria 👋" });
});
afterEach(() => vi.restoreAllMocks());

describe("talaria generate / inspect", () => {
  it("generate prints exactly the completion, with no trailing newline, when piped", async () => {
    expect(await run(["generate", "--model", model, "--threads", "1", "--context-size", "256", "--prompt", PROMPT])).toBe("Hello from Talaria 👋");
  });

  it("generate ends with a newline on a terminal (so the shell prompt starts on its own line)", async () => {
    expect(await run(["generate", "--model", model, "--threads", "1", "--context-size", "256", "--prompt", PROMPT], true)).toBe("Hello from Talaria 👋\n");
  });

  it("generate honours repeated --stop and --no-sample", async () => {
    const base = ["generate", "--model", model, "--threads", "1", "--context-size", "256", "--prompt", PROMPT, "--no-sample"];
    expect(await run([...base, "--stop", "zzz", "--stop", "from T"])).toBe("Hello ");
  });

  it("inspect prints the metadata table", async () => {
    const table = await run(["inspect", "--model", model, "--threads", "1"]);
    expect(table).toMatch(/^architecture\s+llama$/m);
    expect(table).toMatch(/^end of generation\s+.*"<\|im_end\|>" \(128039\)/m);
    expect(table).toMatch(/^chat templates\s+default \(\d+ chars\), tool_use \(\d+ chars\)$/m);
    expect(table).toMatch(/^context size\s+4096$/m);
    // the composition root's setup: the same resolution `run` and `serve` use
    expect(table).toMatch(/^profile\s+hermes-3-llama-3.2-3b \(/m);
    expect(table).toMatch(/^tool_use template\s+the model's own \(\d+ chars\)$/m);
    expect(table).toMatch(/^chat setup\s+profile hermes-3-llama-3.2-3b \(detected\), card style$/m);
    const official = await run(["inspect", "--model", model, "--threads", "1", "--style", "template", "--template", "official"]);
    expect(official).toMatch(/^tool_use template\s+official Hermes \(--template official\)$/m);
    expect(official).toMatch(/^chat setup\s+profile hermes-3-llama-3.2-3b \(detected\), template style, tool_use template: official Hermes$/m);
    const json = JSON.parse(await run(["inspect", "--model", model, "--threads", "1", "--json", "--template", "official"])) as { chat: { templateSource: string } };
    expect(json.chat.templateSource).toBe("official");
  });
});
