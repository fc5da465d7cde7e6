// Reconnecting live connections (event streams and sockets) the same way everywhere: backoff between
// attempts, and no retrying once the gateway says the browser's session is gone.
import { basePath, query } from "../api";
import { sessionGone } from "./liveauth";

/** The delay before reconnect attempt `attempt` (0-based): 1 s doubling to 30 s. */
export function backoff(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
}

/**
 * After a failed connection: asks the gateway whether the session is gone (a refused upgrade or stream
 * cannot show its status), then calls `signedOut` or `retry`, unless `stopped()` by then.
 */
export function retryUnlessSignedOut(stopped: () => boolean, signedOut: () => void, retry: () => void): void {
  void sessionGone().then((gone) => {
    if (stopped()) {
      return;
    }
    if (gone) {
      signedOut();
    } else {
      retry();
    }
  });
}

/**
 * Closes a socket for good, with its handlers detached; one still connecting is closed once open (closing it
 * before makes the browser log an error).
 */
export function closeSocket(socket: WebSocket | null): void {
  if (socket === null) {
    return;
  }
  socket.onmessage = null;
  socket.onclose = null;
  socket.onerror = null;
  if (socket.readyState === WebSocket.CONNECTING) {
    socket.onopen = () => socket.close(1000);
  } else {
    socket.onopen = null;
    socket.close(1000);
  }
}

export interface StreamOptions {
  /** The route, e.g. "/api/events". */
  path: string;
  /** The event names to listen for (EventSource delivers named events only to named listeners). */
  types: readonly string[];
  /** The `last_event_id` of the first connection; null for none. Later ones resume after the last id seen. */
  firstResume: string | null;
  onMessage: (message: MessageEvent<string>, type: string) => void;
  onState: (state: "open" | "reconnecting") => void;
  /** The session is gone; the stream has stopped. */
  onSignedOut: () => void;
}

/**
 * Follows a Server-Sent Events route: the browser reconnects by itself (resending `Last-Event-ID`) after a
 * dropped connection; after an error answer, which closes the stream for good, this reconnects with backoff
 * and `?last_event_id=` so the gateway replays what was missed. Returns the function that stops it.
 */
export function followStream(options: StreamOptions): () => void {
  const { path, types, firstResume, onMessage, onState, onSignedOut } = options;
  let source: EventSource | null = null;
  let lastId: string | null = null;
  let attempt = 0;
  let timer: number | undefined;
  let stopped = false;

  const deliver = (message: Event, type: string) => {
    // Connection failures reach an "error" listener too, as plain Events without data or id.
    if (!(message instanceof MessageEvent)) {
      return;
    }
    if (message.lastEventId !== "") {
      lastId = message.lastEventId;
    }
    onMessage(message as MessageEvent<string>, type);
  };

  const open = () => {
    const resume = lastId ?? firstResume;
    const current = new EventSource(`${basePath()}${path}${query({ last_event_id: resume })}`, {
      withCredentials: true,
    });
    source = current;
    current.onopen = () => {
      attempt = 0;
      onState("open");
    };
    current.onerror = (event) => {
      // The gateway's own `error` events are MessageEvents, which EventSource also hands to `onerror`.
      if (event instanceof MessageEvent || stopped) {
        return;
      }
      onState("reconnecting");
      if (current.readyState === EventSource.CLOSED) {
        current.close();
        retryUnlessSignedOut(
          () => stopped,
          () => {
            stopped = true;
            onSignedOut();
          },
          () => {
            timer = window.setTimeout(open, backoff(attempt++));
          },
        );
      }
    };
    for (const type of types) {
      current.addEventListener(type, (message) => deliver(message, type));
    }
  };

  open();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
    source?.close();
  };
}
