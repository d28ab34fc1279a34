/**
 * Live approvals for chat-API MCP runs (the web UI's approval prompt): a run that needs the user's
 * approval streams an `mcp_approval_request` with an unguessable id and waits; the client answers with
 * `POST /v1/mcp/approvals/{id}` `{"approve": true|false}`. No answer within the timeout, the client
 * leaving, or Stop counts as denied, so a run never waits unbounded.
 */
import { randomId } from "../../chat/ids.js";

/** Milliseconds a run waits for an approval before the call is denied. */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 5 * 60 * 1000;

interface Pending {
  readonly resolve: (approve: boolean) => void;
  readonly timer: NodeJS.Timeout;
}

export class ApprovalRegistry {
  readonly #pending = new Map<string, Pending>();
  readonly #timeoutMs: number;

  constructor(timeoutMs = DEFAULT_APPROVAL_TIMEOUT_MS) {
    this.#timeoutMs = timeoutMs;
  }

  /** A new approval id and the promise of the answer (false when it times out or `signal` fires). */
  open(signal: AbortSignal): { readonly id: string; readonly answer: Promise<boolean> } {
    const id = randomId("mcpr_");
    const answer = new Promise<boolean>((resolve) => {
      const done = (approve: boolean): void => {
        const p = this.#pending.get(id);
        if (p === undefined) return;
        clearTimeout(p.timer);
        this.#pending.delete(id);
        signal.removeEventListener("abort", onAbort);
        resolve(approve);
      };
      const onAbort = (): void => done(false);
      this.#pending.set(id, { resolve: done, timer: setTimeout(() => done(false), this.#timeoutMs) });
      signal.addEventListener("abort", onAbort, { once: true });
      if (signal.aborted) done(false);
    });
    return { id, answer };
  }

  /** Answer a pending approval; false when no run waits for `id`. */
  answer(id: string, approve: boolean): boolean {
    const p = this.#pending.get(id);
    if (p === undefined) return false;
    p.resolve(approve);
    return true;
  }

  /** Approvals being waited for. */
  get size(): number {
    return this.#pending.size;
  }
}
