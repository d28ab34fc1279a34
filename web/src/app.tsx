/**
 * The chat page: conversations (kept in localStorage), settings, streaming replies, tool calls answered by
 * hand, MCP tools the server runs (call cards, live approvals), JSON mode, Stop. Talks only to the server's
 * public API (`lib/api.ts`).
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  ApiCallError,
  answerApproval,
  fetchHealth,
  fetchMcpServers,
  fetchModels,
  streamChat,
  type Health as ApiHealth,
  type ModelInfo,
} from "./lib/api.js";
import { StreamChunkError, applyChunk, chunkHasOutput, emptyStreamState, replyTiming, type WireToolCall } from "./lib/chunks.js";
import {
  newConversation,
  newId,
  titleFrom,
  unansweredToolCalls,
  type Conversation,
  type ReplyMeta,
  type Settings,
  type UiMessage,
} from "./lib/model.js";
import {
  answerMcpApproval,
  applyMcpChunk,
  mcpToolEntries,
  settleMcpCalls,
  type McpCall,
  type McpServerInfo,
  type McpSettings,
} from "./lib/mcp.js";
import { buildChatRequest, parseSchema, settingsProblems } from "./lib/request.js";
import { checkJson } from "./lib/schema.js";
import {
  loadActiveId,
  loadConversations,
  loadMcpSettings,
  loadSettings,
  loadSettingsOpen,
  saveActiveId,
  saveConversations,
  saveMcpSettings,
  saveSettings,
  saveSettingsOpen,
} from "./lib/storage.js";
import { Banner, bannerFor, type BannerState } from "./components/banner.js";
import { Composer } from "./components/composer.js";
import { MessageList } from "./components/messages.js";
import { SettingsPanel } from "./components/settings-panel.js";
import { Sidebar } from "./components/sidebar.js";

interface InFlight {
  readonly conversationId: string;
  readonly assistantId: string;
  readonly controller: AbortController;
}

type Health = "checking" | ApiHealth;

/** The reply being streamed, for answers that change its MCP cards (approvals) while it runs. */
interface LiveReply {
  readonly assistantId: string;
  /** Change the reply's MCP calls (then shown with the next frame). */
  readonly updateCalls: (fn: (calls: readonly McpCall[]) => readonly McpCall[]) => void;
}

const store = window.localStorage;

/** From this width the settings panel is a column beside the chat (styles.css); below it, a drawer. */
const INLINE_SETTINGS = "(min-width: 1100px)";
/** From this width the settings panel starts open until the user has opened or closed it. */
const SETTINGS_OPEN_BY_DEFAULT = "(min-width: 1400px)";

/**
 * The settings panel at load: as the user last left the column (remembered in localStorage), else open
 * from 1400 px. The drawer of narrow screens always starts closed, over nothing.
 */
function initialSettingsOpen(): boolean {
  if (!window.matchMedia(INLINE_SETTINGS).matches) return false;
  return loadSettingsOpen(store) ?? window.matchMedia(SETTINGS_OPEN_BY_DEFAULT).matches;
}

function initialState(): { conversations: Conversation[]; activeId: string } {
  const conversations = loadConversations(store);
  const stored = loadActiveId(store);
  const active = conversations.find((c) => c.id === stored) ?? conversations[0];
  if (active !== undefined) return { conversations, activeId: active.id };
  const fresh = newConversation(Date.now());
  return { conversations: [fresh], activeId: fresh.id };
}

