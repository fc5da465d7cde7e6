import { api } from "../api";
import { groupBySeverity, severityTone, type DoctorReport } from "../lib/doctor";
import { ErrorNote, Page, useResource } from "../ui";
import "./Doctor.css";

/** The gateway's self-checks (bind, TLS, pairing, terminal, channels, proxy, data directory, Kumiho, provider). */
export function DoctorView() {
  const { data, error, loading, reload } = useResource(() => api<DoctorReport>("/api/doctor"), []);
  const groups = data === null ? [] : groupBySeverity(data.results);

  return (
    <Page
      title="Doctor"
      actions={
        <button type="button" onClick={reload} disabled={loading}>
          {loading ? "Running checks…" : "Run checks again"}
        </button>
      }
    >
      <ErrorNote error={error} />
      {data !== null && (
        <section aria-labelledby="doctor-summary">
          <h2 id="doctor-summary">Summary</h2>
          <p className="row" role="status" aria-live="polite">
            <span className={`badge ${data.summary.errors > 0 ? "bad" : "ok"}`}>{data.summary.errors} errors</span>
            <span className={`badge ${data.summary.warnings > 0 ? "warn" : "ok"}`}>
              {data.summary.warnings} warnings
            </span>
            <span className="badge ok">{data.summary.ok} passed</span>
          </p>
          <p className="hint">
            The provider and Kumiho checks contact those services (3 and 5 seconds at most). The CLI
            <code> construct-gateway doctor</code> runs the same checks.
          </p>
        </section>
      )}
      {groups.map((group) => (
        <section key={group.severity} aria-labelledby={`doctor-${group.severity}`}>
          <h2 id={`doctor-${group.severity}`}>
            {group.title} ({group.results.length})
          </h2>
          <ul className="doctor-results">
            {group.results.map((result, index) => (
              <li key={`${result.category}-${index}`}>
                <span className={`badge ${severityTone(result.severity)}`}>{result.category}</span>{" "}
                <span>{result.message}</span>
                {result.fix !== undefined && (
                  <p className="hint doctor-fix">
                    Fix: {result.fix}
                  </p>
                )}
              </li>
            ))}
          </ul>
        </section>
      ))}
    </Page>
  );
}
