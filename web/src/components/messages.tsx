import { useMemo, useState } from "preact/hooks";
import type { WireToolCall } from "../lib/chunks.js";
import { renderMarkdown } from "../lib/markdown.js";
import { replySegments, type McpCall, type McpCallStatus } from "../lib/mcp.js";
import { replyMarkdown } from "../lib/reply.js";
import type { ReplyMeta, UiMessage } from "../lib/model.js";

export interface MessageListProps {
  readonly messages: readonly UiMessage[];
  /** Id of the assistant message being streamed, if any. */
  readonly streamingId: string | null;
  readonly busy: boolean;
  readonly onAnswerTool: (assistantId: string, call: WireToolCall, result: string) => void;
  /** Approve or deny an MCP call that waits for the user. */
  readonly onApproveMcp: (assistantId: string, call: McpCall, approve: boolean) => void;
}

export function MessageList(props: MessageListProps) {
  const answers = useMemo(() => {
    const map = new Map<string, string>();
    for (const m of props.messages) if (m.role === "tool") map.set(m.toolCallId, m.content);
    return map;
  }, [props.messages]);
  const lastAssistant = [...props.messages].reverse().find((m) => m.role === "assistant");

  return (
    <>
      {props.messages.map((m) => {
        switch (m.role) {
          case "user":
            return (
              <article key={m.id} class="message user" data-role="user" aria-label="You">
                <div class="bubble user-text">{m.content}</div>
              </article>
            );
          case "assistant":
            return (
              <AssistantMessage
                key={m.id}
                id={m.id}
                content={m.content}
                toolCalls={m.toolCalls ?? []}
                mcpCalls={m.mcpCalls ?? []}
                meta={m.meta}
                streaming={props.streamingId === m.id}
                answers={answers}
                canAnswer={!props.busy && lastAssistant?.id === m.id}
                onAnswerTool={(call, result) => props.onAnswerTool(m.id, call, result)}
                onApproveMcp={(call, approve) => props.onApproveMcp(m.id, call, approve)}
              />
            );
          case "tool":
            // Shown inside the card of the call it answers.
            return null;
          default:
            m satisfies never;
            return null;
        }
      })}
    </>
  );
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function Stats(props: { readonly meta: ReplyMeta }) {
  const { meta } = props;
  const parts: { key: string; text: string }[] = [];
  if (meta.ttftMs !== undefined && meta.ttftMs !== null) parts.push({ key: "ttft", text: `TTFT ${formatMs(meta.ttftMs)}` });
  if (meta.tokensPerSecond !== undefined && meta.tokensPerSecond !== null) {
    parts.push({ key: "tps", text: `${meta.tokensPerSecond.toFixed(1)} tok/s` });
  }
  if (meta.completionTokens !== undefined) parts.push({ key: "tokens", text: `${meta.completionTokens} tokens` });
  if (meta.finishReason !== undefined && meta.finishReason !== null) parts.push({ key: "finish", text: meta.finishReason });
  if (parts.length === 0) return null;
  return (
    <p class="stats" aria-label="Reply statistics">
      {parts.map((p) => (
        <span key={p.key} data-stat={p.key}>
          {p.text}
        </span>
      ))}
    </p>
  );
}

function AssistantMessage(props: {
  readonly id: string;
  readonly content: string;
  readonly toolCalls: readonly WireToolCall[];
  readonly mcpCalls: readonly McpCall[];
  readonly meta: ReplyMeta | undefined;
  readonly streaming: boolean;
  readonly answers: ReadonlyMap<string, string>;
  readonly canAnswer: boolean;
  readonly onAnswerTool: (call: WireToolCall, result: string) => void;
  readonly onApproveMcp: (call: McpCall, approve: boolean) => void;
}) {
  // The text, cut where each MCP call appeared, with the call cards in between (one piece without calls).
  const segments = useMemo(
    () =>
      replySegments(props.content, props.mcpCalls).map((s) =>
        s.kind === "text" ? { kind: "text" as const, html: renderMarkdown(replyMarkdown(s.text)) } : s,
      ),
    [props.content, props.mcpCalls],
  );
  const meta = props.meta ?? {};
  const empty = props.content === "" && props.toolCalls.length === 0 && props.mcpCalls.length === 0;
  return (
    <article
      class={props.streaming ? "message assistant streaming" : "message assistant"}
      data-role="assistant"
      data-message-id={props.id}
      data-state={props.streaming ? "streaming" : meta.stopped === true ? "stopped" : meta.error !== undefined ? "error" : "done"}
      aria-label="Assistant"
      aria-busy={props.streaming}
    >
      {segments.map((s, i) =>
        s.kind === "text" ? (
          s.html === "" ? null : <div key={`t${i}`} class="bubble markdown" dangerouslySetInnerHTML={{ __html: s.html }} />
        ) : (
          <McpCallCard key={s.call.id} call={s.call} live={props.streaming} onApprove={(approve) => props.onApproveMcp(s.call, approve)} />
        ),
      )}
      {props.streaming && empty ? (
        <div class="bubble typing" aria-label="Waiting for the first token">
          <span />
          <span />
          <span />
        </div>
      ) : null}
      {props.toolCalls.map((call, i) => (
        <ToolCallCard
          key={call.id !== "" ? call.id : `i${i}`}
          call={call}
          answer={props.answers.get(call.id)}
          canAnswer={props.canAnswer && !props.streaming}
          onAnswer={(result) => props.onAnswerTool(call, result)}
        />
      ))}
      {meta.stopped === true ? <p class="badge badge-stopped">Stopped</p> : null}
      {meta.error !== undefined ? <p class="badge badge-error">Failed: {meta.error}</p> : null}
      {meta.json !== undefined ? (
        meta.json.kind === "json-valid" ? (
          <p class="badge badge-ok" data-json="valid">
            ✓ Valid JSON{meta.json.schemaChecked ? ", matches the schema" : ""}
          </p>
        ) : (
          <div class="badge badge-error" data-json="invalid">
            ✗ JSON check failed
            <ul>
              {meta.json.errors.map((e) => (
                <li key={e}>{e}</li>
              ))}
            </ul>
          </div>
        )
      ) : null}
      {!props.streaming ? <Stats meta={meta} /> : null}
    </article>
  );
}

function prettyArguments(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function ToolCallCard(props: {
  readonly call: WireToolCall;
  readonly answer: string | undefined;
  readonly canAnswer: boolean;
  readonly onAnswer: (result: string) => void;
}) {
  const [draft, setDraft] = useState("");
  const { call } = props;
  const inputId = `tool-answer-${call.id}`;
  const submit = () => {
    if (draft.trim() === "") return;
    props.onAnswer(draft);
    setDraft("");
  };
  return (
    <details class="tool-card" open data-tool-call-id={call.id} data-tool-name={call.function.name}>
      <summary>
        <span class="tool-icon" aria-hidden="true">
          ƒ
        </span>
        <span class="tool-name">{call.function.name}</span>
        <span class="tool-id">{call.id}</span>
      </summary>
      <div class="tool-body">
        <h4>Arguments</h4>
        <pre class="tool-arguments">{prettyArguments(call.function.arguments)}</pre>
        {props.answer !== undefined ? (
          <>
            <h4>Result</h4>
            <pre class="tool-result">{props.answer}</pre>
          </>
        ) : props.canAnswer ? (
          <form
            class="tool-answer"
            onSubmit={(e) => {
              e.preventDefault();
              submit();
            }}
          >
            <label for={inputId}>Result of {call.function.name}</label>
            <textarea
              id={inputId}
              rows={3}
              class="code-input"
              placeholder='e.g. {"temperature": 21}'
              value={draft}
              onInput={(e) => setDraft(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
                  e.preventDefault();
                  submit();
                }
              }}
            />
            <button type="submit" class="primary small" disabled={draft.trim() === ""}>
              Send result
            </button>
          </form>
        ) : (
          <p class="hint">Waiting for a result.</p>
        )}
      </div>
    </details>
  );
}

const MCP_STATUS_TEXT: Record<McpCallStatus, string> = {
  in_progress: "Running…",
  awaiting_approval: "Needs approval",
  completed: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

/**
 * An MCP call the server ran for the model: server · tool, the arguments, its status, then the result or
 * error. While the call waits for approval (and the reply still streams), Approve and Deny answer it.
 */
function McpCallCard(props: { readonly call: McpCall; readonly live: boolean; readonly onApprove: (approve: boolean) => void }) {
  const { call } = props;
  const approval = call.approval;
  const asking = call.status === "awaiting_approval" && approval !== null;
  const answered = approval !== null && approval.answer !== null;
  return (
    <details
      class="tool-card mcp-card"
      open
      data-mcp-call-id={call.id}
      data-server={call.serverLabel ?? ""}
      data-tool-name={call.name}
      data-status={call.status}
    >
      <summary>
        <span class="tool-icon" aria-hidden="true">
          ⚒
        </span>
        <span class="tool-name">
          {call.serverLabel !== null ? <span class="mcp-server-label">{call.serverLabel} · </span> : null}
          {call.name}
        </span>
        <span class={`mcp-status mcp-status-${call.status}`} data-testid="mcp-status">
          {MCP_STATUS_TEXT[call.status]}
        </span>
      </summary>
      <div class="tool-body">
        <h4>Arguments</h4>
        <pre class="tool-arguments">{prettyArguments(call.arguments)}</pre>
        {asking ? (
          <div class="mcp-approval" role="group" aria-label={`Approve ${call.name}?`}>
            <span>Run this call?</span>
            <button type="button" class="primary small" disabled={answered || !props.live} onClick={() => props.onApprove(true)}>
              Approve
            </button>
            <button type="button" class="small" disabled={answered || !props.live} onClick={() => props.onApprove(false)}>
              Deny
            </button>
          </div>
        ) : null}
        {answered ? (
          <p class="hint mcp-answer" data-answer={approval.answer}>
            {approval.answer === "approve" ? "You approved this call." : "You denied this call."}
          </p>
        ) : null}
        {approval?.problem != null ? <p class="field-problem">{approval.problem}</p> : null}
        {call.output !== null ? (
          <>
            <h4>Result</h4>
            <pre class="tool-result">{call.output}</pre>
          </>
        ) : null}
        {call.error !== null ? (
          <>
            <h4>Error</h4>
            <pre class="tool-result tool-error">{call.error}</pre>
          </>
        ) : null}
      </div>
    </details>
  );
}
