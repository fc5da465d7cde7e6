import { describe, expect, it } from "vitest";
import { appendEvent, EVENT_TYPES, type GatewayEvent } from "./events";
import {
  eventSummary,
  eventTypeOptions,
  filterEvents,
  keyMaker,
  lastOf,
  latestReset,
  matchesEvent,
  since,
} from "./eventfilter";

function event(id: number | null, type: string, fields: Record<string, unknown> = {}): GatewayEvent {
  const timestamp = "2026-11-27T10:00:00Z";
  return { id, type, timestamp, data: { type, timestamp, ...fields } };
}

const log = [
  event(1, "agent_start", { session_id: "abc", model: "gpt" }),
  event(2, "canvas_updated", { canvas_id: "Board-7" }),
  event(3, "agent_end", { session_id: "abc", ok: true }),
  event(4, "custom_thing", { note: "x" }),
];

describe("matchesEvent / filterEvents", () => {
  it("shows everything, newest first, without a filter", () => {
    expect(filterEvents(log, { type: "", text: "" }).map((e) => e.id)).toEqual([4, 3, 2, 1]);
  });
  it("filters by type", () => {
    expect(filterEvents(log, { type: "canvas_updated", text: "" }).map((e) => e.id)).toEqual([2]);
  });
  it("filters by text anywhere in the JSON, ignoring case and surrounding spaces", () => {
    expect(filterEvents(log, { type: "", text: " ABC " }).map((e) => e.id)).toEqual([3, 1]);
    expect(filterEvents(log, { type: "", text: "board-7" }).map((e) => e.id)).toEqual([2]);
    expect(filterEvents(log, { type: "", text: '"ok":true' }).map((e) => e.id)).toEqual([3]);
    expect(filterEvents(log, { type: "", text: "nothing like it" })).toEqual([]);
  });
  it("needs both the type and the text to match", () => {
    expect(matchesEvent(log[0] as GatewayEvent, { type: "agent_start", text: "abc" })).toBe(true);
    expect(matchesEvent(log[0] as GatewayEvent, { type: "agent_end", text: "abc" })).toBe(false);
    expect(matchesEvent(log[0] as GatewayEvent, { type: "agent_start", text: "zzz" })).toBe(false);
  });
});

describe("since / lastOf", () => {
  it("returns what came after the marker", () => {
    expect(since(log, log[1] as GatewayEvent).map((e) => e.id)).toEqual([3, 4]);
    expect(since(log, log[3] as GatewayEvent)).toEqual([]);
  });
  it("returns everything without a marker", () => {
    expect(since(log, null)).toHaveLength(4);
  });
  it("returns everything when the marker has been dropped from a capped log", () => {
    let capped: GatewayEvent[] = [];
    for (let id = 1; id <= 3; id++) {
      capped = appendEvent(capped, event(id, "agent_start"), 3);
    }
    const marker = lastOf(capped);
    for (let id = 4; id <= 8; id++) {
      capped = appendEvent(capped, event(id, "agent_start"), 3);
    }
    expect(since(capped, marker).map((e) => e.id)).toEqual([6, 7, 8]);
  });
  it("counts arrivals while paused against the frozen log", () => {
    const frozen = log.slice(0, 2);
    expect(since(log, lastOf(frozen))).toHaveLength(2);
    expect(lastOf([])).toBeNull();
  });
});

describe("eventTypeOptions", () => {
  it("lists the known types, then unknown ones seen, sorted and once", () => {
    const options = eventTypeOptions([...log, event(5, "another"), event(6, "custom_thing")]);
    expect(options.slice(0, EVENT_TYPES.length)).toEqual([...EVENT_TYPES]);
    expect(options.slice(EVENT_TYPES.length)).toEqual(["another", "custom_thing"]);
  });
});

describe("eventSummary", () => {
  it("shows the event's own fields", () => {
    expect(eventSummary(log[2] as GatewayEvent)).toBe("session_id=abc ok=true");
  });
  it("truncates long summaries", () => {
    const long = eventSummary(event(9, "x", { text: "y".repeat(500) }), 20);
    expect(long).toHaveLength(20);
    expect(long.endsWith("…")).toBe(true);
  });
});

describe("latestReset", () => {
  it("finds the newest reset", () => {
    const resets = [event(null, "reset", { missed: 3 }), event(7, "agent_start"), event(null, "reset", { missed: 9 })];
    expect(latestReset(resets)?.data.missed).toBe(9);
    expect(latestReset(log)).toBeNull();
  });
});

describe("keyMaker", () => {
  it("gives each entry one key for good, distinct from every other entry's", () => {
    const keyOf = keyMaker<GatewayEvent>();
    const a = event(null, "lagged");
    const b = event(null, "lagged");
    const c = event(1, "agent_start");
    const d = event(1, "agent_start");
    const keys = [keyOf(a), keyOf(b), keyOf(c), keyOf(d)];
    expect(new Set(keys).size).toBe(4);
    expect(keyOf(b)).toBe(keys[1]);
  });
});
