// The live canvas: the canvases (refreshed on `canvas_updated`), one open canvas followed over its
// WebSocket with its history, and a form to render or clear a test frame. Frame content never enters this
// document: it is shown by the gateway's sandboxed `/api/canvas/{id}/view` in an iframe without
// allow-same-origin, so agent-written HTML runs in an opaque origin.
import { useEffect, useReducer, useRef, useState, type FormEvent } from "react";
import { api, errorMessage, hasScope, segment, wsUrl } from "../api";
import {
  canvasReducer,
  CONTENT_TYPES,
  frameViewUrl,
  INITIAL_CANVAS,
  parseCanvasMessage,
  renderProblems,
  shownFrame,
  type CanvasFrame,
  type RenderForm,
} from "../lib/canvas";
import { useEvents } from "../lib/events";
import { backoff, closeSocket, retryUnlessSignedOut } from "../lib/reconnect";
import { formatBytes } from "../lib/memorybrowser";
import { useSession } from "../session";
import { ErrorNote, formatTime, Page, Pager, useAction, useClientPage, useResource } from "../ui";
import "./Canvas.css";

const LIST_PER_PAGE = 20;
const HISTORY_PER_PAGE = 10;

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

function CanvasList({
  canvases,
  open,
  onOpen,
}: {
  canvases: readonly string[];
  open: string | null;
  onOpen: (id: string) => void;
}) {
  const { page, setPage, shown } = useClientPage(canvases, LIST_PER_PAGE);
  if (canvases.length === 0) {
    return <p className="hint">No canvas holds content. Agents render with the canvas tool, or use the form below.</p>;
  }
  return (
    <>
      <ul className="canvas-list">
        {shown.map((id) => (
          <li key={id} aria-current={id === open ? "true" : undefined}>
            <code>{id}</code>
            {id === open ? (
              <span className="badge ok">open</span>
            ) : (
              <button type="button" className="secondary" aria-label={`Open ${id}`} onClick={() => onOpen(id)}>
                Open
              </button>
            )}
          </li>
        ))}
      </ul>
      <Pager page={page} perPage={LIST_PER_PAGE} total={canvases.length} onPage={setPage} />
    </>
  );
}

function History({
  frames,
  shown,
  onSelect,
}: {
  frames: readonly CanvasFrame[];
  shown: string | null;
  onSelect: (frameId: string) => void;
}) {
  const { page, setPage, shown: onPage } = useClientPage(frames, HISTORY_PER_PAGE);
  return (
    <section aria-labelledby="canvas-history-heading">
      <h3 id="canvas-history-heading">History</h3>
      {frames.length === 0 ? (
        <p className="hint">No frames.</p>
      ) : (
        <>
          <ol className="canvas-history">
            {onPage.map((frame) => (
              <li key={frame.frame_id}>
                <button
                  type="button"
                  className={frame.frame_id === shown ? "canvas-frame-pick picked" : "canvas-frame-pick"}
                  aria-pressed={frame.frame_id === shown}
                  onClick={() => onSelect(frame.frame_id)}
                >
                  <span>
                    <time>{formatTime(frame.timestamp)}</time>
                    {frame.frame_id === frames[0]?.frame_id && <span className="badge ok">current</span>}
                  </span>
                  <span className="hint">
                    {frame.content_type} · {formatBytes(byteLength(frame.content))} · {frame.frame_id.slice(0, 8)}
                  </span>
                </button>
              </li>
            ))}
          </ol>
          <Pager page={page} perPage={HISTORY_PER_PAGE} total={frames.length} onPage={setPage} />
        </>
      )}
    </section>
  );
}

