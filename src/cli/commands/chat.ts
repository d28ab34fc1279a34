/**
 * `talaria chat`: interactive terminal chat with streaming, multi-turn history, `/reset`,
 * `/system`, `/tool`, and Ctrl-C to stop the current reply; `-p MESSAGE` answers once and exits.
 * Tool calls are parsed as they complete and shown; `/tool RESULT` answers the pending call.
 * Input lines are queued and answered in order (`printf 'hi\nagain\n' | talaria chat --model M`
 * answers both, then exits when stdin closes).
 */
import { createInterface } from "node:readline";
import type { Command } from "commander";
import type { Engine, SamplingOptions } from "../../engine/types.js";
import { normalizeTools, warnProfileOnce, getProfile, type HermesProfile, type PromptStyle, type ToolInput } from "../../hermes/index.js";
import { createHermesChat, resolveHermesChatSetup, type TemplateChoice } from "../../chat/hermes-chat.js";
import type { ChatService } from "../../chat/service.js";
import type { ChatMessage, ToolDefinition } from "../../chat/types.js";
import { readToolsFile } from "./hermes-io.js";
import { addBackendOptions, backendFlagsOf, loadAnyEngine, type BackendFlags } from "../engine-loader.js";
import { parseNumber, parsePositiveInt, parseTemplateChoice, TEMPLATE_OPTION_HELP } from "../option-parsers.js";

export interface ChatOutput {
  write(text: string): void;
}

export interface ChatSessionOptions {
  readonly engine: Engine;
  /** System prompt. Default none. */
  readonly system?: string;
  /** Tools offered to the model. Default none. */
  readonly tools?: readonly ToolInput[];
  /** Prompt style. Default `card`. */
  readonly style?: PromptStyle;
  /** The tool_use template of the `template` style. Default `model`. */
  readonly template?: TemplateChoice;
  /** Model profile. Default: detected from the engine's model metadata. */
  readonly profile?: HermesProfile;
  /** Maximum tokens per reply. Default 1024. */
  readonly maxTokens?: number;
  /** Sampling. Default: the engine's defaults. */
  readonly sampling?: SamplingOptions;
  /** Where the reply streams. */
  readonly output: ChatOutput;
  /** Where tool-call errors and notes go. Default: `output`. */
  readonly notes?: ChatOutput;
}

/** A parsed tool call of a reply. */
export interface ChatTurnToolCall {
  readonly id: string;
  readonly name: string;
  /** The arguments as JSON text. */
  readonly arguments: string;
  /** True when the name is not a declared tool. */
  readonly unknownTool: boolean;
}

export interface ChatTurnResult {
  readonly content: string;
  readonly toolCalls: readonly ChatTurnToolCall[];
  readonly finishReason: string;
}

/** Format a parsed call for the terminal. */
export function formatToolCall(call: ChatTurnToolCall): string {
  return `[tool call ${call.id}] ${call.name} ${call.arguments}${call.unknownTool ? " (unknown tool)" : ""}`;
}

/**
 * One conversation with a model: history, streaming replies and parsed tool calls, on the chat
 * service from the composition root (`createHermesChat`; unconstrained and unvalidated, as a
 * terminal chat shows what the model writes).
 */
export class ChatSession {
  private messages: ChatMessage[] = [];
  private system: string | undefined;
  private pending: ChatTurnToolCall[] = [];
  private readonly tools: readonly ToolDefinition[];
  private readonly service: ChatService;

  constructor(private readonly options: ChatSessionOptions) {
    this.system = options.system;
    this.tools = normalizeTools(options.tools ?? []).map((t) => ({
      name: t.name,
      ...(t.description === undefined ? {} : { description: t.description }),
      ...(t.parameters === undefined ? {} : { parameters: t.parameters as Readonly<Record<string, unknown>> }),
    }));
    this.service = createHermesChat(options.engine, {
      ...(options.profile === undefined ? {} : { profile: options.profile.id }),
      ...(options.style === undefined ? {} : { style: options.style }),
      ...(options.template === undefined ? {} : { template: options.template }),
      constrained: false,
      validate: false,
    }).service;
  }

  /** Forget the conversation (the system prompt stays). */
  reset(): void {
    this.messages = [];
    this.pending = [];
  }

  setSystem(text: string | undefined): void {
    this.system = text === "" ? undefined : text;
  }

