import { useEffect, useRef } from "preact/hooks";

export interface ComposerProps {
  readonly value: string;
  readonly busy: boolean;
  /** Why sending is not possible now (shown, and the Send button disabled), or null. */
  readonly blockedReason: string | null;
  readonly onInput: (text: string) => void;
  readonly onSend: () => void;
  readonly onStop: () => void;
}

/** Message box: Enter sends, Shift+Enter inserts a newline; Stop aborts the reply in flight. */
export function Composer(props: ComposerProps) {
  const ref = useRef<HTMLTextAreaElement>(null);
  // Grow with the text up to a limit (CSS caps the height).
  useEffect(() => {
    const el = ref.current;
    if (el === null) return;
    el.style.height = "auto";
    el.style.height = `${el.scrollHeight}px`;
  }, [props.value]);

  const canSend = !props.busy && props.blockedReason === null && props.value.trim() !== "";
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        if (canSend) props.onSend();
      }}
    >
      {props.blockedReason !== null ? <p class="composer-note">{props.blockedReason}</p> : null}
      <div class="composer-row">
        <label for="message-input" class="visually-hidden">
          Message
        </label>
        <textarea
          id="message-input"
          ref={ref}
          rows={1}
          placeholder="Message (Enter to send, Shift+Enter for a new line)"
          value={props.value}
          onInput={(e) => props.onInput(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              if (canSend) props.onSend();
            } else if (e.key === "Escape" && props.busy) {
              props.onStop();
            }
          }}
        />
        {props.busy ? (
          <button type="button" class="danger" onClick={props.onStop} aria-label="Stop the reply">
            Stop
          </button>
        ) : (
          <button type="submit" class="primary" disabled={!canSend} aria-label="Send message">
            Send
          </button>
        )}
      </div>
    </form>
  );
}
