import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { backoff, closeSocket, followStream, retryUnlessSignedOut } from "./reconnect";

describe("backoff", () => {
  it("doubles from one second and stops at thirty", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 20].map(backoff)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });
});

function answer(status: number): Response {
  return new Response(JSON.stringify(status === 200 ? { authenticated: true, principal: "p", scopes: [] } : {}), {
    status,
  });
}

/** A stand-in EventSource that records what was opened and lets a test play the server. */
class FakeSource extends EventTarget {
  static CLOSED = 2;
  static opened: FakeSource[] = [];
  readyState = 0;
  onopen: (() => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  constructor(readonly url: string) {
    super();
    FakeSource.opened.push(this);
  }
  close() {
    this.readyState = FakeSource.CLOSED;
  }
  message(type: string, data: string, lastEventId: string) {
    this.dispatchEvent(new MessageEvent(type, { data, lastEventId }));
  }
  fail() {
    this.readyState = FakeSource.CLOSED;
    const event = new Event("error");
    this.onerror?.(event);
    this.dispatchEvent(event);
  }
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("followStream", () => {
  beforeEach(() => {
    FakeSource.opened = [];
    vi.stubGlobal("EventSource", FakeSource);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("hands named messages on, and after a failure resumes after the last id it saw", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => answer(200)));
    const seen: string[] = [];
    const stop = followStream({
      path: "/api/events",
      types: ["agent_start", "error"],
      firstResume: "0",
      onMessage: (message, type) => seen.push(`${type}:${message.data}`),
      onState: () => undefined,
      onSignedOut: () => seen.push("signed out"),
    });
    const first = FakeSource.opened[0];
    expect(first?.url).toBe("/api/events?last_event_id=0");
    first?.message("agent_start", "{}", "12");
    first?.message("error", '{"type":"error"}', "13");
    vi.useFakeTimers();
    // The connection failure also reaches the "error" listener: it is no message and moves no id.
    first?.fail();
    await vi.advanceTimersByTimeAsync(1000);
    expect(seen).toEqual(['agent_start:{}', 'error:{"type":"error"}']);
    expect(FakeSource.opened[1]?.url).toBe("/api/events?last_event_id=13");
    stop();
    expect(FakeSource.opened[1]?.readyState).toBe(FakeSource.CLOSED);
  });

  it("stops, without reconnecting, once the session is gone", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => answer(401)));
    const onSignedOut = vi.fn();
    followStream({
      path: "/api/daemon/logs",
      types: ["log"],
      firstResume: null,
      onMessage: () => undefined,
      onState: () => undefined,
      onSignedOut,
    });
    expect(FakeSource.opened[0]?.url).toBe("/api/daemon/logs");
    FakeSource.opened[0]?.fail();
    await flush();
    await flush();
    expect(onSignedOut).toHaveBeenCalledTimes(1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(FakeSource.opened).toHaveLength(1);
  });
});

describe("retryUnlessSignedOut", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("retries while signed in, signs out when the gateway says 401, and does nothing once stopped", async () => {
    const calls: string[] = [];
    vi.stubGlobal("fetch", vi.fn(async () => answer(200)));
    retryUnlessSignedOut(() => false, () => calls.push("out"), () => calls.push("retry"));
    await flush();
    vi.stubGlobal("fetch", vi.fn(async () => answer(401)));
    retryUnlessSignedOut(() => false, () => calls.push("out"), () => calls.push("retry"));
    await flush();
    retryUnlessSignedOut(() => true, () => calls.push("out"), () => calls.push("retry"));
    await flush();
    expect(calls).toEqual(["retry", "out"]);
  });
});

describe("closeSocket", () => {
  it("closes an open socket at once and a connecting one once it opens, with its handlers detached", () => {
    const make = (readyState: number) => {
      const socket = { readyState, close: vi.fn(), onopen: null, onmessage: () => undefined, onclose: () => undefined, onerror: null };
      return socket as unknown as WebSocket & { close: ReturnType<typeof vi.fn> };
    };
    const open = make(WebSocket.OPEN);
    closeSocket(open);
    expect(open.close).toHaveBeenCalledWith(1000);
    expect(open.onmessage).toBeNull();
    expect(open.onclose).toBeNull();
    const connecting = make(WebSocket.CONNECTING);
    closeSocket(connecting);
    expect(connecting.close).not.toHaveBeenCalled();
    connecting.onopen?.(new Event("open"));
    expect(connecting.close).toHaveBeenCalledWith(1000);
    closeSocket(null);
  });
});
