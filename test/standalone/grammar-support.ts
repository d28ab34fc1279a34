/** Shared helpers for the grammar tests: the schema corpus, ajv validators, seeded mutations. */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import AjvModule from "ajv";
import Ajv2020Module from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

const Ajv = AjvModule.default;
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;

export interface CorpusEntry {
  readonly name: string;
  readonly description?: string;
  readonly tool?: { readonly name: string; readonly description?: string };
  readonly schema: unknown;
  /** Instances the grammar must accept (compact JSON.stringify, schema key order). */
  readonly valid: readonly unknown[];
  /** Instances ajv rejects; the grammar must reject them too. */
  readonly invalid: readonly unknown[];
}

export const CORPUS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/schemas");

export function loadCorpus(): CorpusEntry[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => ({ name: f.replace(/\.json$/, ""), ...(JSON.parse(readFileSync(path.join(CORPUS_DIR, f), "utf8")) as Omit<CorpusEntry, "name">) }));
}

/** An ajv validator for the schema's draft (2020-12 unless `$schema` says draft-07/04). */
export function makeValidator(schema: unknown): (value: unknown) => boolean {
  const s = schema as { $schema?: string };
  const draft07 = typeof s.$schema === "string" && /draft-0[47]/.test(s.$schema);
  const ajv = draft07 ? new Ajv({ strict: false }) : new Ajv2020({ strict: false });
  addFormats(ajv);
  const fn = ajv.compile(schema as object);
  return (value) => fn(value) === true;
}

/** Seeded mutations of a JSON value: each returns a different value (often invalid). */
export function mutations(value: unknown, random: () => number, count: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < count; i++) out.push(mutateSomewhere(structuredClone(value), random));
  return out;
}

function pick<T>(xs: readonly T[], random: () => number): T {
  return xs[Math.floor(random() * xs.length)] as T;
}

function mutateLeaf(v: unknown, random: () => number): unknown {
  const r = random();
  if (typeof v === "string") {
    return pick([v + "x".repeat(1 + Math.floor(r * 300)), "", v.toUpperCase() + "!", 12, null, v.slice(1), v + " ", `${v}-1`], random);
  }
  if (typeof v === "number") {
    return pick([v + 1, v - 1, v + 0.5, -v - 1, v * 1000 + 7, v + 1e6, String(v), null, true, 1e300], random);
  }
  if (typeof v === "boolean") return pick([!v, "true", 0, null], random);
  if (v === null) return pick([0, "null", false, {}, []], random);
  if (Array.isArray(v)) {
    const copy = [...v];
    const choice = Math.floor(r * 5);
    if (choice === 0 && copy.length > 0) copy.splice(Math.floor(random() * copy.length), 1);
    else if (choice === 1 && copy.length > 0) copy.push(structuredClone(copy[copy.length - 1]));
    else if (choice === 2) copy.push("extra", 1, null);
    else if (choice === 3) return {};
    else copy.splice(0, copy.length);
    return copy;
  }
  if (typeof v === "object") {
    const o = { ...(v as Record<string, unknown>) };
    const keys = Object.keys(o);
    const choice = Math.floor(r * 4);
    if (choice === 0 && keys.length > 0) delete o[pick(keys, random)];
    else if (choice === 1) o["zz_extra"] = pick([1, "x", null, [], {}], random);
    else if (choice === 2) return [];
    else if (keys.length > 0) o[pick(keys, random)] = pick([123, "str", null, true, [], {}], random);
    else o["k"] = 1;
    return o;
  }
  return null;
}

function mutateSomewhere(v: unknown, random: () => number): unknown {
  // descend into a random child with probability 0.6 when there is one
  if (Array.isArray(v) && v.length > 0 && random() < 0.6) {
    const i = Math.floor(random() * v.length);
    v[i] = mutateSomewhere(v[i], random);
    return v;
  }
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const keys = Object.keys(v);
    if (keys.length > 0 && random() < 0.6) {
      const k = pick(keys, random);
      (v as Record<string, unknown>)[k] = mutateSomewhere((v as Record<string, unknown>)[k], random);
      return v;
    }
  }
  return mutateLeaf(v, random);
}