export function App() {
  const [initial] = useState(initialState);
  const [conversations, setConversations] = useState<Conversation[]>(initial.conversations);
  const [activeId, setActiveId] = useState(initial.activeId);
  const [settings, setSettings] = useState<Settings>(() => loadSettings(store));
  const [draft, setDraft] = useState("");
  const [inFlight, setInFlight] = useState<InFlight | null>(null);
  const [banner, setBanner] = useState<BannerState | null>(null);
  const [health, setHealth] = useState<Health>("checking");
  const [models, setModels] = useState<ModelInfo[] | null>(null);
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const [settingsOpen, setSettingsOpen] = useState(initialSettingsOpen);
  const [refreshTick, setRefreshTick] = useState(0);
  const [mcpSettings, setMcpSettings] = useState<McpSettings>(() => loadMcpSettings(store));
  const [mcpServers, setMcpServers] = useState<McpServerInfo[] | null>(null);
  const [mcpError, setMcpError] = useState<string | null>(null);

  const settingsRef = useRef(settings);
  settingsRef.current = settings;
  const conversationsRef = useRef(conversations);
  conversationsRef.current = conversations;
  const messagesEnd = useRef<HTMLDivElement>(null);
  const scroller = useRef<HTMLDivElement>(null);

  const liveReply = useRef<LiveReply | null>(null);

  const active = conversations.find((c) => c.id === activeId) ?? conversations[0];
  const problems = useMemo(() => settingsProblems(settings), [settings]);
  const mcpEntries = useMemo(() => mcpToolEntries(mcpServers ?? [], mcpSettings), [mcpServers, mcpSettings]);
  const mcpEntriesRef = useRef(mcpEntries);
  mcpEntriesRef.current = mcpEntries;

  // --- persistence -------------------------------------------------------------------------------
  useEffect(() => {
    // Debounced: while a reply streams, the list changes every frame.
    const timer = window.setTimeout(() => {
      const error = saveConversations(store, conversations);
      if (error !== null) setBanner({ kind: "storage", title: "Not saved", detail: error });
    }, 300);
    return () => window.clearTimeout(timer);
  }, [conversations]);
  useEffect(() => {
    const flush = () => saveConversations(store, conversationsRef.current);
    window.addEventListener("pagehide", flush);
    return () => window.removeEventListener("pagehide", flush);
  }, []);
  useEffect(() => {
    const error = saveSettings(store, settings);
    if (error !== null) setBanner({ kind: "storage", title: "Settings not saved", detail: error });
  }, [settings]);
  useEffect(() => {
    const error = saveMcpSettings(store, mcpSettings);
    if (error !== null) setBanner({ kind: "storage", title: "Settings not saved", detail: error });
  }, [mcpSettings]);
  useEffect(() => saveActiveId(store, activeId), [activeId]);
  // Remember the column's state once the user changes it (not the default, not the narrow-screen drawer).
  const settingsOpenAtLoad = useRef(settingsOpen);
  useEffect(() => {
    if (settingsOpen === settingsOpenAtLoad.current && loadSettingsOpen(store) === null) return;
    if (window.matchMedia(INLINE_SETTINGS).matches) saveSettingsOpen(store, settingsOpen);
  }, [settingsOpen]);

  // --- server status -----------------------------------------------------------------------------
  useEffect(() => {
    const controller = new AbortController();
    // Debounce key typing.
    const timer = window.setTimeout(() => {
      void (async () => {
        const state = await fetchHealth(controller.signal);
        if (controller.signal.aborted) return;
        setHealth(state);
        try {
          const list = await fetchModels({ apiKey: settings.apiKey, signal: controller.signal });
          setModels(list);
          setBanner((b) => (b !== null && (b.kind === "unauthorized" || b.kind === "unreachable") ? null : b));
        } catch (error) {
          if (controller.signal.aborted) return;
          setModels(null);
          if (error instanceof ApiCallError) setBanner(bannerFor(error.failure));
        }
        try {
          const servers = await fetchMcpServers({ apiKey: settings.apiKey, signal: controller.signal });
          setMcpServers(servers);
          setMcpError(null);
        } catch (error) {
          if (controller.signal.aborted) return;
          setMcpServers(null);
          setMcpError(error instanceof Error ? error.message : String(error));
        }
      })();
    }, 250);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [settings.apiKey, refreshTick]);
  // While the server is down or loading its model, look again every 5 s.
  useEffect(() => {
    if (health === "up" || health === "checking") return;
    const timer = window.setTimeout(() => setRefreshTick((t) => t + 1), 5000);
    return () => window.clearTimeout(timer);
  }, [health, refreshTick]);

  // --- helpers -----------------------------------------------------------------------------------
  const updateConversation = useCallback((id: string, fn: (c: Conversation) => Conversation) => {
    setConversations((list) => list.map((c) => (c.id === id ? fn(c) : c)));
  }, []);

  const updateMessage = useCallback(
    (conversationId: string, messageId: string, fn: (m: UiMessage) => UiMessage) => {
      updateConversation(conversationId, (c) => ({ ...c, messages: c.messages.map((m) => (m.id === messageId ? fn(m) : m)) }));
    },
    [updateConversation],
  );

  const changeSettings = useCallback((patch: Partial<Settings>) => setSettings((s) => ({ ...s, ...patch })), []);

  const scrollToEnd = useCallback((force: boolean) => {
    const el = scroller.current;
    if (el === null) return;
    const nearBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 120;
    if (force || nearBottom) messagesEnd.current?.scrollIntoView({ block: "end" });
  }, []);

  // --- generation --------------------------------------------------------------------------------
  /** Stream a reply to `conversation` (its messages already include the latest user or tool turn). */
  const runCompletion = useCallback(
    async (conversation: Conversation) => {
      const current = settingsRef.current;
      const first = Object.values(settingsProblems(current))[0];
      if (first !== undefined) {
        setSettingsOpen(true);
        setBanner({ kind: "request-failed", title: "Check the settings", detail: first });
        return;
      }
      const defaultModel = models?.[0]?.id;
      const mcpTools = mcpEntriesRef.current;
      const body = buildChatRequest(
        conversation,
        current.model === "" && defaultModel !== undefined ? { ...current, model: defaultModel } : current,
        mcpTools,
      );
      const assistantId = newId();
      const controller = new AbortController();
      updateConversation(conversation.id, (c) => ({
        ...c,
        messages: [...c.messages, { id: assistantId, role: "assistant", content: "" }],
        updatedAt: Date.now(),
      }));
      setInFlight({ conversationId: conversation.id, assistantId, controller });
      setBanner(null);
      requestAnimationFrame(() => scrollToEnd(true));

      let state = emptyStreamState();
      let mcpCalls: readonly McpCall[] = [];
      const start = performance.now();
      let firstOutput: number | null = null;
      let lastOutput: number | null = null;
      let outputChunks = 0;
      let frame: number | null = null;
      const flush = () => {
        frame = null;
        const snapshot = state;
        const calls = mcpCalls;
        updateMessage(conversation.id, assistantId, (m) =>
          m.role === "assistant"
            ? {
                ...m,
                content: snapshot.content,
                ...(snapshot.toolCalls.length > 0 ? { toolCalls: snapshot.toolCalls } : {}),
                ...(calls.length > 0 ? { mcpCalls: calls } : {}),
              }
            : m,
        );
        scrollToEnd(false);
      };
      liveReply.current = {
        assistantId,
        updateCalls(fn) {
          mcpCalls = fn(mcpCalls);
          frame ??= requestAnimationFrame(flush);
        },
      };

      let outcome: { kind: "done" } | { kind: "stopped" } | { kind: "failed"; message: string } = { kind: "done" };
      try {
        await streamChat(body, {
          apiKey: current.apiKey,
          signal: controller.signal,
          onChunk(chunk) {
            const now = performance.now();
            state = applyChunk(state, chunk);
            mcpCalls = applyMcpChunk(mcpCalls, chunk, state.content.length);
            if (chunkHasOutput(chunk)) {
              firstOutput ??= now;
              lastOutput = now;
              outputChunks += 1;
            }
            frame ??= requestAnimationFrame(flush);
          },
        });
      } catch (error) {
        if (controller.signal.aborted) {
          outcome = { kind: "stopped" };
        } else if (error instanceof ApiCallError) {
          outcome = { kind: "failed", message: error.failure.message };
          setBanner(bannerFor(error.failure));
          if (error.failure.kind === "network") setHealth("down");
        } else if (error instanceof StreamChunkError) {
          outcome = { kind: "failed", message: error.message };
          setBanner({ kind: "request-failed", title: "The server stopped the reply", detail: error.message });
        } else {
          const message = error instanceof Error ? error.message : String(error);
          outcome = { kind: "failed", message };
          setBanner({ kind: "request-failed", title: "Request failed", detail: message });
        }
      }
      if (frame !== null) cancelAnimationFrame(frame);
      liveReply.current = null;
      // A call still open when the reply ended (Stop, a lost connection) is kept as cancelled.
      const finalCalls = settleMcpCalls(mcpCalls);
      const end = performance.now();
      const timing = replyTiming({ start, firstOutput, lastOutput, end, outputChunks }, state.usage?.completionTokens ?? null);
      let json: ReplyMeta["json"];
      if (current.jsonMode && mcpTools.length === 0 && outcome.kind === "done" && state.toolCalls.length === 0) {
        const schema = parseSchema(current.jsonSchema);
        json = checkJson(state.content, schema !== null && !("problem" in schema) ? schema : null);
      }
      const meta: ReplyMeta = {
        ttftMs: timing.ttftMs,
        tokensPerSecond: timing.tokensPerSecond,
        totalMs: timing.totalMs,
        finishReason: state.finishReason,
        ...(state.usage !== null ? { promptTokens: state.usage.promptTokens, completionTokens: state.usage.completionTokens } : {}),
        ...(state.model !== null ? { model: state.model } : {}),
        ...(outcome.kind === "stopped" ? { stopped: true } : {}),
        ...(outcome.kind === "failed" ? { error: outcome.message } : {}),
        ...(json !== undefined ? { json } : {}),
      };
      updateMessage(conversation.id, assistantId, (m) =>
        m.role === "assistant"
          ? {
              ...m,
              content: state.content,
              ...(state.toolCalls.length > 0 ? { toolCalls: state.toolCalls } : {}),
              ...(finalCalls.length > 0 ? { mcpCalls: finalCalls } : {}),
              meta,
            }
          : m,
      );
      updateConversation(conversation.id, (c) => ({ ...c, updatedAt: Date.now() }));
      setInFlight(null);
      requestAnimationFrame(() => scrollToEnd(false));
    },
    [models, scrollToEnd, updateConversation, updateMessage],
  );

  const send = useCallback(() => {
    const text = draft.trim();
    if (text === "" || inFlight !== null || active === undefined) return;
    const user: UiMessage = { id: newId(), role: "user", content: draft };
    const messages = [...active.messages, user];
    const next: Conversation = {
      ...active,
      messages,
      title: active.titleEdited ? active.title : (titleFrom(messages) ?? active.title),
      updatedAt: Date.now(),
    };
    updateConversation(active.id, () => next);
    setDraft("");
    void runCompletion(next);
  }, [active, draft, inFlight, runCompletion, updateConversation]);

  const stop = useCallback(() => inFlight?.controller.abort(), [inFlight]);

  const answerTool = useCallback(
    (assistantId: string, call: WireToolCall, result: string) => {
      if (active === undefined || inFlight !== null) return;
      const tool: UiMessage = { id: newId(), role: "tool", toolCallId: call.id, content: result };
      const messages = [...active.messages, tool];
      const next: Conversation = { ...active, messages, updatedAt: Date.now() };
      updateConversation(active.id, () => next);
      const index = messages.findIndex((m) => m.id === assistantId);
      if (unansweredToolCalls(messages, index).length === 0) void runCompletion(next);
    },
    [active, inFlight, runCompletion, updateConversation],
  );

  /** Answer an MCP call that waits for approval: shown at once (buttons off), then sent to the server. */
  const approveMcp = useCallback(
    (conversationId: string, assistantId: string, call: McpCall, approve: boolean) => {
      const approvalId = call.approval?.id;
      if (approvalId === undefined) return;
      const answer = approve ? "approve" : "deny";
      const change = (fn: (calls: readonly McpCall[]) => readonly McpCall[]) => {
        const live = liveReply.current;
        if (live !== null && live.assistantId === assistantId) live.updateCalls(fn);
        else updateMessage(conversationId, assistantId, (m) => (m.role === "assistant" && m.mcpCalls !== undefined ? { ...m, mcpCalls: fn(m.mcpCalls) } : m));
      };
      change((calls) => answerMcpApproval(calls, approvalId, answer));
      answerApproval(approvalId, approve, { apiKey: settingsRef.current.apiKey }).catch((error: unknown) => {
        const problem =
          error instanceof ApiCallError && error.failure.kind === "http" && error.failure.status === 404
            ? "Too late: the server no longer waits for this answer (it timed out, or the reply ended)."
            : `The answer did not reach the server: ${error instanceof Error ? error.message : String(error)}`;
        change((calls) => answerMcpApproval(calls, approvalId, answer, problem));
      });
    },
    [updateMessage],
  );

  const newChat = useCallback(() => {
    const fresh = newConversation(Date.now(), active?.systemPrompt ?? "");
    setConversations((list) => [fresh, ...list]);
    setActiveId(fresh.id);
    setSidebarOpen(false);
    setDraft("");
  }, [active]);

  const deleteChat = useCallback(
    (id: string) => {
      if (inFlight?.conversationId === id) return;
      const rest = conversations.filter((c) => c.id !== id);
      if (rest.length === 0) {
        const fresh = newConversation(Date.now());
        setConversations([fresh]);
        setActiveId(fresh.id);
        return;
      }
      setConversations(rest);
      if (id === activeId) setActiveId(rest[0]!.id);
    },
    [activeId, conversations, inFlight],
  );

  // Escape closes an open drawer on small screens.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape" && (sidebarOpen || settingsOpen) && !window.matchMedia(INLINE_SETTINGS).matches) {
        setSidebarOpen(false);
        setSettingsOpen(false);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [sidebarOpen, settingsOpen]);

  if (active === undefined) return null;

  const lastAssistantIndex = active.messages.map((m) => m.role).lastIndexOf("assistant");
  const pendingCalls = lastAssistantIndex >= 0 ? unansweredToolCalls(active.messages, lastAssistantIndex) : [];
  // MCP tools the user turned on are not sent before the server has listed them (which tools exist).
  const mcpWanted = Object.values(mcpSettings.servers).some((s) => s.enabled);
  const blockedReason =
    inFlight !== null && inFlight.conversationId !== active.id
      ? "A reply is streaming in another conversation."
      : pendingCalls.length > 0 && inFlight === null
        ? `Answer the tool call${pendingCalls.length > 1 ? "s" : ""} above to continue.`
        : mcpWanted && mcpServers === null
          ? mcpError === null
            ? "Loading the MCP tools…"
            : "The MCP tools you turned on could not be listed: see Settings (or turn them off)."
          : null;
  const model = models?.find((m) => m.id === settings.model) ?? models?.[0];
  const busyHere = inFlight !== null && inFlight.conversationId === active.id;

  return (
    <div class={`app${sidebarOpen ? " sidebar-open" : ""}${settingsOpen ? " settings-open" : ""}`}>
      <header class="topbar">
        <button
          type="button"
          class="icon only-narrow"
          aria-label="Conversations"
          aria-expanded={sidebarOpen}
          onClick={() => {
            setSidebarOpen(!sidebarOpen);
            setSettingsOpen(false);
          }}
        >
          ☰
        </button>
        <h1 class="brand">Talaria</h1>
        <div class="model-info" aria-label="Model" data-health={health}>
          <span class={`health health-${health}`} title={`Server: ${health}`} aria-label={`Server ${health}`} />
          {model !== undefined ? (
            <>
              <span class="model-name" data-testid="model-name">
                {model.id}
              </span>
              {model.profile !== null ? (
                <span class="model-profile" data-testid="model-profile">
                  {model.profile}
                </span>
              ) : null}
            </>
          ) : (
            <span class="model-name muted">{health === "down" ? "server unreachable" : health === "loading" ? "loading model…" : "no model info"}</span>
          )}
        </div>
        <button
          type="button"
          class="icon"
          aria-label="Settings"
          aria-expanded={settingsOpen}
          onClick={() => {
            setSettingsOpen(!settingsOpen);
            setSidebarOpen(false);
          }}
        >
          ⚙
        </button>
      </header>

      <div class="sidebar">
        <Sidebar
          conversations={conversations}
          activeId={active.id}
          busyId={inFlight?.conversationId ?? null}
          onSelect={(id) => {
            setActiveId(id);
            setSidebarOpen(false);
          }}
          onNew={newChat}
          onRename={(id, title) => updateConversation(id, (c) => ({ ...c, title, titleEdited: true }))}
          onDelete={deleteChat}
        />
      </div>

      <main class="chat" aria-label="Chat">
        {banner !== null ? (
          <Banner
            banner={banner}
            onDismiss={() => setBanner(null)}
            onRetry={banner.kind === "unreachable" || banner.kind === "unauthorized" ? () => setRefreshTick((t) => t + 1) : undefined}
            onOpenSettings={() => {
              setSettingsOpen(true);
              setSidebarOpen(false);
              requestAnimationFrame(() => document.getElementById("api-key")?.focus());
            }}
          />
        ) : null}
        <div class="messages" ref={scroller} aria-live="polite">
          {active.messages.length === 0 ? (
            <div class="empty">
              <p>Start a conversation with the model.</p>
              <p class="hint">Enter sends · Shift+Enter adds a line · Esc stops a reply</p>
            </div>
          ) : (
            <MessageList
              messages={active.messages}
              streamingId={busyHere ? inFlight.assistantId : null}
              busy={inFlight !== null}
              onAnswerTool={answerTool}
              onApproveMcp={(assistantId, call, approve) => approveMcp(active.id, assistantId, call, approve)}
            />
          )}
          <div ref={messagesEnd} />
        </div>
        <Composer value={draft} busy={busyHere} blockedReason={blockedReason} onInput={setDraft} onSend={send} onStop={stop} />
      </main>

      <div class="settings">
        <SettingsPanel
          settings={settings}
          problems={problems}
          models={models}
          systemPrompt={active.systemPrompt}
          onChange={changeSettings}
          onSystemPromptChange={(text) => updateConversation(active.id, (c) => ({ ...c, systemPrompt: text }))}
          onClose={() => setSettingsOpen(false)}
          mcp={{
            servers: mcpServers,
            error: mcpError,
            settings: mcpSettings,
            entries: mcpEntries,
            onChange: setMcpSettings,
            onRefresh: () => setRefreshTick((t) => t + 1),
          }}
        />
      </div>
      {sidebarOpen || settingsOpen ? (
        <div
          class="scrim"
          aria-hidden="true"
          onClick={() => {
            setSidebarOpen(false);
            setSettingsOpen(false);
          }}
        />
      ) : null}
    </div>
  );
}
