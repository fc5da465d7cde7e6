import { describe, expect, it } from "vitest";
import {
  chatReducer,
  describeAgentEvent,
  initialChat,
  isAuthClose,
  MAX_MESSAGE_BYTES,
  messageProblem,
  nameProblem,
  newSessionId,
  parseFrame,
  sortSessions,
  validSessionId,
  type AssistantItem,
  type ChatAction,
  type ChatFrame,
  type ChatState,
} from "./chat";

function frame(type: string, fields: Record<string, unknown> = {}): ChatAction {
  return { type: "frame", frame: { type, ...fields } as ChatFrame };
}

function run(actions: ChatAction[], from: ChatState = initialChat): ChatState {
  return actions.reduce(chatReducer, from);
}

function assistants(state: ChatState): AssistantItem[] {
  return state.items.filter((item): item is AssistantItem => item.kind === "assistant");
}

/** A state attached to session "s1" with an empty transcript loaded. */
const attached = run([
  { type: "reset", sessionId: "s1" },
  frame("session_start", { session_id: "s1", resumed: false, message_count: 0 }),
  { type: "transcript", messages: [] },
]);

describe("parseFrame", () => {
  it("accepts JSON objects with a string type", () => {
    expect(parseFrame('{"type":"chunk","content":"hi"}')).toEqual({ type: "chunk", content: "hi" });
  });
  it("rejects everything else", () => {
    expect(parseFrame("not json")).toBeNull();
    expect(parseFrame("[1]")).toBeNull();
    expect(parseFrame('{"content":"x"}')).toBeNull();
    expect(parseFrame('{"type":3}')).toBeNull();
    expect(parseFrame(new ArrayBuffer(2))).toBeNull();
  });
});

describe("chatReducer: streaming", () => {
  it("appends chunks to one assistant message and ends the turn with done", () => {
    let state = run([{ type: "send", content: "hello" }], attached);
    expect(state.running).toBe(true);
    expect(state.items).toEqual([{ kind: "user", key: expect.any(Number), content: "hello" }]);
    state = run([frame("chunk", { content: "Hel" }), frame("chunk", { content: "lo!" })], state);
    const [streamed] = assistants(state);
    expect(streamed?.content).toBe("Hello!");
    expect(streamed?.streaming).toBe(true);
    state = run([frame("chunk_reset"), frame("done", { full_response: "Hello there!" })], state);
    expect(state.running).toBe(false);
    expect(state.stream).toBeNull();
    expect(assistants(state)).toHaveLength(1);
    expect(assistants(state)[0]).toMatchObject({ content: "Hello there!", streaming: false });
  });

  it("clears the streamed text on chunk_reset before done arrives", () => {
    const state = run(
      [{ type: "send", content: "q" }, frame("chunk", { content: "draft" }), frame("chunk_reset")],
      attached,
    );
    expect(assistants(state)[0]?.content).toBe("");
    expect(state.running).toBe(true);
  });

  it("ignores chunk_reset when nothing streams", () => {
    expect(chatReducer(attached, frame("chunk_reset"))).toBe(attached);
  });

  it("gathers thinking and the latest operator status, dropping the status at the end", () => {
    let state = run(
      [
        { type: "send", content: "q" },
        frame("thinking", { content: "Let me " }),
        frame("thinking", { content: "think." }),
        frame("operator_status", { phase: "tool", detail: "running shell" }),
        frame("operator_status", { phase: "answer", detail: "writing" }),
      ],
      attached,
    );
    expect(assistants(state)[0]).toMatchObject({
      thinking: "Let me think.",
      status: { phase: "answer", detail: "writing" },
    });
    state = chatReducer(state, frame("done", { full_response: "ok" }));
    expect(assistants(state)[0]).toMatchObject({ thinking: "Let me think.", status: null, content: "ok" });
  });

  it("keeps streaming into the same message when notes arrive in the middle", () => {
    const state = run(
      [
        { type: "send", content: "q" },
        frame("chunk", { content: "a" }),
        frame("lagged", { missed: 3 }),
        frame("agent_event", { event: { source: "api", content: "ping" } }),
        frame("chunk", { content: "b" }),
      ],
      attached,
    );
    expect(assistants(state)).toHaveLength(1);
    expect(assistants(state)[0]?.content).toBe("ab");
    expect(state.items.map((item) => item.kind)).toEqual(["user", "assistant", "notice", "event"]);
  });

  it("starts a turn for frames of a turn another client started", () => {
    const state = chatReducer(attached, frame("chunk", { content: "pushed" }));
    expect(state.running).toBe(true);
    expect(assistants(state)[0]).toMatchObject({ content: "pushed", streaming: true });
  });

  it("shows a done that arrives without any streamed frame", () => {
    const state = run([{ type: "send", content: "q" }, frame("done", { full_response: "whole" })], attached);
    expect(assistants(state)[0]).toMatchObject({ content: "whole", streaming: false });
    expect(state.running).toBe(false);
  });
});

