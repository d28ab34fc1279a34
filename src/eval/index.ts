/**
 * The eval harness: the old lm-evaluation-harness' tasks and scoring (pure core), the runner over the
 * Engine port, and the function-calling / JSON-mode evals. See docs/eval.md.
 */
export type { DataFiles, DocMetrics, DocScoring, EvalDocument, GenerationRequest, HarnessRequest, MetricName, SuiteName, TaskDefinition } from "./types.js";
export { EvalDataError, SUITE_NAMES, SUITE_TITLES } from "./types.js";
export { ALL_TASKS, isSuiteName, selectTasks, tasksOfSuite, TRUTHFULQA_QA_PROMPT } from "./tasks/index.js";
export { defaultDataDir, loadTaskDocuments, readDataFile } from "./data.js";
export { encodeRequest, splitTrailingWhitespace, truncateToLength, type EncodedRequest, type SplitRequest } from "./requests.js";
export {
  aggregate,
  argmaxFirst,
  bigbenchArgmax,
  bigbenchPostprocess,
  meanStderr,
  scoreDocument,
  truthfulqaMc2Old,
  type MetricSummary,
} from "./metrics.js";
export {
  averageMetric,
  cardAverage,
  cardValue,
  FULL_DOCUMENT_COUNTS,
  matchCard,
  parseCardScores,
  suiteAverages,
  type CardMatchInput,
  type ModelCard,
  type SuiteAverage,
  type TaskResult,
} from "./report.js";
export { formatReport, formatSuiteTable, type SuiteTableOptions } from "./table.js";
export { batchDocuments, runTasks, type EvalProgress, type EvalRun, type EvalSample, type RunTasksOptions, type TaskInput } from "./runner.js";
export { resultsToJson, SampleWriter, sampleToJson, writeResults } from "./output.js";
export { parseOrderedJson, pythonDumpsKey, type JsonNode } from "./ordered-json.js";
export { SchemaValidator, type SchemaIssue } from "./schema-validator.js";
export {
  FUNCTION_CALLING_CATEGORIES,
  functionCallingCaseSchema,
  parseFunctionCallingCases,
  type FunctionCallingCase,
  type FunctionCallingCategory,
} from "./function-calling/cases.js";
export { checkCall, checkFunctionCalls, standardizeString, valuesMatch, type CallError, type CallErrorKind, type FunctionCallCheck, type ModelCall } from "./function-calling/checker.js";
export { jsonModeCaseSchema, parseJsonModeCases, type JsonModeCase } from "./json-mode/cases.js";
export { checkJsonMode, extractJson, type JsonModeCheck } from "./json-mode/checker.js";
export {
  runFunctionCallingEval,
  runJsonModeEval,
  scoreFunctionCallingOutput,
  summarizeFunctionCalling,
  summarizeJsonMode,
  type FunctionCallingReport,
  type GenerationEvalOptions,
  type JsonModeReport,
} from "./generation-evals.js";
