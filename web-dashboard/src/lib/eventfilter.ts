// Filtering, freezing and clearing a live event log without copying it: the log only ever drops its oldest
// entries, so "everything after this entry" is a stable way to say "what arrived since".
import { EVENT_TYPES, type GatewayEvent } from "./events";

export interface EventFilter {
  /** One event type, or "" for all. */
  type: string;
  /** Case-insensitive text looked for in the event's JSON; "" for all. */
  text: string;
}

/**
 * The entries of `log` after `marker` (an entry of an earlier version of the same log). A marker the log
 * no longer holds was dropped as the oldest, so everything left came after it; a null marker means all.
 */
export function since<T>(log: readonly T[], marker: T | null): T[] {
  if (marker === null) {
    return [...log];
  }
  return log.slice(log.lastIndexOf(marker) + 1);
}

/** The last entry of `log` (the marker for "from now on"), or null when it is empty. */
export function lastOf<T>(log: readonly T[]): T | null {
  return log.length === 0 ? null : (log[log.length - 1] ?? null);
}

/** The types to filter by: the known ones, then any others seen, sorted. */
export function eventTypeOptions(events: readonly GatewayEvent[]): string[] {
  const known = new Set<string>(EVENT_TYPES);
  const seen = [...new Set(events.map((event) => event.type))].filter((type) => !known.has(type)).sort();
  return [...EVENT_TYPES, ...seen];
}

/** Whether `event` passes `filter`. */
export function matchesEvent(event: GatewayEvent, filter: EventFilter): boolean {
  if (filter.type !== "" && event.type !== filter.type) {
    return false;
  }
  const needle = filter.text.trim().toLowerCase();
  return needle === "" || JSON.stringify(event.data).toLowerCase().includes(needle);
}

/** The events passing `filter`, newest first. */
export function filterEvents(events: readonly GatewayEvent[], filter: EventFilter): GatewayEvent[] {
  return events.filter((event) => matchesEvent(event, filter)).reverse();
}

/** A one-line summary of an event's own fields (without `type` and `timestamp`), at most `max` characters. */
export function eventSummary(event: GatewayEvent, max = 140): string {
  const fields = Object.entries(event.data)
    .filter(([key]) => key !== "type" && key !== "timestamp")
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
  return fields.length > max ? `${fields.slice(0, max - 1)}…` : fields;
}

/** The newest `reset` event (the gateway could not replay everything missed), or null. */
export function latestReset(events: readonly GatewayEvent[]): GatewayEvent | null {
  for (let index = events.length - 1; index >= 0; index--) {
    const event = events[index];
    if (event?.type === "reset") {
      return event;
    }
  }
  return null;
}

/**
 * Stable React keys for the entries of a live log, by identity: ids can be missing (lagged, reset) or start
 * again after a gateway restart, and indexes shift as entries arrive.
 */
export function keyMaker<T extends object>(): (entry: T) => number {
  const keys = new WeakMap<T, number>();
  let next = 0;
  return (entry) => {
    let key = keys.get(entry);
    if (key === undefined) {
      key = next++;
      keys.set(entry, key);
    }
    return key;
  };
}
