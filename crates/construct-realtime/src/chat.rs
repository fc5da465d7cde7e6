//! `WS /ws/chat`: chat with the agent, a session at a time.
//!
//! `GET /ws/chat?session_id=&name=` (chat scope, Origin-checked, `construct.v1`). The first frame is
//! `session_start {session_id, resumed, message_count, name?}`; a reconnect with the same `session_id`
//! resumes the stored conversation. Client frames: `message {content}` starts a turn, `cancel` stops the
//! running one (it ends with `error` code `CANCELLED`), `connect` is answered with `connected`. A turn
//! streams `thinking`, `chunk`, `tool_call`, `tool_result`, `operator_status`, then `chunk_reset` and `done
//! {full_response}` or `error {message, code}`. `channel_event`s on the bus arrive as `agent_event`.
//!
//! Turns of one session run one at a time through the session queue, whichever socket sent them, and all
//! sockets of a session share its stored history. A socket keeps reading while its turn runs, so `cancel`
//! works; when it disconnects its turn is cancelled unless another socket is attached to the session.
//! Errors: `INVALID_JSON`, `UNKNOWN_MESSAGE_TYPE`, `EMPTY_CONTENT`, `SESSION_BUSY`, and for failed turns
//! `AUTH_ERROR`, `PROVIDER_ERROR`, `AGENT_ERROR`, `CANCELLED` (provider details stay in the log).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response;
use construct_agent::{AgentError, Message, TurnEvent, TurnRequest};
use construct_auth::Client;
use construct_core::ApiError;
use construct_core::events::Delivery;
use construct_core::extract::Query;
use construct_core::history::HistoryMessage;
use construct_core::sessions::{TurnState, chat_key};
use futures_util::StreamExt;
use http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::RealtimeState;
use crate::session_queue::{Busy, MAX_DEPTH};
use crate::sessions_api::{checked_key, checked_name};
use crate::ws::{Frame, Outbox, PROTOCOL};

/// Messages of history sent with each turn.
pub const HISTORY_LIMIT: usize = 100;

/// Query of `GET /ws/chat`.
#[derive(Debug, Default, Deserialize)]
pub struct ChatQuery {
    /// The session to open or resume (a new one when absent).
    pub session_id: Option<String>,
    /// A name for the session.
    pub name: Option<String>,
}

/// The sockets attached to each session.
#[derive(Default)]
pub struct Attached {
    next: AtomicU64,
    sockets: Mutex<HashMap<String, Vec<(u64, Outbox)>>>,
}

/// A socket's place in [`Attached`], removed on drop.
pub struct Attachment {
    registry: Arc<Attached>,
    key: String,
    id: u64,
}

impl Attached {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<(u64, Outbox)>>> {
        self.sockets.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Attaches a socket to session `key`.
    pub fn attach(self: &Arc<Self>, key: &str, outbox: Outbox) -> Attachment {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().entry(key.to_owned()).or_default().push((id, outbox));
        Attachment { registry: Arc::clone(self), key: key.to_owned(), id }
    }

    /// Sockets attached to `key`.
    pub fn count(&self, key: &str) -> usize {
        self.lock().get(key).map_or(0, Vec::len)
    }

    /// The outboxes of the sockets attached to `key`.
    pub fn outboxes(&self, key: &str) -> Vec<Outbox> {
        self.lock().get(key).map_or_else(Vec::new, |list| list.iter().map(|(_, o)| o.clone()).collect())
    }
}

/// Where a turn's frames go: the socket that asked, or every socket attached to the session (a turn
/// started through `POST /api/sessions/{id}/turns`).
#[derive(Clone)]
pub(crate) enum Audience {
    /// One socket.
    Socket(Outbox),
    /// Every socket attached to session `key` at the moment of each frame.
    Session {
        /// The registry.
        attached: Arc<Attached>,
        /// The session's key.
        key: String,
    },
}

impl Audience {
    fn outboxes(&self) -> Vec<Outbox> {
        match self {
            Audience::Socket(outbox) => vec![outbox.clone()],
            Audience::Session { attached, key } => attached.outboxes(key),
        }
    }

    /// A frame that may be skipped by a slow socket (which is told).
    fn stream(&self, frame: &Value) {
        for outbox in self.outboxes() {
            let _ = outbox.stream(frame);
        }
    }

    /// A frame that must arrive.
    async fn control(&self, frame: &Value) {
        for outbox in self.outboxes() {
            let _ = outbox.control(frame).await;
        }
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        let mut sockets = self.registry.lock();
        if let Some(list) = sockets.get_mut(&self.key) {
            list.retain(|(id, _)| *id != self.id);
            if list.is_empty() {
                sockets.remove(&self.key);
            }
        }
    }
}

fn error_frame(message: impl Into<String>, code: &str) -> Value {
    json!({"type": "error", "message": message.into(), "code": code})
}

pub(crate) async fn ws_chat(
    State(state): State<RealtimeState>,
    Client(client): Client,
    Query(query): Query<ChatQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let id = match query.session_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => {
            checked_key(id)?;
            id.to_owned()
        }
        None => uuid::Uuid::new_v4().to_string(),
    };
    let name = query.name.as_deref().filter(|n| !n.trim().is_empty()).map(checked_name).transpose()?;
    let permit = state.0.ws.admit(&headers, client.key, "/ws/chat")?;
    Ok(state.0.ws.configure(upgrade, PROTOCOL).on_upgrade(move |socket| async move {
        let (reader, outbox) = state.0.ws.connect(socket, permit);
        ChatSocket { state, id, outbox }.run(reader, name).await;
    }))
}

