/**
 * The chat web UI at `/`, in headless Chromium, against Talaria's server on scripted test models:
 * a streamed Markdown reply (exact text), conversations kept across a reload (rename, delete), a tool call
 * shown as a card and answered by hand, Stop in the middle of a long reply, the 401 banner and the API-key
 * field, a JSON reply shown as a highlighted json code block, the settings panel's remembered open/closed
 * state (closed by default below 1400 px), and the layout at 375 px. Screenshots of each step go to
 * `test-output/web/`.
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { ensureTestModel } from "../../src/testmodels/index.js";
import {
  MODEL_ID,
  buildWebUi,
  chromiumProblem,
  openBrowser,
  shot,
  startTalaria,
  storedConversations,
  tempDir,
  watchReplyGrowth,
  type BrowserSession,
  type Talaria,
} from "./web-harness.js";

const CHAT_REPLY = 'Hello from **Talaria**!\n\n```python\nprint("hi")\n```\n\nAnd `inline`.';
const TOOL_REPLY = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
const AFTER_TOOL_REPLY = "It is 21 °C in Paris.";
const LONG_REPLY = Array.from({ length: 300 }, (_, i) => `word${i}`).join(" ");
/** Generation on a loaded 2-core box can be slow: wait for replies generously. */
const REPLY_WAIT = { timeout: 240_000, interval: 250 };
const UI_WAIT = { timeout: 15_000 };
const API_KEY = "test-key-7f3a";
const WEATHER_TOOLS = JSON.stringify([
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Current weather for a city",
      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    },
  },
]);

const JSON_REPLY = '{"name": "Ada", "age": 36, "languages": ["en", "fr"]}';
const DESKTOP = { width: 1280, height: 800 };
const WIDE = { width: 1500, height: 900 };
const PHONE = { width: 375, height: 740 };

let webRoot: string;

/**
 * Without Chromium these tests skip locally (saying how to install it), so `npm ci && npm test` passes on a
 * fresh machine; under CI=true (`.ci/run`, which installs it) a missing browser fails them.
 */
const problem = chromiumProblem();
const skipBrowser = problem !== null && process.env.CI !== "true";
if (skipBrowser) console.warn(`web UI browser tests skipped: ${problem} (under CI=true they fail instead)`);

beforeAll(async () => {
  if (skipBrowser) return;
  if (problem !== null) throw new Error(problem);
  webRoot = path.join(await tempDir("talaria-web-build-"), "web");
  await buildWebUi(webRoot);
}, 120_000);

afterAll(async () => {
  if (webRoot !== undefined) await rm(path.dirname(webRoot), { recursive: true, force: true });
});

/** The server must serve the web UI at `/` (mounted before its auth middleware). */
function requireUi(_ctx: TestContext, talaria: Talaria | undefined): asserts talaria is Talaria {
  if (talaria === undefined) throw new Error("server did not start");
  if (!talaria.servesUi) throw new Error("the server does not serve the web UI at /: src/server/app.ts must mount it");
}

function message(page: BrowserSession["page"]) {
  return page.getByLabel("Message", { exact: true });
}

/** Whether the settings panel is shown (the API-key field is in it). */
function settingsShown(page: BrowserSession["page"]): Promise<boolean> {
  return page.getByLabel("API key").isVisible();
}

/** Open the settings panel with the ⚙ button unless it is open already. */
async function openSettings(page: BrowserSession["page"]): Promise<void> {
  if (!(await settingsShown(page))) await page.getByRole("button", { name: "Settings", exact: true }).click();
  await expect.poll(() => settingsShown(page), UI_WAIT).toBe(true);
}

/**
 * Whether the API-key field shows its whole placeholder: the text's width in the field's font against the
 * field's content box (an input never scrolls its placeholder, so a longer one is cut off).
 */
function placeholderFits(page: BrowserSession["page"]): Promise<{ text: number; box: number }> {
  return page.evaluate<{ text: number; box: number }>(`(() => {
    const input = document.getElementById("api-key");
    const style = getComputedStyle(input);
    const context = document.createElement("canvas").getContext("2d");
    context.font = style.font;
    const box = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return { text: context.measureText(input.placeholder).width, box };
  })()`);
}

