import { createLlamaCppEngine } from "../../src/engine/llama-cpp/index.js";
import { ensureTestModel } from "../../src/testmodels/index.js";
import { CONFORMANCE_PROMPT, CONFORMANCE_REPLY, describeEngineConformance } from "../conformance/engine-conformance.js";

describeEngineConformance("llama.cpp (scripted model)", async () => {
  const model = await ensureTestModel({ kind: "scripted", reply: CONFORMANCE_REPLY });
  // 1 thread: fastest for tiny models on a busy 2-core machine (docs/decisions/0012-threads-default.md)
  const engine = await createLlamaCppEngine({ model, threads: 1, sequences: 2, contextSize: 512 });
  return { engine, prompt: CONFORMANCE_PROMPT, reply: CONFORMANCE_REPLY };
});
