import { useEffect, useRef, useState } from "react";
import { keyMaker, lastOf, since } from "../lib/eventfilter";
import { parseEvent } from "../lib/events";
import { followStream } from "../lib/reconnect";
import {
  appendLines,
  emptyLogBuffer,
  LOG_LEVELS,
  LOG_LIMIT,
  matchesLine,
  restartIds,
  toLogLine,
  type LogFilter,
  type LogLevel,
  type LogLine,
} from "../lib/logs";
import { useSession } from "../session";
import { Page } from "../ui";
import "./Logs.css";

type StreamState = "connecting" | "open" | "reconnecting" | "signed-out";

const STATE_LABEL: Record<StreamState, string> = {
  connecting: "connecting…",
  open: "live",
  reconnecting: "reconnecting…",
  "signed-out": "signed out",
};

const LEVEL_LABEL: Record<LogLevel, string> = {
  error: "Errors only",
  warn: "Warnings and errors",
  info: "Info and above",
  debug: "Debug and above",
  trace: "Everything (trace)",
};

/** Lines arriving together (the backlog, bursts) are rendered in one go, at most this often. */
const FLUSH_MS = 200;

function clock(timestamp: string): string {
  const date = new Date(timestamp);
  return Number.isNaN(date.getTime())
    ? timestamp
    : date.toLocaleTimeString(undefined, { hour12: false }) + "." + String(date.getMilliseconds()).padStart(3, "0");
}

/**
 * The gateway's own log, tailed over its own EventSource: the lines the gateway still holds first, then
 * live ones; filtered by level (at least) and text; pause, clear, and following the newest line.
 */
export function LogsView() {
  const { signedOut } = useSession();
  const [buffer, setBuffer] = useState(emptyLogBuffer);
  const [state, setState] = useState<StreamState>("connecting");
  const [notice, setNotice] = useState<string | null>(null);
  const [filter, setFilter] = useState<LogFilter>({ level: "trace", text: "" });
  const [frozen, setFrozen] = useState<LogLine[] | null>(null);
  const [cleared, setCleared] = useState<LogLine | null>(null);
  const [follow, setFollow] = useState(true);
  const scroller = useRef<HTMLDivElement | null>(null);
  const [keyOf] = useState(() => keyMaker<LogLine>());

  useEffect(() => {
    let flushTimer: number | undefined;
    let pending: LogLine[] = [];

    const flush = () => {
      window.clearTimeout(flushTimer);
      flushTimer = undefined;
      if (pending.length > 0) {
        const batch = pending;
        pending = [];
        setBuffer((current) => appendLines(current, batch));
      }
    };

    const stop = followStream({
      path: "/api/daemon/logs",
      types: ["log", "lagged", "reset"],
      firstResume: null,
      onState: setState,
      onSignedOut: () => {
        setState("signed-out");
        signedOut();
      },
      onMessage: (message, type) => {
        const event = parseEvent(type, message.lastEventId, message.data);
        if (event === null) {
          return;
        }
        const missed = typeof event.data.missed === "number" ? event.data.missed : 0;
        if (event.type === "reset") {
          flush();
          setBuffer(restartIds);
          setNotice(`The gateway could not replay ${missed} log ${missed === 1 ? "line" : "lines"} missed while disconnected.`);
        } else if (event.type === "lagged") {
          setNotice(`${missed} log ${missed === 1 ? "line was" : "lines were"} skipped because this page fell behind.`);
        } else {
          const line = toLogLine(event);
          if (line !== null) {
            pending.push(line);
            flushTimer ??= window.setTimeout(flush, FLUSH_MS);
          }
        }
      },
    });
    return () => {
      stop();
      window.clearTimeout(flushTimer);
    };
  }, [signedOut]);

  const shown = since(frozen ?? buffer.lines, cleared);
  const visible = shown.filter((line) => matchesLine(line, filter));
  const arrived = frozen === null ? 0 : since(buffer.lines, lastOf(frozen)).length;

  useEffect(() => {
    const element = scroller.current;
    if (follow && element !== null) {
      element.scrollTop = element.scrollHeight;
    }
  });

  return (
    <Page
      title="Logs"
      actions={
        <span className={`badge logs-state ${state === "open" ? "ok" : state === "signed-out" ? "bad" : "warn"}`} role="status">
          {STATE_LABEL[state]}
        </span>
      }
    >
      <p className="hint">
        The gateway's own log: the lines it still holds, then new ones as they are written. The newest {LOG_LIMIT}{" "}
        lines are kept here.
      </p>
      {notice !== null && (
        <p className="logs-notice" role="alert">
          {notice}{" "}
          <button type="button" className="link" onClick={() => setNotice(null)}>
            Dismiss
          </button>
        </p>
      )}
      <section>
        <div className="row logs-controls">
          <label>
            Level
            <select
              value={filter.level}
              onChange={(event) => setFilter({ ...filter, level: event.target.value as LogLevel })}
            >
              {LOG_LEVELS.map((level) => (
                <option key={level} value={level}>
                  {LEVEL_LABEL[level]}
                </option>
              ))}
            </select>
          </label>
          <label>
            Search
            <input
              type="search"
              value={filter.text}
              placeholder="Text in the line"
              onChange={(event) => setFilter({ ...filter, text: event.target.value })}
            />
          </label>
          <div className="row logs-buttons">
            <button type="button" onClick={() => setFrozen(frozen === null ? buffer.lines : null)}>
              {frozen === null ? "Pause" : "Resume"}
            </button>
            <button type="button" className="secondary" onClick={() => setCleared(lastOf(frozen ?? buffer.lines))}>
              Clear
            </button>
            <label className="logs-follow">
              <input type="checkbox" checked={follow} onChange={(event) => setFollow(event.target.checked)} />
              Follow the newest line
            </label>
          </div>
        </div>
        {frozen !== null && (
          <p className="logs-paused" role="status">
            Paused: {arrived} new {arrived === 1 ? "line" : "lines"} since. Resume to show them.
          </p>
        )}
        <p className="hint">
          {visible.length === shown.length
            ? `${shown.length} ${shown.length === 1 ? "line" : "lines"}`
            : `${visible.length} of ${shown.length} lines match`}
        </p>
        <div
          className="logs-view"
          role="log"
          aria-label="Log lines"
          aria-live="off"
          tabIndex={0}
          ref={scroller}
          onScroll={(event) => {
            const element = event.currentTarget;
            const atBottom = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
            if (atBottom !== follow) {
              setFollow(atBottom);
            }
          }}
        >
          {visible.length === 0 ? (
            <p className="hint">{shown.length === 0 ? "No log lines yet." : "No line matches the filter."}</p>
          ) : (
            visible.map((line) => (
              <div key={keyOf(line)} className={`logs-line ${line.level}`}>
                <time dateTime={line.timestamp}>{clock(line.timestamp)}</time> {line.line}
              </div>
            ))
          )}
        </div>
      </section>
    </Page>
  );
}