  /** Calls of the last reply that still wait for a `/tool` result. */
  pendingToolCalls(): readonly ChatTurnToolCall[] {
    return this.pending;
  }

  async send(userText: string, signal?: AbortSignal): Promise<ChatTurnResult> {
    this.messages.push({ role: "user", content: userText });
    return this.reply(signal);
  }

  /** Answer the oldest pending tool call; when none are left, the model replies. */
  async sendToolResult(content: string, signal?: AbortSignal): Promise<ChatTurnResult | undefined> {
    const call = this.pending.shift();
    if (call === undefined) throw new Error("no tool call is waiting for a result");
    this.messages.push({ role: "tool", toolCallId: call.id, name: call.name, content });
    if (this.pending.length > 0) return undefined;
    return this.reply(signal);
  }

  private async reply(signal?: AbortSignal): Promise<ChatTurnResult> {
    const { output } = this.options;
    const notes = this.options.notes ?? output;
    const history: ChatMessage[] = this.system === undefined ? this.messages : [{ role: "system", content: this.system }, ...this.messages];
    const declared = new Set(this.tools.map((t) => t.name));
    const prepared = await this.service.prepare({
      messages: history,
      ...(this.tools.length > 0 ? { tools: this.tools } : {}),
      maxTokens: this.options.maxTokens ?? 1024,
      ...(this.options.sampling === undefined ? {} : { sampling: this.options.sampling }),
    });
    let content = "";
    const calls: ChatTurnToolCall[] = [];
    let finishReason = "stop";
    try {
      for await (const event of this.service.stream(prepared, signal === undefined ? {} : { signal })) {
        switch (event.type) {
          case "text-delta":
            content += event.text;
            output.write(event.text);
            break;
          case "tool-call-end": {
            const call = { id: event.id, name: event.name, arguments: event.arguments, unknownTool: !declared.has(event.name) };
            calls.push(call);
            output.write(`\n${formatToolCall(call)}\n`);
            break;
          }
          case "tool-call-error":
            notes.write(`\n[tool call error: ${event.kind}] ${event.message}\n`);
            break;
          case "warning":
            notes.write(`\n[warning: ${event.code}] ${event.message}\n`);
            break;
          case "finish":
            finishReason = event.reason;
            break;
          case "generation-start":
          case "tool-call-start":
          case "tool-call-delta":
          case "logprobs":
          case "validation-error":
            break;
          default:
            event satisfies never;
        }
      }
    } catch (error) {
      if (!(signal?.aborted ?? false)) throw error;
      finishReason = "abort";
    }
    const text = calls.length > 0 ? content.trim() : content;
    this.messages.push({ role: "assistant", content: text === "" && calls.length > 0 ? null : text, ...(calls.length > 0 ? { toolCalls: calls } : {}) });
    this.pending = [...calls];
    return { content: text, toolCalls: calls, finishReason };
  }
}

interface ChatCommandOptions extends Readonly<BackendFlags> {
  readonly model?: string;
  readonly system?: string;
  readonly tools?: string;
  readonly style: string;
  readonly template?: "model" | "official";
  readonly profile?: string;
  readonly prompt?: string;
  readonly maxTokens: number;
  readonly temperature?: number;
  readonly seed?: number;
  readonly threads?: number;
  readonly contextSize?: number;
}

export function register(program: Command): void {
  const command = program
    .command("chat")
    .description("Chat with a Hermes model in the terminal (streaming; /reset, /system TEXT, /tool RESULT, /exit; Ctrl-C stops a reply).")
    .option("--model <gguf>", "GGUF file or hf: URI (or --backend <url>)")
    .option("--system <text>", "system prompt")
    .option("--tools <file>", "tools the model may call (JSON array of OpenAI tools)")
    .option("--style <style>", "function-calling prompt style: card or template", "card")
    .option("--template <which>", TEMPLATE_OPTION_HELP, parseTemplateChoice)
    .option("--profile <profile>", "hermes-2-pro | hermes-3 | hermes-3-llama-3.2-3b | chatml (default: detected)")
    .option("-p, --prompt <message>", "answer this one message and exit")
    .option("--max-tokens <n>", "maximum tokens per reply", parsePositiveInt, 1024)
    .option("--temperature <t>", "sampling temperature (0 = greedy)", parseNumber)
    .option("--seed <n>", "sampling seed", parseNumber)
    .option("--threads <n>", "CPU threads", parsePositiveInt)
    .option("--context-size <n>", "context size in tokens", parsePositiveInt);
  addBackendOptions(command)
    .action(async (options: ChatCommandOptions) => {
      await runChat(options, { output: process.stdout, notes: process.stderr, input: process.stdin });
    });
}

