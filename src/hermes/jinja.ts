/**
 * Render chat templates with Python Jinja2 semantics, the way HF transformers renders them
 * (`ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)`, `tojson` = `json.dumps`
 * with `ensure_ascii=False`, `raise_exception`, `strftime_now`).
 *
 * We reuse `@huggingface/jinja` for lexing, parsing and most of the evaluation, and fix the places
 * where its JavaScript semantics differ from Python's in a subclass of its `Interpreter` (no change
 * to node_modules). See docs/decisions/0030-jinja-python-semantics.md for the list and the reasons.
 */
import { Environment, Interpreter, parse, tokenize } from "@huggingface/jinja";
import { PyFloat, pyFloatRepr, pyIntRepr, pyJsonDumps, pyRepr, PythonJsonError } from "./python-json.js";

/** Why rendering failed, named after the Python exception it stands for. */
export type JinjaErrorKind =
  /** Template syntax error (`TemplateSyntaxError`). */
  | "syntax"
  /** An undefined value was used (`UndefinedError`), e.g. `tool.description` missing in a `+`. */
  | "undefined"
  /** A Python `TypeError` (iterating None, `str + int`, `json.dumps` of an unsupported value). */
  | "type"
  /** `raise_exception(message)` was called by the template (`TemplateError`). */
  | "raised"
  /** Macro recursion too deep (`RecursionError`). */
  | "recursion"
  /** Any other evaluation error reported by the interpreter. */
  | "runtime";

export class JinjaTemplateError extends Error {
  constructor(
    message: string,
    readonly kind: JinjaErrorKind,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "JinjaTemplateError";
  }
}

// ---------------------------------------------------------------------------------------------
// Runtime values of @huggingface/jinja. Its value classes are not exported, so we take their
// constructors from values an Environment creates, and recognise values by their `type` tag.

type RuntimeValue = ReturnType<Environment["set"]>;
type AnyValue = RuntimeValue & { value: any; type: string; builtins: Map<string, RuntimeValue> };
type ValueCtor = new (value?: unknown) => AnyValue;

const probe = new Environment();
let probeCount = 0;
function ctorOf(example: unknown): ValueCtor {
  return (probe.set(`__probe${probeCount++}`, example) as object).constructor as ValueCtor;
}
const StringValue = ctorOf("");
const IntegerValue = ctorOf(1);
const FloatValue = ctorOf(1.5);
const BooleanValue = ctorOf(true);
const NullValue = ctorOf(null);
const UndefinedValue = ctorOf(undefined);
const ArrayValue = ctorOf([]);
const ObjectValue = ctorOf({});
const FunctionValue = ctorOf(() => 0);

const str = (s: string): AnyValue => new StringValue(s);
const bool = (b: boolean): AnyValue => new BooleanValue(b);
const undef = (): AnyValue => new UndefinedValue();

function isType(v: AnyValue, ...types: string[]): boolean {
  return types.includes(v.type);
}
const isUndefined = (v: AnyValue): boolean => v.type === "UndefinedValue";
const isArrayLike = (v: AnyValue): boolean => isType(v, "ArrayValue", "TupleValue");
const isMapping = (v: AnyValue): boolean => isType(v, "ObjectValue", "KeywordArgumentsValue");
const isNumberLike = (v: AnyValue): boolean => isType(v, "IntegerValue", "FloatValue", "BooleanValue");

/** Python's type name of a value, for error messages. */
function pyTypeName(v: AnyValue): string {
  switch (v.type) {
    case "StringValue":
      return "str";
    case "IntegerValue":
      return "int";
    case "FloatValue":
      return "float";
    case "BooleanValue":
      return "bool";
    case "NullValue":
      return "NoneType";
    case "UndefinedValue":
      return "Undefined";
    case "ArrayValue":
      return "list";
    case "TupleValue":
      return "tuple";
    case "ObjectValue":
    case "KeywordArgumentsValue":
      return "dict";
    case "NamespaceValue":
      return "Namespace";
    case "FunctionValue":
      return "function";
    default:
      return v.type;
  }
}

