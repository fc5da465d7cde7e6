import { describe, expect, it } from "vitest";
import { appendEvent, parseEvent, type GatewayEvent } from "./events";

function event(id: number | null, type = "agent_start"): GatewayEvent {
  return { id, type, timestamp: "2026-01-01T00:00:00Z", data: { type } };
}

describe("parseEvent", () => {
  it("takes the type and timestamp from the data and the id from the frame", () => {
    const parsed = parseEvent("x", "41", '{"type":"device_paired","timestamp":"2026-11-27T10:00:00Z","device_id":"d"}');
    expect(parsed).toEqual({
      id: 41,
      type: "device_paired",
      timestamp: "2026-11-27T10:00:00Z",
      data: { type: "device_paired", timestamp: "2026-11-27T10:00:00Z", device_id: "d" },
    });
  });
  it("falls back to the SSE event name and tolerates a missing id", () => {
    expect(parseEvent("lagged", "", '{"missed":3}')?.type).toBe("lagged");
    expect(parseEvent("lagged", "", '{"missed":3}')?.id).toBeNull();
  });
  it("gives reset and lagged no id: they carry none, and EventSource repeats the previous frame's", () => {
    expect(parseEvent("reset", "41", '{"type":"reset","missed":2}')?.id).toBeNull();
    expect(parseEvent("lagged", "41", '{"type":"lagged","missed":2}')?.id).toBeNull();
  });
  it("drops data that is not a JSON object", () => {
    expect(parseEvent("x", "1", "not json")).toBeNull();
    expect(parseEvent("x", "1", "[1,2]")).toBeNull();
    expect(parseEvent("x", "1", "null")).toBeNull();
  });
});

describe("appendEvent", () => {
  it("keeps order and drops the oldest beyond the limit", () => {
    let log: GatewayEvent[] = [];
    for (let id = 1; id <= 5; id++) {
      log = appendEvent(log, event(id), 3);
    }
    expect(log.map((e) => e.id)).toEqual([3, 4, 5]);
  });
  it("ignores a replayed id it already holds", () => {
    const log = appendEvent([event(1), event(2)], event(2));
    expect(log.map((e) => e.id)).toEqual([1, 2]);
  });
  it("keeps a lagged or reset frame that follows a numbered event", () => {
    const first = parseEvent("agent_start", "7", '{"type":"agent_start"}');
    const lagged = parseEvent("lagged", "7", '{"type":"lagged","missed":4}');
    if (first === null || lagged === null) {
      throw new Error("unparsed");
    }
    expect(appendEvent(appendEvent([], first), lagged).map((e) => e.type)).toEqual(["agent_start", "lagged"]);
  });
  it("after a reset, keeps events whose ids a restarted gateway numbers again", () => {
    let log = [event(1), event(2), event(null, "reset")];
    log = appendEvent(log, event(1));
    log = appendEvent(log, event(2));
    log = appendEvent(log, event(2));
    expect(log.map((e) => `${e.type}:${e.id}`)).toEqual([
      "agent_start:1",
      "agent_start:2",
      "reset:null",
      "agent_start:1",
      "agent_start:2",
    ]);
  });
  it("keeps events without ids", () => {
    const log = appendEvent(appendEvent([], event(null, "lagged")), event(null, "lagged"));
    expect(log).toHaveLength(2);
  });
});