/** One canvas, followed over `/ws/canvas/{id}` (reconnecting with backoff) with its stored history. */
function OpenCanvas({
  id,
  canRender,
  onClose,
  onCleared,
}: {
  id: string;
  canRender: boolean;
  onClose: () => void;
  onCleared: () => void;
}) {
  const { signedOut } = useSession();
  const [state, dispatch] = useReducer(canvasReducer, INITIAL_CANVAS);
  const [historyError, setHistoryError] = useState<string | null>(null);
  const epoch = useRef(state.epoch);
  epoch.current = state.epoch;
  const clear = useAction();

  useEffect(() => {
    let socket: WebSocket | null = null;
    let timer: number | undefined;
    let attempt = 0;
    let stopped = false;

    const loadHistory = () => {
      const requested = epoch.current;
      api<{ canvas_id: string; frames: CanvasFrame[] }>(`/api/canvas/${segment(id)}/history`)
        .then((answer) => {
          if (!stopped) {
            setHistoryError(null);
            dispatch({ type: "history", frames: answer.frames, epoch: requested });
          }
        })
        .catch((caught: unknown) => {
          if (!stopped) {
            setHistoryError(errorMessage(caught));
          }
        });
    };

    const connect = () => {
      dispatch({ type: "socket", state: attempt === 0 ? "connecting" : "reconnecting" });
      const current = new WebSocket(wsUrl(`/ws/canvas/${segment(id)}`), ["construct.v1"]);
      let opened = false;
      socket = current;
      current.onopen = () => {
        opened = true;
      };
      current.onmessage = (message: MessageEvent) => {
        const parsed = parseCanvasMessage(message.data);
        if (parsed === null) {
          return;
        }
        if (parsed.type === "frame") {
          dispatch({ type: "frame", frame: parsed.frame });
        } else if (parsed.type === "lagged") {
          dispatch({ type: "lagged", missed: parsed.missed });
          loadHistory();
        } else {
          attempt = 0;
          dispatch({ type: "socket", state: "open" });
          loadHistory();
        }
      };
      current.onclose = () => {
        if (stopped) {
          return;
        }
        dispatch({ type: "socket", state: "reconnecting" });
        const retry = () => {
          timer = window.setTimeout(connect, backoff(attempt++));
        };
        // A refused upgrade (401) reaches the browser as a close before open: ask the gateway why.
        if (opened) {
          retry();
        } else {
          retryUnlessSignedOut(() => stopped, signedOut, retry);
        }
      };
    };

    connect();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      closeSocket(socket);
    };
  }, [id, signedOut]);

  const frame = shownFrame(state);
  const live = state.selected === null;

  async function clearCanvas() {
    if (!window.confirm(`Clear canvas “${id}”? Its frames and history are removed.`)) {
      return;
    }
    const done = await clear.run(() => api(`/api/canvas/${segment(id)}`, { method: "DELETE" }));
    if (done !== undefined) {
      onCleared();
    }
  }

  return (
    <section aria-labelledby="canvas-open-heading" className="canvas-open">
      <div className="row canvas-open-head">
        <h2 id="canvas-open-heading">
          Canvas <code>{id}</code>
        </h2>
        <span className={`badge ${state.socket === "open" ? "ok" : "warn"}`} role="status">
          {state.socket === "open" ? "live" : state.socket}
        </span>
        {canRender && (
          <button type="button" className="danger" onClick={() => void clearCanvas()} disabled={clear.busy}>
            Clear canvas
          </button>
        )}
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
      <ErrorNote error={clear.error} />
      <ErrorNote error={historyError === null ? null : `History: ${historyError}`} />
      {state.missed > 0 && (
        <p className="hint">The connection fell behind and skipped {state.missed} frames; the history was reloaded.</p>
      )}
      <div className="canvas-body">
        <div className="canvas-stage">
          {frame === null ? (
            <p className="hint">This canvas is empty: cleared, or nothing rendered yet.</p>
          ) : (
            <>
              <div className="row canvas-stage-head">
                <strong>{live ? "Current frame" : "Earlier frame"}</strong>
                <span className="hint">
                  {frame.content_type} · <time>{formatTime(frame.timestamp)}</time>
                </span>
                {!live && (
                  <button
                    type="button"
                    className="secondary"
                    onClick={() => dispatch({ type: "select", frameId: null })}
                  >
                    Back to live
                  </button>
                )}
              </div>
              <iframe
                key={frame.frame_id}
                className="canvas-frame"
                sandbox="allow-scripts"
                referrerPolicy="no-referrer"
                src={frameViewUrl(id, frame.frame_id)}
                title="Canvas frame"
              />
            </>
          )}
        </div>
        <History
          frames={state.frames}
          shown={frame?.frame_id ?? null}
          onSelect={(frameId) =>
            dispatch({ type: "select", frameId: frameId === state.frames[0]?.frame_id ? null : frameId })
          }
        />
      </div>
    </section>
  );
}