export async function runChat(
  options: ChatCommandOptions,
  io: { output: ChatOutput; notes: ChatOutput; input: NodeJS.ReadableStream },
): Promise<void> {
  if (options.style !== "card" && options.style !== "template") throw new Error(`--style must be card or template, got ${options.style}`);
  const tools = options.tools === undefined ? [] : await readToolsFile(options.tools);
  const engine = await loadAnyEngine({
    ...(options.model === undefined ? {} : { model: options.model }),
    ...backendFlagsOf(options),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.contextSize === undefined ? {} : { contextSize: options.contextSize }),
  });
  try {
    const profile = getProfile(resolveHermesChatSetup(engine.info, { profile: options.profile === undefined ? "auto" : getProfile(options.profile).id }).profile);
    warnProfileOnce(profile, (m) => io.notes.write(m + "\n"));
    const sampling: SamplingOptions = {
      ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    };
    const session = new ChatSession({
      engine,
      ...(options.system === undefined ? {} : { system: options.system }),
      tools,
      style: options.style,
      ...(options.template === undefined ? {} : { template: options.template }),
      profile,
      maxTokens: options.maxTokens,
      sampling,
      output: io.output,
      notes: io.notes,
    });
    if (options.prompt !== undefined) {
      await session.send(options.prompt);
      io.output.write("\n");
      return;
    }
    await interactive(session, io);
  } finally {
    await engine.dispose();
  }
}

async function interactive(session: ChatSession, io: { output: ChatOutput; notes: ChatOutput; input: NodeJS.ReadableStream }): Promise<void> {
  // Line editing only when a person types at a terminal; piped input is read as plain lines.
  const terminal = (io.input as { isTTY?: boolean }).isTTY === true && process.stdout.isTTY === true;
  const rl = terminal
    ? createInterface({ input: io.input, output: process.stdout, terminal: true, prompt: "> " })
    : createInterface({ input: io.input, terminal: false });
  // Every line is queued as it arrives (piped in at once, or typed while the model loads or replies)
  // and answered in order; when the input closes, the chat ends after the last queued line.
  const queue: string[] = [];
  let closed = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  rl.on("line", (line) => {
    queue.push(line);
    notify();
  });
  rl.on("close", () => {
    closed = true;
    notify();
  });
  let current: AbortController | undefined;
  rl.on("SIGINT", () => {
    if (current !== undefined) current.abort();
    else rl.close();
  });
  io.notes.write("Type a message. /reset, /system TEXT, /tool RESULT, /exit. Ctrl-C stops a reply.\n");
  const ask = async (): Promise<string | undefined> => {
    if (terminal) rl.prompt();
    else io.output.write("> ");
    while (queue.length === 0) {
      if (closed) return undefined;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    return queue.shift();
  };
  for (;;) {
    const line = await ask();
    if (line === undefined) break;
    const text = line.trim();
    if (text === "") continue;
    if (text === "/exit" || text === "/quit") break;
    if (text === "/reset") {
      session.reset();
      io.notes.write("(conversation reset)\n");
      continue;
    }
    if (text === "/system" || text.startsWith("/system ")) {
      session.setSystem(text.slice("/system".length).trim());
      session.reset();
      io.notes.write("(system prompt set; conversation reset)\n");
      continue;
    }
    current = new AbortController();
    try {
      if (text === "/tool" || text.startsWith("/tool ")) {
        if (session.pendingToolCalls().length === 0) {
          io.notes.write("(no tool call is waiting for a result)\n");
          continue;
        }
        const result = await session.sendToolResult(text.slice("/tool".length).trim(), current.signal);
        if (result === undefined) io.notes.write(`(${session.pendingToolCalls().length} more tool result(s) expected)\n`);
      } else {
        await session.send(text, current.signal);
      }
      io.output.write("\n");
      if (current.signal.aborted) io.notes.write("(stopped)\n");
    } catch (error) {
      io.notes.write(`error: ${(error as Error).message}\n`);
    } finally {
      current = undefined;
    }
  }
  rl.close();
}
