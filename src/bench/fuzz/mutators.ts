/**
 * Mutations: structural ones on a parsed body (drop a key, wrong type, extreme value, huge string, deep
 * nesting, …), and textual ones on its bytes (truncation, bad escapes, invalid UTF-8, NaN, …). The keys
 * that bound a generation (`max_tokens`, `n`, …) are only ever set to INVALID values, so a mutated body
 * never asks for a long generation.
 */
import type { Rng } from "./rng.js";
import type { Json, JsonObject } from "./schemas.js";
import type { FuzzExpectation } from "./types.js";
import { ODD_STRINGS } from "./text.js";

/** Keys whose valid values could make a generation long or wide: mutated to invalid values only. */
const BOUNDING_KEYS = new Set(["max_tokens", "max_completion_tokens", "max_output_tokens", "n", "best_of"]);
const BOUNDING_INVALID: readonly Json[] = [0, -1, -100, 1.5, "8", true, false, [], {}, 1e-9];
/** `n` may also be too large (OpenAI's limit is 16 here; more than the server's sequences is a 400 too). */
const N_INVALID: readonly Json[] = [...BOUNDING_INVALID, 17, 1000];

const OTHER_TYPES: readonly Json[] = [0, -1, 1.5, "", "x", true, false, [], {}, [1, 2], { a: 1 }, [null], "null"];
const EXTREME_NUMBERS: readonly number[] = [0, -0, -1, -(2 ** 31), 2 ** 31, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, 1e308, -1e308, 5e-324, 1.5, 0.1];
const ODD_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "ignore_eos", "grammar", "extra_body", "", "\u0000", "<|im_end|>"];
const ROLES = ["assistant", "tool", "function", "ipython", "", "USER", "System", "model", "user ", null];

type Path = readonly (string | number)[];

/** Every node under `root` (breadth first, at most `limit`), with its path. */
function nodes(root: Json, limit = 2000): { path: Path; value: Json }[] {
  const out: { path: Path; value: Json }[] = [];
  const queue: { path: Path; value: Json }[] = [{ path: [], value: root }];
  while (queue.length > 0 && out.length < limit) {
    const node = queue.shift() as { path: Path; value: Json };
    out.push(node);
    const v = node.value;
    if (Array.isArray(v)) v.forEach((child, i) => queue.push({ path: [...node.path, i], value: child }));
    else if (v !== null && typeof v === "object") for (const [k, child] of Object.entries(v)) queue.push({ path: [...node.path, k], value: child });
  }
  return out;
}

function clone(value: Json): Json {
  return JSON.parse(JSON.stringify(value)) as Json;
}

function parentOf(root: Json, path: Path): Json | undefined {
  let v: Json | undefined = root;
  for (const key of path.slice(0, -1)) {
    if (v === null || typeof v !== "object") return undefined;
    v = Array.isArray(v) ? v[key as number] : (v as JsonObject)[key as string];
  }
  return v;
}

function setAt(root: Json, path: Path, value: Json | undefined): Json {
  if (path.length === 0) return value === undefined ? {} : value;
  const parent = parentOf(root, path);
  const key = path[path.length - 1] as string | number;
  if (Array.isArray(parent)) {
    if (value === undefined) parent.splice(key as number, 1);
    else parent[key as number] = value;
  } else if (parent !== null && typeof parent === "object" && parent !== undefined) {
    if (value === undefined) delete (parent as JsonObject)[key as string];
    else Object.defineProperty(parent, key as string, { value, enumerable: true, writable: true, configurable: true });
  }
  return root;
}

/**
 * Deep nesting is carried as a placeholder string and expanded only in the serialized text
 * ({@link expandPlaceholders}): a value thousands of levels deep would overflow the generator's own
 * `JSON.stringify` and tree walks.
 */
export function deepPlaceholder(kind: "array" | "object", depth: number): string {
  return `\u0000DEEP:${kind}:${depth}\u0000`;
}

