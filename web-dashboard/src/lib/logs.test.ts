import { describe, expect, it } from "vitest";
import { parseEvent } from "./events";
import {
  appendLines,
  emptyLogBuffer,
  levelOf,
  matchesLine,
  restartIds,
  toLogLine,
  type LogLevel,
  type LogLine,
} from "./logs";

function line(id: number | null, level: LogLevel = "info", text = `line ${String(id)}`): LogLine {
  return { id, level, line: text, target: "construct", timestamp: "2026-11-27T10:00:00Z" };
}

describe("toLogLine", () => {
  it("reads a log event as the gateway sends it", () => {
    const event = parseEvent(
      "log",
      "12",
      '{"type":"log","level":"WARN","line":"WARN construct_api: slow request","target":"construct_api","timestamp":"2026-11-27T15:03:53.97Z"}',
    );
    expect(event).not.toBeNull();
    expect(toLogLine(event!)).toEqual({
      id: 12,
      level: "warn",
      line: "WARN construct_api: slow request",
      target: "construct_api",
      timestamp: "2026-11-27T15:03:53.97Z",
    });
  });
  it("ignores other events and lines without text", () => {
    expect(toLogLine(parseEvent("lagged", "", '{"type":"lagged","missed":3}')!)).toBeNull();
    expect(toLogLine(parseEvent("log", "1", '{"type":"log","level":"INFO"}')!)).toBeNull();
  });
});

describe("levelOf", () => {
  it("normalises level names", () => {
    expect(levelOf("ERROR")).toBe("error");
    expect(levelOf("warning")).toBe("warn");
    expect(levelOf(" Trace ")).toBe("trace");
    expect(levelOf("loud")).toBe("info");
    expect(levelOf(undefined)).toBe("info");
  });
});

describe("appendLines", () => {
  it("keeps order and only the newest lines beyond the limit", () => {
    let buffer = emptyLogBuffer;
    for (let id = 1; id <= 5; id++) {
      buffer = appendLines(buffer, [line(id)], 3);
    }
    expect(buffer.lines.map((l) => l.id)).toEqual([3, 4, 5]);
    buffer = appendLines(buffer, [line(6), line(7), line(8), line(9)], 3);
    expect(buffer.lines.map((l) => l.id)).toEqual([7, 8, 9]);
  });
  it("skips replayed ids, also within one batch", () => {
    const buffer = appendLines(emptyLogBuffer, [line(1), line(2)]);
    const replayed = appendLines(buffer, [line(2), line(3), line(3)]);
    expect(replayed.lines.map((l) => l.id)).toEqual([1, 2, 3]);
    expect(appendLines(replayed, [line(1)])).toBe(replayed);
    expect(appendLines(replayed, [])).toBe(replayed);
  });
  it("accepts ids from the start again after a reset", () => {
    const before = appendLines(emptyLogBuffer, [line(40), line(41)]);
    expect(appendLines(before, [line(1)]).lines).toHaveLength(2);
    const after = appendLines(restartIds(before), [line(1), line(2)]);
    expect(after.lines.map((l) => l.id)).toEqual([40, 41, 1, 2]);
  });
});

describe("matchesLine", () => {
  const lines = [line(1, "error"), line(2, "warn"), line(3, "info"), line(4, "debug"), line(5, "trace")];
  const shown = (level: LogLevel, text = "") =>
    lines.filter((l) => matchesLine(l, { level, text })).map((l) => l.id);
  it("shows the chosen level and everything more severe", () => {
    expect(shown("error")).toEqual([1]);
    expect(shown("warn")).toEqual([1, 2]);
    expect(shown("info")).toEqual([1, 2, 3]);
    expect(shown("trace")).toEqual([1, 2, 3, 4, 5]);
  });
  it("filters by text, ignoring case", () => {
    expect(shown("trace", "LINE 4")).toEqual([4]);
    expect(shown("info", "line 4")).toEqual([]);
  });
});
