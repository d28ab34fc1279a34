/**
 * Loading a tools module for `talaria run --tools FILE`.
 *
 * - `.js` / `.mjs`: imported as they are.
 * - `.ts` / `.mts`: Node 20 cannot import TypeScript, so the file is transpiled with the `typescript`
 *   package's `transpileModule` (types erased, no type checking) into a temporary `.mjs` file NEXT TO
 *   the source (so its relative imports and `node_modules` resolve as they would for the source),
 *   imported, and deleted. When that directory is not writable, the temporary file goes to the OS temp
 *   directory (then only absolute and bare imports resolve). Relative imports inside the module must
 *   name JavaScript files (`./helpers.js`); other `.ts` files are not transpiled.
 *
 * The module exports its tools as the default export (a tool or an array of tools), as a named export
 * `tools` (an array), or as named exports that look like tools (objects with `name` and `execute`).
 */
import { randomBytes } from "node:crypto";
import { unlink, writeFile, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { isToolLike, type AgentTool } from "./tools.js";

export class ToolsModuleError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ToolsModuleError";
  }
}

/** The tools a loaded module exports (see the module comment). Throws {@link ToolsModuleError}. */
export function toolsFromModule(module: Record<string, unknown>, file = "the module"): AgentTool<never>[] {
  const fromValue = (value: unknown): AgentTool<never>[] | undefined => {
    if (Array.isArray(value)) {
      const bad = value.findIndex((v) => !isToolLike(v));
      if (bad >= 0) throw new ToolsModuleError(`${file}: item ${bad} of the exported tool list is not a tool (needs name and execute)`);
      return value as AgentTool<never>[];
    }
    return isToolLike(value) ? [value] : undefined;
  };
  const byDefault = fromValue(module["default"]);
  if (byDefault !== undefined) return byDefault;
  const byName = fromValue(module["tools"]);
  if (byName !== undefined) return byName;
  const named = Object.entries(module)
    .filter(([key]) => key !== "default")
    .map(([, value]) => value)
    .filter(isToolLike);
  if (named.length > 0) return named;
  throw new ToolsModuleError(`${file} exports no tools: export default [tool, …], export const tools = [...], or export tool objects`);
}

async function transpile(source: string, fileName: string): Promise<string> {
  let ts: typeof import("typescript");
  try {
    ts = (await import("typescript")).default;
  } catch (error) {
    throw new ToolsModuleError(
      `loading ${fileName} needs the "typescript" package (npm install typescript), or compile it to .js/.mjs first`,
      { cause: error },
    );
  }
  const out = ts.transpileModule(source, {
    fileName,
    reportDiagnostics: true,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      sourceMap: false,
      inlineSourceMap: true,
      inlineSources: true,
      verbatimModuleSyntax: false,
      isolatedModules: true,
    },
  });
  const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    const text = errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("\n");
    throw new ToolsModuleError(`${fileName} does not parse: ${text}`);
  }
  return out.outputText;
}

/** Import a tools module (.js, .mjs, .ts, .mts) and return its tools. Throws {@link ToolsModuleError}. */
export async function loadToolsModule(file: string): Promise<AgentTool<never>[]> {
  const absolute = path.resolve(file);
  const ext = path.extname(absolute).toLowerCase();
  let module: Record<string, unknown>;
  if (ext === ".ts" || ext === ".mts") {
    let source: string;
    try {
      source = await readFile(absolute, "utf8");
    } catch (error) {
      throw new ToolsModuleError(`cannot read tools file ${file}: ${(error as Error).message}`, { cause: error });
    }
    const code = await transpile(source, absolute);
    const name = `.${path.basename(absolute, ext)}.talaria-${randomBytes(6).toString("hex")}.mjs`;
    let temp = path.join(path.dirname(absolute), name);
    try {
      await writeFile(temp, code, { flag: "wx" });
    } catch {
      temp = path.join(os.tmpdir(), name);
      await writeFile(temp, code, { flag: "wx" });
    }
    try {
      module = (await import(pathToFileURL(temp).href)) as Record<string, unknown>;
    } catch (error) {
      throw new ToolsModuleError(`cannot load tools file ${file}: ${(error as Error).message}`, { cause: error });
    } finally {
      await unlink(temp).catch(() => {});
    }
  } else if (ext === ".js" || ext === ".mjs" || ext === ".cjs") {
    try {
      module = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
    } catch (error) {
      throw new ToolsModuleError(`cannot load tools file ${file}: ${(error as Error).message}`, { cause: error });
    }
  } else {
    throw new ToolsModuleError(`tools file ${file}: expected .js, .mjs, .cjs, .ts or .mts`);
  }
  return toolsFromModule(module, file);
}
