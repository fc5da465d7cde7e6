// The gateway's own log lines (`GET /api/daemon/logs`): parsing, the bounded buffer, and level filtering.
import type { GatewayEvent } from "./events";

/** Levels from the most to the least severe. */
export const LOG_LEVELS = ["error", "warn", "info", "debug", "trace"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Lines kept in the browser (the gateway's ring holds as many). */
export const LOG_LIMIT = 2000;

export interface LogLine {
  id: number | null;
  level: LogLevel;
  line: string;
  target: string;
  timestamp: string;
}

/** The severity rank of a level name in any case ("WARN", "warning", "Info"); unknown names count as info. */
export function levelOf(raw: unknown): LogLevel {
  const name = typeof raw === "string" ? raw.trim().toLowerCase() : "";
  if (name === "warning") {
    return "warn";
  }
  return (LOG_LEVELS as readonly string[]).includes(name) ? (name as LogLevel) : "info";
}

/** A `log` event as a line; null for anything else (lagged, reset, other types). */
export function toLogLine(event: GatewayEvent): LogLine | null {
  if (event.type !== "log" || typeof event.data.line !== "string") {
    return null;
  }
  return {
    id: event.id,
    level: levelOf(event.data.level),
    line: event.data.line,
    target: typeof event.data.target === "string" ? event.data.target : "",
    timestamp: event.timestamp,
  };
}

/** The lines kept, and the newest id appended since the stream (re)started its numbering (-1: none). */
export interface LogBuffer {
  lines: LogLine[];
  newest: number;
}

export const emptyLogBuffer: LogBuffer = { lines: [], newest: -1 };

/** Appends `lines`, skipping ids already seen (a replay after reconnecting) and keeping the newest `limit`. */
export function appendLines(buffer: LogBuffer, lines: readonly LogLine[], limit = LOG_LIMIT): LogBuffer {
  let newest = buffer.newest;
  const fresh: LogLine[] = [];
  for (const line of lines) {
    if (line.id === null || line.id > newest) {
      fresh.push(line);
      newest = line.id ?? newest;
    }
  }
  if (fresh.length === 0) {
    return buffer;
  }
  const next = [...buffer.lines, ...fresh];
  return { lines: next.length > limit ? next.slice(next.length - limit) : next, newest };
}

/** After a `reset` (the gateway restarted, or moved past our last id) ids may start again from 1. */
export function restartIds(buffer: LogBuffer): LogBuffer {
  return { ...buffer, newest: -1 };
}

export interface LogFilter {
  /** The least severe level shown: "warn" shows errors and warnings. */
  level: LogLevel;
  /** Case-insensitive text in the line; "" for all. */
  text: string;
}

/** Whether `line` passes `filter` (at least `filter.level`, and containing the text). */
export function matchesLine(line: LogLine, filter: LogFilter): boolean {
  if (LOG_LEVELS.indexOf(line.level) > LOG_LEVELS.indexOf(filter.level)) {
    return false;
  }
  const needle = filter.text.trim().toLowerCase();
  return needle === "" || line.line.toLowerCase().includes(needle);
}
