// The starter case sets under eval/: valid files, enough cases in every category, and gold answers
// that pass their own checker (so a case can only fail through the model).
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FUNCTION_CALLING_CATEGORIES, parseFunctionCallingCases } from "../../src/eval/function-calling/cases.js";
import { checkFunctionCalls } from "../../src/eval/function-calling/checker.js";
import { parseJsonModeCases } from "../../src/eval/json-mode/cases.js";
import { checkJsonMode } from "../../src/eval/json-mode/checker.js";
import { SchemaValidator } from "../../src/eval/schema-validator.js";
import { repoRoot } from "./eval-shared.js";

const validator = new SchemaValidator();
const fcFile = path.join(repoRoot, "eval/function-calling/starter.jsonl");
const jmFile = path.join(repoRoot, "eval/json-mode/starter.jsonl");
const fc = parseFunctionCallingCases(readFileSync(fcFile, "utf8"), fcFile);
const jm = parseJsonModeCases(readFileSync(jmFile, "utf8"), jmFile);

describe("starter case sets", () => {
  it("hold at least 50 cases, every function-calling category at least 5 times", () => {
    expect(fc.length + jm.length).toBeGreaterThanOrEqual(50);
    for (const cat of FUNCTION_CALLING_CATEGORIES) expect(fc.filter((c) => c.category === cat).length, cat).toBeGreaterThanOrEqual(5);
    expect(jm.length).toBeGreaterThanOrEqual(15);
  });

  it("function-calling gold calls (first acceptable values, reversed order) pass the checker", () => {
    for (const c of fc) {
      const calls = c.expected.map((e) => ({ name: e.name, arguments: Object.fromEntries(Object.entries(e.arguments).map(([k, v]) => [k, v[0]])) })).reverse();
      expect(checkFunctionCalls(c, calls, validator), c.id).toMatchObject({ pass: true });
      // And a wrong answer fails (the checker is not vacuous for this case).
      const wrong = c.expected.length === 0 ? [{ name: c.tools[0]?.function.name ?? "x", arguments: {} }] : [];
      expect(checkFunctionCalls(c, wrong, validator).pass, c.id).toBe(false);
    }
  });

  it("JSON-mode gold objects, completed with schema-valid fillers, pass the checker", () => {
    for (const c of jm) {
      const props = (c.schema.properties ?? {}) as Record<string, { type?: string; enum?: unknown[] }>;
      const filled: Record<string, unknown> = { ...c.expected };
      for (const [k, p] of Object.entries(props)) {
        if (k in filled) continue;
        filled[k] = p.enum?.[0] ?? (p.type === "string" ? "x" : p.type === "number" ? 0.5 : p.type === "integer" ? 1 : p.type === "boolean" ? true : p.type === "array" ? [] : {});
      }
      expect(checkJsonMode(c, JSON.stringify(filled), validator), c.id).toMatchObject({ pass: true });
    }
  });
});
