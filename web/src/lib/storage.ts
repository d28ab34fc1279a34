/**
 * Conversations and settings kept in the browser (`localStorage`), read defensively: a missing, corrupt or
 * foreign value yields the defaults instead of breaking the page. DOM-free: takes any key-value store.
 */
import { DEFAULT_SETTINGS, type Conversation, type Settings, type UiMessage } from "./model.js";
import { isMcpCall, readMcpSettings, type McpSettings } from "./mcp.js";

/** The part of the Web Storage API used here. */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export const CONVERSATIONS_KEY = "talaria.web.conversations.v1";
export const SETTINGS_KEY = "talaria.web.settings.v1";
export const ACTIVE_KEY = "talaria.web.active.v1";
export const SETTINGS_OPEN_KEY = "talaria.web.settingsOpen.v1";
export const MCP_SETTINGS_KEY = "talaria.web.mcp.v1";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readJson(store: KeyValueStore, key: string): unknown {
  try {
    const text = store.getItem(key);
    return text === null ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

function isMessage(value: unknown): value is UiMessage {
  if (!isRecord(value) || typeof value["id"] !== "string" || typeof value["content"] !== "string") return false;
  switch (value["role"]) {
    case "user":
      return true;
    case "assistant":
      return (
        (value["toolCalls"] === undefined || Array.isArray(value["toolCalls"])) &&
        (value["mcpCalls"] === undefined || Array.isArray(value["mcpCalls"]))
      );
    case "tool":
      return typeof value["toolCallId"] === "string";
    default:
      return false;
  }
}

function isConversation(value: unknown): value is Conversation {
  return (
    isRecord(value) &&
    typeof value["id"] === "string" &&
    typeof value["title"] === "string" &&
    typeof value["systemPrompt"] === "string" &&
    typeof value["createdAt"] === "number" &&
    typeof value["updatedAt"] === "number" &&
    Array.isArray(value["messages"]) &&
    value["messages"].every(isMessage)
  );
}

/** An assistant message keeps only the stored MCP calls that look right (a bad one must not break the page). */
function withValidMcpCalls(message: UiMessage): UiMessage {
  if (message.role !== "assistant" || message.mcpCalls === undefined) return message;
  const calls: unknown[] = [...message.mcpCalls];
  return { ...message, mcpCalls: calls.filter(isMcpCall) };
}

/** Stored conversations, newest first; entries that do not look like conversations are dropped. */
export function loadConversations(store: KeyValueStore): Conversation[] {
  const value = readJson(store, CONVERSATIONS_KEY);
  if (!Array.isArray(value)) return [];
  return value
    .filter(isConversation)
    .map((c) => ({ ...c, titleEdited: c.titleEdited === true, messages: c.messages.map(withValidMcpCalls) }))
    .sort((a, b) => b.updatedAt - a.updatedAt);
}

/** Save; returns an error message when the browser refuses (quota, private mode), else null. */
export function saveConversations(store: KeyValueStore, conversations: readonly Conversation[]): string | null {
  return write(store, CONVERSATIONS_KEY, JSON.stringify(conversations));
}

export function loadSettings(store: KeyValueStore): Settings {
  const value = readJson(store, SETTINGS_KEY);
  if (!isRecord(value)) return DEFAULT_SETTINGS;
  const out: Record<string, string | boolean> = { ...DEFAULT_SETTINGS };
  for (const [key, fallback] of Object.entries(DEFAULT_SETTINGS)) {
    const stored = value[key];
    if (typeof stored === typeof fallback) out[key] = stored as string | boolean;
  }
  return out as unknown as Settings;
}

export function saveSettings(store: KeyValueStore, settings: Settings): string | null {
  return write(store, SETTINGS_KEY, JSON.stringify(settings));
}

/** Which MCP servers and tools the user turned on, and whether calls need approval. */
export function loadMcpSettings(store: KeyValueStore): McpSettings {
  return readMcpSettings(readJson(store, MCP_SETTINGS_KEY));
}

export function saveMcpSettings(store: KeyValueStore, settings: McpSettings): string | null {
  return write(store, MCP_SETTINGS_KEY, JSON.stringify(settings));
}

export function loadActiveId(store: KeyValueStore): string | null {
  try {
    return store.getItem(ACTIVE_KEY);
  } catch {
    return null;
  }
}

export function saveActiveId(store: KeyValueStore, id: string): void {
  write(store, ACTIVE_KEY, id);
}

/** Whether the user last left the settings panel open (`null`: never chose; the caller's default applies). */
export function loadSettingsOpen(store: KeyValueStore): boolean | null {
  try {
    const value = store.getItem(SETTINGS_OPEN_KEY);
    return value === "open" ? true : value === "closed" ? false : null;
  } catch {
    return null;
  }
}

export function saveSettingsOpen(store: KeyValueStore, open: boolean): void {
  write(store, SETTINGS_OPEN_KEY, open ? "open" : "closed");
}

function write(store: KeyValueStore, key: string, value: string): string | null {
  try {
    store.setItem(key, value);
    return null;
  } catch (error) {
    return `Could not save in this browser's storage: ${error instanceof Error ? error.message : String(error)}`;
  }
}
