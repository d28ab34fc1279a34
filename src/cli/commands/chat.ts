/**
 * `talaria chat`: interactive terminal chat with streaming, multi-turn history, `/reset`,
 * `/system`, `/tool`, and Ctrl-C to stop the current reply; `-p MESSAGE` answers once and exits.
 * Tool calls are parsed as they complete and shown; `/tool RESULT` answers the pending call.
 */
import { createInterface } from "node:readline";
import type { Command } from "commander";
import type { Engine, SamplingOptions } from "../../engine/types.js";
import {
  renderPrompt,
  ToolCallStreamParser,
  normalizeTools,
  warnProfileOnce,
  type HermesMessage,
  type HermesProfile,
  type ParsedToolCall,
  type PromptStyle,
  type ToolDefinition,
  type ToolInput,
} from "../../hermes/index.js";
import { chooseProfile, loadEngine, parsePositiveInt, readToolsFile } from "./hermes-io.js";
import { parseNumber } from "../option-parsers.js";

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

export interface ChatTurnResult {
  readonly content: string;
  readonly toolCalls: readonly ParsedToolCall[];
  readonly finishReason: string;
}

/** Format a parsed call for the terminal. */
export function formatToolCall(call: ParsedToolCall): string {
  return `[tool call ${call.id}] ${call.name} ${call.arguments}${call.unknownTool ? " (unknown tool)" : ""}`;
}

/** One conversation with a model: history, streaming replies and parsed tool calls. */
export class ChatSession {
  private messages: HermesMessage[] = [];
  private system: string | undefined;
  private pending: ParsedToolCall[] = [];
  private readonly tools: readonly ToolDefinition[];
  private readonly profile: HermesProfile;

  constructor(private readonly options: ChatSessionOptions) {
    this.system = options.system;
    this.tools = normalizeTools(options.tools ?? []);
    this.profile = options.profile ?? chooseProfile(undefined, options.engine.info).profile;
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
  pendingToolCalls(): readonly ParsedToolCall[] {
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
    this.messages.push({ role: "tool", tool_call_id: call.id, name: call.name, content });
    if (this.pending.length > 0) return undefined;
    return this.reply(signal);
  }

  private async reply(signal?: AbortSignal): Promise<ChatTurnResult> {
    const { engine, output } = this.options;
    const notes = this.options.notes ?? output;
    const info = engine.info;
    const history: HermesMessage[] = this.system === undefined ? this.messages : [{ role: "system", content: this.system }, ...this.messages];
    const style = this.options.style ?? "card";
    const template = info.chatTemplates["tool_use"];
    const prompt = renderPrompt({
      messages: history,
      ...(this.tools.length > 0 ? { tools: this.tools } : {}),
      style,
      profile: this.profile,
      ...(template !== undefined ? { template } : {}),
      bosToken: info.specialTokens.bos?.text ?? "",
    });
    const parser = new ToolCallStreamParser({ tools: this.tools.length > 0 ? this.tools.map((t) => t.name) : null });
    let finishReason = "stop";
    const handle = (events: ReturnType<ToolCallStreamParser["push"]>): void => {
      for (const event of events) {
        switch (event.type) {
          case "text-delta":
            output.write(event.text);
            break;
          case "tool-call-end":
            output.write(`\n${formatToolCall(event)}\n`);
            break;
          case "error":
            notes.write(`\n[tool call error: ${event.error.kind}] ${event.error.message}\n`);
            break;
          case "tool-call-start":
          case "tool-call-delta":
            break;
          default:
            event satisfies never;
        }
      }
    };
    try {
      for await (const event of engine.generate({
        prompt,
        maxTokens: this.options.maxTokens ?? 1024,
        ...(this.options.sampling === undefined ? {} : { sampling: this.options.sampling }),
        ...(signal === undefined ? {} : { signal }),
      })) {
        if (event.type === "text-delta") handle(parser.push(event.text));
        else finishReason = event.reason;
      }
    } catch (error) {
      if (!(signal?.aborted ?? false)) throw error;
      finishReason = "abort";
    }
    handle(parser.end());
    const result = parser.result();
    this.messages.push({
      role: "assistant",
      content: result.content === "" && result.toolCalls.length > 0 ? null : result.content,
      ...(result.toolCalls.length > 0
        ? { tool_calls: result.toolCalls.map((c) => ({ id: c.id, type: "function" as const, function: { name: c.name, arguments: c.arguments } })) }
        : {}),
    });
    this.pending = [...result.toolCalls];
    return { content: result.content, toolCalls: result.toolCalls, finishReason };
  }
}

interface ChatCommandOptions {
  readonly model: string;
  readonly system?: string;
  readonly tools?: string;
  readonly style: string;
  readonly profile?: string;
  readonly prompt?: string;
  readonly maxTokens: number;
  readonly temperature?: number;
  readonly seed?: number;
  readonly threads?: number;
  readonly contextSize?: number;
}

export function register(program: Command): void {
  program
    .command("chat")
    .description("Chat with a Hermes model in the terminal (streaming; /reset, /system TEXT, /tool RESULT, /exit; Ctrl-C stops a reply).")
    .requiredOption("--model <gguf>", "GGUF file or hf: URI")
    .option("--system <text>", "system prompt")
    .option("--tools <file>", "tools the model may call (JSON array of OpenAI tools)")
    .option("--style <style>", "function-calling prompt style: card or template", "card")
    .option("--profile <profile>", "hermes-2-pro | hermes-3 | hermes-3-llama-3.2-3b | chatml (default: detected)")
    .option("-p, --prompt <message>", "answer this one message and exit")
    .option("--max-tokens <n>", "maximum tokens per reply", parsePositiveInt, 1024)
    .option("--temperature <t>", "sampling temperature (0 = greedy)", parseNumber)
    .option("--seed <n>", "sampling seed", parseNumber)
    .option("--threads <n>", "CPU threads", parsePositiveInt)
    .option("--context-size <n>", "context size in tokens", parsePositiveInt)
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
  const engine = await loadEngine(options.model, {
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.contextSize === undefined ? {} : { contextSize: options.contextSize }),
  });
  try {
    const { profile } = chooseProfile(options.profile, engine.info);
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
  const rl = createInterface({ input: io.input, output: process.stdout, terminal: process.stdout.isTTY === true });
  let current: AbortController | undefined;
  let closed = false;
  rl.on("SIGINT", () => {
    if (current !== undefined) current.abort();
    else rl.close();
  });
  rl.on("close", () => {
    closed = true;
  });
  io.notes.write("Type a message. /reset, /system TEXT, /tool RESULT, /exit. Ctrl-C stops a reply.\n");
  const ask = (): Promise<string | undefined> =>
    new Promise((resolve) => {
      if (closed) return resolve(undefined);
      const onClose = (): void => resolve(undefined);
      rl.once("close", onClose);
      rl.question("> ", (answer) => {
        rl.off("close", onClose);
        resolve(answer);
      });
    });
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
