// The chat socket's conversation as a pure reducer: the view feeds it server frames (`GET /ws/chat`) and
// its own actions (sending, resuming, losing the connection) and renders the items it returns.
import { jsonObject } from "./json";

/** sessionStorage key of the session a reload resumes. */
export const SESSION_KEY = "construct_session_id";

/** The WebSocket subprotocol of the chat socket. */
export const CHAT_PROTOCOL = "construct.v1";

/** Longest session name the gateway accepts. */
export const MAX_NAME_LENGTH = 200;

const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** A session id the gateway accepts (anything else is 400 INVALID_SESSION_ID). */
export function validSessionId(id: string | null | undefined): id is string {
  return typeof id === "string" && SESSION_ID.test(id);
}

/**
 * A fresh session id (32 hex digits). Made here rather than by the gateway so the id is known, and kept for
 * a reload, before the socket opens; getRandomValues works outside secure contexts too.
 */
export function newSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The gateway closes a socket on a message over 1 MiB (1009); the frame's JSON adds a little. */
export const MAX_MESSAGE_BYTES = 1024 * 1024 - 1024;

/** Why a chat message cannot be sent (null when it can). */
export function messageProblem(content: string): string | null {
  if (content.trim().length === 0) {
    return "Type a message.";
  }
  if (new TextEncoder().encode(JSON.stringify(content)).length > MAX_MESSAGE_BYTES) {
    return "The message is too long to send (the limit is 1 MiB).";
  }
  return null;
}

/** One entry of `GET /api/sessions`. */
export interface SessionSummary {
  id: string;
  channel: string;
  started_at: string;
  last_activity: string;
  status: "active" | "idle";
  message_count: number;
  state: string;
  name?: string;
}

/** Sessions with the most recent activity first. */
export function sortSessions(sessions: readonly SessionSummary[]): SessionSummary[] {
  const time = (session: SessionSummary) => Date.parse(session.last_activity) || 0;
  return [...sessions].sort((a, b) => time(b) - time(a) || a.id.localeCompare(b.id));
}

/** Why a session name would be refused (null when it is fine); mirrors the gateway's INVALID_NAME rule. */
export function nameProblem(raw: string): string | null {
  const name = raw.trim();
  if (name.length === 0) {
    return "Enter a name.";
  }
  if ([...name].length > MAX_NAME_LENGTH) {
    return `A name is at most ${MAX_NAME_LENGTH} characters.`;
  }
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) {
    return "A name cannot contain control characters.";
  }
  return null;
}

export interface ToolCard {
  id: string;
  name: string;
  args: unknown;
  /** null until the result arrives. */
  output: string | null;
  ok: boolean | null;
}

export interface OperatorStatus {
  phase: string;
  detail: string;
}

export type ChatItem =
  | { kind: "user"; key: number; content: string }
  | {
      kind: "assistant";
      key: number;
      content: string;
      thinking: string;
      tools: ToolCard[];
      status: OperatorStatus | null;
      /** True while this turn's frames are still arriving. */
      streaming: boolean;
    }
  | { kind: "system"; key: number; content: string }
  | { kind: "event"; key: number; text: string }
  | { kind: "notice"; key: number; text: string }
  | { kind: "error"; key: number; message: string; code: string };

export type AssistantItem = Extract<ChatItem, { kind: "assistant" }>;

/** An item before it gets its key. */
type NewItem = ChatItem extends infer Item ? (Item extends ChatItem ? Omit<Item, "key"> : never) : never;

export interface ChatState {
  /** The session the socket is attached to (null until `session_start` for a new chat). */
  sessionId: string | null;
  name: string | null;
  items: ChatItem[];
  /** A turn is running (sent, or its frames are arriving). */
  running: boolean;
  /** The key of the assistant item the running turn streams into. */
  stream: number | null;
  /** The transcript of the attached session has been loaded (sending waits for it). */
  loaded: boolean;
  /** Items before this index are the stored transcript, replaced when it is (re)loaded. */
  liveFrom: number;
  /** The next item key. */
  seq: number;
}

