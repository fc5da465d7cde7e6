import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from "react";
import { useSearch } from "wouter";
import { api, hasScope, query, segment } from "../api";
import { useEvents } from "../lib/events";
import { isRetryable, progress, statusTone } from "../lib/runs";
import { useSession } from "../session";
import { clampPage, ErrorNote, formatTime, Page, Pager, useAction, useClientPage, useResource, type Resource } from "../ui";
import { Details, tagList } from "./entity";
import "./Runs.css";

interface RunSummary {
  kref: string;
  run_id: string;
  workflow_name: string;
  status: string;
  started_at: string;
  completed_at: string;
  steps_completed: string;
  steps_total: string;
  error: string;
  workflow_item_kref?: string;
  workflow_revision_kref?: string;
}

interface TranscriptEntry {
  speaker?: unknown;
  content?: unknown;
  round?: unknown;
}

interface Step {
  step_id: string;
  status: string;
  agent_id?: string;
  agent_type?: string;
  role?: string;
  template_name?: string;
  output_preview?: string;
  artifact_path?: string;
  skills?: string[];
  transcript?: TranscriptEntry[];
  output_data?: {
    awaiting_approval?: boolean;
    approval_message?: string;
    approve_keywords?: string[];
    reject_keywords?: string[];
  };
}

interface Run extends RunSummary {
  steps: Step[];
}

interface RunsAnswer {
  runs: RunSummary[];
  total_count: number;
}

interface Approval {
  run_id: string;
  step_id: string;
  workflow: string;
  approve_keywords: string[];
  reject_keywords: string[];
  message: string;
  created_at: string;
  expires_at: string;
}

interface ApprovalsAnswer {
  approvals: Approval[];
  count: number;
}

const RUNS_PER_PAGE = 20;
const STEPS_PER_PAGE = 20;
const APPROVALS_PER_PAGE = 10;
const APPROVAL_EVENTS = ["human_approval_request", "human_approval_resolved"];
const RUN_EVENTS = ["workflow_run_requested", "workflow_retry", "workflow_run_deleted"];

function Status({ status }: { status: string }) {
  const tone = statusTone(status);
  return <span className={tone === "" ? "badge" : `badge ${tone}`}>{status === "" ? "unknown" : status}</span>;
}

/** A timestamp, or "" when there is none (so Details leaves the row out). */
function when(value: string): ReactNode {
  return value === "" ? "" : <time dateTime={value}>{formatTime(value)}</time>;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : value === undefined || value === null ? "" : JSON.stringify(value);
}

function ApprovalItem({ approval, admin, onDecided }: { approval: Approval; admin: boolean; onDecided: () => void }) {
  const id = useId();
  const [feedback, setFeedback] = useState("");
  const action = useAction();

  const decide = async (approved: boolean) => {
    const trimmed = feedback.trim();
    const done = await action.run(() =>
      api(`/api/workflows/runs/${segment(approval.run_id)}/approve`, {
        method: "POST",
        body: trimmed === "" ? { approved } : { approved, feedback: trimmed },
      }),
    );
    if (done !== undefined) {
      onDecided();
    }
  };

  return (
    <li>
      <article className="approval" aria-labelledby={`${id}-title`}>
        <h3 id={`${id}-title`}>
          {approval.workflow !== "" ? approval.workflow : "Workflow"}, step {approval.step_id}
        </h3>
        {approval.message !== "" && <p className="prose">{approval.message}</p>}
        <Details
          entries={[
            ["Run", <code>{approval.run_id}</code>],
            ["Requested", when(approval.created_at)],
            ["Expires", when(approval.expires_at)],
            ["Approve words", approval.approve_keywords.join(", ")],
            ["Reject words", approval.reject_keywords.join(", ")],
          ]}
        />
        {admin ? (
          <>
            <div className="field">
              <label htmlFor={id}>Feedback (optional)</label>
              <textarea
                id={id}
                rows={2}
                maxLength={4000}
                value={feedback}
                onChange={(event) => setFeedback(event.target.value)}
              />
            </div>
            <div className="row">
              <button type="button" disabled={action.busy} onClick={() => void decide(true)}>
                Approve
              </button>
              <button type="button" className="danger" disabled={action.busy} onClick={() => void decide(false)}>
                Reject
              </button>
            </div>
          </>
        ) : (
          <p className="hint">Deciding needs the admin scope.</p>
        )}
        <ErrorNote error={action.error} />
      </article>
    </li>
  );
}