describe("chatReducer: tool cards", () => {
  it("matches results to calls by id", () => {
    const state = run(
      [
        { type: "send", content: "q" },
        frame("tool_call", { id: "t1", name: "shell", args: { cmd: "ls" } }),
        frame("tool_call", { id: "t2", name: "read", args: { path: "a" } }),
        frame("tool_result", { id: "t2", name: "read", output: "text", ok: true }),
        frame("tool_result", { id: "t1", name: "shell", output: "denied", ok: false }),
      ],
      attached,
    );
    expect(assistants(state)[0]?.tools).toEqual([
      { id: "t1", name: "shell", args: { cmd: "ls" }, output: "denied", ok: false },
      { id: "t2", name: "read", args: { path: "a" }, output: "text", ok: true },
    ]);
  });

  it("leaves a call without a result pending, and shows a result without a call", () => {
    const state = run(
      [
        { type: "send", content: "q" },
        frame("tool_call", { id: "t1", name: "shell", args: {} }),
        frame("tool_result", { id: "t9", name: "web", output: { status: 200 }, ok: true }),
      ],
      attached,
    );
    expect(assistants(state)[0]?.tools).toEqual([
      { id: "t1", name: "shell", args: {}, output: null, ok: null },
      { id: "t9", name: "web", args: undefined, output: '{"status":200}', ok: true },
    ]);
  });

  it("keeps a message that only used tools when the turn ends", () => {
    const state = run(
      [{ type: "send", content: "q" }, frame("tool_call", { id: "t1", name: "shell", args: {} }), frame("error", { message: "boom", code: "AGENT_ERROR" })],
      attached,
    );
    expect(assistants(state)[0]).toMatchObject({ streaming: false });
    expect(assistants(state)[0]?.tools).toHaveLength(1);
  });
});

