import { useState } from "react";
import { EVENT_LOG_LIMIT, useEvents, type ConnectionState, type GatewayEvent } from "../lib/events";
import {
  eventSummary,
  eventTypeOptions,
  filterEvents,
  keyMaker,
  lastOf,
  latestReset,
  since,
  type EventFilter,
} from "../lib/eventfilter";
import { formatTime, Page, Pager, useClientPage } from "../ui";
import "./Events.css";

const PER_PAGE = 25;

const STATE_LABEL: Record<ConnectionState, string> = {
  connecting: "connecting…",
  open: "live",
  reconnecting: "reconnecting…",
};

/**
 * The shared event log, newest first: filters by type and text, pause (the list freezes and counts what
 * arrives), clear (hides what is shown so far), and each event's JSON on demand.
 */
export function EventsView() {
  const { events, state } = useEvents();
  const [filter, setFilter] = useState<EventFilter>({ type: "", text: "" });
  const [frozen, setFrozen] = useState<GatewayEvent[] | null>(null);
  const [cleared, setCleared] = useState<GatewayEvent | null>(null);
  const [keyOf] = useState(() => keyMaker<GatewayEvent>());

  const shown = since(frozen ?? events, cleared);
  const arrived = frozen === null ? 0 : since(events, lastOf(frozen)).length;
  const matching = filterEvents(shown, filter);
  const { page, setPage, shown: onPage } = useClientPage(matching, PER_PAGE);
  const reset = latestReset(shown);
  const missed = reset !== null && typeof reset.data.missed === "number" ? reset.data.missed : null;

  function change(next: Partial<EventFilter>) {
    setFilter({ ...filter, ...next });
    setPage(1);
  }

  return (
    <Page
      title="Live events"
      actions={
        <span className={`badge events-state ${state === "open" ? "ok" : "warn"}`} role="status">
          {STATE_LABEL[state]}
        </span>
      }
    >
      <p className="hint">
        Events from the gateway as they happen (the last {EVENT_LOG_LIMIT} are kept). After a reconnect the
        gateway replays the events missed meanwhile; a <code>reset</code> event means some could not be replayed.
      </p>
      {reset !== null && (
        <p className="events-reset" role="alert">
          <strong>Some events were lost.</strong>{" "}
          {missed === null ? "The gateway" : `${missed} ${missed === 1 ? "event" : "events"} could not be replayed: the gateway`}{" "}
          restarted or had moved past the last event this page saw ({formatTime(reset.timestamp)}). Views showing
          gateway state may be out of date; reload them.
        </p>
      )}
      <section>
        <div className="row events-controls">
          <label>
            Type
            <select value={filter.type} onChange={(event) => change({ type: event.target.value })}>
              <option value="">All types</option>
              {eventTypeOptions(events).map((type) => (
                <option key={type} value={type}>
                  {type}
                </option>
              ))}
            </select>
          </label>
          <label>
            Search
            <input
              type="search"
              value={filter.text}
              placeholder="Text in the event JSON"
              onChange={(event) => change({ text: event.target.value })}
            />
          </label>
          <div className="row events-buttons">
            <button type="button" onClick={() => setFrozen(frozen === null ? events : null)}>
              {frozen === null ? "Pause" : "Resume"}
            </button>
            <button type="button" className="secondary" onClick={() => setCleared(lastOf(frozen ?? events))}>
              Clear
            </button>
          </div>
        </div>
        {frozen !== null && (
          <p className="events-paused" role="status">
            Paused: {arrived} new {arrived === 1 ? "event" : "events"} since. Resume to show them.
          </p>
        )}
        <p className="hint">
          {matching.length === shown.length
            ? `${shown.length} ${shown.length === 1 ? "event" : "events"}`
            : `${matching.length} of ${shown.length} events match`}
        </p>
        <ul className="event-list live-events" aria-label="Events">
          {onPage.map((event) => (
            <li key={keyOf(event)} className={event.type === "reset" || event.type === "lagged" ? "warn" : undefined}>
              <details>
                <summary>
                  <time dateTime={event.timestamp}>{formatTime(event.timestamp)}</time> <strong>{event.type}</strong>{" "}
                  <span className="event-summary">{eventSummary(event)}</span>
                </summary>
                <pre>{JSON.stringify(event.data, null, 2)}</pre>
              </details>
            </li>
          ))}
        </ul>
        {shown.length === 0 && <p className="hint">No events yet. They appear here as they happen.</p>}
        <Pager page={page} perPage={PER_PAGE} total={matching.length} onPage={setPage} />
      </section>
    </Page>
  );
}
