/** The web UI's reply rendering input (a JSON reply → a ```json block) and the remembered settings-panel state. */
import { describe, expect, it } from "vitest";
import { isJsonDocument, replyMarkdown } from "../../web/src/lib/reply.js";
import { SETTINGS_OPEN_KEY, loadSettingsOpen, saveSettingsOpen, type KeyValueStore } from "../../web/src/lib/storage.js";

function memoryStore(): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

describe("replyMarkdown", () => {
  it("wraps a reply that is a JSON object or array in a ```json fence, text unchanged", () => {
    expect(replyMarkdown('{"a": 1}')).toBe('```json\n{"a": 1}\n```');
    expect(replyMarkdown('\n [1, {"b": [2]}] \n')).toBe('```json\n[1, {"b": [2]}]\n```');
    expect(replyMarkdown('{\n  "a": true\n}')).toBe('```json\n{\n  "a": true\n}\n```');
  });

  it("leaves prose, Markdown, scalars and broken JSON alone", () => {
    for (const text of ["Hello **there**", "42", '"a string"', "null", '{"a": 1', "[link](https://example.com)", "[x] done", 'Here: {"a": 1}']) {
      expect(replyMarkdown(text)).toBe(text);
    }
    expect(isJsonDocument("{}")).toBe(true);
    expect(isJsonDocument("{ nope }")).toBe(false);
  });

  it("uses a fence longer than any backtick run inside the JSON", () => {
    expect(replyMarkdown('{"md": "```js\\nx\\n```"}')).toBe('````json\n{"md": "```js\\nx\\n```"}\n````');
  });
});

describe("settings panel state in storage", () => {
  it("is unknown until saved, then remembered open or closed; foreign values read as unknown", () => {
    const store = memoryStore();
    expect(loadSettingsOpen(store)).toBeNull();
    saveSettingsOpen(store, false);
    expect(loadSettingsOpen(store)).toBe(false);
    saveSettingsOpen(store, true);
    expect(loadSettingsOpen(store)).toBe(true);
    store.data.set(SETTINGS_OPEN_KEY, "maybe");
    expect(loadSettingsOpen(store)).toBeNull();
    const broken: KeyValueStore = {
      getItem: () => {
        throw new Error("denied");
      },
      setItem: () => {
        throw new Error("denied");
      },
    };
    expect(loadSettingsOpen(broken)).toBeNull();
    expect(() => saveSettingsOpen(broken, true)).not.toThrow();
  });
});
