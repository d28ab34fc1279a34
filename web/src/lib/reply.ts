/**
 * What an assistant reply is rendered from: its text as Markdown, except a reply that is one JSON object
 * or array (JSON mode, or a model that answers in JSON), which becomes a fenced ```json block so it is
 * highlighted as code instead of read as prose. DOM-free; the stored text stays the model's own.
 */

/** True when `text` (surrounding whitespace aside) is a JSON object or array. */
export function isJsonDocument(text: string): boolean {
  const trimmed = text.trim();
  const first = trimmed[0];
  const last = trimmed[trimmed.length - 1];
  if (!((first === "{" && last === "}") || (first === "[" && last === "]"))) return false;
  try {
    const value: unknown = JSON.parse(trimmed);
    return typeof value === "object" && value !== null;
  } catch {
    return false;
  }
}

/** The Markdown to render for a reply: the text itself, or a JSON document wrapped in a ```json fence. */
export function replyMarkdown(text: string): string {
  if (!isJsonDocument(text)) return text;
  const trimmed = text.trim();
  // The fence is longer than any run of backticks inside the JSON (in a string), so it cannot close early.
  const longest = Math.max(0, ...Array.from(trimmed.matchAll(/`+/g), (m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}json\n${trimmed}\n${fence}`;
}