struct ChatSocket {
    state: RealtimeState,
    id: String,
    outbox: Outbox,
}

/// The running turn of a socket, if any.
type Current = Arc<Mutex<Option<CancellationToken>>>;

impl ChatSocket {
    async fn run(self, mut reader: crate::ws::Reader, name: Option<String>) {
        let shared = &self.state.0;
        let key = chat_key(&self.id);
        let info = match shared.sessions.open(&key, name.as_deref()).await {
            Ok(info) => info,
            Err(error) => {
                tracing::error!(%error, "cannot open a chat session");
                let _ = self.outbox.control(&error_frame("Session store unavailable", "AGENT_ERROR")).await;
                self.outbox.close(crate::ws::close::INTERNAL, "session store unavailable").await;
                return;
            }
        };
        let mut start = json!({
            "type": "session_start",
            "session_id": self.id,
            "resumed": info.message_count > 0,
            "message_count": info.message_count,
        });
        if let Some(name) = &info.name {
            start["name"] = json!(name);
        }
        if self.outbox.control(&start).await.is_err() {
            return;
        }
        // Subscribed before the first client frame: no event is lost to a handshake window.
        let mut bus = shared.events.subscribe(None);
        let _attachment = shared.attached.attach(&key, self.outbox.clone());
        let current: Current = Arc::default();
        let (turns, pending) = mpsc::channel::<String>(MAX_DEPTH);
        tokio::spawn(run_turns(
            self.state.clone(),
            self.id.clone(),
            key.clone(),
            self.outbox.clone(),
            pending,
            Arc::clone(&current),
        ));

        loop {
            tokio::select! {
                frame = reader.next() => match frame {
                    Some(Frame::Text(text)) => self.on_text(&text, &turns, &current, &key).await,
                    // Binary frames mean nothing here.
                    Some(Frame::Binary(_)) => {}
                    None => break,
                },
                delivery = bus.next() => match delivery {
                    Some(Delivery::Event(event)) if event.kind == "channel_event" => {
                        let _ = self.outbox.stream(&json!({"type": "agent_event", "event": event.payload}));
                    }
                    Some(Delivery::Lagged { missed }) => {
                        let _ = self.outbox.stream(&json!({"type": "lagged", "missed": missed}));
                    }
                    Some(_) => {}
                    None => break,
                },
            }
        }
        // Gone: queued messages of this socket are dropped with the channel; the running turn is cancelled
        // unless another socket watches the session.
        drop(turns);
        if shared.attached.count(&key) <= 1
            && let Some(turn) = current.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_ref()
        {
            turn.cancel();
        }
    }

    async fn on_text(&self, text: &str, turns: &mpsc::Sender<String>, current: &Current, key: &str) {
        let value: Value = match serde_json::from_str(text) {
            Ok(value) => value,
            Err(error) => {
                let frame = error_frame(format!("Invalid JSON: {error}"), "INVALID_JSON");
                let _ = self.outbox.control(&frame).await;
                return;
            }
        };
        match value["type"].as_str() {
            Some("message") => {
                let Some(content) = value["content"].as_str().filter(|c| !c.trim().is_empty()) else {
                    let frame = error_frame("Message content cannot be empty", "EMPTY_CONTENT");
                    let _ = self.outbox.control(&frame).await;
                    return;
                };
                if turns.try_send(content.to_owned()).is_err() {
                    let frame = error_frame(
                        format!("Session {key} queue full ({MAX_DEPTH} pending requests)"),
                        "SESSION_BUSY",
                    );
                    let _ = self.outbox.control(&frame).await;
                }
            }
            Some("cancel") => {
                if let Some(turn) = current.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_ref()
                {
                    turn.cancel();
                }
            }
            Some("connect") => {
                let _ = self
                    .outbox
                    .control(&json!({"type": "connected", "message": "Connection established"}))
                    .await;
            }
            other => {
                let kind = other.unwrap_or("unknown");
                let frame = error_frame(
                    format!(
                        "Unsupported message type \"{kind}\". Send {{\"type\":\"message\",\"content\":\"your text\"}}"
                    ),
                    "UNKNOWN_MESSAGE_TYPE",
                );
                let _ = self.outbox.control(&frame).await;
            }
        }
    }
}