describe("chatReducer: errors and cancel", () => {
  it("ends the turn on error and shows it, dropping an empty streamed message", () => {
    const state = run(
      [{ type: "send", content: "q" }, frame("operator_status", { phase: "p", detail: "d" }), frame("error", { message: "The model provider failed", code: "PROVIDER_ERROR" })],
      attached,
    );
    expect(state.running).toBe(false);
    expect(assistants(state)).toHaveLength(0);
    expect(state.items.at(-1)).toMatchObject({ kind: "error", message: "The model provider failed", code: "PROVIDER_ERROR" });
  });

  it("shows CANCELLED as Cancelled and keeps the text streamed so far", () => {
    const state = run(
      [
        { type: "send", content: "q" },
        frame("chunk", { content: "partial" }),
        frame("error", { message: "The turn was cancelled", code: "CANCELLED" }),
      ],
      attached,
    );
    expect(state.running).toBe(false);
    expect(assistants(state)[0]).toMatchObject({ content: "partial", streaming: false });
    expect(state.items.at(-1)).toMatchObject({ kind: "error", message: "Cancelled", code: "CANCELLED" });
  });

  it("ends a sent turn that never started (SESSION_BUSY)", () => {
    const state = run(
      [{ type: "send", content: "q" }, frame("error", { message: "queue full", code: "SESSION_BUSY" })],
      attached,
    );
    expect(state.running).toBe(false);
    expect(state.items.map((item) => item.kind)).toEqual(["user", "error"]);
  });

  it("ends a running turn when the socket closes, and does nothing when idle", () => {
    const state = run([{ type: "send", content: "q" }, frame("chunk", { content: "x" }), { type: "disconnected" }], attached);
    expect(state.running).toBe(false);
    expect(assistants(state)[0]?.streaming).toBe(false);
    expect(state.items.at(-1)).toMatchObject({ kind: "error", code: "DISCONNECTED" });
    expect(chatReducer(attached, { type: "disconnected" })).toBe(attached);
  });
});

describe("chatReducer: sessions and transcripts", () => {
  it("loads the stored transcript of a resumed session", () => {
    let state = run([
      { type: "reset", sessionId: "abc" },
      frame("session_start", { session_id: "abc", resumed: true, message_count: 4, name: "Plans" }),
    ]);
    expect(state).toMatchObject({ sessionId: "abc", name: "Plans", loaded: false });
    state = chatReducer(state, {
      type: "transcript",
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: "hello" },
        { role: "system", content: "be brief" },
        { role: "event", content: "deploy done" },
      ],
    });
    expect(state.loaded).toBe(true);
    expect(state.items.map((item) => item.kind)).toEqual(["user", "assistant", "system", "event"]);
    expect(assistants(state)[0]).toMatchObject({ content: "hello", streaming: false });
    expect(new Set(state.items.map((item) => item.key)).size).toBe(4);
  });

  it("keeps frames that arrived before the transcript after it", () => {
    const state = run([
      { type: "reset", sessionId: "abc" },
      frame("session_start", { session_id: "abc", resumed: true, message_count: 1 }),
      frame("chunk", { content: "live" }),
      { type: "transcript", messages: [{ role: "user", content: "asked elsewhere" }] },
      frame("chunk", { content: "!" }),
    ]);
    expect(state.items.map((item) => item.kind)).toEqual(["user", "assistant"]);
    expect(assistants(state)[0]).toMatchObject({ content: "live!", streaming: true });
  });

  it("replaces the old transcript after a reconnect instead of duplicating it", () => {
    let state = run(
      [
        { type: "send", content: "q" },
        frame("done", { full_response: "a" }),
        frame("session_start", { session_id: "s1", resumed: true, message_count: 2 }),
      ],
      attached,
    );
    expect(state.items).toHaveLength(2);
    state = chatReducer(state, {
      type: "transcript",
      messages: [
        { role: "user", content: "q" },
        { role: "assistant", content: "a" },
      ],
    });
    expect(state.items.map((item) => item.kind)).toEqual(["user", "assistant"]);
  });

  it("keeps what is shown when the transcript cannot be loaded", () => {
    const before = run([{ type: "reset", sessionId: "abc" }, frame("session_start", { session_id: "abc", message_count: 3 })]);
    const after = chatReducer(before, { type: "transcript", messages: null });
    expect(after.loaded).toBe(true);
    expect(after.items).toBe(before.items);
  });

  it("takes the id a new session gets from session_start", () => {
    const state = run([{ type: "reset", sessionId: null }, frame("session_start", { session_id: "new-1", message_count: 0 })]);
    expect(state.sessionId).toBe("new-1");
    expect(state.name).toBeNull();
  });

  it("starts empty on reset, keeping keys unique", () => {
    const busy = run([{ type: "send", content: "q" }, frame("chunk", { content: "x" })], attached);
    const state = chatReducer(busy, { type: "reset", sessionId: "other" });
    expect(state).toMatchObject({ sessionId: "other", items: [], running: false, stream: null, loaded: false });
    expect(state.seq).toBe(busy.seq);
  });

  it("appends messages pushed through the API", () => {
    const state = run(
      [frame("message", { role: "assistant", content: "from the API" }), frame("message", { role: "system", content: "note" })],
      attached,
    );
    expect(state.items).toMatchObject([
      { kind: "assistant", content: "from the API", streaming: false },
      { kind: "system", content: "note" },
    ]);
    expect(state.running).toBe(false);
  });
});

