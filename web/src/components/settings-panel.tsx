import type { ComponentChildren } from "preact";
import type { ModelInfo } from "../lib/api.js";
import type { Settings } from "../lib/model.js";
import { mcpConflicts, type SettingsField, type SettingsProblems } from "../lib/request.js";
import { McpTools, type McpToolsProps } from "./mcp-tools.js";

export interface SettingsPanelProps {
  readonly settings: Settings;
  readonly problems: SettingsProblems;
  readonly models: readonly ModelInfo[] | null;
  readonly systemPrompt: string;
  readonly onChange: (patch: Partial<Settings>) => void;
  readonly onSystemPromptChange: (text: string) => void;
  readonly onClose: () => void;
  readonly mcp: McpToolsProps;
}

const EXAMPLE_TOOLS = `[
  {
    "type": "function",
    "function": {
      "name": "get_weather",
      "description": "Current weather for a city",
      "parameters": {
        "type": "object",
        "properties": { "city": { "type": "string" } },
        "required": ["city"]
      }
    }
  }
]`;

const EXAMPLE_SCHEMA = `{
  "type": "object",
  "properties": {
    "name": { "type": "string" },
    "age": { "type": "integer", "minimum": 0 }
  },
  "required": ["name", "age"]
}`;

function Problem(props: { readonly id: string; readonly text: string | undefined }) {
  return props.text === undefined ? null : (
    <p class="field-problem" id={props.id} role="status">
      {props.text}
    </p>
  );
}

function Section(props: { readonly title: string; readonly children: ComponentChildren }) {
  return (
    <fieldset class="settings-section">
      <legend>{props.title}</legend>
      {props.children}
    </fieldset>
  );
}

interface NumberFieldSpec {
  readonly field: Extract<SettingsField, keyof Settings>;
  readonly label: string;
  readonly hint: string;
  readonly integer: boolean;
}

const NUMBER_FIELDS: readonly NumberFieldSpec[] = [
  { field: "temperature", label: "Temperature", hint: "0–2", integer: false },
  { field: "topP", label: "Top p", hint: "0–1", integer: false },
  { field: "topK", label: "Top k", hint: "0 = off", integer: true },
  { field: "maxTokens", label: "Max tokens", hint: "≥ 1", integer: true },
  { field: "repetitionPenalty", label: "Repetition penalty", hint: "1 = off", integer: false },
];

/** API key, model, system prompt, sampling, MCP tools, tools and JSON mode. Empty numeric fields use server defaults. */
export function SettingsPanel(props: SettingsPanelProps) {
  const { settings, problems } = props;
  const models = props.models ?? [];
  const conflicts = mcpConflicts(settings, props.mcp.entries.length > 0);
  return (
    <aside class="settings-inner" aria-label="Settings">
      <div class="panel-header">
        <h2>Settings</h2>
        <button type="button" class="icon" aria-label="Close settings" onClick={props.onClose}>
          ×
        </button>
      </div>

      <Section title="Connection">
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          placeholder="Only if the server needs one"
          value={settings.apiKey}
          onInput={(e) => props.onChange({ apiKey: e.currentTarget.value })}
        />
        <p class="hint">Sent as “Authorization: Bearer …”; kept in this browser.</p>
        {models.length > 1 ? (
          <>
            <label for="model-select">Model</label>
            <select id="model-select" value={settings.model} onChange={(e) => props.onChange({ model: e.currentTarget.value })}>
              <option value="">Server default</option>
              {models.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.id}
                </option>
              ))}
            </select>
          </>
        ) : null}
      </Section>

      <Section title="System prompt">
        <label for="system-prompt" class="visually-hidden">
          System prompt
        </label>
        <textarea
          id="system-prompt"
          rows={4}
          placeholder="Optional instructions for this conversation"
          value={props.systemPrompt}
          onInput={(e) => props.onSystemPromptChange(e.currentTarget.value)}
        />
      </Section>

      <Section title="Sampling">
        <div class="number-grid">
          {NUMBER_FIELDS.map((spec) => {
            const id = `setting-${spec.field}`;
            const problem = problems[spec.field];
            return (
              <div class="number-field" key={spec.field}>
                <label for={id}>
                  {spec.label} <span class="hint">{spec.hint}</span>
                </label>
                <input
                  id={id}
                  type="text"
                  inputMode={spec.integer ? "numeric" : "decimal"}
                  placeholder="default"
                  value={settings[spec.field]}
                  aria-invalid={problem !== undefined}
                  aria-describedby={problem !== undefined ? `${id}-problem` : undefined}
                  onInput={(e) => props.onChange({ [spec.field]: e.currentTarget.value })}
                />
                <Problem id={`${id}-problem`} text={problem} />
              </div>
            );
          })}
        </div>
      </Section>

      <Section title="MCP tools">
        <McpTools
          servers={props.mcp.servers}
          error={props.mcp.error}
          settings={props.mcp.settings}
          entries={props.mcp.entries}
          onChange={props.mcp.onChange}
          onRefresh={props.mcp.onRefresh}
        />
      </Section>

      <Section title="Tools">
        {conflicts.functionTools ? (
          <p class="mcp-conflict" role="note">
            MCP tools are on, so these function tools are not sent (the server cannot combine the two).
          </p>
        ) : null}
        <label class="check">
          <input type="checkbox" checked={settings.toolsEnabled} onChange={(e) => props.onChange({ toolsEnabled: e.currentTarget.checked })} />
          Send tools with each request
        </label>
        <label for="tools-json">Tools (OpenAI JSON)</label>
        <textarea
          id="tools-json"
          class="code-input"
          rows={8}
          spellcheck={false}
          placeholder='[{"type": "function", "function": {"name": …, "parameters": {…}}}]'
          value={settings.toolsJson}
          aria-invalid={problems.toolsJson !== undefined}
          aria-describedby={problems.toolsJson !== undefined ? "tools-json-problem" : undefined}
          onInput={(e) => props.onChange({ toolsJson: e.currentTarget.value })}
        />
        <Problem id="tools-json-problem" text={problems.toolsJson} />
        <button type="button" class="small" onClick={() => props.onChange({ toolsJson: EXAMPLE_TOOLS, toolsEnabled: true })}>
          Insert example
        </button>
      </Section>

      <Section title="JSON mode">
        {conflicts.jsonMode ? (
          <p class="mcp-conflict" role="note">
            MCP tools are on, so replies are not asked for in JSON.
          </p>
        ) : null}
        <label class="check">
          <input type="checkbox" checked={settings.jsonMode} onChange={(e) => props.onChange({ jsonMode: e.currentTarget.checked })} />
          Reply in JSON
        </label>
        <label for="json-schema">JSON Schema (empty = any JSON object)</label>
        <textarea
          id="json-schema"
          class="code-input"
          rows={8}
          spellcheck={false}
          placeholder='{"type": "object", "properties": {…}}'
          value={settings.jsonSchema}
          aria-invalid={problems.jsonSchema !== undefined}
          aria-describedby={problems.jsonSchema !== undefined ? "json-schema-problem" : undefined}
          onInput={(e) => props.onChange({ jsonSchema: e.currentTarget.value })}
        />
        <Problem id="json-schema-problem" text={problems.jsonSchema} />
        <button type="button" class="small" onClick={() => props.onChange({ jsonSchema: EXAMPLE_SCHEMA, jsonMode: true })}>
          Insert example
        </button>
      </Section>
    </aside>
  );
}