describe.skipIf(skipBrowser)("chat: streamed Markdown reply, conversations, 401 and the API key", () => {
  let talaria: Talaria | undefined;
  let browser: BrowserSession | undefined;

  beforeAll(async () => {
    const modelPath = await ensureTestModel({ kind: "scripted", reply: CHAT_REPLY });
    talaria = await startTalaria({ modelPath, webRoot, apiKey: API_KEY });
    browser = await openBrowser(DESKTOP);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await talaria?.close();
  });

  it("shows a 401 banner without the key, then chats once the key is pasted", async (ctx) => {
    requireUi(ctx, talaria);
    const { page } = browser!;
    await page.goto(`${talaria.server.url}/`);

    // Without a key, /v1/models is refused: the banner says so.
    const banner = page.getByRole("alert");
    await expect.poll(() => banner.getAttribute("data-kind"), UI_WAIT).toBe("unauthorized");
    await expect.poll(() => banner.innerText(), UI_WAIT).toContain("401");
    await shot(page, "01-desktop-401-banner");

    // Sending without the key fails the same way, and no reply text appears.
    await message(page).fill("Hi there");
    await message(page).press("Enter");
    await expect.poll(() => page.locator('article[data-role="assistant"]').getAttribute("data-state"), UI_WAIT).toBe("error");
    expect(await banner.innerText()).toContain("Unauthorized (401)");

    // The banner's button opens the (at 1280 px closed) settings on the key field; paste the key: the
    // models load (name and profile shown) and the banner goes away.
    expect(await settingsShown(page)).toBe(false);
    await banner.getByRole("button", { name: "Enter key" }).click();
    await expect.poll(() => page.evaluate<string | undefined>("document.activeElement?.id"), UI_WAIT).toBe("api-key");
    const fit = await placeholderFits(page);
    expect(fit.text).toBeLessThanOrEqual(fit.box);
    await page.getByLabel("API key").fill(API_KEY);
    await expect.poll(() => page.getByTestId("model-name").innerText(), UI_WAIT).toBe(MODEL_ID);
    await expect.poll(() => page.getByRole("alert").count(), UI_WAIT).toBe(0);
    expect(await page.getByTestId("model-profile").innerText()).toMatch(/hermes-3/);
  });

  it("streams the exact scripted reply, rendered as sanitised Markdown with highlighting and stats", async (ctx) => {
    requireUi(ctx, talaria);
    const { page } = browser!;
    await page.getByRole("button", { name: "+ New chat" }).click();
    const growth = await watchReplyGrowth(page);
    const streamed = page.waitForResponse((r) => r.url().endsWith("/v1/chat/completions") && r.request().method() === "POST");
    await message(page).fill("Say hello\nplease"); // Shift+Enter is tested below; fill keeps the newline.
    await message(page).press("Enter");
    const response = await streamed;
    expect(response.status()).toBe(200);
    expect(response.headers()["content-type"]).toContain("text/event-stream");

    const reply = page.locator('article[data-role="assistant"]').last();
    await expect.poll(() => reply.getAttribute("data-state"), REPLY_WAIT).toBe("done");
    // The text grew in steps as chunks arrived, not in one piece.
    expect((await growth.read()).length).toBeGreaterThan(3);
    const md = reply.locator(".markdown");
    expect(await md.locator("strong").innerText()).toBe("Talaria");
    expect(await md.locator("code.hljs.language-python").innerText()).toBe('print("hi")');
    expect(await md.locator("code.hljs.language-python .hljs-string").count()).toBeGreaterThan(0);
    expect(await md.locator(":not(pre) > code").innerText()).toBe("inline");
    // Stats: time to first token and tokens per second, from stream_options.include_usage.
    expect(await reply.locator('[data-stat="ttft"]').innerText()).toMatch(/^TTFT \d+(\.\d+)? m?s$/);
    expect(await reply.locator('[data-stat="tps"]').innerText()).toMatch(/^\d+\.\d tok\/s$/);
    expect(await reply.locator('[data-stat="finish"]').innerText()).toBe("stop");
    await shot(page, "02-desktop-markdown-reply");

    // Kept in localStorage, exactly as generated.
    await expect
      .poll(async () => (await storedConversations(page)).find((c) => c.title === "Say hello")?.messages.map((m) => [m.role, m.content]), UI_WAIT)
      .toEqual([
        ["user", "Say hello\nplease"],
        ["assistant", CHAT_REPLY],
      ]);
  });

  it("keeps conversations across a reload; renames and deletes them", async (ctx) => {
    requireUi(ctx, talaria);
    const { page } = browser!;
    await page.reload();
    const items = page.locator(".conversation");
    await expect.poll(() => items.count(), UI_WAIT).toBe(2);
    await expect.poll(() => page.locator('article[data-role="assistant"] .markdown strong').first().innerText(), UI_WAIT).toBe("Talaria");

    await page.getByRole("button", { name: 'Rename "Say hello"' }).click();
    const rename = page.getByLabel("Conversation name");
    await rename.fill("Greeting");
    await rename.press("Enter");
    await expect.poll(() => page.locator(".conversation.active .conversation-title").innerText(), UI_WAIT).toBe("Greeting");

    // Shift+Enter makes a new line; Enter would send.
    await message(page).fill("line one");
    await message(page).press("Shift+Enter");
    await message(page).type("line two");
    expect(await message(page).inputValue()).toBe("line one\nline two");
    await message(page).fill("");

    await page.getByRole("button", { name: 'Delete "Hi there"' }).click();
    await page.getByRole("button", { name: 'Confirm delete "Hi there"' }).click();
    await expect.poll(() => items.count(), UI_WAIT).toBe(1);
    await page.reload();
    await expect.poll(async () => (await storedConversations(page)).map((c) => c.title), UI_WAIT).toEqual(["Greeting"]);
    expect(await page.locator(".conversation").innerText()).toContain("Greeting");
    expect(browser!.errors.filter((e) => !e.includes("401"))).toEqual([]);
  });
});