function Approvals({ resource, admin }: { resource: Resource<ApprovalsAnswer>; admin: boolean }) {
  const approvals = resource.data?.approvals ?? [];
  const { page, setPage, shown } = useClientPage(approvals, APPROVALS_PER_PAGE);
  return (
    <section aria-labelledby="approvals-heading">
      <div className="row section-head">
        <h2 id="approvals-heading">Approvals</h2>
        {approvals.length > 0 && <span className="badge warn">{approvals.length} waiting</span>}
      </div>
      <ErrorNote error={resource.error} />
      {resource.data === null && resource.loading && <p className="loading">Loading…</p>}
      {resource.data !== null && approvals.length === 0 && <p className="hint">No approvals are waiting.</p>}
      <ul className="approval-list">
        {shown.map((approval) => (
          <ApprovalItem
            key={`${approval.run_id} ${approval.step_id}`}
            approval={approval}
            admin={admin}
            onDecided={resource.reload}
          />
        ))}
      </ul>
      <Pager page={page} perPage={APPROVALS_PER_PAGE} total={approvals.length} onPage={setPage} />
    </section>
  );
}

function StepItem({ step }: { step: Step }) {
  const who = [step.agent_id, step.agent_type, step.role, step.template_name].filter(
    (part): part is string => part !== undefined && part !== "",
  );
  const awaiting = step.output_data?.awaiting_approval === true;
  const transcript = step.transcript ?? [];
  return (
    <li className="step">
      <div className="row">
        <strong>{step.step_id}</strong>
        <Status status={step.status} />
        {who.length > 0 && <span className="hint">{who.join(" · ")}</span>}
      </div>
      {awaiting && (
        <p className="warn">
          Waiting for approval{step.output_data?.approval_message ? `: ${step.output_data.approval_message}` : ""}
        </p>
      )}
      {step.skills !== undefined && step.skills.length > 0 && <div className="step-skills">{tagList(step.skills.map(text))}</div>}
      {step.output_preview !== undefined && <pre className="scroll-box step-output">{step.output_preview}</pre>}
      {step.artifact_path !== undefined && (
        <p className="hint">
          Artifact: <code>{step.artifact_path}</code>
        </p>
      )}
      {transcript.length > 0 && (
        <details>
          <summary>Transcript ({transcript.length} messages)</summary>
          <ol className="transcript scroll-box">
            {transcript.map((entry, index) => (
              <li key={index}>
                <strong>{text(entry.speaker) || "unknown"}</strong>
                {entry.round !== undefined && <span className="hint"> · round {text(entry.round)}</span>}
                <div className="prose">{text(entry.content)}</div>
              </li>
            ))}
          </ol>
        </details>
      )}
    </li>
  );
}

function RunDetail({
  runId,
  admin,
  onChanged,
  onClose,
}: {
  runId: string;
  admin: boolean;
  onChanged: () => void;
  onClose: () => void;
}) {
  const run = useResource(() => api<{ run: Run }>(`/api/workflows/runs/${segment(runId)}`).then((a) => a.run), [runId]);
  const action = useAction();
  const [notice, setNotice] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const data = run.data;
  const steps = data?.steps ?? [];
  const stepPage = useClientPage(steps, STEPS_PER_PAGE);

  const retry = async () => {
    setNotice(null);
    const done = await action.run(() => api(`/api/workflows/runs/${segment(runId)}/retry`, { method: "POST" }));
    if (done !== undefined) {
      setNotice("Retry requested: the workflow operator will run it again.");
      run.reload();
      onChanged();
    }
  };

  const remove = async () => {
    if (!window.confirm(`Delete run ${runId} and its files? This cannot be undone.`)) {
      return;
    }
    const done = await action.run(() => api(`/api/workflows/runs/${segment(runId)}`, { method: "DELETE" }));
    if (done !== undefined) {
      onChanged();
      onClose();
    }
  };

  return (
    <section aria-labelledby="run-heading">
      <div className="row section-head">
        <h2 id="run-heading" ref={heading} tabIndex={-1}>
          Run <code>{runId}</code>
        </h2>
        <button type="button" className="secondary" onClick={run.reload}>
          Refresh run
        </button>
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
      {admin && data !== null && (
        <div className="row run-actions">
          <button
            type="button"
            onClick={() => void retry()}
            disabled={action.busy || !isRetryable(data.status)}
            aria-describedby={isRetryable(data.status) ? undefined : "retry-hint"}
          >
            Retry
          </button>
          <button type="button" className="danger" onClick={() => void remove()} disabled={action.busy}>
            Delete
          </button>
          {!isRetryable(data.status) && (
            <span id="retry-hint" className="hint">
              Only failed or cancelled runs can be retried.
            </span>
          )}
        </div>
      )}
      <ErrorNote error={action.error} />
      <ErrorNote error={run.error} />
      {notice !== null && (
        <p role="status" className="ok">
          {notice}
        </p>
      )}
      {data === null ? (
        run.loading && <p className="loading">Loading…</p>
      ) : (
        <>
          <Details
            entries={[
              ["Workflow", data.workflow_name],
              ["Status", <Status status={data.status} />],
              ["Started", when(data.started_at)],
              ["Completed", when(data.completed_at)],
              ["Steps done", progress(data.steps_completed, data.steps_total)],
              ["Error", data.error === "" ? "" : <span className="error prose">{data.error}</span>],
              ["Kref", <code>{data.kref}</code>],
              ["Definition", data.workflow_revision_kref === undefined ? "" : <code>{data.workflow_revision_kref}</code>],
            ]}
          />
          <h3>Steps</h3>
          {steps.length === 0 && <p className="hint">The operator has recorded no steps yet.</p>}
          <ol className="step-list">
            {stepPage.shown.map((step) => (
              <StepItem key={step.step_id} step={step} />
            ))}
          </ol>
          <Pager page={stepPage.page} perPage={STEPS_PER_PAGE} total={steps.length} onPage={stepPage.setPage} />
        </>
      )}
    </section>
  );
}

