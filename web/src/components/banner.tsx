import type { ApiFailure } from "../lib/api.js";

export interface BannerState {
  /** What the banner is about: tests and styles key on it. */
  readonly kind: "unreachable" | "unauthorized" | "busy" | "request-failed" | "storage";
  readonly title: string;
  readonly detail: string;
}

/** The banner for an API failure. */
export function bannerFor(failure: ApiFailure): BannerState {
  switch (failure.kind) {
    case "network":
      return {
        kind: "unreachable",
        title: "Server unreachable",
        detail: `${failure.message} Check that “talaria serve” is running, then retry.`,
      };
    case "stream":
      return { kind: "request-failed", title: "The reply stream broke", detail: failure.message };
    case "http":
      if (failure.status === 401 || failure.status === 403) {
        return {
          kind: "unauthorized",
          title: `Unauthorized (${failure.status})`,
          detail: `${failure.message} Paste the server's API key in Settings → API key.`,
        };
      }
      if (failure.status === 429) {
        const retry = failure.retryAfter === null ? "Retry shortly." : `Retry in ${failure.retryAfter} s.`;
        return { kind: "busy", title: "Server busy (429)", detail: `${failure.message} ${retry}` };
      }
      if (failure.status === 503) {
        return { kind: "busy", title: "Server unavailable (503)", detail: failure.message };
      }
      return { kind: "request-failed", title: `Request failed (${failure.status})`, detail: failure.message };
    default:
      failure satisfies never;
      return { kind: "request-failed", title: "Request failed", detail: "" };
  }
}

export function Banner(props: {
  readonly banner: BannerState;
  readonly onDismiss: () => void;
  readonly onRetry?: (() => void) | undefined;
  readonly onOpenSettings?: (() => void) | undefined;
}) {
  const { banner } = props;
  return (
    <div class={`banner banner-${banner.kind}`} role="alert" data-kind={banner.kind}>
      <div class="banner-text">
        <strong>{banner.title}</strong> <span>{banner.detail}</span>
      </div>
      <div class="banner-actions">
        {banner.kind === "unauthorized" && props.onOpenSettings !== undefined ? (
          <button type="button" onClick={props.onOpenSettings}>
            Enter key
          </button>
        ) : null}
        {props.onRetry !== undefined ? (
          <button type="button" onClick={props.onRetry}>
            Retry
          </button>
        ) : null}
        <button type="button" class="icon" aria-label="Dismiss error" onClick={props.onDismiss}>
          ×
        </button>
      </div>
    </div>
  );
}
