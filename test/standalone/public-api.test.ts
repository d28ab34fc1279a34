/** The package's public API (src/index.ts): explicit names, the composition root, no removed shims. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import * as talaria from "../../src/index.js";

describe("public API (src/index.ts)", () => {
  it("names its exports explicitly (only the bench namespace is a star export)", () => {
    const text = readFileSync(path.resolve(import.meta.dirname, "../../src/index.ts"), "utf8");
    const stars = text.split("\n").filter((line) => /^export \*/.test(line));
    expect(stars).toEqual(['export * as bench from "./bench/index.js";']);
  });

  it("exports the composition root, the engine port's helpers and the generic grammar builders", () => {
    for (const name of [
      "createHermesChat",
      "describeHermesChatSetup",
      "resolveHermesChatSetup",
      "ChatService",
      "createLlamaCppEngine",
      "createMockEngine",
      "createRemoteEngine",
      "ReplicaPool",
      "checkCapabilities",
      "EngineError",
      "HERMES_DIALECT",
      "toolCallGbnf",
      "toolCallsConstraint",
      "gbnfConstraint",
      "startServer",
      "createTalariaApp",
      "runAgent",
      "McpToolset",
      "parseMcpConfig",
    ]) {
      expect(typeof (talaria as Record<string, unknown>)[name], name).not.toBe("undefined");
    }
    expect(typeof talaria.bench.runServeBench).toBe("function");
  });

  it("no longer exports the removed Hermes constants in grammar/ or the agent's duplicate name", () => {
    for (const name of ["createToolConstraints", "hermesToolCallGbnf", "addHermesToolCallRules", "HERMES_TOOL_CALL", "TOOL_CALL_TRIGGER"]) {
      expect(name in talaria, name).toBe(false);
    }
  });
});