/** JS value → runtime value (plain objects keep their key order; `Map`s keep any order). */
export function toRuntimeValue(input: unknown): AnyValue {
  if (input === undefined) return undef();
  if (input === null) return new NullValue(null);
  if (input instanceof PyFloat) return new FloatValue(input.value);
  switch (typeof input) {
    case "string":
      return str(input);
    case "number":
      return Number.isInteger(input) ? new IntegerValue(input) : new FloatValue(input);
    case "boolean":
      return bool(input);
    case "function": {
      const fn = input as (...args: unknown[]) => unknown;
      return new FunctionValue((args: AnyValue[]) => toRuntimeValue(fn(...args.map((a) => toPlain(a, "loose")))));
    }
    case "object": {
      if (Array.isArray(input)) return new ArrayValue(input.map(toRuntimeValue));
      const entries = input instanceof Map ? [...input.entries()] : Object.entries(input);
      return new ObjectValue(new Map(entries.map(([k, v]) => [String(k), toRuntimeValue(v)])));
    }
    default:
      throw new JinjaTemplateError(`cannot pass a ${typeof input} to a template`, "type");
  }
}

/**
 * Runtime value → plain JS value (floats as {@link PyFloat}, mappings as `Map`). In `json` mode an
 * undefined value or a function is a `TypeError` (as `json.dumps` raises); in `loose` mode they
 * become `undefined`.
 */
function toPlain(v: AnyValue, mode: "json" | "loose"): unknown {
  switch (v.type) {
    case "StringValue":
    case "BooleanValue":
      return v.value;
    case "IntegerValue":
      return v.value;
    case "FloatValue":
      return new PyFloat(v.value);
    case "NullValue":
      return null;
    case "ArrayValue":
    case "TupleValue":
      return (v.value as AnyValue[]).map((x) => toPlain(x, mode));
    case "ObjectValue":
    case "KeywordArgumentsValue":
    case "NamespaceValue":
      return new Map([...(v.value as Map<string, AnyValue>).entries()].map(([k, x]) => [k, toPlain(x, mode)]));
    default:
      if (mode === "json") throw new JinjaTemplateError(`Object of type ${pyTypeName(v)} is not JSON serializable`, "type");
      return undefined;
  }
}

/** Python `str()` of a runtime value, as Jinja2 prints `{{ value }}`. */
function pyStr(v: AnyValue): string {
  switch (v.type) {
    case "StringValue":
      return v.value as string;
    case "UndefinedValue":
      return "";
    case "NullValue":
      return "None";
    case "BooleanValue":
      return v.value ? "True" : "False";
    case "IntegerValue":
      return pyIntRepr(v.value as number);
    case "FloatValue":
      return pyFloatRepr(v.value as number);
    case "TupleValue": {
      const items = (v.value as AnyValue[]).map((x) => pyRepr(toPlain(x, "loose")));
      return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
    }
    case "ArrayValue":
    case "ObjectValue":
    case "KeywordArgumentsValue":
      return pyRepr(toPlain(v, "loose"));
    case "NamespaceValue":
      return `<Namespace ${pyRepr(toPlain(v, "loose"))}>`;
    default:
      return `<${pyTypeName(v)}>`;
  }
}

/** Python `==` between runtime values (`1 == 1.0 == True`, deep list/dict equality, Undefined == Undefined). */
function pyEquals(a: AnyValue, b: AnyValue): boolean {
  if (isNumberLike(a) && isNumberLike(b)) return Number(a.value) === Number(b.value);
  if (a.type !== b.type) {
    return isMapping(a) && isMapping(b) ? pyEquals(new ObjectValue(a.value), new ObjectValue(b.value)) : false;
  }
  switch (a.type) {
    case "StringValue":
      return a.value === b.value;
    case "NullValue":
    case "UndefinedValue":
      return true;
    case "ArrayValue":
    case "TupleValue": {
      const x = a.value as AnyValue[];
      const y = b.value as AnyValue[];
      return x.length === y.length && x.every((item, i) => pyEquals(item, y[i] as AnyValue));
    }
    case "ObjectValue":
    case "KeywordArgumentsValue": {
      const x = a.value as Map<string, AnyValue>;
      const y = b.value as Map<string, AnyValue>;
      if (x.size !== y.size) return false;
      for (const [k, item] of x) {
        const other = y.get(k);
        if (other === undefined || !pyEquals(item, other)) return false;
      }
      return true;
    }
    default:
      return a === b;
  }
}

