/**
 * The engine conformance suite through the remote engine in front of a REAL llama.cpp `llama-server`
 * (the binary of node-llama-cpp's own llama.cpp commit: scripts/llama-server.sh), on the generated
 * scripted model. Skips when the binary is missing, except under CI=true, where it fails.
 */
import { describe } from "vitest";
import { createRemoteEngine } from "../../src/engine/remote/index.js";
import { HERMES_DIALECT } from "../../src/hermes/dialect.js";
import { ensureTestModel } from "../../src/testmodels/index.js";
import { CONFORMANCE_PROMPT, CONFORMANCE_REPLY, describeEngineConformance } from "../conformance/engine-conformance.js";
import { findLlamaServer, llamaServerRequired, startLlamaServer, type LlamaServerProcess } from "../support/llama-server.js";

const found = findLlamaServer();

describe.skipIf("missing" in found && !llamaServerRequired())("remote engine in front of llama-server", () => {
  let server: LlamaServerProcess | undefined;
  describeEngineConformance("remote (llama-server, scripted model)", async () => {
    if ("missing" in found) throw new Error(found.missing);
    const model = await ensureTestModel({ kind: "scripted", reply: CONFORMANCE_REPLY });
    server = await startLlamaServer({ model, parallel: 2, contextSize: 1024 });
    const engine = await createRemoteEngine({ url: server.url, kind: "auto", markerTexts: HERMES_DIALECT.markers });
    const dispose = engine.dispose.bind(engine);
    // The suite disposes the engine at the end; the server goes with it.
    Object.defineProperty(engine, "dispose", { value: async () => { await dispose(); await server?.kill(); } });
    return { engine, prompt: CONFORMANCE_PROMPT, reply: CONFORMANCE_REPLY };
  });
});
