import { useEffect, useState, type FormEvent } from "react";
import { api, query } from "../api";
import {
  AUDIT_DEFAULT_LIMIT,
  AUDIT_EVENT_TYPES,
  AUDIT_MAX_LIMIT,
  auditQuery,
  formatDetail,
  verificationLabel,
  type AuditFilter,
  type AuditList,
  type AuditVerification,
} from "../lib/audit";
import { ErrorNote, formatTime, Page, Pager, useClientPage, useResource } from "../ui";
import "./Audit.css";

const PER_PAGE = 25;

function Verification() {
  const { data, error, loading, reload } = useResource(() => api<AuditVerification>("/api/audit/verify"), []);
  const label = data === null ? null : verificationLabel(data);
  return (
    <section aria-labelledby="verify-heading">
      <h2 id="verify-heading">Chain verification</h2>
      <div className="row">
        <span role="status" aria-live="polite" className={label === null ? "hint" : `badge ${label.tone}`}>
          {loading ? "Verifying…" : (label?.text ?? "Not verified")}
        </span>
        <button type="button" className="secondary" onClick={reload} disabled={loading}>
          Verify again
        </button>
      </div>
      <p className="hint">
        Each entry's hash covers the previous entry's hash, so an edited or deleted entry breaks the chain from
        that entry on.
      </p>
      <ErrorNote error={error} />
    </section>
  );
}

/** The tamper-evident audit log: filters, entries newest first, and the hash chain's verification. */
export function AuditView() {
  const [form, setForm] = useState<AuditFilter>({ limit: String(AUDIT_DEFAULT_LIMIT), eventType: "", since: "" });
  const [applied, setApplied] = useState<Record<string, string | number>>({ limit: AUDIT_DEFAULT_LIMIT });
  const [invalid, setInvalid] = useState<string | null>(null);
  const search = query(applied);
  const { data, error, loading, reload } = useResource(() => api<AuditList>(`/api/audit${search}`), [search]);
  const entries = [...(data?.entries ?? [])].sort((a, b) => b.id - a.id);
  const { page, setPage, shown } = useClientPage(entries, PER_PAGE);

  useEffect(() => setPage(1), [search]);

  function apply(event: FormEvent) {
    event.preventDefault();
    const result = auditQuery(form);
    if ("error" in result) {
      setInvalid(result.error);
      return;
    }
    setInvalid(null);
    if (query(result.query) === search) {
      reload();
    } else {
      setApplied(result.query);
    }
  }

  return (
    <Page title="Audit">
      <Verification />
      <section aria-labelledby="entries-heading">
        <h2 id="entries-heading">Entries</h2>
        <form className="row audit-filters" onSubmit={apply} aria-label="Audit filters" noValidate>
          <label>
            Limit
            <input
              aria-label="Limit"
              type="number"
              min={1}
              max={AUDIT_MAX_LIMIT}
              step={1}
              value={form.limit}
              onChange={(event) => setForm({ ...form, limit: event.target.value })}
            />
          </label>
          <label>
            Event type
            <select
              aria-label="Event type"
              value={form.eventType}
              onChange={(event) => setForm({ ...form, eventType: event.target.value })}
            >
              <option value="">All types</option>
              {AUDIT_EVENT_TYPES.map((type) => (
                <option key={type} value={type}>
                  {type}
                </option>
              ))}
            </select>
          </label>
          <label>
            Since (your local time)
            <input
              aria-label="Since"
              type="datetime-local"
              value={form.since}
              onChange={(event) => setForm({ ...form, since: event.target.value })}
            />
          </label>
          <button type="submit" disabled={loading}>
            Apply
          </button>
        </form>
        <ErrorNote error={invalid ?? error} />
        {data !== null && entries.length === 0 && <p className="hint">No entries match.</p>}
        {data !== null && data.count === Number(applied.limit) && (
          <p className="hint">
            Showing the newest {data.count} matching entries; raise the limit or set “Since” to reach older ones.
          </p>
        )}
        {entries.length > 0 && (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Time</th>
                  <th scope="col">Event</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Client</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((entry) => (
                  <tr key={entry.id}>
                    <td>{entry.id}</td>
                    <td className="audit-time">{formatTime(entry.at)}</td>
                    <td>
                      <code>{entry.event_type}</code>
                    </td>
                    <td className="audit-wrap">{entry.actor ?? "—"}</td>
                    <td className="audit-wrap">{entry.client ?? "—"}</td>
                    <td className="audit-detail">{formatDetail(entry.detail)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager page={page} perPage={PER_PAGE} total={entries.length} onPage={setPage} />
      </section>
    </Page>
  );
}