export interface StoredMessage {
  role: string;
  content: string;
}

/** A server frame: a JSON object with a string `type`. */
export type ChatFrame = { type: string } & Record<string, unknown>;

export type ChatAction =
  /** Attach to another session (null: a new one); the conversation starts empty. */
  | { type: "reset"; sessionId: string | null }
  | { type: "frame"; frame: ChatFrame }
  /** The user sent a message: it is shown and a turn starts. */
  | { type: "send"; content: string }
  /** The stored messages of the session (null: they could not be loaded; keep what is shown). */
  | { type: "transcript"; messages: readonly StoredMessage[] | null }
  /** The socket closed; a running turn is over for this client. */
  | { type: "disconnected" }
  /** The attached session was renamed. */
  | { type: "renamed"; name: string };

export const initialChat: ChatState = {
  sessionId: null,
  name: null,
  items: [],
  running: false,
  stream: null,
  loaded: false,
  liveFrom: 0,
  seq: 0,
};

/** Parses one socket message; null for anything but a JSON object with a string `type`. */
export function parseFrame(data: unknown): ChatFrame | null {
  const record = jsonObject(data);
  return record !== null && typeof record.type === "string" ? (record as ChatFrame) : null;
}

function text(value: unknown): string {
  if (typeof value === "string") {
    return value;
  }
  if (value === undefined || value === null) {
    return "";
  }
  return JSON.stringify(value);
}

/** One line for an `agent_event` (a channel event from the bus, or an `event` pushed through the API). */
export function describeAgentEvent(event: unknown): string {
  if (event !== null && typeof event === "object" && !Array.isArray(event)) {
    const record = event as Record<string, unknown>;
    const source = typeof record.source === "string" ? record.source : typeof record.channel === "string" ? record.channel : null;
    const body = typeof record.content === "string" ? record.content : JSON.stringify(record);
    return source === null ? body : `${source}: ${body}`;
  }
  return text(event);
}

function storedItem(message: StoredMessage, key: number): ChatItem {
  switch (message.role) {
    case "user":
      return { kind: "user", key, content: message.content };
    case "assistant":
      return assistant(key, message.content, false);
    case "event":
      return { kind: "event", key, text: message.content };
    default:
      return { kind: "system", key, content: message.content };
  }
}

function assistant(key: number, content: string, streaming: boolean): AssistantItem {
  return { kind: "assistant", key, content, thinking: "", tools: [], status: null, streaming };
}

function append(state: ChatState, item: NewItem | ((key: number) => ChatItem)): ChatState {
  const made = typeof item === "function" ? item(state.seq) : ({ ...item, key: state.seq } as ChatItem);
  return { ...state, items: [...state.items, made], seq: state.seq + 1 };
}

/** The index of the assistant item being streamed, or -1. */
function streamingIndex(state: ChatState): number {
  return state.stream === null ? -1 : state.items.findIndex((item) => item.key === state.stream);
}

/** Applies `change` to the streamed assistant item, starting one (and the turn) when there is none. */
function updateStream(state: ChatState, change: (item: AssistantItem) => AssistantItem): ChatState {
  let next = state;
  let index = streamingIndex(next);
  if (index === -1) {
    next = { ...append(next, (key) => assistant(key, "", true)), stream: next.seq };
    index = next.items.length - 1;
  }
  const items = next.items.slice();
  items[index] = change(items[index] as AssistantItem);
  return { ...next, items, running: true };
}

/** Ends the running turn: the streamed item stops streaming (and goes if nothing arrived in it). */
function endTurn(state: ChatState): ChatState {
  const index = streamingIndex(state);
  if (index === -1) {
    return { ...state, running: false, stream: null };
  }
  const item = state.items[index] as AssistantItem;
  const empty = item.content === "" && item.thinking === "" && item.tools.length === 0;
  const items = empty
    ? state.items.slice(0, index)
    : state.items.map((existing, at) => (at === index ? { ...item, streaming: false, status: null } : existing));
  return { ...state, items, running: false, stream: null };
}

