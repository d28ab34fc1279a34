import {
  serverEnabled,
  toolEnabled,
  withServerEnabled,
  withToolEnabled,
  type McpServerInfo,
  type McpSettings,
  type McpToolJson,
} from "../lib/mcp.js";

export interface McpToolsProps {
  /** The server's MCP servers (`GET /v1/mcp/servers`); null until listed. */
  readonly servers: readonly McpServerInfo[] | null;
  /** Why they could not be listed, or null. */
  readonly error: string | null;
  readonly settings: McpSettings;
  /** What the next request sends (empty: MCP tools are off). */
  readonly entries: readonly McpToolJson[];
  readonly onChange: (settings: McpSettings) => void;
  readonly onRefresh: () => void;
}

/**
 * The settings panel's MCP part: each MCP server the Talaria server runs, with a switch for the server and
 * one per tool, and whether each call needs the user's approval. The server runs the calls.
 */
export function McpTools(props: McpToolsProps) {
  const { servers, settings } = props;
  if (servers === null) {
    return props.error !== null ? (
      <>
        <p class="field-problem" role="status">
          Could not list the MCP servers: {props.error}
        </p>
        <button type="button" class="small" onClick={props.onRefresh}>
          Retry
        </button>
      </>
    ) : (
      <p class="hint">Looking for MCP servers…</p>
    );
  }
  if (servers.length === 0) {
    return (
      <p class="hint" data-testid="mcp-none">
        This server runs no MCP servers (start it with <code>talaria serve --mcp FILE</code>).
      </p>
    );
  }
  const toolCount = props.entries.reduce((n, e) => n + e.allowed_tools.length, 0);
  return (
    <>
      <p class="hint">The server runs these tools for the model; the calls appear in the reply.</p>
      {servers.map((server) => {
        const enabled = serverEnabled(settings, server.label);
        const on = server.tools.filter((t) => toolEnabled(settings, server.label, t.name)).length;
        return (
          <div class="mcp-server" key={server.label} data-server={server.label} data-state={server.state}>
            <div class="mcp-server-head">
              <label class="check">
                <input
                  type="checkbox"
                  aria-label={`Use MCP server ${server.label}`}
                  checked={enabled}
                  onChange={(e) => props.onChange(withServerEnabled(settings, server.label, e.currentTarget.checked))}
                />
                <span class="tool-name">{server.label}</span>
              </label>
              <span class={`mcp-state mcp-state-${server.state}`}>{server.state}</span>
            </div>
            <p class="hint">
              {[server.serverName, server.transport, `${server.tools.length} tool${server.tools.length === 1 ? "" : "s"}`]
                .filter((p) => p !== null && p !== "")
                .join(" · ")}
            </p>
            {server.lastError !== null ? <p class="field-problem">{server.lastError}</p> : null}
            {server.tools.length > 0 ? (
              <details class="mcp-tool-list" open={enabled}>
                <summary>
                  Tools ({on} of {server.tools.length} on)
                </summary>
                <ul>
                  {server.tools.map((tool) => (
                    <li key={tool.name} data-tool={tool.name}>
                      <label class="check" title={[tool.title, tool.description].filter((t) => t !== null).join(": ") || undefined}>
                        <input
                          type="checkbox"
                          aria-label={`${server.label}: ${tool.name}`}
                          checked={toolEnabled(settings, server.label, tool.name)}
                          onChange={(e) => props.onChange(withToolEnabled(settings, server.label, tool.name, e.currentTarget.checked))}
                        />
                        <span class="mcp-tool-name">{tool.name}</span>
                      </label>
                      {tool.enforcement === "validation" ? (
                        <span class="mcp-note" title={tool.unenforced ?? undefined}>
                          arguments validated only
                        </span>
                      ) : null}
                    </li>
                  ))}
                </ul>
              </details>
            ) : null}
          </div>
        );
      })}
      <label class="check">
        <input type="checkbox" checked={settings.requireApproval} onChange={(e) => props.onChange({ ...settings, requireApproval: e.currentTarget.checked })} />
        Ask me before each call (require approval)
      </label>
      <p class="hint" data-testid="mcp-summary">
        {toolCount === 0
          ? "No MCP tools are on."
          : `${toolCount} tool${toolCount === 1 ? "" : "s"} on, from ${props.entries.map((e) => e.server_label).join(", ")}.`}
      </p>
      <button type="button" class="small" onClick={props.onRefresh}>
        Refresh list
      </button>
    </>
  );
}
