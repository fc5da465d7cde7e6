// The canvas view's pure logic: the socket's messages, the frames of one open canvas (newest first), and
// the render form's checks. Frame content is never put into the dashboard's DOM; the view shows a frame
// through the gateway's sandboxed `/api/canvas/{id}/view?frame=` document.
import { basePath, segment } from "../api";
import { jsonObject } from "./json";

export interface CanvasFrame {
  frame_id: string;
  content_type: string;
  content: string;
  timestamp: string;
}

/** How many frames the gateway keeps per canvas. */
export const MAX_FRAMES = 50;
/** The largest content the gateway accepts, in UTF-8 bytes. */
export const MAX_CONTENT_BYTES = 256 * 1024;
export const CONTENT_TYPES = ["html", "svg", "markdown", "text"] as const;

export type CanvasMessage =
  | { type: "frame"; canvas_id: string; frame: CanvasFrame }
  | { type: "connected"; canvas_id: string }
  | { type: "lagged"; missed: number };

function isFrame(value: unknown): value is CanvasFrame {
  if (value === null || typeof value !== "object") {
    return false;
  }
  const frame = value as Record<string, unknown>;
  return (
    typeof frame.frame_id === "string" &&
    typeof frame.content_type === "string" &&
    typeof frame.content === "string" &&
    typeof frame.timestamp === "string"
  );
}

/** One message from `/ws/canvas/{id}`; null for anything else. */
export function parseCanvasMessage(data: unknown): CanvasMessage | null {
  const message = jsonObject(data);
  if (message === null) {
    return null;
  }
  const canvasId = typeof message.canvas_id === "string" ? message.canvas_id : "";
  switch (message.type) {
    case "frame":
      return isFrame(message.frame) ? { type: "frame", canvas_id: canvasId, frame: message.frame } : null;
    case "connected":
      return { type: "connected", canvas_id: canvasId };
    case "lagged":
      return { type: "lagged", missed: typeof message.missed === "number" ? message.missed : 0 };
    default:
      return null;
  }
}

export type SocketState = "connecting" | "open" | "reconnecting";

export interface CanvasState {
  socket: SocketState;
  /** Newest first; the first is the current frame. Empty for a cleared (or empty) canvas. */
  frames: CanvasFrame[];
  /** The frame picked from the history; null follows the live frame. */
  selected: string | null;
  /** Bumped by a clear, so a history requested before it is not applied after it. */
  epoch: number;
  /** Frames the socket reported missing since the canvas opened. */
  missed: number;
}

export const INITIAL_CANVAS: CanvasState = { socket: "connecting", frames: [], selected: null, epoch: 0, missed: 0 };

export type CanvasAction =
  | { type: "socket"; state: SocketState }
  | { type: "frame"; frame: CanvasFrame }
  | { type: "history"; frames: readonly CanvasFrame[]; epoch: number }
  | { type: "select"; frameId: string | null }
  | { type: "lagged"; missed: number };

function keepSelection(selected: string | null, frames: readonly CanvasFrame[]): string | null {
  return selected !== null && frames.some((frame) => frame.frame_id === selected) ? selected : null;
}

export function canvasReducer(state: CanvasState, action: CanvasAction): CanvasState {
  switch (action.type) {
    case "socket":
      return { ...state, socket: action.state };
    case "lagged":
      return { ...state, missed: state.missed + action.missed };
    case "select":
      return { ...state, selected: keepSelection(action.frameId, state.frames) };
    case "frame": {
      if (action.frame.content_type === "clear") {
        return { ...state, frames: [], selected: null, epoch: state.epoch + 1 };
      }
      if (state.frames.some((frame) => frame.frame_id === action.frame.frame_id)) {
        return state;
      }
      const frames = [action.frame, ...state.frames].slice(0, MAX_FRAMES);
      return { ...state, frames, selected: keepSelection(state.selected, frames) };
    }
    case "history": {
      if (action.epoch !== state.epoch) {
        return state;
      }
      // The history arrives oldest first. Frames the socket delivered after it was read (those before the
      // first frame it holds, newest first) stay on top.
      const stored = [...action.frames].reverse();
      const known = new Set(stored.map((frame) => frame.frame_id));
      const firstKnown = state.frames.findIndex((frame) => known.has(frame.frame_id));
      const later = firstKnown < 0 ? state.frames : state.frames.slice(0, firstKnown);
      const frames = [...later, ...stored].slice(0, MAX_FRAMES);
      return { ...state, frames, selected: keepSelection(state.selected, frames) };
    }
  }
}

/** The frame on show: the selected one, else the current one. */
export function shownFrame(state: CanvasState): CanvasFrame | null {
  return state.frames.find((frame) => frame.frame_id === state.selected) ?? state.frames[0] ?? null;
}

/** The sandboxed document of one frame (the gateway answers it under its own `sandbox` CSP). */
export function frameViewUrl(canvasId: string, frameId: string): string {
  return `${basePath()}/api/canvas/${segment(canvasId)}/view?frame=${segment(frameId)}`;
}

/** The gateway's canvas id rule: 1-128 of `A-Z a-z 0-9 _ - .`, never `.` or `..`. */
export function validCanvasId(id: string): boolean {
  return /^[A-Za-z0-9_.-]{1,128}$/.test(id) && id !== "." && id !== "..";
}

export interface RenderForm {
  canvasId: string;
  contentType: string;
  content: string;
}

/** What is wrong with a render, field by field (empty when it can be sent). */
export function renderProblems(form: RenderForm): Partial<Record<keyof RenderForm, string>> {
  const problems: Partial<Record<keyof RenderForm, string>> = {};
  if (!validCanvasId(form.canvasId.trim())) {
    problems.canvasId = "Use 1-128 letters, digits, '_', '-' or '.' (not '.' or '..').";
  }
  if (!(CONTENT_TYPES as readonly string[]).includes(form.contentType)) {
    problems.contentType = "Pick html, svg, markdown or text.";
  }
  const bytes = new TextEncoder().encode(form.content).length;
  if (form.content.trim().length === 0) {
    problems.content = "Enter some content.";
  } else if (bytes > MAX_CONTENT_BYTES) {
    problems.content = `The content is ${bytes} bytes; the limit is ${MAX_CONTENT_BYTES}.`;
  }
  return problems;
}