/** Workflow runs (as the operator records them) with their steps, and the approvals waiting for a person. */
export function RunsView() {
  const admin = hasScope(useSession().session, "admin");
  const initial = new URLSearchParams(useSearch()).get("workflow") ?? "";
  const [workflow, setWorkflow] = useState(initial);
  const [draft, setDraft] = useState(initial);
  const [page, setPage] = useState(1);
  const [selected, setSelected] = useState<string | null>(null);
  const runs = useResource(
    () => api<RunsAnswer>(`/api/workflows/runs${query({ page, per_page: RUNS_PER_PAGE, workflow })}`),
    [page, workflow],
  );
  const approvals = useResource(() => api<ApprovalsAnswer>("/api/approvals"), []);
  const { subscribe } = useEvents();
  const reloadRuns = runs.reload;
  const reloadApprovals = approvals.reload;

  useEffect(
    () =>
      subscribe((event) => {
        if (APPROVAL_EVENTS.includes(event.type)) {
          reloadApprovals();
        } else if (RUN_EVENTS.includes(event.type)) {
          reloadRuns();
        }
      }),
    [subscribe, reloadApprovals, reloadRuns],
  );

  useEffect(() => {
    if (runs.data !== null) {
      const clamped = clampPage(page, runs.data.total_count, RUNS_PER_PAGE);
      if (clamped !== page) {
        setPage(clamped);
      }
    }
  }, [runs.data, page]);

  const onFilter = (event: FormEvent) => {
    event.preventDefault();
    setWorkflow(draft.trim());
    setPage(1);
  };

  const list = runs.data?.runs ?? [];
  const total = runs.data?.total_count ?? 0;

  return (
    <Page title="Runs & approvals">
      <Approvals resource={approvals} admin={admin} />
      <section aria-labelledby="runs-heading">
        <div className="row section-head">
          <h2 id="runs-heading">Runs</h2>
          <button type="button" className="secondary" onClick={runs.reload}>
            Refresh
          </button>
        </div>
        <form role="search" className="row search-row runs-filter" onSubmit={onFilter}>
          <label className="grow-label">
            <span>Workflow</span>
            <input
              type="search"
              value={draft}
              placeholder="for example ship-release"
              onChange={(event) => setDraft(event.target.value)}
            />
          </label>
          <button type="submit" className="secondary">
            Filter
          </button>
          {workflow !== "" && (
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setDraft("");
                setWorkflow("");
                setPage(1);
              }}
            >
              Show all
            </button>
          )}
        </form>
        <ErrorNote error={runs.error} />
        {runs.data === null && runs.loading && <p className="loading">Loading…</p>}
        {runs.data !== null && list.length === 0 && (
          <p className="hint">
            {workflow !== "" ? `No runs of ${workflow}.` : "No runs yet."} Runs appear once the workflow operator
            records them.
          </p>
        )}
        {list.length > 0 && (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Run</th>
                  <th>Workflow</th>
                  <th>Status</th>
                  <th>Started</th>
                  <th>Completed</th>
                  <th>Steps</th>
                </tr>
              </thead>
              <tbody>
                {list.map((run) => (
                  <tr key={run.run_id} className={selected === run.run_id ? "selected" : undefined}>
                    <td>
                      <button
                        type="button"
                        className="link run-id"
                        aria-current={selected === run.run_id ? "true" : undefined}
                        onClick={() => setSelected(run.run_id)}
                      >
                        {run.run_id}
                      </button>
                    </td>
                    <td>{run.workflow_name}</td>
                    <td>
                      <Status status={run.status} />
                    </td>
                    <td>
                      {when(run.started_at)}
                    </td>
                    <td>
                      {when(run.completed_at)}
                    </td>
                    <td>{progress(run.steps_completed, run.steps_total)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager page={page} perPage={RUNS_PER_PAGE} total={total} onPage={setPage} />
        {total > 0 && <p className="hint">{total === 1 ? "1 run" : `${total} runs`}</p>}
      </section>
      {selected !== null && (
        <RunDetail
          key={selected}
          runId={selected}
          admin={admin}
          onChanged={runs.reload}
          onClose={() => setSelected(null)}
        />
      )}
    </Page>
  );
}
