import { describe, expect, it } from "vitest";
import { OFFICIAL_TOOL_USE_TEMPLATE } from "./official-tool-use-template.js";
import { detectProfile, getProfile, HERMES_PROFILES, UnknownProfileError, warnProfileOnce } from "./profiles.js";

describe("detectProfile", () => {
  it.each([
    [{ name: "Hermes 3 Llama 3.2 3B", sizeLabel: "3B" }, "hermes-3-llama-3.2-3b"],
    [{ name: "Hermes-3-Llama-3.2-3B" }, "hermes-3-llama-3.2-3b"],
    [{ basename: "Hermes-3-Llama-3.2", sizeLabel: "3B" }, "hermes-3-llama-3.2-3b"],
    [{ name: "Hermes 3 - Llama-3.2 3B (Abliterated)" }, "hermes-3-llama-3.2-3b"],
    [{ name: "Hermes 3 Llama 3.1 8B", sizeLabel: "8B" }, "hermes-3"],
    [{ basename: "Hermes-3-Llama-3.1", sizeLabel: "70B" }, "hermes-3"],
    [{ name: "Hermes-2-Pro-Llama-3-70B" }, "hermes-2-pro"],
    [{ name: "Hermes 2 Pro Llama 3 8B" }, "hermes-2-pro"],
    [{ name: "Hermes-2-Theta-Llama-3-8B" }, "hermes-2-pro"],
    [{ name: "Meta Llama 3.1 8B Instruct" }, "chatml"],
    [{}, "chatml"],
  ] as const)("%o → %s", (metadata, profile) => {
    const detection = detectProfile({ ...metadata, chatTemplates: {} });
    expect(detection.profile).toBe(profile);
    expect(detection.reason.length).toBeGreaterThan(10);
  });
  it("falls back to the tool_use template when the name says nothing", () => {
    expect(detectProfile({ name: "my-finetune", chatTemplates: { tool_use: OFFICIAL_TOOL_USE_TEMPLATE } }).profile).toBe("hermes-3");
    const chatml = detectProfile({ name: "x", chatTemplates: { default: "{{'<|im_start|>'}}" } });
    expect(chatml).toEqual({ profile: "chatml", reason: expect.stringContaining("ChatML") });
  });
  it("does not confuse other numbers with Hermes 3", () => {
    expect(detectProfile({ name: "Hermes-30B-thing" }).profile).toBe("chatml");
  });
});

describe("profiles", () => {
  it("tool-response roles follow the cards", () => {
    expect(HERMES_PROFILES["hermes-2-pro"].toolResponseRole).toBe("tool");
    expect(HERMES_PROFILES["hermes-3"].toolResponseRole).toBe("tool");
    expect(HERMES_PROFILES["hermes-3-llama-3.2-3b"].toolResponseRole).toBe("user");
  });
  it("getProfile rejects unknown ids", () => {
    expect(() => getProfile("gpt")).toThrow(UnknownProfileError);
  });
  it("the chatml fallback warns once", () => {
    const seen: string[] = [];
    warnProfileOnce(getProfile("chatml"), (m) => seen.push(m));
    warnProfileOnce(getProfile("chatml"), (m) => seen.push(m));
    warnProfileOnce(getProfile("hermes-3"), (m) => seen.push(m));
    expect(seen).toHaveLength(1);
  });
});