describe.skipIf(skipBrowser)("tools: a scripted tool call shown as a card, answered by hand", () => {
  let talaria: Talaria | undefined;
  let browser: BrowserSession | undefined;

  beforeAll(async () => {
    const modelPath = await ensureTestModel({ kind: "scripted", reply: TOOL_REPLY, afterToolReply: AFTER_TOOL_REPLY });
    talaria = await startTalaria({ modelPath, webRoot });
    browser = await openBrowser(DESKTOP);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await talaria?.close();
  });

  it("shows the call (name, arguments), sends the typed result as a tool message, then streams the after-tool reply", async (ctx) => {
    requireUi(ctx, talaria);
    const { page } = browser!;
    await page.goto(`${talaria.server.url}/`);
    await openSettings(page);
    await page.getByLabel("Tools (OpenAI JSON)").fill(WEATHER_TOOLS);
    await page.getByLabel("Send tools with each request").check();

    await message(page).fill("Weather in Paris?");
    await message(page).press("Enter");
    const card = page.locator(".tool-card");
    await expect.poll(() => card.getAttribute("data-tool-name"), REPLY_WAIT).toBe("get_weather");
    await expect.poll(() => page.locator('article[data-role="assistant"]').getAttribute("data-state"), REPLY_WAIT).toBe("done");
    expect(JSON.parse(await card.locator(".tool-arguments").innerText())).toEqual({ city: "Paris" });
    const callId = await card.getAttribute("data-tool-call-id");
    expect(callId).toMatch(/^call_/);
    // The card is collapsible.
    await card.locator("summary").click();
    expect(await card.evaluate((el) => (el as unknown as { open: boolean }).open)).toBe(false);
    await card.locator("summary").click();
    // No tool markup leaks into the text, and the composer waits for the answer.
    expect(await page.locator('article[data-role="assistant"] .markdown').count()).toBe(0);
    expect(await page.locator(".composer-note").innerText()).toContain("Answer the tool call");
    await shot(page, "03-desktop-tool-call-card");

    const sent = page.waitForRequest((r) => r.url().endsWith("/v1/chat/completions") && r.method() === "POST");
    await page.getByLabel("Result of get_weather").fill('{"temperature_c": 21}');
    await page.getByRole("button", { name: "Send result" }).click();
    const body = (await sent).postDataJSON() as { messages: Record<string, unknown>[]; tools: unknown[] };
    expect(body.tools).toHaveLength(1);
    expect(body.messages.slice(-2)).toEqual([
      { role: "assistant", content: null, tool_calls: [{ id: callId, type: "function", function: { name: "get_weather", arguments: expect.any(String) as string } }] },
      { role: "tool", tool_call_id: callId, content: '{"temperature_c": 21}' },
    ]);

    const after = page.locator('article[data-role="assistant"]').last();
    await expect.poll(() => after.getAttribute("data-state"), REPLY_WAIT).toBe("done");
    expect(await after.locator(".markdown").innerText()).toBe(AFTER_TOOL_REPLY);
    expect(await card.locator(".tool-result").innerText()).toBe('{"temperature_c": 21}');
    await shot(page, "04-desktop-after-tool-reply");
    expect(browser!.errors).toEqual([]);
  });
});

