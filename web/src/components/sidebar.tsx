import { useState } from "preact/hooks";
import type { Conversation } from "../lib/model.js";
import { PencilIcon, TrashIcon } from "./icons.js";

export interface SidebarProps {
  readonly conversations: readonly Conversation[];
  readonly activeId: string;
  readonly busyId: string | null;
  readonly onSelect: (id: string) => void;
  readonly onNew: () => void;
  readonly onRename: (id: string, title: string) => void;
  readonly onDelete: (id: string) => void;
}

/** Conversations kept in this browser, newest first, with rename and delete. */
export function Sidebar(props: SidebarProps) {
  const [renaming, setRenaming] = useState<string | null>(null);
  const [draft, setDraft] = useState("");
  const [confirming, setConfirming] = useState<string | null>(null);

  const commit = (id: string) => {
    const title = draft.trim();
    if (title !== "") props.onRename(id, title);
    setRenaming(null);
  };

  return (
    <nav class="sidebar-inner" aria-label="Conversations">
      <button type="button" class="primary new-chat" onClick={props.onNew}>
        + New chat
      </button>
      <ul class="conversation-list">
        {props.conversations.map((c) => (
          <li key={c.id} class={c.id === props.activeId ? "conversation active" : "conversation"} data-conversation-id={c.id}>
            {renaming === c.id ? (
              <input
                class="rename-input"
                aria-label="Conversation name"
                value={draft}
                autoFocus
                onInput={(e) => setDraft(e.currentTarget.value)}
                onKeyDown={(e) => {
                  if (e.key === "Enter") commit(c.id);
                  if (e.key === "Escape") setRenaming(null);
                }}
                onBlur={() => commit(c.id)}
              />
            ) : (
              <button
                type="button"
                class="conversation-title"
                aria-current={c.id === props.activeId ? "true" : undefined}
                onClick={() => props.onSelect(c.id)}
                title={c.title}
              >
                {c.title}
                {props.busyId === c.id ? <span class="dot-busy" aria-label="replying" /> : null}
              </button>
            )}
            <div class="conversation-actions">
              <button
                type="button"
                class="icon"
                aria-label={`Rename "${c.title}"`}
                title="Rename"
                onClick={() => {
                  setDraft(c.title);
                  setRenaming(c.id);
                  setConfirming(null);
                }}
              >
                <PencilIcon />
              </button>
              {confirming === c.id ? (
                <button
                  type="button"
                  class="danger small"
                  aria-label={`Confirm delete "${c.title}"`}
                  onClick={() => {
                    setConfirming(null);
                    props.onDelete(c.id);
                  }}
                  onBlur={() => setConfirming(null)}
                >
                  Delete?
                </button>
              ) : (
                <button
                  type="button"
                  class="icon"
                  aria-label={`Delete "${c.title}"`}
                  title="Delete"
                  disabled={props.busyId === c.id}
                  onClick={() => setConfirming(c.id)}
                >
                  <TrashIcon />
                </button>
              )}
            </div>
          </li>
        ))}
      </ul>
    </nav>
  );
}