/** Replace every serialized {@link deepPlaceholder} by the nested JSON text it stands for. */
export function expandPlaceholders(json: string): string {
  if (!json.includes("DEEP:")) return json;
  return json.replace(/"\\u0000DEEP:(array|object):(\d+)\\u0000"/g, (_, kind: string, depth: string) => {
    const d = Number(depth);
    return kind === "array" ? `${"[".repeat(d)}1${"]".repeat(d)}` : `${'{"a":'.repeat(d)}"leaf"${"}".repeat(d)}`;
  });
}

export interface Mutation {
  readonly label: string;
  readonly body: Json;
}

/** Apply one structural mutation to a copy of `body`. */
export function mutateOnce(rng: Rng, body: Json): Mutation {
  const root = clone(body);
  const all = nodes(root);
  const target = rng.chance(0.15) ? all[0] : rng.pick(all.length > 1 ? all.slice(1) : all);
  const { path, value } = target as { path: Path; value: Json };
  const key = path[path.length - 1];
  const where = path.length === 0 ? "<root>" : path.join(".");
  if (typeof key === "string" && BOUNDING_KEYS.has(key)) {
    const v = rng.pick(key === "n" ? N_INVALID : BOUNDING_INVALID);
    return { label: `${where}=${JSON.stringify(v)}`, body: setAt(root, path, v) };
  }
  const op = rng.int(0, 13);
  switch (op) {
    case 0:
      return { label: `drop ${where}`, body: setAt(root, path, undefined) };
    case 1:
      return { label: `${where}=null`, body: setAt(root, path, null) };
    case 2: {
      const v = rng.pick(OTHER_TYPES);
      return { label: `${where}=${JSON.stringify(v)}`, body: setAt(root, path, clone(v)) };
    }
    case 3: {
      const v = rng.pick(EXTREME_NUMBERS);
      return { label: `${where}=${v}`, body: setAt(root, path, v) };
    }
    case 4: {
      const n = rng.logInt(1000, 200_000);
      return { label: `${where}=string(${n})`, body: setAt(root, path, "x".repeat(n)) };
    }
    case 5: {
      const s = rng.pick(ODD_STRINGS);
      return { label: `${where}=${JSON.stringify(s).slice(0, 40)}`, body: setAt(root, path, typeof value === "string" ? `${value}${s}` : s) };
    }
    case 6: {
      if (!Array.isArray(value) || value.length === 0) return { label: `${where}=[${where}]`, body: setAt(root, path, [value]) };
      const times = rng.logInt(2, 200);
      const out: Json[] = [];
      for (let i = 0; i < times; i++) out.push(...clone(value as Json[]) as Json[]);
      return { label: `${where} repeated ×${times}`, body: setAt(root, path, out) };
    }
    case 7: {
      const container = value !== null && typeof value === "object" && !Array.isArray(value) ? value : (parentOf(root, path) ?? root);
      const k = rng.pick(ODD_KEYS);
      const v = clone(rng.pick(OTHER_TYPES));
      if (container !== null && typeof container === "object" && !Array.isArray(container)) {
        Object.defineProperty(container, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      return { label: `add key ${JSON.stringify(k)}`, body: root };
    }
    case 8: {
      const depth = rng.logInt(10, 5000);
      const deep = deepPlaceholder(rng.chance(0.5) ? "array" : "object", depth);
      return { label: `${where}=nested ${depth}`, body: setAt(root, path, deep) };
    }
    case 9: {
      const v = rng.pick<Json>([[], {}, ""]);
      return { label: `${where}=${JSON.stringify(v)}`, body: setAt(root, path, v) };
    }
    case 10:
      return { label: `${where}=[${where}]`, body: setAt(root, path, [value]) };
    case 11: {
      const roleNode = all.find((n) => n.path[n.path.length - 1] === "role");
      if (roleNode === undefined) return { label: `${where}=null`, body: setAt(root, path, null) };
      const r = rng.pick(ROLES);
      return { label: `${roleNode.path.join(".")}=${JSON.stringify(r)}`, body: setAt(root, roleNode.path, r) };
    }
    case 12: {
      if (typeof value !== "string") return { label: `${where}="${String(value)}"`, body: setAt(root, path, String(value)) };
      return { label: `${where}=number`, body: setAt(root, path, Number(value.length)) };
    }
    default: {
      const messagesNode = all.find((n) => n.path.length === 1 && n.path[0] === "messages");
      if (messagesNode === undefined || !Array.isArray(messagesNode.value)) return { label: `drop ${where}`, body: setAt(root, path, undefined) };
      const order = [...(messagesNode.value as Json[])].reverse();
      return { label: "messages reversed", body: setAt(root, messagesNode.path, order) };
    }
  }
}

/** 1–`max` structural mutations. */
export function mutate(rng: Rng, body: Json, max = 3): Mutation {
  let current: Mutation = { label: "", body };
  const labels: string[] = [];
  const n = rng.int(1, max);
  for (let i = 0; i < n; i++) {
    current = mutateOnce(rng, current.body);
    labels.push(current.label);
  }
  return { label: labels.join("; "), body: current.body };
}

const utf8 = new TextEncoder();

export interface ByteMutation {
  readonly label: string;
  readonly bytes: Uint8Array;
  readonly expect: FuzzExpectation;
}

function concat(...parts: (Uint8Array | string)[]): Uint8Array {
  const arrays = parts.map((p) => (typeof p === "string" ? utf8.encode(p) : p));
  const out = new Uint8Array(arrays.reduce((s, a) => s + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return out;
}

/** Insert `insert` right after the first `{` (as a first member). */
function afterFirstBrace(text: string, insert: string): string {
  const i = text.indexOf("{");
  return i < 0 ? `${insert}${text}` : `${text.slice(0, i + 1)}${insert}${text.slice(i + 1)}`;
}

/**
 * The text split inside its first string value, for insertions into a string: `[before, after]`. A body
 * without one gets a `"fuzz"` member of its own (never an insertion into a key such as `max_tokens`).
 */
function stringSlot(text: string): [string, string] {
  const m = /:"/.exec(text);
  if (m !== null) return [text.slice(0, m.index + 2), text.slice(m.index + 2)];
  const i = text.indexOf("{");
  return i < 0 ? ['"', `"${text}`] : [`${text.slice(0, i + 1)}"fuzz":"`, `",${text.slice(i + 1)}`];
}

/** Textual / byte mutations of a serialized body (`malformed-json`). */
export function mutateBytes(rng: Rng, body: Json): ByteMutation {
  const text = expandPlaceholders(JSON.stringify(body));
  const op = rng.int(0, 21);
  switch (op) {
    case 0: {
      const at = rng.int(0, Math.max(0, text.length - 1));
      return { label: `truncated at ${at}/${text.length}`, bytes: utf8.encode(text.slice(0, at)), expect: "error" };
    }
    case 1:
      return { label: "trailing garbage", bytes: utf8.encode(`${text}${rng.pick(["}", "]", "xyz", " {}", "\u0000", ",", text])}`), expect: "error" };
    case 2:
      return { label: "UTF-8 BOM first", bytes: concat(new Uint8Array([0xef, 0xbb, 0xbf]), text), expect: "any" };
    case 3:
      return { label: "NaN / Infinity literal", bytes: utf8.encode(afterFirstBrace(text, `"temperature":${rng.pick(["NaN", "Infinity", "-Infinity", "undefined"])},`)), expect: "error" };
    case 4:
      return { label: "single quotes", bytes: utf8.encode(text.replace(/"/g, "'")), expect: "error" };
    case 5:
      return { label: "comment", bytes: utf8.encode(afterFirstBrace(text, "/* comment */")), expect: "error" };
    case 6:
      return { label: "trailing comma", bytes: utf8.encode(text.replace(/}$/, ",}")), expect: "error" };
    case 7: {
      const [before, after] = stringSlot(text);
      return { label: "invalid escape \\x41", bytes: utf8.encode(`${before}\\x41${after}`), expect: "error" };
    }
    case 8: {
      const [before, after] = stringSlot(text);
      return { label: "lone surrogate escape", bytes: utf8.encode(`${before}${rng.pick(["\\ud800", "\\udfff", "\\ud83d"])}${after}`), expect: "any" };
    }
    case 9: {
      const [before, after] = stringSlot(text);
      const bad = rng.pick([[0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]]);
      return { label: `invalid UTF-8 ${bad.map((b) => b.toString(16)).join(" ")}`, bytes: concat(before, new Uint8Array(bad), after), expect: "any" };
    }
    case 10: {
      const [before, after] = stringSlot(text);
      return { label: "raw control character in a string", bytes: concat(before, new Uint8Array([rng.pick([0x01, 0x0a, 0x1f, 0x00])]), after), expect: "error" };
    }
    case 11: {
      const depth = rng.logInt(100, 200_000);
      return { label: `bare nested arrays depth ${depth}`, bytes: utf8.encode(`${"[".repeat(depth)}${"]".repeat(depth)}`), expect: "error" };
    }
    case 12: {
      const depth = rng.logInt(100, 100_000);
      return { label: `nested objects depth ${depth} in a field`, bytes: utf8.encode(afterFirstBrace(text, `"extra":${'{"a":'.repeat(depth)}1${"}".repeat(depth)},`)), expect: "any" };
    }
    case 13:
      return { label: "empty body", bytes: new Uint8Array(0), expect: "error" };
    case 14: {
      const v = rng.pick(["null", "[]", "42", '"str"', "true", "-0", "[{}]"]);
      return { label: `top-level ${v}`, bytes: utf8.encode(v), expect: "error" };
    }
    case 15:
      return { label: "duplicate keys", bytes: utf8.encode(afterFirstBrace(text, '"messages":5,"prompt":[],"model":{},')), expect: "any" };
    case 16:
      return { label: "number literal 1e400", bytes: utf8.encode(afterFirstBrace(text, '"seed":1e400,')), expect: "any" };
    case 17:
      return { label: "leading zeros", bytes: utf8.encode(afterFirstBrace(text, '"seed":007,')), expect: "error" };
    case 18: {
      const flips = rng.int(1, 8);
      const bytes = utf8.encode(text);
      // Never inside a bounding key or its value (an ASCII prefix of the text, so indexes match the bytes
      // up to there; later positions may shift with multi-byte characters, which only widens the guard).
      const guarded: [number, number][] = [];
      for (const m of text.matchAll(/"(?:max_tokens|max_completion_tokens|max_output_tokens|n|best_of)"\s*:\s*[^,}\]]*/g)) guarded.push([m.index, m.index + m[0].length + 8]);
      for (let i = 0; i < flips; i++) {
        const at = rng.int(0, Math.max(0, bytes.length - 1));
        if (guarded.some(([a, b]) => at >= a - 2 && at < b + (bytes.length - text.length))) continue;
        bytes[at] = rng.int(0, 255);
      }
      return { label: `${flips} random bytes`, bytes, expect: "any" };
    }
    case 19:
      return { label: "UTF-16 encoded", bytes: new Uint8Array(Buffer.from(text, "utf16le")), expect: "error" };
    case 20:
      return { label: "whitespace padding", bytes: utf8.encode(`${" \n\t\r".repeat(rng.logInt(1, 50_000))}${text}   `), expect: "any" };
    default:
      return { label: "form-encoded", bytes: utf8.encode(`body=${encodeURIComponent(text)}&x=1`), expect: "error" };
  }
}