describe.skipIf(skipBrowser)("a JSON reply, and the settings panel's open/closed state", () => {
  let talaria: Talaria | undefined;

  beforeAll(async () => {
    const modelPath = await ensureTestModel({ kind: "scripted", reply: JSON_REPLY });
    talaria = await startTalaria({ modelPath, webRoot });
  }, 300_000);

  afterAll(async () => {
    await talaria?.close();
  });

  it("renders a reply that is a JSON object as a highlighted json code block, keeping the exact text", async (ctx) => {
    requireUi(ctx, talaria);
    const browser = await openBrowser(DESKTOP);
    try {
      const { page } = browser;
      await page.goto(`${talaria.server.url}/`);
      await message(page).fill("Invent a person");
      await message(page).press("Enter");
      const reply = page.locator('article[data-role="assistant"]').last();
      await expect.poll(() => reply.getAttribute("data-state"), REPLY_WAIT).toBe("done");
      const code = reply.locator(".markdown pre.code-block code.hljs.language-json");
      expect(await code.count()).toBe(1);
      expect(await code.innerText()).toBe(JSON_REPLY);
      expect(await code.locator(".hljs-attr").count()).toBeGreaterThan(0); // keys highlighted
      expect(await code.locator(".hljs-number").count()).toBeGreaterThan(0);
      expect(await reply.locator(".markdown .code-lang").innerText()).toBe("json");
      await shot(page, "10-desktop-json-reply");
      // What is kept (and sent back as history) is the model's text, not the fence.
      await expect
        .poll(async () => (await storedConversations(page)).flatMap((c) => c.messages).find((m) => m.role === "assistant")?.content, UI_WAIT)
        .toBe(JSON_REPLY);
      expect(browser.errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it("below 1400 px the panel starts closed; opened, it stays open across a reload, and closed, closed", async (ctx) => {
    requireUi(ctx, talaria);
    const browser = await openBrowser(DESKTOP);
    try {
      const { page } = browser;
      await page.goto(`${talaria.server.url}/`);
      await expect.poll(() => page.getByLabel("Message", { exact: true }).isVisible(), UI_WAIT).toBe(true);
      expect(await settingsShown(page)).toBe(false);
      await shot(page, "11-desktop-settings-closed-by-default");
      await openSettings(page);
      await page.reload();
      await expect.poll(() => settingsShown(page), UI_WAIT).toBe(true);
      await page.getByRole("button", { name: "Close settings" }).click();
      expect(await settingsShown(page)).toBe(false);
      await page.reload();
      await expect.poll(() => page.getByLabel("Message", { exact: true }).isVisible(), UI_WAIT).toBe(true);
      expect(await settingsShown(page)).toBe(false);
      expect(browser.errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it("at 1400 px and wider the panel starts open; closed, it stays closed across a reload", async (ctx) => {
    requireUi(ctx, talaria);
    const browser = await openBrowser(WIDE);
    try {
      const { page } = browser;
      await page.goto(`${talaria.server.url}/`);
      await expect.poll(() => settingsShown(page), UI_WAIT).toBe(true);
      const fit = await placeholderFits(page);
      expect(fit.text).toBeLessThanOrEqual(fit.box);
      await shot(page, "12-wide-settings-open-by-default");
      await page.getByRole("button", { name: "Close settings" }).click();
      await page.reload();
      await expect.poll(() => page.getByLabel("Message", { exact: true }).isVisible(), UI_WAIT).toBe(true);
      expect(await settingsShown(page)).toBe(false);
      await openSettings(page);
      await page.reload();
      await expect.poll(() => settingsShown(page), UI_WAIT).toBe(true);
      expect(browser.errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe.skipIf(skipBrowser)("Stop, and the layout at 375 px", () => {
  let talaria: Talaria | undefined;
  let browser: BrowserSession | undefined;

  beforeAll(async () => {
    const modelPath = await ensureTestModel({ kind: "scripted", reply: LONG_REPLY });
    talaria = await startTalaria({ modelPath, webRoot });
    browser = await openBrowser(PHONE);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await talaria?.close();
  });

  it("Stop aborts the request mid-reply, keeps the partial text, and the server frees the sequence", async (ctx) => {
    requireUi(ctx, talaria);
    const { page } = browser!;
    await page.goto(`${talaria.server.url}/`);
    await shot(page, "05-phone-empty");

    await message(page).fill("Go long");
    await message(page).press("Enter");
    const reply = page.locator('article[data-role="assistant"]').last();
    await reply.locator(".markdown").waitFor({ timeout: REPLY_WAIT.timeout });
    await page.getByRole("button", { name: "Stop the reply" }).click();
    await expect.poll(() => reply.getAttribute("data-state"), UI_WAIT).toBe("stopped");
    await shot(page, "06-phone-stopped");
    const partial = (await reply.locator(".markdown").innerText()).trim();
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(LONG_REPLY.length);
    expect(LONG_REPLY.startsWith(partial)).toBe(true);
    expect(await reply.locator(".badge-stopped").innerText()).toBe("Stopped");
    expect(await page.getByRole("button", { name: "Send message" }).isVisible()).toBe(true);

    // The abort reached the server: it freed the only sequence...
    await expect.poll(() => talaria!.engine.stats().sequencesBusy, UI_WAIT).toBe(0);
    await expect.poll(() => talaria!.server.queue.running, UI_WAIT).toBe(0);
    // ...so a new reply (which needs that sequence) starts streaming.
    await message(page).fill("Again");
    await message(page).press("Enter");
    const second = page.locator('article[data-role="assistant"]').last();
    await second.locator(".markdown").waitFor({ timeout: REPLY_WAIT.timeout });
    await page.keyboard.press("Escape"); // Esc in the message box stops too.
    await expect.poll(() => second.getAttribute("data-state"), UI_WAIT).toBe("stopped");
    await expect.poll(() => talaria!.engine.stats().sequencesBusy, UI_WAIT).toBe(0);
  });

  it("is usable at 375 px: no horizontal overflow; settings and conversations open as drawers", async (ctx) => {
    requireUi(ctx, talaria);
    const { page } = browser!;
    const overflow = () => page.evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
    expect(await overflow()).toBe(0);
    // The header keeps the app name.
    const brand = page.getByRole("heading", { name: "Talaria", exact: true });
    expect(await brand.isVisible()).toBe(true);
    const brandBox = await brand.boundingBox();
    expect(brandBox?.width ?? 0).toBeGreaterThan(20);
    expect(await message(page).isVisible()).toBe(true);
    expect(await page.getByRole("button", { name: "Send message" }).isVisible()).toBe(true);

    await page.getByRole("button", { name: "Settings", exact: true }).click();
    const temperature = page.getByLabel("Temperature");
    expect(await temperature.isVisible()).toBe(true);
    await temperature.fill("9");
    expect(await page.locator("#setting-temperature-problem").innerText()).toContain("at most 2");
    await temperature.fill("0.5");
    const fit = await placeholderFits(page);
    expect(fit.text).toBeLessThanOrEqual(fit.box);
    await shot(page, "07-phone-settings");
    expect(await overflow()).toBe(0);
    await page.getByRole("button", { name: "Close settings" }).click();

    await page.getByRole("button", { name: "Conversations" }).click();
    expect(await page.getByRole("button", { name: "+ New chat" }).isVisible()).toBe(true);
    await shot(page, "08-phone-conversations");
    await page.keyboard.press("Escape");
    expect(await page.getByRole("button", { name: "+ New chat" }).isVisible()).toBe(false);
    expect(browser!.errors).toEqual([]);
  });

  it("shows a 'server unreachable' banner when the server has gone away", async (ctx) => {
    requireUi(ctx, talaria);
    const { page } = browser!;
    await talaria.stopServer();
    await message(page).fill("Anyone there?");
    await message(page).press("Enter");
    const banner = page.getByRole("alert");
    await expect.poll(() => banner.getAttribute("data-kind"), UI_WAIT).toBe("unreachable");
    expect(await banner.innerText()).toContain("Server unreachable");
    await expect.poll(() => page.locator(".model-info").getAttribute("data-health"), UI_WAIT).toBe("down");
    await shot(page, "09-phone-server-down");
    browser!.errors.length = 0; // the failed fetch is logged by Chromium, as expected here
  });
});