describe("chatReducer: other frames", () => {
  it("ignores unknown frames and connected", () => {
    expect(chatReducer(attached, frame("mystery", { x: 1 }))).toBe(attached);
    expect(chatReducer(attached, frame("connected", { message: "Connection established" }))).toBe(attached);
  });

  it("turns lagged into a notice with the count", () => {
    const state = chatReducer(attached, frame("lagged", { missed: 1 }));
    expect(state.items[0]).toMatchObject({ kind: "notice" });
    expect((state.items[0] as { text: string }).text).toMatch(/^1 streamed update was dropped/);
  });
});

describe("helpers", () => {
  it("describes agent events", () => {
    expect(describeAgentEvent({ source: "api", content: "hello" })).toBe("api: hello");
    expect(describeAgentEvent({ channel: "telegram", content: "msg" })).toBe("telegram: msg");
    expect(describeAgentEvent({ kind: "x" })).toBe('{"kind":"x"}');
    expect(describeAgentEvent("plain")).toBe("plain");
  });

  it("makes fresh, valid session ids", () => {
    const id = newSessionId();
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(validSessionId(id)).toBe(true);
    expect(newSessionId()).not.toBe(id);
  });

  it("validates session ids like the gateway", () => {
    expect(validSessionId("abc-DEF_123")).toBe(true);
    expect(validSessionId("")).toBe(false);
    expect(validSessionId("a/b")).toBe(false);
    expect(validSessionId("x".repeat(129))).toBe(false);
    expect(validSessionId(null)).toBe(false);
  });

  it("validates names like the gateway", () => {
    expect(nameProblem("  Plans ")).toBeNull();
    expect(nameProblem("   ")).toBe("Enter a name.");
    expect(nameProblem("x".repeat(201))).toMatch(/at most 200/);
    expect(nameProblem("x".repeat(200))).toBeNull();
    expect(nameProblem("a\tb")).toMatch(/control/);
  });

  it("recognises auth close codes", () => {
    expect(isAuthClose(1008)).toBe(true);
    expect(isAuthClose(4001)).toBe(true);
    expect(isAuthClose(1000)).toBe(false);
    expect(isAuthClose(1006)).toBe(false);
  });
});

describe("sessions and messages", () => {
  it("sorts sessions by last activity, newest first", () => {
    const session = (id: string, last_activity: string) => ({
      id,
      channel: "gateway",
      started_at: "2026-01-01T00:00:00Z",
      last_activity,
      status: "idle" as const,
      message_count: 0,
      state: "idle",
    });
    const sorted = sortSessions([
      session("old", "2026-01-01T10:00:00Z"),
      session("new", "2026-01-03T10:00:00Z"),
      session("mid", "2026-01-02T10:00:00.5Z"),
    ]);
    expect(sorted.map((s) => s.id)).toEqual(["new", "mid", "old"]);
  });

  it("refuses empty and oversized messages", () => {
    expect(messageProblem(" \n ")).toBe("Type a message.");
    expect(messageProblem("hi")).toBeNull();
    expect(messageProblem("x".repeat(MAX_MESSAGE_BYTES))).toMatch(/too long/);
  });

  it("records a rename", () => {
    expect(chatReducer(attached, { type: "renamed", name: "Plans" }).name).toBe("Plans");
  });
});