function RenderFrame({ suggestedId, onRendered }: { suggestedId: string | null; onRendered: (id: string) => void }) {
  const [form, setForm] = useState<RenderForm>({ canvasId: suggestedId ?? "", contentType: "html", content: "" });
  const [problems, setProblems] = useState<Partial<Record<keyof RenderForm, string>>>({});
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();

  useEffect(() => {
    if (suggestedId !== null) {
      setForm((current) => ({ ...current, canvasId: suggestedId }));
    }
  }, [suggestedId]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setDone(null);
    const found = renderProblems(form);
    setProblems(found);
    if (Object.keys(found).length > 0) {
      return;
    }
    const id = form.canvasId.trim();
    const answer = await action.run(() =>
      api<{ canvas_id: string; frame: CanvasFrame }>(`/api/canvas/${segment(id)}`, {
        method: "POST",
        body: { content_type: form.contentType, content: form.content },
      }),
    );
    if (answer !== undefined) {
      setDone(`Rendered frame ${answer.frame.frame_id} on ${answer.canvas_id}.`);
      onRendered(answer.canvas_id);
    }
  }

  const invalid = (field: keyof RenderForm) =>
    problems[field] === undefined ? {} : { "aria-invalid": true, "aria-describedby": `canvas-${field}-problem` };
  const problem = (field: keyof RenderForm) =>
    problems[field] === undefined ? null : (
      <span id={`canvas-${field}-problem`} className="error">
        {problems[field]}
      </span>
    );

  return (
    <section aria-labelledby="canvas-render-heading">
      <h2 id="canvas-render-heading">Render a test frame</h2>
      <form className="stack" onSubmit={(event) => void submit(event)} noValidate>
        <div className="canvas-form-row">
          <div className="canvas-field">
            <label htmlFor="canvas-render-id">Canvas id</label>
            <input
              id="canvas-render-id"
              value={form.canvasId}
              onChange={(event) => setForm({ ...form, canvasId: event.target.value })}
              maxLength={128}
              autoComplete="off"
              spellCheck={false}
              {...invalid("canvasId")}
            />
            {problem("canvasId")}
          </div>
          <div className="canvas-field">
            <label htmlFor="canvas-render-type">Content type</label>
            <select
              id="canvas-render-type"
              value={form.contentType}
              onChange={(event) => setForm({ ...form, contentType: event.target.value })}
              {...invalid("contentType")}
            >
              {CONTENT_TYPES.map((type) => (
                <option key={type} value={type}>
                  {type}
                </option>
              ))}
            </select>
            {problem("contentType")}
          </div>
        </div>
        <div className="canvas-field">
          <label htmlFor="canvas-render-content">Content</label>
          <textarea
            id="canvas-render-content"
            className="code"
            rows={8}
            value={form.content}
            onChange={(event) => setForm({ ...form, content: event.target.value })}
            spellCheck={false}
            {...invalid("content")}
          />
          {problem("content")}
        </div>
        <div className="row">
          <button type="submit" disabled={action.busy}>
            Render
          </button>
          <span className="hint">{formatBytes(byteLength(form.content))} of 256 KiB</span>
        </div>
        <ErrorNote error={action.error} />
        {done !== null && (
          <p role="status" className="ok">
            {done}
          </p>
        )}
      </form>
    </section>
  );
}

export function CanvasView() {
  const { session } = useSession();
  const canRender = hasScope(session, "chat");
  const { subscribe } = useEvents();
  const list = useResource(() => api<{ canvases: string[] }>("/api/canvas"), []);
  const [open, setOpen] = useState<string | null>(null);
  const { reload } = list;

  // New canvases (and cleared ones) announce themselves; a burst of frames reloads the list once.
  useEffect(() => {
    let timer: number | undefined;
    const unsubscribe = subscribe((event) => {
      if (event.type === "canvas_updated" || event.type === "reset") {
        window.clearTimeout(timer);
        timer = window.setTimeout(reload, 300);
      }
    });
    return () => {
      window.clearTimeout(timer);
      unsubscribe();
    };
  }, [reload, subscribe]);

  return (
    <Page title="Canvas">
      <div className="canvas-view">
        <section aria-labelledby="canvas-list-heading">
          <div className="row">
            <h2 id="canvas-list-heading">Canvases</h2>
            <button type="button" className="secondary" onClick={reload} disabled={list.loading}>
              Refresh
            </button>
          </div>
          <ErrorNote error={list.error} />
          {list.data === null ? (
            list.loading && <p className="loading">Loading…</p>
          ) : (
            <CanvasList canvases={list.data.canvases} open={open} onOpen={setOpen} />
          )}
        </section>
        {open !== null && (
          <OpenCanvas
            key={open}
            id={open}
            canRender={canRender}
            onClose={() => setOpen(null)}
            onCleared={reload}
          />
        )}
        {canRender && (
          <RenderFrame
            suggestedId={open}
            onRendered={(id) => {
              setOpen(id);
              reload();
            }}
          />
        )}
      </div>
    </Page>
  );
}
