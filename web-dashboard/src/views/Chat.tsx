import { useCallback, useEffect, useReducer, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { api, errorMessage, query, segment, wsUrl } from "../api";
import {
  CHAT_PROTOCOL,
  chatReducer,
  initialChat,
  isAuthClose,
  messageProblem,
  nameProblem,
  newSessionId,
  parseFrame,
  SESSION_KEY,
  sortSessions,
  validSessionId,
  type AssistantItem,
  type ChatConnection,
  type ChatItem,
  type SessionSummary,
  type StoredMessage,
  type ToolCard,
} from "../lib/chat";
import { backoff, closeSocket, retryUnlessSignedOut } from "../lib/reconnect";
import { useSession } from "../session";
import { ErrorNote, formatTime, Page, Pager, useAction, useClientPage, useResource } from "../ui";
import "./Chat.css";

const SESSIONS_PER_PAGE = 20;

/** The session this tab was attached to, or a new one (remembered at once, so a reload resumes it). */
function chosenSession(id: string | null): string {
  const stored = window.sessionStorage.getItem(SESSION_KEY);
  const chosen = id ?? (validSessionId(stored) ? stored : newSessionId());
  window.sessionStorage.setItem(SESSION_KEY, chosen);
  return chosen;
}

function ConnectionBadge({ connection }: { connection: ChatConnection }) {
  const [tone, label] =
    connection.state === "open"
      ? ["ok", "connected"]
      : connection.state === "connecting"
        ? ["warn", "connecting…"]
        : connection.state === "reconnecting"
          ? ["warn", `reconnecting in ${Math.round(connection.delay / 1000)} s`]
          : ["bad", "signed out"];
  return (
    <span className={`badge chat-connection ${tone}`} role="status" aria-label={`Chat connection: ${label}`}>
      {label}
    </span>
  );
}

function ToolCardView({ card }: { card: ToolCard }) {
  const [tone, label] = card.ok === null ? ["warn", "running"] : card.ok ? ["ok", "ok"] : ["bad", "failed"];
  return (
    <details className="tool-card">
      <summary>
        Tool <code>{card.name}</code> <span className={`badge ${tone}`}>{label}</span>
      </summary>
      {card.args !== undefined && (
        <>
          <h4>Arguments</h4>
          <pre>{JSON.stringify(card.args, null, 2)}</pre>
        </>
      )}
      {card.output !== null && (
        <>
          <h4>Output</h4>
          <pre>{card.output}</pre>
        </>
      )}
    </details>
  );
}

function AssistantView({ item }: { item: AssistantItem }) {
  return (
    <div className="message assistant" aria-busy={item.streaming}>
      <span className="message-role">Assistant</span>
      {item.thinking !== "" && (
        <details className="thinking">
          <summary>Thinking</summary>
          <p className="message-text">{item.thinking}</p>
        </details>
      )}
      {item.tools.map((card) => (
        <ToolCardView key={card.id} card={card} />
      ))}
      {item.content !== "" && <p className="message-text">{item.content}</p>}
      {item.streaming && (
        <p className="hint">
          {item.status === null ? "Answering…" : `${item.status.phase}${item.status.detail === "" ? "" : `: ${item.status.detail}`}`}
        </p>
      )}
    </div>
  );
}

function ItemView({ item }: { item: ChatItem }) {
  switch (item.kind) {
    case "user":
      return (
        <div className="message user">
          <span className="message-role">You</span>
          <p className="message-text">{item.content}</p>
        </div>
      );
    case "assistant":
      return <AssistantView item={item} />;
    case "system":
      return (
        <div className="message system">
          <span className="message-role">System</span>
          <p className="message-text">{item.content}</p>
        </div>
      );
    case "event":
      return <p className="chat-note">Event: {item.text}</p>;
    case "notice":
      return <p className="chat-note warn">{item.text}</p>;
    case "error":
      return (
        <p className="chat-note error">
          {item.code === "CANCELLED" ? item.message : `${item.message} (${item.code})`}
        </p>
      );
  }
}

/** Renames the attached session: a validated name, the gateway's error when it refuses. */
function RenameForm({ id, current, onDone }: { id: string; current: string; onDone: (name: string | null) => void }) {
  const [name, setName] = useState(current);
  const [problem, setProblem] = useState<string | null>(null);
  const action = useAction();

  async function submit(event: FormEvent) {
    event.preventDefault();
    const invalid = nameProblem(name);
    setProblem(invalid);
    if (invalid !== null) {
      return;
    }
    const saved = await action.run(() =>
      api<{ name: string }>(`/api/sessions/${segment(id)}`, { method: "PUT", body: { name: name.trim() } }),
    );
    if (saved !== undefined) {
      onDone(saved.name);
    }
  }

  return (
    <form className="row rename" onSubmit={(event) => void submit(event)}>
      <label>
        Session name
        <input value={name} onChange={(event) => setName(event.target.value)} autoFocus />
      </label>
      <button type="submit" disabled={action.busy}>
        Save name
      </button>
      <button type="button" className="secondary" onClick={() => onDone(null)}>
        Discard
      </button>
      <ErrorNote error={problem ?? action.error} />
    </form>
  );
}

/**
 * The chat: a session list beside the conversation. The socket attaches to the chosen session (its id kept
 * in sessionStorage so a reload resumes it), its frames go through `chatReducer`, and it reconnects with
 * backoff until the gateway says the browser is signed out.
 */
export function ChatView() {
  const { signedOut } = useSession();
  const [chat, dispatch] = useReducer(chatReducer, initialChat);
  const [target, setTarget] = useState(() => chosenSession(null));
  const [connection, setConnection] = useState<ChatConnection>({ state: "connecting" });
  const [transcriptError, setTranscriptError] = useState<string | null>(null);
  const [draft, setDraft] = useState("");
  const [sendError, setSendError] = useState<string | null>(null);
  const [renaming, setRenaming] = useState(false);
  const socket = useRef<WebSocket | null>(null);
  const logRef = useRef<HTMLDivElement | null>(null);
  const stickToBottom = useRef(true);
  const sessions = useResource(() => api<{ sessions: SessionSummary[] }>("/api/sessions"), []);
  const reloadSessions = sessions.reload;
  const remove = useAction();

  useEffect(() => {
    dispatch({ type: "reset", sessionId: target });
    setTranscriptError(null);
    setRenaming(false);
    setConnection({ state: "connecting" });
    const sessionId = target;
    let current: WebSocket | null = null;
    let attempt = 0;
    let timer: number | undefined;
    let stopped = false;

    const loadTranscript = (id: string) => {
      api<{ messages: StoredMessage[] }>(`/api/sessions/${segment(id)}/messages`)
        .then((body) => {
          if (!stopped) {
            setTranscriptError(null);
            dispatch({ type: "transcript", messages: body.messages });
          }
        })
        .catch((caught: unknown) => {
          if (!stopped) {
            setTranscriptError(`The transcript could not be loaded: ${errorMessage(caught)}`);
            dispatch({ type: "transcript", messages: null });
          }
        });
    };

    const connect = () => {
      const ws = new WebSocket(wsUrl(`/ws/chat${query({ session_id: sessionId })}`), CHAT_PROTOCOL);
      current = ws;
      socket.current = ws;
      let opened = false;
      ws.onopen = () => {
        opened = true;
        attempt = 0;
        setConnection({ state: "open" });
      };
      ws.onmessage = (message) => {
        const frame = parseFrame(message.data);
        if (frame === null) {
          return;
        }
        dispatch({ type: "frame", frame });
        if (frame.type === "session_start" && typeof frame.session_id === "string") {
          reloadSessions();
          if (typeof frame.message_count === "number" && frame.message_count > 0) {
            loadTranscript(frame.session_id);
          } else {
            dispatch({ type: "transcript", messages: [] });
          }
        } else if (frame.type === "done" || frame.type === "error") {
          reloadSessions();
        }
      };
      ws.onclose = (event) => {
        if (socket.current === ws) {
          socket.current = null;
        }
        if (stopped) {
          return;
        }
        dispatch({ type: "disconnected" });
        const retry = () => {
          const delay = backoff(attempt++);
          setConnection({ state: "reconnecting", delay });
          timer = window.setTimeout(connect, delay);
        };
        // A refused upgrade (401) reaches the browser as a close before open: ask the gateway why.
        if (!opened || isAuthClose(event.code)) {
          retryUnlessSignedOut(
            () => stopped,
            () => {
              setConnection({ state: "signed-out" });
              signedOut();
            },
            retry,
          );
        } else {
          retry();
        }
      };
    };

    connect();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      closeSocket(current);
      socket.current = null;
    };
  }, [target, signedOut, reloadSessions]);

  useEffect(() => {
    const log = logRef.current;
    if (log !== null && stickToBottom.current) {
      log.scrollTop = log.scrollHeight;
    }
  }, [chat.items]);

  const canSend = connection.state === "open" && chat.loaded && !chat.running;

  function send() {
    const problem = messageProblem(draft);
    setSendError(problem);
    if (problem !== null || !canSend || socket.current === null) {
      return;
    }
    socket.current.send(JSON.stringify({ type: "message", content: draft }));
    dispatch({ type: "send", content: draft });
    setDraft("");
    stickToBottom.current = true;
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    }
  }

  function cancel() {
    socket.current?.send(JSON.stringify({ type: "cancel" }));
  }

  /** Attaches to session `id`, or to a new one. */
  const open = useCallback((id: string | null) => {
    window.sessionStorage.removeItem(SESSION_KEY);
    setTarget(chosenSession(id));
  }, []);

  async function deleteSession(id: string, label: string) {
    if (!window.confirm(`Delete the chat "${label}" and its messages? This cannot be undone.`)) {
      return;
    }
    const deleted = await remove.run(() => api(`/api/sessions/${segment(id)}`, { method: "DELETE" }));
    if (deleted !== undefined) {
      if (id === chat.sessionId) {
        open(null);
      }
      reloadSessions();
    }
  }

  const list = sortSessions(sessions.data?.sessions ?? []);
  const { page, setPage, shown } = useClientPage(list, SESSIONS_PER_PAGE);
  const title = chat.name ?? "Untitled chat";

  return (
    <Page
      title="Chat"
      actions={
        <>
          <ConnectionBadge connection={connection} />
          <button type="button" onClick={() => open(null)}>
            New chat
          </button>
        </>
      }
    >
      <div className="chat">
        <section className="chat-sessions" aria-labelledby="chat-sessions-heading">
          <h2 id="chat-sessions-heading">Sessions</h2>
          <ErrorNote error={sessions.error} />
          {sessions.data !== null && list.length === 0 && <p className="hint">No chats yet.</p>}
          <ul className="session-list">
            {shown.map((session) => (
              <li key={session.id}>
                <button
                  type="button"
                  className="secondary session-item"
                  aria-current={session.id === chat.sessionId ? "true" : undefined}
                  onClick={() => session.id !== chat.sessionId && open(session.id)}
                >
                  <span className="session-name">{session.name ?? session.id}</span>
                  <span className="session-meta">
                    {session.message_count} {session.message_count === 1 ? "message" : "messages"} ·{" "}
                    <time dateTime={session.last_activity}>{formatTime(session.last_activity)}</time>{" "}
                    <span className={`badge ${session.status === "active" ? "ok" : ""}`}>
                      {session.state === "running" ? "running" : session.status}
                    </span>
                  </span>
                </button>
              </li>
            ))}
          </ul>
          <Pager page={page} perPage={SESSIONS_PER_PAGE} total={list.length} onPage={setPage} />
        </section>

        <section className="chat-main" aria-labelledby="chat-title">
          <div className="row chat-head">
            <h2 id="chat-title">{title}</h2>
            {chat.sessionId !== null && chat.loaded && !renaming && (
              <>
                <button type="button" className="secondary" onClick={() => setRenaming(true)}>
                  Rename
                </button>
                <button
                  type="button"
                  className="danger"
                  disabled={remove.busy}
                  onClick={() => chat.sessionId !== null && void deleteSession(chat.sessionId, chat.name ?? chat.sessionId)}
                >
                  Delete
                </button>
              </>
            )}
          </div>
          {renaming && chat.sessionId !== null && (
            <RenameForm
              id={chat.sessionId}
              current={chat.name ?? ""}
              onDone={(name) => {
                setRenaming(false);
                if (name !== null) {
                  dispatch({ type: "renamed", name });
                  reloadSessions();
                }
              }}
            />
          )}
          <ErrorNote error={remove.error} />
          <ErrorNote error={transcriptError} />
          <div
            className="chat-log"
            role="log"
            aria-label="Conversation"
            tabIndex={0}
            ref={logRef}
            onScroll={(event) => {
              const log = event.currentTarget;
              stickToBottom.current = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
            }}
          >
            {chat.items.length === 0 && (
              <p className="hint">{chat.loaded ? "Say something to start." : "Loading the conversation…"}</p>
            )}
            {chat.items.map((item) => (
              <ItemView key={item.key} item={item} />
            ))}
          </div>
          <form
            className="composer"
            onSubmit={(event) => {
              event.preventDefault();
              send();
            }}
          >
            <label>
              Message
              <textarea
                value={draft}
                rows={3}
                onChange={(event) => {
                  setDraft(event.target.value);
                  setSendError(null);
                }}
                onKeyDown={onKeyDown}
              />
            </label>
            <ErrorNote error={sendError} />
            <div className="row">
              <button type="submit" disabled={!canSend || draft.trim() === ""}>
                Send
              </button>
              {chat.running && (
                <button type="button" className="secondary" onClick={cancel} disabled={connection.state !== "open"}>
                  Cancel
                </button>
              )}
              <span className="hint">Enter sends; Shift+Enter starts a new line.</span>
            </div>
          </form>
        </section>
      </div>
    </Page>
  );
}
