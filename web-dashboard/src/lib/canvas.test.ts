import { afterEach, describe, expect, it } from "vitest";
import {
  canvasReducer,
  frameViewUrl,
  INITIAL_CANVAS,
  MAX_CONTENT_BYTES,
  MAX_FRAMES,
  parseCanvasMessage,
  renderProblems,
  shownFrame,
  validCanvasId,
  type CanvasFrame,
  type CanvasState,
} from "./canvas";

afterEach(() => {
  document.head.innerHTML = "";
});

function frame(id: string, contentType = "html"): CanvasFrame {
  return { frame_id: id, content_type: contentType, content: `<p>${id}</p>`, timestamp: `2026-01-01T00:00:0${id.length}Z` };
}

function ids(state: CanvasState): string[] {
  return state.frames.map((f) => f.frame_id);
}

describe("parseCanvasMessage", () => {
  it("reads frames, connected and lagged", () => {
    expect(parseCanvasMessage(JSON.stringify({ type: "frame", canvas_id: "c", frame: frame("a") }))).toEqual({
      type: "frame",
      canvas_id: "c",
      frame: frame("a"),
    });
    expect(parseCanvasMessage('{"type":"connected","canvas_id":"c"}')).toEqual({ type: "connected", canvas_id: "c" });
    expect(parseCanvasMessage('{"type":"lagged","canvas_id":"c","missed":3}')).toEqual({ type: "lagged", missed: 3 });
  });

  it("ignores anything else", () => {
    expect(parseCanvasMessage("not json")).toBeNull();
    expect(parseCanvasMessage("null")).toBeNull();
    expect(parseCanvasMessage('{"type":"frame","canvas_id":"c","frame":{"frame_id":1}}')).toBeNull();
    expect(parseCanvasMessage('{"type":"other"}')).toBeNull();
    expect(parseCanvasMessage(new ArrayBuffer(2))).toBeNull();
  });
});

describe("canvasReducer", () => {
  it("puts live frames on top, once each", () => {
    let state = canvasReducer(INITIAL_CANVAS, { type: "frame", frame: frame("a") });
    state = canvasReducer(state, { type: "frame", frame: frame("bb") });
    state = canvasReducer(state, { type: "frame", frame: frame("bb") });
    expect(ids(state)).toEqual(["bb", "a"]);
    expect(shownFrame(state)?.frame_id).toBe("bb");
  });

  it("keeps at most MAX_FRAMES", () => {
    let state = INITIAL_CANVAS;
    for (let i = 0; i < MAX_FRAMES + 5; i++) {
      state = canvasReducer(state, { type: "frame", frame: frame(`f${i}`) });
    }
    expect(state.frames).toHaveLength(MAX_FRAMES);
    expect(state.frames[0]?.frame_id).toBe(`f${MAX_FRAMES + 4}`);
  });

  it("merges the stored history (oldest first) under frames delivered after it was read", () => {
    let state = canvasReducer(INITIAL_CANVAS, { type: "frame", frame: frame("b") });
    state = canvasReducer(state, { type: "frame", frame: frame("c") });
    state = canvasReducer(state, { type: "history", frames: [frame("a"), frame("b")], epoch: 0 });
    expect(ids(state)).toEqual(["c", "b", "a"]);
    state = canvasReducer(state, { type: "history", frames: [frame("a"), frame("b"), frame("c")], epoch: 0 });
    expect(ids(state)).toEqual(["c", "b", "a"]);
  });

  it("follows the live frame unless one is selected, and forgets a selection that is gone", () => {
    let state = canvasReducer(INITIAL_CANVAS, { type: "history", frames: [frame("a"), frame("b")], epoch: 0 });
    state = canvasReducer(state, { type: "select", frameId: "a" });
    state = canvasReducer(state, { type: "frame", frame: frame("c") });
    expect(shownFrame(state)?.frame_id).toBe("a");
    state = canvasReducer(state, { type: "select", frameId: null });
    expect(shownFrame(state)?.frame_id).toBe("c");
    state = canvasReducer(state, { type: "select", frameId: "nope" });
    expect(state.selected).toBeNull();
  });

  it("empties on a clear frame and drops a history read before the clear", () => {
    let state = canvasReducer(INITIAL_CANVAS, { type: "frame", frame: frame("a") });
    state = canvasReducer(state, { type: "select", frameId: "a" });
    state = canvasReducer(state, { type: "frame", frame: { ...frame("x", "clear"), content: "" } });
    expect(state.frames).toEqual([]);
    expect(state.selected).toBeNull();
    expect(shownFrame(state)).toBeNull();
    expect(state.epoch).toBe(1);
    const stale = canvasReducer(state, { type: "history", frames: [frame("a")], epoch: 0 });
    expect(stale).toBe(state);
    expect(ids(canvasReducer(state, { type: "history", frames: [frame("n")], epoch: 1 }))).toEqual(["n"]);
  });

  it("counts missed frames and tracks the socket", () => {
    let state = canvasReducer(INITIAL_CANVAS, { type: "lagged", missed: 2 });
    state = canvasReducer(state, { type: "lagged", missed: 3 });
    state = canvasReducer(state, { type: "socket", state: "open" });
    expect(state.missed).toBe(5);
    expect(state.socket).toBe("open");
  });
});

describe("frames and the render form", () => {
  it("builds the sandboxed view URL with encoded segments and the base path", () => {
    document.head.innerHTML = '<meta name="construct-base" content="/gw/">';
    expect(frameViewUrl("demo.v2", "a/b?c")).toBe("/gw/api/canvas/demo.v2/view?frame=a%2Fb%3Fc");
  });

  it("checks canvas ids as the gateway does", () => {
    expect(validCanvasId("demo_1.v-2")).toBe(true);
    expect(validCanvasId("x".repeat(128))).toBe(true);
    for (const bad of ["", ".", "..", "a b", "a/b", "x".repeat(129), "é"]) {
      expect(validCanvasId(bad), bad).toBe(false);
    }
  });

  it("reports each wrong field", () => {
    expect(renderProblems({ canvasId: "demo", contentType: "html", content: "<p>x</p>" })).toEqual({});
    expect(renderProblems({ canvasId: "..", contentType: "pdf", content: "  " })).toEqual({
      canvasId: expect.any(String),
      contentType: expect.any(String),
      content: "Enter some content.",
    });
    const big = renderProblems({ canvasId: "d", contentType: "text", content: "é".repeat(MAX_CONTENT_BYTES / 2 + 1) });
    expect(big.content).toMatch(/limit/);
    expect(renderProblems({ canvasId: "d", contentType: "text", content: "x".repeat(MAX_CONTENT_BYTES) })).toEqual({});
  });
});
