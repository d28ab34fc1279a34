/** The task registry: every task of the four card suites, in the cards' order. Pure. */
import { EvalDataError, SUITE_NAMES, type SuiteName, type TaskDefinition } from "../types.js";
import { AGIEVAL_TASKS } from "./agieval.js";
import { BIGBENCH_TASKS } from "./bigbench.js";
import { GPT4ALL_TASKS } from "./gpt4all.js";
import { TRUTHFULQA_TASKS } from "./truthfulqa.js";

export { buildAgieval } from "./agieval.js";
export { buildBigbench, uniqueExamples } from "./bigbench.js";
export { buildBoolq, buildHellaswag, buildPiqa, buildWinogrande, reconstructHellaswagQuery } from "./gpt4all.js";
export { buildTruthfulqaMc, TRUTHFULQA_QA_PROMPT } from "./truthfulqa.js";

export const ALL_TASKS: readonly TaskDefinition[] = [...GPT4ALL_TASKS, ...AGIEVAL_TASKS, ...BIGBENCH_TASKS, ...TRUTHFULQA_TASKS];

export function tasksOfSuite(suite: SuiteName): TaskDefinition[] {
  return ALL_TASKS.filter((t) => t.suite === suite);
}

/**
 * Resolves `--suite` and `--tasks` to task definitions. `suite` may be `all`; `tasks` are harness names
 * (`arc_easy`, `bigbench_navigate`), optionally without the `bigbench_` / `agieval_` prefix, and must
 * belong to the suite.
 */
export function selectTasks(suite: SuiteName | "all", tasks?: readonly string[]): TaskDefinition[] {
  const pool = suite === "all" ? [...ALL_TASKS] : tasksOfSuite(suite);
  if (tasks === undefined || tasks.length === 0) return pool;
  const out: TaskDefinition[] = [];
  for (const wanted of tasks) {
    const t = pool.find((x) => x.name === wanted || x.name === `bigbench_${wanted}` || x.name === `agieval_${wanted}`);
    if (t === undefined) {
      throw new EvalDataError(`unknown task ${JSON.stringify(wanted)} in suite ${suite}; known: ${pool.map((x) => x.name).join(", ")}`);
    }
    if (!out.includes(t)) out.push(t);
  }
  return out;
}

export function isSuiteName(value: string): value is SuiteName {
  return (SUITE_NAMES as readonly string[]).includes(value);
}
