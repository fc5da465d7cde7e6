// One shared subscription to the gateway's event stream (`GET /api/events`), for every view that shows
// events: the overview, the live view, approvals and the canvas list. Upstream opened two.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { useSession } from "../session";
import { jsonObject } from "./json";
import { followStream } from "./reconnect";

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

/** Frames the gateway makes up itself: they carry no `id:`, so the id EventSource reports is the previous one's. */
const UNNUMBERED = new Set(["reset", "lagged"]);

/** Parses one SSE message into an event; null for data that is not a JSON object. */
export function parseEvent(type: string, lastEventId: string, data: string): GatewayEvent | null {
  const record = jsonObject(data);
  if (record === null) {
    return null;
  }
  const eventType = typeof record.type === "string" ? record.type : type;
  const id = UNNUMBERED.has(eventType) ? Number.NaN : Number.parseInt(lastEventId, 10);
  return {
    id: Number.isNaN(id) ? null : id,
    type: eventType,
    timestamp: typeof record.timestamp === "string" ? record.timestamp : new Date().toISOString(),
    data: record,
  };
}

/**
 * Appends `event` to `log`, dropping the oldest beyond `limit` and any id already present since the latest
 * `reset` (a replay; after a reset, a restarted gateway numbers its events from 1 again).
 */
export function appendEvent(log: readonly GatewayEvent[], event: GatewayEvent, limit = EVENT_LOG_LIMIT): GatewayEvent[] {
  if (event.id !== null) {
    for (let index = log.length - 1; index >= 0; index--) {
      const existing = log[index];
      if (existing === undefined || existing.type === "reset") {
        break;
      }
      if (existing.id === event.id) {
        return log as GatewayEvent[];
      }
    }
  }
  const next = [...log, event];
  return next.length > limit ? next.slice(next.length - limit) : next;
}

interface EventsValue {
  events: GatewayEvent[];
  state: ConnectionState;
  /** Called for every new event, in order; returns the unsubscribe function. */
  subscribe: (listener: (event: GatewayEvent) => void) => () => void;
}

const EventsContext = createContext<EventsValue | null>(null);

/**
 * Keeps one EventSource open (see `followStream`), starting with the gateway's ring of recent events.
 */
export function EventsProvider({ children }: { children: ReactNode }) {
  const { signedOut } = useSession();
  const [events, setEvents] = useState<GatewayEvent[]>([]);
  const [state, setState] = useState<ConnectionState>("connecting");
  const listeners = useRef(new Set<(event: GatewayEvent) => void>());

  useEffect(() => {
    // The first connection asks for the whole ring (id 0), so the views open with the recent events; a
    // `reset` on it only says the ring has moved past id 0, which is no loss to this page.
    let initial = true;
    return followStream({
      path: "/api/events",
      types: [...EVENT_TYPES, "message"],
      firstResume: "0",
      onState: setState,
      onSignedOut: signedOut,
      onMessage: (message, type) => {
        const event = parseEvent(type, message.lastEventId, message.data);
        if (event === null || (initial && event.type === "reset")) {
          return;
        }
        initial = false;
        setEvents((log) => appendEvent(log, event));
        for (const listener of listeners.current) {
          listener(event);
        }
      },
    });
  }, [signedOut]);

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
