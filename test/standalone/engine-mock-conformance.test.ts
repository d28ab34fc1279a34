import { createHermesMockEngine as createMockEngine } from "../support/hermes-mock.js";
import { CONFORMANCE_PROMPT, CONFORMANCE_REPLY, describeEngineConformance } from "../conformance/engine-conformance.js";

describeEngineConformance("mock", async () => ({
  engine: createMockEngine({ script: [{ match: "<|im_start|>assistant\n", reply: CONFORMANCE_REPLY }], sequences: 2 }),
  prompt: CONFORMANCE_PROMPT,
  reply: CONFORMANCE_REPLY,
}));
