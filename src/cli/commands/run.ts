/**
 * `talaria run --model F --tools tools.ts "query"` (and/or `--mcp mcp.json`: MCP servers' tools, started
 * for the run and ended after it): the agent loop in the terminal. Prints each step
 * (text, calls with their arguments, results, errors); the last step's streamed text is the answer
 * (printed once), then a summary line. `--json` prints one JSON
 * document with the whole trace instead. Exit codes: 0 answered, 1 error, 2 `--max-depth` reached
 * without an answer, 130 interrupted (Ctrl-C).
 */
import type { Command } from "commander";
import { loadToolsModule, runAgent, type AgentEvent, type AgentTool, type AgentToolChoice } from "../../agent/index.js";
import type { Engine, SamplingOptions } from "../../engine/types.js";
import { warnProfileOnce } from "../../hermes/index.js";
import { chooseProfile } from "./hermes-io.js";
import { addBackendOptions, backendFlagsOf, loadAnyEngine, type BackendFlags } from "../engine-loader.js";
import { parsePositiveInt, parseTemplateChoice, TEMPLATE_OPTION_HELP } from "../option-parsers.js";
import { parseNumber } from "../option-parsers.js";
import { withSigintAbort } from "../sigint.js";
import { McpToolset, readMcpConfig, type McpServerConfig } from "../../mcp/index.js";

export interface RunCommandOptions extends Readonly<BackendFlags> {
  readonly model?: string;
  readonly tools?: readonly string[];
  /** `mcpServers` JSON files (repeatable). */
  readonly mcp?: readonly string[];
  /** Seconds an MCP tool call may take where the config sets no `timeout`. Default 60. */
  readonly mcpTimeout?: number;
  readonly system?: string;
  readonly profile?: string;
  readonly style: string;
  readonly template?: "model" | "official";
  readonly maxDepth: number;
  readonly toolChoice: string;
  readonly parallelToolCalls: boolean;
  readonly constrained: boolean;
  readonly maxTokens: number;
  readonly temperature?: number;
  readonly seed?: number;
  readonly threads?: number;
  readonly contextSize?: number;
  readonly json?: boolean;
}

export interface RunIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Aborts the run (the CLI wires SIGINT). */
  readonly signal?: AbortSignal;
}

function collect(value: string, previous: readonly string[] = []): string[] {
  return [...previous, value];
}

function parseToolChoice(value: string): AgentToolChoice {
  return value === "auto" || value === "required" || value === "none" ? value : { name: value };
}

/** One line per agent event for people (text deltas are streamed as they come). */
export function formatEvent(event: AgentEvent, state: { midLine: boolean }): string {
  const line = (text: string): string => {
    const prefix = state.midLine ? "\n" : "";
    state.midLine = false;
    return `${prefix}${text}\n`;
  };
  switch (event.type) {
    case "step-start":
      return line(`── step ${event.step}`);
    case "warning":
      return line(`! ${event.code}: ${event.message}`);
    case "text-delta":
      state.midLine = !event.text.endsWith("\n");
      return event.text;
    case "tool-call":
      return line(`→ ${event.name} ${event.argumentsText}`);
    case "tool-approval-request":
      return "";
    case "tool-result":
      return line(`← ${event.name} ${event.content}`);
    case "tool-error":
      return line(`✗ ${event.name} (${event.kind}): ${event.message}`);
    case "step-finish":
      // End the streamed text's line (once: no blank line before the next step or the summary).
      if (!state.midLine) return "";
      state.midLine = false;
      return "\n";
    case "final-answer":
      return "";
    case "finish":
      return line(
        `── ${event.reason} after ${event.steps} step${event.steps === 1 ? "" : "s"} (${event.usage.promptTokens} prompt + ${event.usage.completionTokens} completion tokens)`,
      );
    default:
      event satisfies never;
      return "";
  }
}

export async function runRun(query: string, options: RunCommandOptions, io: RunIo, engineOverride?: Engine): Promise<number> {
  if (options.style !== "card" && options.style !== "template") throw new Error(`--style must be card or template, got ${options.style}`);
  const toolFiles = options.tools ?? [];
  const mcpFiles = options.mcp ?? [];
  if (toolFiles.length === 0 && mcpFiles.length === 0) throw new Error("give at least one --tools FILE or --mcp FILE");
  const tools: AgentTool<never>[] = [];
  for (const file of toolFiles) tools.push(...(await loadToolsModule(file)));
  const configs: McpServerConfig[] = [];
  for (const file of mcpFiles) configs.push(...(await readMcpConfig(file, options.mcpTimeout === undefined ? {} : { defaultTimeoutS: options.mcpTimeout })));
  const mcp =
    configs.length === 0
      ? undefined
      : await McpToolset.start(configs, { log: (line) => io.stderr.write(line + "\n"), reservedNames: tools.map((t) => t.name) });
  try {
    if (mcp !== undefined) tools.push(...mcp.agentTools());
    return await runWithTools(query, options, io, tools, engineOverride);
  } finally {
    await mcp?.close();
  }
}