function onFrame(state: ChatState, frame: ChatFrame): ChatState {
  switch (frame.type) {
    case "session_start":
      return {
        ...state,
        sessionId: typeof frame.session_id === "string" ? frame.session_id : state.sessionId,
        name: typeof frame.name === "string" ? frame.name : null,
        loaded: false,
        liveFrom: state.items.length,
      };
    case "chunk":
      return updateStream(state, (item) => ({ ...item, content: item.content + text(frame.content) }));
    case "thinking":
      return updateStream(state, (item) => ({ ...item, thinking: item.thinking + text(frame.content) }));
    case "tool_call": {
      const card: ToolCard = { id: text(frame.id), name: text(frame.name), args: frame.args, output: null, ok: null };
      return updateStream(state, (item) => ({ ...item, tools: [...item.tools, card] }));
    }
    case "tool_result": {
      const id = text(frame.id);
      const output = text(frame.output);
      const ok = frame.ok === true;
      return updateStream(state, (item) => {
        const known = item.tools.some((card) => card.id === id);
        const tools = known
          ? item.tools.map((card) => (card.id === id ? { ...card, output, ok } : card))
          : [...item.tools, { id, name: text(frame.name), args: undefined, output, ok }];
        return { ...item, tools };
      });
    }
    case "operator_status":
      return updateStream(state, (item) => ({
        ...item,
        status: { phase: text(frame.phase), detail: text(frame.detail) },
      }));
    case "chunk_reset":
      return streamingIndex(state) === -1
        ? state
        : updateStream(state, (item) => ({ ...item, content: "" }));
    case "done": {
      const full = text(frame.full_response);
      return endTurn(updateStream(state, (item) => ({ ...item, content: full })));
    }
    case "error": {
      const code = text(frame.code);
      const message = code === "CANCELLED" ? "Cancelled" : text(frame.message) || "The turn failed";
      return append(endTurn(state), { kind: "error", message, code });
    }
    case "message": {
      const content = text(frame.content);
      return append(state, (key) =>
        frame.role === "assistant" ? assistant(key, content, false) : { kind: "system", key, content },
      );
    }
    case "agent_event":
      return append(state, { kind: "event", text: describeAgentEvent(frame.event) });
    case "lagged": {
      const missed = typeof frame.missed === "number" ? frame.missed : 0;
      return append(state, {
        kind: "notice",
        text: `${missed} streamed ${missed === 1 ? "update was" : "updates were"} dropped because the connection was too slow.`,
      });
    }
    default:
      return state;
  }
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case "reset":
      return { ...initialChat, sessionId: action.sessionId, seq: state.seq };
    case "frame":
      return onFrame(state, action.frame);
    case "send":
      return { ...append(state, { kind: "user", content: action.content }), running: true };
    case "transcript": {
      if (action.messages === null) {
        return { ...state, loaded: true };
      }
      let seq = state.seq;
      const history = action.messages.map((message) => storedItem(message, seq++));
      const live = state.items.slice(state.liveFrom);
      return { ...state, items: [...history, ...live], liveFrom: history.length, loaded: true, seq };
    }
    case "disconnected":
      return state.running
        ? append(endTurn(state), {
            kind: "error",
            message: "The connection closed during the turn.",
            code: "DISCONNECTED",
          })
        : state;
    case "renamed":
      return { ...state, name: action.name };
  }
}

/** The reconnect state shown beside the conversation. */
export type ChatConnection =
  | { state: "connecting" }
  | { state: "open" }
  /** The next attempt comes after `delay` milliseconds. */
  | { state: "reconnecting"; delay: number }
  | { state: "signed-out" };

/** Close codes that mean the gateway refused the socket's credentials. */
export function isAuthClose(code: number): boolean {
  return code === 1008 || (code >= 4000 && code <= 4099);
}
