/**
 * What a constrained generation asks of an engine: the constraint's INTENT (a JSON Schema, tool
 * calls written in a given syntax, or raw GBNF) together with the grammar built from it (GBNF,
 * llama.cpp's dialect). An embedded engine runs the GBNF; a remote adapter may hand its backend the
 * intent in the backend's own dialect (a JSON schema, a structural tag) instead.
 *
 * Pure data: no engine, no Hermes constants. A chat format (e.g. `src/hermes/dialect.ts`) declares
 * its {@link ToolCallSyntax}; the builders in `tool-calls.ts` turn syntax + tools into constraints.
 */

/** A tool as a grammar needs it: its name and its parameters' JSON Schema. */
export interface ToolGrammarSpec {
  readonly name: string;
  /** JSON Schema of the arguments object. Default: no parameters (`{}` only). */
  readonly parameters?: unknown;
}

/**
 * How a format writes one tool call, as data. A call is
 * `open + afterOpen + {"<nameKey>": "<name>", "<argumentsKey>": <arguments>} + beforeClose + close`,
 * the JSON envelope written with `keySeparator` after keys and `itemSeparator` between the members.
 */
export interface ToolCallSyntax {
  /** The tag that opens a call; also the trigger of the lazy grammar (e.g. `<tool_call>`). */
  readonly open: string;
  /** The tag that closes a call (e.g. `</tool_call>`). */
  readonly close: string;
  /** Text between the open tag and the JSON envelope (e.g. `"\n"`). */
  readonly afterOpen: string;
  /** Text between the JSON envelope and the close tag (e.g. `"\n"`). */
  readonly beforeClose: string;
  /** The JSON envelope of a call. */
  readonly envelope: {
    /** Key of the tool name (e.g. `name`). */
    readonly nameKey: string;
    /** Key of the arguments object (e.g. `arguments`). */
    readonly argumentsKey: string;
    /** Keys the parser also accepts for the arguments when `argumentsKey` is absent (e.g. `parameters`). */
    readonly argumentsAliases: readonly string[];
    /** After a key (e.g. `": "`, as Python's `json.dumps` writes). */
    readonly keySeparator: string;
    /** Between members (e.g. `", "`). */
    readonly itemSeparator: string;
  };
  /** What may stand between consecutive calls. */
  readonly between: {
    /** What a forced (eager) grammar writes between calls (e.g. `"\n"`). */
    readonly text: string;
    /** Characters a lazy grammar accepts between calls when the model chooses (e.g. `" \t\n"`). */
    readonly whitespace: string;
    /** Most such characters. */
    readonly maxWhitespace: number;
  };
}

/** What a constraint means, independent of any grammar dialect. */
export type GrammarIntent =
  | {
      /** A JSON value valid against `schema` (any JSON object when `schema` is undefined). */
      readonly type: "json-schema";
      readonly schema?: unknown;
      /** No undeclared object keys. */
      readonly strict: boolean;
    }
  | {
      /** Tool calls in `syntax`, each naming one of `tools` with arguments valid against its schema (see `otherNames`). */
      readonly type: "tool-calls";
      readonly syntax: ToolCallSyntax;
      readonly tools: readonly ToolGrammarSpec[];
      readonly minCalls: number;
      /** `Infinity` = no limit. */
      readonly maxCalls: number;
      /** Lazy: free text until `syntax.open` occurs; the calls are constrained from there on. */
      readonly lazy: boolean;
      readonly strict: boolean;
      /**
       * A call may also name a tool that is none of `tools` (its arguments: any JSON object), so the
       * model's own choice is kept (and reported by the parser) rather than rewritten into a declared
       * tool. True for `tool_choice: auto`, false for `required` / a named tool.
       */
      readonly otherNames: boolean;
      /**
       * Set when the reply may instead be a JSON value (JSON mode with tools under `auto`): either
       * that value, or the calls. Never lazy.
       */
      readonly orJson?: { readonly schema?: unknown; readonly strict: boolean };
    }
  | {
      /** A raw GBNF grammar given by the caller; nothing more is known about it. */
      readonly type: "gbnf";
    };

/** A grammar constraint: its intent and the GBNF built from it. */
export interface GrammarConstraint {
  readonly intent: GrammarIntent;
  /** The grammar in GBNF (llama.cpp's dialect), start rule `root`. */
  readonly gbnf: string;
  /**
   * When set, the grammar is lazy: the output is free until one of these texts first occurs in it,
   * and the grammar (from its `root`) then constrains the text AFTER the trigger (the trigger itself
   * is generated freely). Default: active from the first token.
   */
  readonly lazyTriggers?: readonly string[];
}

/** A constraint from raw GBNF text (intent `gbnf`). */
export function gbnfConstraint(gbnf: string, options: { readonly lazyTriggers?: readonly string[] } = {}): GrammarConstraint {
  return { intent: { type: "gbnf" }, gbnf, ...(options.lazyTriggers === undefined ? {} : { lazyTriggers: options.lazyTriggers }) };
}