async function runWithTools(query: string, options: RunCommandOptions, io: RunIo, tools: AgentTool<never>[], engineOverride: Engine | undefined): Promise<number> {
  const engine =
    engineOverride ??
    (await loadAnyEngine({
      ...(options.model === undefined ? {} : { model: options.model }),
      ...backendFlagsOf(options),
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...(options.contextSize === undefined ? {} : { contextSize: options.contextSize }),
    }));
  try {
    const { profile } = chooseProfile(options.profile, engine.info);
    warnProfileOnce(profile, (m) => io.stderr.write(m + "\n"));
    const sampling: SamplingOptions = {
      ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    };
    const events: AgentEvent[] = [];
    const state = { midLine: false };
    let finish: Extract<AgentEvent, { type: "finish" }> | undefined;
    for await (const event of runAgent({
      engine,
      tools,
      query,
      ...(options.system === undefined ? {} : { system: options.system }),
      profile: profile.id,
      style: options.style === "template" ? "template" : "card",
      ...(options.template === undefined ? {} : { template: options.template }),
      maxDepth: options.maxDepth,
      toolChoice: parseToolChoice(options.toolChoice),
      parallelToolCalls: options.parallelToolCalls,
      constrained: options.constrained,
      maxTokens: options.maxTokens,
      sampling,
      ...(io.signal === undefined ? {} : { signal: io.signal }),
    })) {
      if (event.type === "finish") finish = event;
      if (options.json === true) events.push(event);
      else io.stdout.write(formatEvent(event, state));
    }
    if (finish === undefined) throw new Error("the agent ended without finishing");
    if (options.json === true) {
      const { messages, ...summary } = finish;
      io.stdout.write(
        JSON.stringify({ ...summary, model: engine.info.source, profile: profile.id, trace: events.filter((e) => e.type !== "finish"), messages }, null, 2) + "\n",
      );
    }
    // Without --json the answer is already on stdout: it is the last step's streamed text.
    switch (finish.reason) {
      case "final-answer":
        return 0;
      case "length":
        io.stderr.write("talaria: the answer was cut by --max-tokens\n");
        return 0;
      case "max-depth":
        io.stderr.write(`talaria: stopped after --max-depth ${options.maxDepth} tool rounds without an answer\n`);
        return 2;
      case "abort":
        return 130;
      case "approval-required": // the CLI asks no approval
        return 1;
      default:
        finish.reason satisfies never;
        return 1;
    }
  } finally {
    if (engineOverride === undefined) await engine.dispose();
  }
}

export function register(program: Command): void {
  const command = program
    .command("run")
    .description("Answer a query with an agent loop: the model calls your tools (a .js/.mjs/.ts module) until it answers.")
    .argument("<query>", "what to ask")
    .option("--model <gguf>", "GGUF file or hf: URI (or --backend <url>)")
    .option("--tools <file>", "module exporting tools (.js, .mjs or .ts; repeatable)", collect)
    .option("--mcp <file>", "MCP servers as tools: an mcpServers JSON file (repeatable; docs/mcp.md)", collect)
    .option("--mcp-timeout <seconds>", "seconds an MCP tool call may take where the config sets no timeout (default 60)", parseNumber)
    .option("--system <text>", "system message")
    .option("--profile <profile>", "hermes-2-pro | hermes-3 | hermes-3-llama-3.2-3b | chatml (default: detected)")
    .option("--style <style>", "function-calling prompt style: card or template", "card")
    .option("--template <which>", TEMPLATE_OPTION_HELP, parseTemplateChoice)
    .option("--max-depth <n>", "most tool rounds", parsePositiveInt, 5)
    .option("--tool-choice <choice>", "first turn: auto, required, none, or a tool name", "auto")
    .option("--no-parallel-tool-calls", "at most one call per turn")
    .option("--no-constrained", "no grammar: free generation, arguments still validated")
    .option("--max-tokens <n>", "most tokens per model turn", parsePositiveInt, 1024)
    .option("--temperature <t>", "sampling temperature (0 = greedy)", parseNumber)
    .option("--seed <n>", "sampling seed", parseNumber)
    .option("--threads <n>", "CPU threads", parsePositiveInt)
    .option("--context-size <n>", "context size in tokens", parsePositiveInt)
    .option("--json", "print the whole run as one JSON document (trace, answer, messages)");
  addBackendOptions(command)
    .action(async (query: string, options: RunCommandOptions) => {
      process.exitCode = await withSigintAbort((signal) => runRun(query, options, { stdout: process.stdout, stderr: process.stderr, signal }));
    });
}
