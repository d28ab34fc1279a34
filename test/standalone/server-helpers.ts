/** Shared setup for the standalone server tests: an in-process server on 127.0.0.1:0 over the mock engine. */
import { createParser } from "eventsource-parser";
import type { MockEngine, MockEngineOptions } from "../../src/engine/mock/mock-engine.js";
import { createHermesMockEngine as createMockEngine } from "../support/hermes-mock.js";
import { ChatService } from "../../src/chat/service.js";
import { createHermesChatFormat, type HermesChatFormatOptions } from "../../src/chat/hermes-format.js";
import { startServer, type RunningServer, type TalariaServerOptions } from "../../src/server/server.js";

export interface MockServer extends RunningServer {
  readonly engine: MockEngine;
}

export async function startMockServer(
  options: {
    readonly engine?: Partial<MockEngineOptions> & Pick<MockEngineOptions, "script">;
    readonly format?: HermesChatFormatOptions;
    readonly server?: Partial<Omit<TalariaServerOptions, "backend">>;
  },
): Promise<MockServer> {
  const engine = createMockEngine({ sequences: 2, ...options.engine, script: options.engine?.script ?? (() => "") });
  const chat = new ChatService({ engine, format: createHermesChatFormat(options.format ?? {}) });
  const server = await startServer({
    modelId: "talaria-mock",
    host: "127.0.0.1",
    port: 0,
    parallel: engine.stats().sequencesTotal,
    log: () => undefined,
    ...options.server,
    backend: { engine, chat },
  });
  return { ...server, engine };
}

/** Parse Prometheus text into `name{labels}` → value. */
export async function readMetrics(url: string, headers: Record<string, string> = {}): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`, { headers })).text();
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

export const WEATHER_TOOL = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: { type: "object", properties: { city: { type: "string", description: "City name" } }, required: ["city"] },
  },
};

export const PARIS_CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';

/** Read an SSE response to the end: the parsed data payloads ("[DONE]" kept as a string). */
export async function readSse(response: Response): Promise<unknown[]> {
  const out: unknown[] = [];
  const parser = createParser({ onEvent: (e) => out.push(e.data === "[DONE]" ? "[DONE]" : JSON.parse(e.data)) });
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
  return out;
}