const PY_WHITESPACE = " \t\n\r\v\f\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

/** Python `str.strip(chars)`. */
function pyStrip(s: string, chars?: string): string {
  const set = chars ?? PY_WHITESPACE;
  const cps = Array.from(s);
  let start = 0;
  let end = cps.length;
  while (start < end && set.includes(cps[start] as string)) start++;
  while (end > start && set.includes(cps[end - 1] as string)) end--;
  return cps.slice(start, end).join("");
}

// ---------------------------------------------------------------------------------------------
// strftime_now

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** Python `datetime.strftime` for the C-locale directives chat templates use. */
export function pyStrftime(date: Date, format: string): string {
  const pad = (n: number, width = 2): string => String(n).padStart(width, "0");
  const dayOfYear = Math.floor(
    (Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()) - Date.UTC(date.getFullYear(), 0, 1)) / 86_400_000,
  ) + 1;
  return format.replace(/%([a-zA-Z%])/g, (whole, d: string) => {
    switch (d) {
      case "Y":
        return String(date.getFullYear());
      case "y":
        return pad(date.getFullYear() % 100);
      case "m":
        return pad(date.getMonth() + 1);
      case "d":
        return pad(date.getDate());
      case "e":
        return String(date.getDate()).padStart(2, " ");
      case "H":
        return pad(date.getHours());
      case "I":
        return pad(date.getHours() % 12 === 0 ? 12 : date.getHours() % 12);
      case "M":
        return pad(date.getMinutes());
      case "S":
        return pad(date.getSeconds());
      case "f":
        return pad(date.getMilliseconds() * 1000, 6);
      case "p":
        return date.getHours() < 12 ? "AM" : "PM";
      case "A":
        return DAYS[date.getDay()] as string;
      case "a":
        return (DAYS[date.getDay()] as string).slice(0, 3);
      case "B":
        return MONTHS[date.getMonth()] as string;
      case "b":
      case "h":
        return (MONTHS[date.getMonth()] as string).slice(0, 3);
      case "j":
        return pad(dayOfYear, 3);
      case "w":
        return String(date.getDay());
      case "%":
        return "%";
      default:
        return whole;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The interpreter with Python semantics.

interface Node {
  readonly type: string;
  readonly [key: string]: any;
}

type Method = (this: PythonInterpreter, ...args: any[]) => any;
const base = Interpreter.prototype as unknown as Record<string, Method>;
const baseMethod = (name: string): Method => {
  const m = base[name];
  if (typeof m !== "function") throw new Error(`@huggingface/jinja: Interpreter.${name} not found (version changed?)`);
  return m;
};
const baseEvaluateFor = baseMethod("evaluateFor");
const baseEvaluateBinary = baseMethod("evaluateBinaryExpression");
const baseApplyFilter = baseMethod("applyFilter");
const baseEvaluateTest = baseMethod("evaluateTestExpression");
const baseEvaluateCall = baseMethod("evaluateCallExpression");
const baseEvaluateSlice = baseMethod("evaluateSliceExpression");
const baseEvaluateArguments = baseMethod("evaluateArguments");

/** Statements whose value is never printed. */
const SILENT_STATEMENTS = new Set(["Set", "Macro", "Comment", "Break", "Continue"]);
/** Python dict methods that attribute syntax (`d.items`) reaches before the keys. */
const DICT_METHODS = new Set(["get", "items", "keys", "values"]);
const MAX_CALL_DEPTH = 256;
const ITERABLE_VAR = "__talaria_iterable";

/** The parts of the library's Interpreter we use (its bundled .d.ts does not resolve under NodeNext). */
interface InterpreterLike {
  run(program: unknown): unknown;
  evaluate(node: unknown, environment: Environment): unknown;
}
const InterpreterBase = Interpreter as unknown as new (env?: Environment) => InterpreterLike;

class PythonInterpreter extends InterpreterBase {
  callDepth = 0;
}

const proto = PythonInterpreter.prototype as unknown as Record<string, Method>;

/** Output: Python `str()` of every printed value (`None`, `True`, `1.0`, `{'a': 1}`). */
proto["evaluateBlock"] = function evaluateBlock(statements: Node[], environment: Environment) {
  let out = "";
  for (const statement of statements) {
    const value = this.evaluate(statement as never, environment) as AnyValue;
    if (!SILENT_STATEMENTS.has(statement.type)) out += pyStr(value);
  }
  return str(out);
};

function getMember(object: AnyValue, property: AnyValue, attributeSyntax: boolean): AnyValue {
  const key = property.type === "StringValue" ? (property.value as string) : undefined;
  if (isMapping(object)) {
    if (key === undefined) return undef();
    const map = object.value as Map<string, AnyValue>;
    if (attributeSyntax && DICT_METHODS.has(key)) return object.builtins.get(key) as AnyValue;
    return map.get(key) ?? (DICT_METHODS.has(key) ? (object.builtins.get(key) as AnyValue) : undef());
  }
  if (object.type === "NamespaceValue") {
    return key === undefined ? undef() : ((object.value as Map<string, AnyValue>).get(key) ?? undef());
  }
  if ((isArrayLike(object) || object.type === "StringValue") && property.type === "IntegerValue") {
    const items: unknown[] = object.type === "StringValue" ? Array.from(object.value as string) : (object.value as AnyValue[]);
    const index = property.value as number;
    const item = items[index < 0 ? items.length + index : index];
    if (item === undefined) return undef();
    return object.type === "StringValue" ? str(item as string) : (item as AnyValue);
  }
  if (key === undefined) return undef();
  return (object.builtins.get(key) as AnyValue | undefined) ?? undef();
}

/** `a.b` / `a[b]`: attribute access on Undefined raises; a missing key or a non-string key gives Undefined. */
proto["evaluateMemberExpression"] = function evaluateMemberExpression(expr: Node, environment: Environment) {
  const object = this.evaluate(expr["object"], environment) as AnyValue;
  if (isUndefined(object)) {
    throw new JinjaTemplateError(`${describe(expr["object"])} is undefined`, "undefined");
  }
  const property = expr["property"] as Node;
  if (expr["computed"] && property.type === "SliceExpression") {
    return baseEvaluateSlice.call(this, object, property, environment);
  }
  let key: AnyValue;
  if (expr["computed"]) key = this.evaluate(property as never, environment) as AnyValue;
  else if (property.type === "IntegerLiteral") key = new IntegerValue(property["value"]);
  else key = str(property["value"] as string);
  return getMember(object, key, !expr["computed"]);
};

function describe(node: Node): string {
  if (node.type === "Identifier") return `'${node["value"] as string}'`;
  if (node.type === "MemberExpression" && !node["computed"]) {
    return `${describe(node["object"])}.${(node["property"] as Node)["value"] as string}`.replace(/'/g, "");
  }
  return "value";
}

/** `for`: strings iterate their characters, Undefined iterates nothing, None is a TypeError. */
proto["evaluateFor"] = function evaluateFor(node: Node, environment: Environment) {
  const iterableNode = node["iterable"] as Node;
  const select = iterableNode.type === "SelectExpression";
  const value = this.evaluate((select ? iterableNode["lhs"] : iterableNode) as never, environment) as AnyValue;
  let items: AnyValue;
  if (isArrayLike(value)) items = value;
  else if (isMapping(value)) items = new ArrayValue([...(value.value as Map<string, AnyValue>).keys()].map(str));
  else if (value.type === "StringValue") items = new ArrayValue(Array.from(value.value as string).map(str));
  else if (isUndefined(value)) items = new ArrayValue([]);
  else throw new JinjaTemplateError(`'${pyTypeName(value)}' object is not iterable`, "type");
  const scope = new Environment(environment);
  scope.setVariable(ITERABLE_VAR, items);
  const ident = { type: "Identifier", value: ITERABLE_VAR };
  const patched = { ...node, iterable: select ? { ...iterableNode, lhs: ident } : ident };
  return baseEvaluateFor.call(this, patched, scope);
};

function contains(container: AnyValue, item: AnyValue): boolean {
  if (isUndefined(container)) return false;
  if (isArrayLike(container)) return (container.value as AnyValue[]).some((x) => pyEquals(x, item));
  if (container.type === "StringValue") {
    if (item.type !== "StringValue") {
      throw new JinjaTemplateError(`'in <string>' requires string as left operand, not ${pyTypeName(item)}`, "type");
    }
    return (container.value as string).includes(item.value as string);
  }
  if (isMapping(container)) {
    return item.type === "StringValue" && (container.value as Map<string, AnyValue>).has(item.value as string);
  }
  throw new JinjaTemplateError(`argument of type '${pyTypeName(container)}' is not iterable`, "type");
}

const INTERCEPTED_OPERATORS = new Set(["==", "!=", "~", "+", "in", "not in"]);

proto["evaluateBinaryExpression"] = function evaluateBinaryExpression(node: Node, environment: Environment) {
  const operator = (node["operator"] as Node)["value"] as string;
  if (!INTERCEPTED_OPERATORS.has(operator)) return baseEvaluateBinary.call(this, node, environment);
  const left = this.evaluate(node["left"], environment) as AnyValue;
  const right = this.evaluate(node["right"], environment) as AnyValue;
  switch (operator) {
    case "==":
      return bool(pyEquals(left, right));
    case "!=":
      return bool(!pyEquals(left, right));
    case "~":
      return str(pyStr(left) + pyStr(right));
    case "in":
      return bool(contains(right, left));
    case "not in":
      return bool(!contains(right, left));
    default: {
      // "+"
      if (isUndefined(left) || isUndefined(right)) {
        throw new JinjaTemplateError(`cannot add an undefined value (${describe(isUndefined(left) ? node["left"] : node["right"])})`, "undefined");
      }
      if (left.type === "StringValue" && right.type === "StringValue") return str((left.value as string) + (right.value as string));
      if (isNumberLike(left) && isNumberLike(right)) {
        const sum = Number(left.value) + Number(right.value);
        return left.type === "FloatValue" || right.type === "FloatValue" ? new FloatValue(sum) : new IntegerValue(sum);
      }
      if (isArrayLike(left) && isArrayLike(right) && left.type === right.type) {
        return new ArrayValue([...(left.value as AnyValue[]), ...(right.value as AnyValue[])]);
      }
      if (left.type === "StringValue") {
        throw new JinjaTemplateError(`can only concatenate str (not "${pyTypeName(right)}") to str`, "type");
      }
      throw new JinjaTemplateError(
        `unsupported operand type(s) for +: '${pyTypeName(left)}' and '${pyTypeName(right)}'`,
        "type",
      );
    }
  }
};

/** Filters whose Python version stringifies its operand first (so Undefined acts as ""). */
const STRING_FILTERS = new Set(["upper", "lower", "title", "capitalize", "indent", "replace"]);

proto["applyFilter"] = function applyFilter(operand: AnyValue, filterNode: Node, environment: Environment) {
  const isCall = filterNode.type === "CallExpression";
  const nameNode = (isCall ? filterNode["callee"] : filterNode) as Node;
  if (nameNode.type !== "Identifier") return baseApplyFilter.call(this, operand, filterNode, environment);
  const name = nameNode["value"] as string;
  const [args, kwargs] = (isCall ? baseEvaluateArguments.call(this, filterNode["args"], environment) : [[], new Map()]) as [
    AnyValue[],
    Map<string, AnyValue>,
  ];
  const arg = (i: number, key: string): AnyValue | undefined => args[i] ?? kwargs.get(key);
  switch (name) {
    case "items": {
      if (isUndefined(operand)) return new ArrayValue([]);
      if (!isMapping(operand)) throw new JinjaTemplateError("Can only get item pairs from a mapping.", "type");
      return new ArrayValue(
        [...(operand.value as Map<string, AnyValue>).entries()].map(([k, v]) => new ArrayValue([str(k), v])),
      );
    }
    case "tojson": {
      const indent = arg(0, "indent");
      const ensureAscii = kwargs.get("ensure_ascii");
      const sortKeys = kwargs.get("sort_keys");
      const separators = kwargs.get("separators");
      let seps: [string, string] | null = null;
      if (separators !== undefined && !isType(separators, "NullValue")) {
        const pair = isArrayLike(separators) ? (separators.value as AnyValue[]) : [];
        if (pair.length !== 2 || pair.some((s) => s.type !== "StringValue")) {
          throw new JinjaTemplateError("separators must be a pair of strings", "type");
        }
        seps = [pair[0]?.value as string, pair[1]?.value as string];
      }
      try {
        return str(
          pyJsonDumps(toPlain(operand, "json"), {
            ensureAscii: ensureAscii !== undefined && Boolean(ensureAscii.value),
            indent:
              indent === undefined || isType(indent, "NullValue")
                ? null
                : indent.type === "StringValue"
                  ? (indent.value as string)
                  : Number(indent.value),
            separators: seps,
            sortKeys: sortKeys !== undefined && Boolean(sortKeys.value),
          }),
        );
      } catch (error) {
        if (error instanceof PythonJsonError) throw new JinjaTemplateError(error.message, "type", { cause: error });
        throw error;
      }
    }
    case "trim": {
      const chars = arg(0, "chars");
      return str(pyStrip(pyStr(operand), chars !== undefined && chars.type === "StringValue" ? (chars.value as string) : undefined));
    }
    case "string":
      return str(pyStr(operand));
    case "safe":
      return operand;
    case "length":
    case "count": {
      if (isUndefined(operand)) return new IntegerValue(0);
      if (operand.type === "StringValue") return new IntegerValue(Array.from(operand.value as string).length);
      if (isArrayLike(operand)) return new IntegerValue((operand.value as AnyValue[]).length);
      if (isMapping(operand) || operand.type === "NamespaceValue") return new IntegerValue((operand.value as Map<string, AnyValue>).size);
      throw new JinjaTemplateError(`object of type '${pyTypeName(operand)}' has no len()`, "type");
    }
    case "list": {
      if (isUndefined(operand)) return new ArrayValue([]);
      if (isArrayLike(operand)) return new ArrayValue([...(operand.value as AnyValue[])]);
      if (operand.type === "StringValue") return new ArrayValue(Array.from(operand.value as string).map(str));
      if (isMapping(operand)) return new ArrayValue([...(operand.value as Map<string, AnyValue>).keys()].map(str));
      throw new JinjaTemplateError(`'${pyTypeName(operand)}' object is not iterable`, "type");
    }
    case "join": {
      if (kwargs.has("attribute")) break;
      const separator = arg(0, "d");
      let items: AnyValue[];
      if (isUndefined(operand)) items = [];
      else if (isArrayLike(operand)) items = operand.value as AnyValue[];
      else if (operand.type === "StringValue") items = Array.from(operand.value as string).map(str);
      else if (isMapping(operand)) items = [...(operand.value as Map<string, AnyValue>).keys()].map(str);
      else throw new JinjaTemplateError(`'${pyTypeName(operand)}' object is not iterable`, "type");
      return str(items.map(pyStr).join(separator === undefined ? "" : pyStr(separator)));
    }
    default:
      if (STRING_FILTERS.has(name) && (isUndefined(operand) || operand.type !== "StringValue")) {
        return baseApplyFilter.call(this, str(pyStr(operand)), filterNode, environment);
      }
  }
  return baseApplyFilter.call(this, operand, filterNode, environment);
};

const PYTHON_TESTS: ReadonlyMap<string, (v: AnyValue) => boolean> = new Map([
  ["defined", (v: AnyValue) => !isUndefined(v)],
  ["undefined", (v: AnyValue) => isUndefined(v)],
  ["none", (v: AnyValue) => v.type === "NullValue"],
  ["boolean", (v: AnyValue) => v.type === "BooleanValue"],
  ["true", (v: AnyValue) => v.type === "BooleanValue" && v.value === true],
  ["false", (v: AnyValue) => v.type === "BooleanValue" && v.value === false],
  ["string", (v: AnyValue) => v.type === "StringValue"],
  ["number", (v: AnyValue) => isNumberLike(v)],
  ["integer", (v: AnyValue) => v.type === "IntegerValue"],
  ["float", (v: AnyValue) => v.type === "FloatValue"],
  ["mapping", (v: AnyValue) => isMapping(v)],
  ["sequence", (v: AnyValue) => isArrayLike(v) || isMapping(v) || v.type === "StringValue"],
  // Jinja2 tries iter(value): str, list, tuple, dict and Undefined are iterable.
  ["iterable", (v: AnyValue) => isArrayLike(v) || isMapping(v) || v.type === "StringValue" || isUndefined(v)],
  ["callable", (v: AnyValue) => v.type === "FunctionValue"],
]);

proto["evaluateTestExpression"] = function evaluateTestExpression(node: Node, environment: Environment) {
  const test = PYTHON_TESTS.get((node["test"] as Node)["value"] as string);
  if (test === undefined) return baseEvaluateTest.call(this, node, environment);
  const operand = this.evaluate(node["operand"], environment) as AnyValue;
  const result = test(operand);
  return bool(node["negate"] ? !result : result);
};

proto["evaluateCallExpression"] = function evaluateCallExpression(node: Node, environment: Environment) {
  if (this.callDepth >= MAX_CALL_DEPTH) {
    throw new JinjaTemplateError("maximum recursion depth exceeded", "recursion");
  }
  this.callDepth++;
  try {
    return baseEvaluateCall.call(this, node, environment);
  } finally {
    this.callDepth--;
  }
};

// ---------------------------------------------------------------------------------------------
// Public API

export interface JinjaRenderOptions {
  /** Clock for `strftime_now`. Default: `new Date()` at call time. */
  readonly now?: () => Date;
}

/** A parsed template that renders with Python Jinja2 semantics. */
export interface CompiledJinjaTemplate {
  readonly source: string;
  /** Render with these variables (JS values; use `Map` for objects whose key order JS would change). */
  render(context: Readonly<Record<string, unknown>>, options?: JinjaRenderOptions): string;
}

function pyRange(args: AnyValue[]): AnyValue {
  const nums = args.filter((a) => a.type !== "KeywordArgumentsValue").map((a) => Number(a.value));
  const [start, stop, step] = nums.length === 1 ? [0, nums[0] ?? 0, 1] : [nums[0] ?? 0, nums[1] ?? 0, nums[2] ?? 1];
  if (step === 0) throw new JinjaTemplateError("range() arg 3 must not be zero", "runtime");
  const out: AnyValue[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(new IntegerValue(i));
  return new ArrayValue(out);
}

/** Parse a chat template once (lexing with `trim_blocks` and `lstrip_blocks`, as transformers does). */
export function compileJinjaTemplate(source: string): CompiledJinjaTemplate {
  let program: ReturnType<typeof parse>;
  try {
    program = parse(tokenize(source, { lstrip_blocks: true, trim_blocks: true }));
  } catch (error) {
    throw new JinjaTemplateError(`template syntax error: ${(error as Error).message}`, "syntax", { cause: error });
  }
  return {
    source,
    render(context, options = {}) {
      const env = new Environment();
      const globals: Array<[string, AnyValue]> = [
        ["true", bool(true)],
        ["false", bool(false)],
        ["none", new NullValue(null)],
        ["True", bool(true)],
        ["False", bool(false)],
        ["None", new NullValue(null)],
        [
          "raise_exception",
          new FunctionValue((args: AnyValue[]) => {
            throw new JinjaTemplateError(args[0] === undefined ? "" : pyStr(args[0]), "raised");
          }),
        ],
        ["range", new FunctionValue((args: AnyValue[]) => pyRange(args))],
        [
          "strftime_now",
          new FunctionValue((args: AnyValue[]) =>
            str(pyStrftime((options.now ?? (() => new Date()))(), args[0] === undefined ? "" : pyStr(args[0]))),
          ),
        ],
      ];
      for (const [name, value] of globals) env.setVariable(name, value);
      for (const [name, value] of Object.entries(context)) env.setVariable(name, toRuntimeValue(value));
      const interpreter = new PythonInterpreter(env);
      try {
        const result = interpreter.run(program) as AnyValue;
        return result.value as string;
      } catch (error) {
        if (error instanceof JinjaTemplateError) throw error;
        if (error instanceof RangeError) {
          throw new JinjaTemplateError("maximum recursion depth exceeded", "recursion", { cause: error });
        }
        throw new JinjaTemplateError((error as Error).message, "runtime", { cause: error });
      }
    },
  };
}

/** Parse and render in one call. */
export function renderJinjaTemplate(
  source: string,
  context: Readonly<Record<string, unknown>>,
  options?: JinjaRenderOptions,
): string {
  return compileJinjaTemplate(source).render(context, options);
}
