/**
 * `serve` and the other commands resolve the `tool_use` template the same way (issue 11: `serve` used
 * to render the official template while `run`/`chat`/`render` used the model's own).
 */
import { describe, expect, it } from "vitest";
import { createServeBackend } from "../../src/cli/commands/serve.js";
import { createHermesChat, describeHermesChatSetup } from "../../src/chat/hermes-chat.js";
import { promptToString } from "../../src/prompt/text.js";
import { createHermesMockEngine } from "../support/hermes-mock.js";

const OWN = "{{ bos_token }}OWN-TEMPLATE{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
const request = {
  messages: [{ role: "user" as const, content: "hi" }],
  tools: [{ name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }],
};

describe("serve's template choice", () => {
  const engine = createHermesMockEngine({ script: [], chatTemplates: { default: "x", tool_use: OWN } });

  it("--style template renders the model's own tool_use template under serve, as under run/chat", () => {
    const backend = createServeBackend(engine, { style: "template" });
    expect(backend.setup.templateSource).toBe("model");
    const served = promptToString(backend.chat.render(request));
    expect(served).toContain("OWN-TEMPLATE[user:hi]");
    // the agent loop, run and chat build their service with the same root and options
    expect(promptToString(createHermesChat(engine, { style: "template" }).service.render(request))).toBe(served);
    expect(describeHermesChatSetup(backend.setup)).toMatch(/template style, tool_use template: the model's$/);
  });

  it("--template official renders the bundled Hermes template instead", () => {
    const backend = createServeBackend(engine, { style: "template", template: "official" });
    const served = promptToString(backend.chat.render(request));
    expect(served).not.toContain("OWN-TEMPLATE");
    expect(served).toContain("<tools>");
    expect(describeHermesChatSetup(backend.setup)).toMatch(/tool_use template: official Hermes$/);
  });
});

describe("serve's grammar budget (--grammar-max-kb)", () => {
  it("a JSON schema whose grammar is over the budget is refused before generating", async () => {
    const engine = createHermesMockEngine({ script: () => "{}", contextSize: 16384 });
    const properties = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`property_${i}`, { type: "string" }]));
    const request = {
      messages: [{ role: "user" as const, content: "hi" }],
      responseFormat: { type: "json_schema" as const, name: "big", schema: { type: "object", properties }, strict: false },
    };
    const small = createServeBackend(engine, { constrained: { budget: { maxGrammarBytes: 4 * 1024 } } });
    await expect(Promise.resolve().then(() => small.chat.prepare(request))).rejects.toThrow(/budget|too large|bytes/i);
    const roomy = createServeBackend(engine);
    await expect(Promise.resolve().then(() => roomy.chat.prepare(request))).resolves.toBeDefined();
  });
});
