/**
 * An order-preserving JSON parser. `JSON.parse` puts integer-like keys ("0", "1", …) of an object first,
 * in numeric order, whatever their order in the file. BigBench's `target_scores` use such keys and the
 * harness scores continuations in file order (the order feeds a SHA-256 tie-break), so those files must
 * be read with this parser. It returns a small tree whose objects are ordered `[key, value]` lists and
 * whose numbers keep whether they were written as integers (Python reads `1` and `1.0` differently,
 * which matters for the harness' `json.dumps` de-duplication). See docs/decisions/0070.
 *
 * Pure; no dependencies.
 */

export type JsonNode = JsonObjectNode | JsonArrayNode | JsonStringNode | JsonNumberNode | JsonBooleanNode | JsonNullNode;

export interface JsonObjectNode {
  readonly type: "object";
  /** Entries in file order. A key repeated in the file keeps its first position and its last value (as Python's `json.load`). */
  readonly entries: ReadonlyArray<readonly [string, JsonNode]>;
}
export interface JsonArrayNode {
  readonly type: "array";
  readonly items: readonly JsonNode[];
}
export interface JsonStringNode {
  readonly type: "string";
  readonly value: string;
}
export interface JsonNumberNode {
  readonly type: "number";
  readonly value: number;
  /** The lexeme as written. */
  readonly lexeme: string;
  /** True when the lexeme has no fraction and no exponent (Python reads it as `int`). */
  readonly isInteger: boolean;
}
export interface JsonBooleanNode {
  readonly type: "boolean";
  readonly value: boolean;
}
export interface JsonNullNode {
  readonly type: "null";
}

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = "JsonSyntaxError";
  }
}

const NUMBER_RE = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/** Parse JSON text (RFC 8259; a leading BOM is skipped) into an order-preserving tree. */
export function parseOrderedJson(text: string): JsonNode {
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;

  const skipWs = (): void => {
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else return;
    }
  };

  const parseString = (): string => {
    // pos is at the opening quote.
    const start = pos;
    pos++;
    let hasEscape = false;
    for (;;) {
      if (pos >= text.length) throw new JsonSyntaxError("unterminated string", start);
      const c = text.charCodeAt(pos);
      if (c === 0x22) break;
      if (c === 0x5c) {
        hasEscape = true;
        pos += 2;
        continue;
      }
      if (c < 0x20) throw new JsonSyntaxError("control character in string", pos);
      pos++;
    }
    pos++;
    if (!hasEscape) return text.slice(start + 1, pos - 1);
    try {
      return JSON.parse(text.slice(start, pos)) as string;
    } catch (err) {
      throw new JsonSyntaxError(`bad string escape (${(err as Error).message})`, start);
    }
  };

  const parseValue = (depth: number): JsonNode => {
    if (depth > 10_000) throw new JsonSyntaxError("nesting too deep", pos);
    skipWs();
    const c = text[pos];
    switch (c) {
      case "{": {
        pos++;
        const entries: Array<[string, JsonNode]> = [];
        const index = new Map<string, number>();
        skipWs();
        if (text[pos] === "}") {
          pos++;
          return { type: "object", entries };
        }
        for (;;) {
          skipWs();
          if (text[pos] !== '"') throw new JsonSyntaxError("expected a string key", pos);
          const key = parseString();
          skipWs();
          if (text[pos] !== ":") throw new JsonSyntaxError("expected ':'", pos);
          pos++;
          const value = parseValue(depth + 1);
          const at = index.get(key);
          if (at === undefined) {
            index.set(key, entries.length);
            entries.push([key, value]);
          } else {
            entries[at] = [key, value];
          }
          skipWs();
          if (text[pos] === ",") {
            pos++;
            continue;
          }
          if (text[pos] === "}") {
            pos++;
            return { type: "object", entries };
          }
          throw new JsonSyntaxError("expected ',' or '}'", pos);
        }
      }
      case "[": {
        pos++;
        const items: JsonNode[] = [];
        skipWs();
        if (text[pos] === "]") {
          pos++;
          return { type: "array", items };
        }
        for (;;) {
          items.push(parseValue(depth + 1));
          skipWs();
          if (text[pos] === ",") {
            pos++;
            continue;
          }
          if (text[pos] === "]") {
            pos++;
            return { type: "array", items };
          }
          throw new JsonSyntaxError("expected ',' or ']'", pos);
        }
      }
      case '"':
        return { type: "string", value: parseString() };
      case "t":
        if (text.startsWith("true", pos)) {
          pos += 4;
          return { type: "boolean", value: true };
        }
        break;
      case "f":
        if (text.startsWith("false", pos)) {
          pos += 5;
          return { type: "boolean", value: false };
        }
        break;
      case "n":
        if (text.startsWith("null", pos)) {
          pos += 4;
          return { type: "null" };
        }
        break;
      default: {
        NUMBER_RE.lastIndex = pos;
        const m = NUMBER_RE.exec(text);
        if (m !== null) {
          pos += m[0].length;
          return { type: "number", value: Number(m[0]), lexeme: m[0], isInteger: m[1] === undefined && m[2] === undefined };
        }
      }
    }
    throw new JsonSyntaxError(pos >= text.length ? "unexpected end of input" : `unexpected character ${JSON.stringify(text[pos])}`, pos);
  };

  const root = parseValue(0);
  skipWs();
  if (pos !== text.length) throw new JsonSyntaxError("unexpected text after the JSON value", pos);
  return root;
}

/** Converts a tree to plain JavaScript values (objects lose integer-like key order; use only where order is irrelevant). */
export function toPlain(node: JsonNode): unknown {
  switch (node.type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [k, v] of node.entries) out[k] = toPlain(v);
      return out;
    }
    case "array":
      return node.items.map(toPlain);
    case "string":
    case "number":
    case "boolean":
      return node.value;
    case "null":
      return null;
    default:
      return node satisfies never;
  }
}

/** The value of `key` in an object node, or undefined. */
export function getField(node: JsonNode, key: string): JsonNode | undefined {
  if (node.type !== "object") return undefined;
  for (const [k, v] of node.entries) if (k === key) return v;
  return undefined;
}

/**
 * A string that is equal for two trees exactly when Python's `json.dumps` (default arguments) of the
 * values `json.load` would read from them is equal: key order, `int` vs `float` (`1` vs `1.0`) and
 * `-0.0` vs `0.0` all count; `1.0` and `1.00` do not. Used to de-duplicate BigBench examples.
 */
export function pythonDumpsKey(node: JsonNode): string {
  switch (node.type) {
    case "object":
      return `{${node.entries.map(([k, v]) => `${JSON.stringify(k)}:${pythonDumpsKey(v)}`).join(",")}}`;
    case "array":
      return `[${node.items.map(pythonDumpsKey).join(",")}]`;
    case "string":
      return JSON.stringify(node.value);
    case "number":
      if (node.isInteger) return `i${BigInt(node.lexeme).toString()}`;
      return `f${Object.is(node.value, -0) ? "-0" : String(node.value)}`;
    case "boolean":
      return node.value ? "true" : "false";
    case "null":
      return "null";
    default:
      return node satisfies never;
  }
}
