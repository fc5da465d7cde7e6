// One shared subscription to the gateway's event stream (`GET /api/events`), for every view that shows
// events: the overview, the live view, approvals and the canvas list. Upstream opened two.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { basePath } from "../api";

/** The event types the gateway publishes (EventSource delivers named events only to named listeners). */
export const EVENT_TYPES = [
  "agent_start",
  "agent_end",
  "error",
  "webhook_received",
  "gmail_notification",
  "channel_event",
  "device_paired",
  "device_revoked",
  "canvas_updated",
  "node_connected",
  "node_disconnected",
  "config_changed",
  "human_approval_request",
  "human_approval_resolved",
  "workflow_saved",
  "workflow_run_requested",
  "workflow_retry",
  "workflow_run_deleted",
  "skill_installed",
  "reset",
  "lagged",
] as const;

export interface GatewayEvent {
  /** The SSE id (increasing); null for frames without one. */
  id: number | null;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export type ConnectionState = "connecting" | "open" | "reconnecting";

/** How many events the shared log keeps. */
export const EVENT_LOG_LIMIT = 500;

/** Parses one SSE message into an event; null for data that is not a JSON object. */
export function parseEvent(type: string, lastEventId: string, data: string): GatewayEvent | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return null;
  }
  const record = parsed as Record<string, unknown>;
  const id = Number.parseInt(lastEventId, 10);
  return {
    id: Number.isNaN(id) ? null : id,
    type: typeof record.type === "string" ? record.type : type,
    timestamp: typeof record.timestamp === "string" ? record.timestamp : new Date().toISOString(),
    data: record,
  };
}

/** Appends `event` to `log`, dropping the oldest beyond `limit` and any id already present (replays). */
export function appendEvent(log: readonly GatewayEvent[], event: GatewayEvent, limit = EVENT_LOG_LIMIT): GatewayEvent[] {
  if (event.id !== null && log.some((existing) => existing.id === event.id)) {
    return log as GatewayEvent[];
  }
  const next = [...log, event];
  return next.length > limit ? next.slice(next.length - limit) : next;
}

/** The delay before reconnect attempt `attempt` (0-based): 1 s doubling to 30 s. */
export function backoff(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
}

interface EventsValue {
  events: GatewayEvent[];
  state: ConnectionState;
  /** Called for every new event, in order; returns the unsubscribe function. */
  subscribe: (listener: (event: GatewayEvent) => void) => () => void;
}

const EventsContext = createContext<EventsValue | null>(null);

/**
 * Keeps one EventSource open, starting with the gateway's ring of recent events. The browser resends
 * `Last-Event-ID` when it reconnects by itself; when the
 * stream is closed for good (an error answer), we reconnect with backoff and `?last_event_id=` so the
 * gateway replays what was missed (or sends `reset` when it cannot).
 */
export function EventsProvider({ children }: { children: ReactNode }) {
  const [events, setEvents] = useState<GatewayEvent[]>([]);
  const [state, setState] = useState<ConnectionState>("connecting");
  const listeners = useRef(new Set<(event: GatewayEvent) => void>());

  useEffect(() => {
    let source: EventSource | null = null;
    let lastId: string | null = null;
    let attempt = 0;
    let timer: number | undefined;
    let stopped = false;

    const deliver = (message: MessageEvent<string>, type: string) => {
      if (message.lastEventId !== "") {
        lastId = message.lastEventId;
      }
      const event = parseEvent(type, message.lastEventId, message.data);
      if (event === null || (initial && event.type === "reset")) {
        return;
      }
      initial = false;
      setEvents((log) => appendEvent(log, event));
      for (const listener of listeners.current) {
        listener(event);
      }
    };

    // The first connection asks for the whole ring (id 0), so the views open with the recent events; a
    // `reset` on it only says the ring has moved past id 0, which is no loss to this page.
    let initial = true;
    const open = () => {
      const resume = `?last_event_id=${encodeURIComponent(lastId ?? "0")}`;
      source = new EventSource(`${basePath()}/api/events${resume}`, { withCredentials: true });
      source.onopen = () => {
        attempt = 0;
        setState("open");
      };
      source.onerror = (event) => {
        // The gateway's own `error` events arrive as MessageEvents of type "error", which EventSource
        // also hands to `onerror`; they are events to show, not a failing connection.
        if (event instanceof MessageEvent) {
          return;
        }
        if (source?.readyState === EventSource.CLOSED && !stopped) {
          setState("reconnecting");
          source.close();
          timer = window.setTimeout(open, backoff(attempt++));
        } else {
          setState("reconnecting");
        }
      };
      for (const type of EVENT_TYPES) {
        source.addEventListener(type, (message) => deliver(message as MessageEvent<string>, type));
      }
      source.onmessage = (message) => deliver(message, "message");
    };

    open();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      source?.close();
    };
  }, []);

  // Stable, so views may list it in an effect's dependencies without resubscribing on every event.
  const subscribe = useCallback((listener: (event: GatewayEvent) => void) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);
  const value = useMemo<EventsValue>(() => ({ events, state, subscribe }), [events, state, subscribe]);
  return <EventsContext.Provider value={value}>{children}</EventsContext.Provider>;
}

export function useEvents(): EventsValue {
  const value = useContext(EventsContext);
  if (value === null) {
    throw new Error("useEvents outside EventsProvider");
  }
  return value;
}
