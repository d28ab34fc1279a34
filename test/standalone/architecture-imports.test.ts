/**
 * The layer rules of docs/architecture.md, enforced: the allowed-imports table is read from the doc
 * (one owner), and every import in src/ (comments ignored: TypeScript's own pre-processor) is checked.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SRC = path.join(ROOT, "src");

/** `| \`layer\` | \`a\`, \`b\` |` rows of the rules table; "any" = unrestricted. */
function readLayerTable(): Map<string, readonly string[] | "any"> {
  const doc = readFileSync(path.join(ROOT, "docs/architecture.md"), "utf8");
  const rows = new Map<string, readonly string[] | "any">();
  for (const line of doc.split("\n")) {
    const m = /^\| `([a-z/-]+)` \| (.+) \|$/.exec(line.trim());
    if (m === null) continue;
    const allowed = (m[2] as string).trim();
    rows.set(m[1] as string, allowed === "any" ? "any" : [...allowed.matchAll(/`([a-z/-]+)`/g)].map((x) => x[1] as string));
  }
  return rows;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) && !e.name.endsWith(".d.ts") ? [full] : [];
  });
}

/** The layer of a path under src/ ("engine/mock", "chat", "index", …). */
function layerOf(file: string): string {
  const parts = path.relative(SRC, file).split(path.sep);
  if (parts.length === 1) return (parts[0] as string).replace(/\.(?:tsx?|js)$/, "");
  if (parts[0] === "engine" && parts.length > 2 && (parts[1] === "mock" || parts[1] === "llama-cpp" || parts[1] === "remote" || parts[1] === "router")) return `engine/${parts[1]}`;
  return parts[0] as string;
}

interface Import {
  readonly file: string;
  readonly from: string;
  readonly specifier: string;
  /** The imported layer for a relative import inside src/; undefined for packages. */
  readonly layer?: string;
  readonly outsideSrc?: boolean;
}

function importsOf(file: string): Import[] {
  const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  return info.importedFiles.map(({ fileName: specifier }) => {
    const from = layerOf(file);
    if (!specifier.startsWith(".")) return { file, from, specifier };
    const target = path.resolve(path.dirname(file), specifier);
    if (!target.startsWith(SRC + path.sep)) return { file, from, specifier, outsideSrc: true };
    return { file, from, specifier, layer: layerOf(target) };
  });
}

/** The texts of every string and template literal in a file (comments excluded). */
function stringLiterals(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) out.push(node.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

const table = readLayerTable();
const files = sourceFiles(SRC);
const imports = files.flatMap(importsOf);
const rel = (i: Import): string => `${path.relative(ROOT, i.file)} imports ${i.specifier}`;

describe("architecture: layer rules of docs/architecture.md", () => {
  it("the doc's table names every layer under src/", () => {
    expect(table.size).toBeGreaterThan(10);
    const layers = new Set(files.map(layerOf));
    expect([...layers].filter((l) => !table.has(l))).toEqual([]);
    for (const [, allowed] of table) if (allowed !== "any") for (const a of allowed) expect(table.has(a), a).toBe(true);
  });

  it("every import between layers is allowed by the table", () => {
    const bad = imports.filter((i) => {
      if (i.layer === undefined || i.layer === i.from) return false;
      const allowed = table.get(i.from);
      return allowed !== "any" && !(allowed ?? []).includes(i.layer);
    });
    expect(bad.map(rel)).toEqual([]);
  });

  it("nothing under src/ imports from outside it (test/ helpers stay in test/)", () => {
    expect(imports.filter((i) => i.outsideSrc === true).map(rel)).toEqual([]);
  });

  it("only engine/llama-cpp imports node-llama-cpp, and only internals.ts touches its private fields", () => {
    const bad = imports.filter((i) => (i.specifier === "node-llama-cpp" || i.specifier.startsWith("@node-llama-cpp/")) && i.from !== "engine/llama-cpp");
    expect(bad.map(rel)).toEqual([]);
    const privateAccess = files
      .filter((f) => layerOf(f) === "engine/llama-cpp" && path.basename(f) !== "internals.ts")
      .filter((f) => /\._(?:llama|bindings|state|biases)\b/.test(readFileSync(f, "utf8")));
    expect(privateAccess.map((f) => path.relative(ROOT, f))).toEqual([]);
  });

  it("only the server imports hono", () => {
    const bad = imports.filter((i) => (i.specifier === "hono" || i.specifier.startsWith("hono/") || i.specifier.startsWith("@hono/")) && i.from !== "server");
    expect(bad.map(rel)).toEqual([]);
  });

  it("the pure layers (prompt, util, grammar, hermes, the engine port) use no Node built-ins", () => {
    const pure = new Set(["prompt", "util", "grammar", "hermes", "engine"]);
    const bad = imports.filter((i) => pure.has(i.from) && i.specifier.startsWith("node:"));
    expect(bad.map(rel)).toEqual([]);
  });

  it("grammar/ holds no Hermes constants (the dialect is data handed to it)", () => {
    const bad = files
      .filter((f) => layerOf(f) === "grammar")
      .filter((f) => stringLiterals(f).some((text) => /<\/?tool_call>|<\|im_(?:start|end)\|>/.test(text)));
    expect(bad.map((f) => path.relative(ROOT, f))).toEqual([]);
  });

  it("detects a violation (the checker is live)", () => {
    const fake: Import = { file: path.join(SRC, "hermes/x.ts"), from: "hermes", specifier: "../engine/types.js", layer: "engine" };
    const allowed = table.get(fake.from);
    expect(allowed !== "any" && !(allowed ?? []).includes(fake.layer as string)).toBe(true);
  });
});
