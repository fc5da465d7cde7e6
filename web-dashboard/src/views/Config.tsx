import { useEffect, useState } from "react";
import { api } from "../api";
import {
  SECRET_MASK,
  configProblem,
  maskedSecrets,
  type ConfigFile,
  type ConfigProblem,
  type ConfigSaved,
} from "../lib/config";
import { ErrorNote, Page, useResource } from "../ui";
import "./Config.css";

function Problem({ problem }: { problem: ConfigProblem }) {
  return (
    <div role="alert" className="error config-problem">
      <p>{problem.message}</p>
      {problem.key !== null && (
        <p>
          Setting: <code>{problem.key}</code>
        </p>
      )}
      {problem.unknown.length > 0 && (
        <ul aria-label="Unknown keys">
          {problem.unknown.map((warning) => (
            <li key={warning}>{warning}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Saved({ saved }: { saved: ConfigSaved }) {
  return (
    <div role="status" className="config-saved">
      <p className="ok">
        Saved to <code>{saved.path}</code>.
      </p>
      <p>
        Applied now: {saved.applied.length === 0 ? "nothing" : saved.applied.map((name) => `[${name}]`).join(", ")}
      </p>
      <p className={saved.restart_required.length > 0 ? "warn" : undefined}>
        Restart required for:{" "}
        {saved.restart_required.length === 0 ? "nothing" : saved.restart_required.map((name) => `[${name}]`).join(", ")}
      </p>
      {saved.restart_required.length > 0 && (
        <p className="hint">
          Until the gateway restarts, those sections keep running with their old values (and “Reload” shows
          those).
        </p>
      )}
    </div>
  );
}

/** The gateway's configuration file, secrets masked: view, edit, save. */
export function ConfigView() {
  const { data, error, loading, reload } = useResource(() => api<ConfigFile>("/api/config"), []);
  const [original, setOriginal] = useState("");
  const [draft, setDraft] = useState("");
  const [editing, setEditing] = useState(false);
  const [saving, setSaving] = useState(false);
  const [problem, setProblem] = useState<ConfigProblem | null>(null);
  const [saved, setSaved] = useState<ConfigSaved | null>(null);
  const dirty = draft !== original;

  useEffect(() => {
    if (data !== null) {
      setOriginal(data.content);
      setDraft(data.content);
      setEditing(false);
    }
  }, [data]);

  function reloadFromGateway() {
    if (dirty && !window.confirm("Discard your changes and load the configuration from the gateway?")) {
      return;
    }
    setProblem(null);
    setSaved(null);
    reload();
  }

  function revert() {
    if (dirty && !window.confirm("Discard your changes?")) {
      return;
    }
    setDraft(original);
    setEditing(false);
    setProblem(null);
  }

  async function save() {
    if (draft.trim() === "") {
      setProblem({ message: "The configuration is empty.", key: null, unknown: [] });
      return;
    }
    const question =
      "Write this configuration to the gateway's file? Sections that cannot change while it runs take effect " +
      "at the next restart.";
    if (!window.confirm(question)) {
      return;
    }
    setSaving(true);
    setProblem(null);
    setSaved(null);
    try {
      const answer = await api<ConfigSaved>("/api/config", {
        method: "PUT",
        body: draft,
        contentType: "application/toml",
      });
      setSaved(answer);
      setOriginal(draft);
      setEditing(false);
    } catch (caught) {
      setProblem(configProblem(caught));
    } finally {
      setSaving(false);
    }
  }

  const masked = maskedSecrets(draft);

  return (
    <Page
      title="Configuration"
      actions={
        <button type="button" className="secondary" onClick={reloadFromGateway} disabled={loading || saving}>
          Reload
        </button>
      }
    >
      <ErrorNote error={error} />
      {data !== null && (
        <section aria-labelledby="config-heading">
          <h2 id="config-heading">Configuration file (TOML)</h2>
          <p className="hint">
            Secrets are shown as <code>{SECRET_MASK}</code>
            {masked > 0 && ` (${masked} here)`}. Leave a <code>{SECRET_MASK}</code> as it is to keep the stored
            secret; replace it to set a new one. Unknown keys are refused, so a typo cannot pass silently.
          </p>
          <label className="config-editor">
            <span className="config-label">{editing ? "Editing the configuration" : "Configuration (read-only)"}</span>
            <textarea
              aria-label="Configuration (TOML)"
              className="code"
              value={draft}
              readOnly={!editing}
              spellCheck={false}
              autoCapitalize="off"
              autoComplete="off"
              rows={28}
              onChange={(event) => setDraft(event.target.value)}
            />
          </label>
          <div className="row config-buttons">
            {editing ? (
              <>
                <button type="button" onClick={() => void save()} disabled={saving || !dirty}>
                  {saving ? "Saving…" : "Save"}
                </button>
                <button type="button" className="secondary" onClick={revert} disabled={saving}>
                  Revert
                </button>
                {!dirty && <span className="hint">No changes yet.</span>}
              </>
            ) : (
              <button
                type="button"
                onClick={() => {
                  setEditing(true);
                  setSaved(null);
                }}
              >
                Edit
              </button>
            )}
          </div>
          {problem !== null && <Problem problem={problem} />}
          {saved !== null && <Saved saved={saved} />}
        </section>
      )}
    </Page>
  );
}