/// Runs a socket's messages one after another, each through the session queue.
async fn run_turns(
    state: RealtimeState,
    id: String,
    key: String,
    outbox: Outbox,
    mut pending: mpsc::Receiver<String>,
    current: Current,
) {
    while let Some(content) = pending.recv().await {
        let guard = match state.0.queue.acquire(&key).await {
            Ok(guard) => guard,
            Err(busy) => {
                let message = match busy {
                    Busy::QueueFull { pending } => {
                        format!("Session {key} queue full ({pending} pending requests)")
                    }
                    Busy::Timeout => format!("Timed out waiting for session {key}"),
                };
                let _ = outbox.control(&error_frame(message, "SESSION_BUSY")).await;
                continue;
            }
        };
        let cancel = CancellationToken::new();
        *current.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(cancel.clone());
        run_turn(&state, &id, &key, &Audience::Socket(outbox.clone()), &content, cancel).await;
        *current.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        drop(guard);
    }
}

fn frame_of(event: TurnEvent) -> Option<Value> {
    Some(match event {
        TurnEvent::Chunk { content } => json!({"type": "chunk", "content": content}),
        TurnEvent::Thinking { content } => json!({"type": "thinking", "content": content}),
        TurnEvent::ToolCall { id, name, args } => {
            json!({"type": "tool_call", "id": id, "name": name, "args": args})
        }
        TurnEvent::ToolResult { id, name, output, ok } => {
            json!({"type": "tool_result", "id": id, "name": name, "output": output, "ok": ok})
        }
        TurnEvent::Status { phase, detail } => {
            json!({"type": "operator_status", "phase": phase, "detail": detail})
        }
        TurnEvent::Usage { .. } => return None,
    })
}

fn failure_frame(error: &AgentError) -> Value {
    match error {
        AgentError::Cancelled => error_frame("The turn was cancelled", "CANCELLED"),
        AgentError::Auth(_) => error_frame("The model provider rejected the credentials", "AUTH_ERROR"),
        AgentError::Provider { .. } => error_frame("The model provider failed", "PROVIDER_ERROR"),
        AgentError::RateLimited { .. } => {
            error_frame("The model provider is rate limiting requests", "PROVIDER_ERROR")
        }
        AgentError::Timeout => error_frame("The model provider took too long", "PROVIDER_ERROR"),
        AgentError::Other(_) => error_frame("The agent could not answer", "AGENT_ERROR"),
    }
}

pub(crate) async fn run_turn(
    state: &RealtimeState,
    id: &str,
    key: &str,
    audience: &Audience,
    content: &str,
    cancel: CancellationToken,
) {
    let shared = &state.0;
    let turn_id = uuid::Uuid::new_v4().to_string();
    let model = shared.agent.model().to_owned();
    let stored = async {
        shared.sessions.set_state(key, TurnState::Running, Some(&turn_id)).await?;
        let history = shared.sessions.load(key, HISTORY_LIMIT).await?;
        let user = HistoryMessage { role: "user".into(), content: content.to_owned() };
        shared.sessions.append(key, vec![user]).await?;
        Ok::<_, construct_core::devices::StoreError>(history)
    };
    let history = match stored.await {
        Ok(history) => history,
        Err(error) => {
            tracing::error!(%error, "session store failed before a turn");
            audience.control(&error_frame("Session store unavailable", "AGENT_ERROR")).await;
            return;
        }
    };
    shared
        .publish(
            "agent_start",
            json!({"channel": "gateway", "session_id": id, "turn_id": turn_id, "model": model}),
        )
        .await;

    let request =
        TurnRequest { history: history.iter().map(Message::from).collect(), input: content.to_owned() };
    let (events, mut stream) = mpsc::channel(64);
    let forward = async {
        while let Some(event) = stream.recv().await {
            if let Some(frame) = frame_of(event) {
                audience.stream(&frame);
            }
        }
    };
    let turn = async {
        let (result, ()) = tokio::join!(shared.agent.run_turn(request, events, cancel.clone()), forward);
        result
    };
    let result = tokio::select! {
        result = turn => result,
        () = cancel.cancelled() => Err(AgentError::Cancelled),
    };
    match &result {
        Ok(answer) => {
            let reply = HistoryMessage { role: "assistant".into(), content: answer.clone() };
            if let Err(error) = shared.sessions.append(key, vec![reply]).await {
                tracing::warn!(%error, "cannot record the answer");
            }
            let _ = shared.sessions.set_state(key, TurnState::Idle, None).await;
            audience.control(&json!({"type": "chunk_reset"})).await;
            audience.control(&json!({"type": "done", "full_response": answer})).await;
        }
        Err(error) => {
            tracing::warn!(%error, session = id, "chat turn failed");
            let _ = shared.sessions.set_state(key, TurnState::Error, Some(&turn_id)).await;
            audience.control(&failure_frame(error)).await;
            shared
                .publish("error", json!({"component": "ws_chat", "kind": error.kind(), "session_id": id}))
                .await;
        }
    }
    let ok = result.is_ok();
    shared
        .publish("agent_end", json!({"channel": "gateway", "session_id": id, "turn_id": turn_id, "ok": ok}))
        .await;
}
