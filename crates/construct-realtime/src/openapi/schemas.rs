//! The shapes of the JSON answers this crate builds with `json!`, written out for the OpenAPI document.
//!
//! Each type mirrors one answer field for field (names, optionality, nesting); none is ever built. A field
//! the handler leaves out when it has nothing to say is `skip_serializing_if` here (not required, never
//! null); a field it always writes, possibly as `null`, is a plain `Option` (required, nullable). When a
//! handler's answer changes, the type here must change with it.

#![allow(dead_code)] // Describes JSON the handlers write; never built.

use serde::Serialize;
use utoipa::ToSchema;

// ---- sessions ----

/// Whether a session had activity in the last five minutes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Activity {
    /// Activity in the last five minutes.
    Active,
    /// No recent activity.
    Idle,
}

/// A session's turn state.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SessionTurnState {
    /// No turn is running.
    Idle,
    /// A turn is running.
    Running,
    /// The last turn failed.
    Error,
}

/// One of the dashboard's chat sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionSummary {
    /// The session id (`[A-Za-z0-9_-]{1,128}`).
    id: String,
    /// Always `gateway`.
    channel: String,
    /// When it was created (RFC 3339).
    started_at: String,
    /// When a message was last added (RFC 3339).
    last_activity: String,
    /// `active` when there was activity in the last five minutes, else `idle`.
    status: Activity,
    /// Messages stored.
    message_count: u64,
    /// Its turn state.
    state: SessionTurnState,
    /// The name the user gave it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

/// `GET /api/sessions`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    /// The dashboard's sessions.
    sessions: Vec<SessionSummary>,
    /// Whether sessions outlive the process.
    session_persistence: bool,
}

/// A session whose turn is running.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunningSession {
    /// The session id.
    session_id: String,
    /// When it was created (RFC 3339).
    created_at: String,
    /// When a message was last added (RFC 3339).
    last_activity: String,
    /// Messages stored.
    message_count: u64,
    /// The running turn's id.
    turn_id: Option<String>,
    /// When that turn started (RFC 3339).
    turn_started_at: Option<String>,
}

/// `GET /api/sessions/running`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunningSessions {
    /// The sessions with a running turn.
    sessions: Vec<RunningSession>,
}

/// One stored message.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionMessage {
    /// `system`, `user`, `assistant` or `event`.
    role: String,
    /// The text.
    content: String,
}

/// `GET /api/sessions/{id}/messages`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionMessages {
    /// The session id.
    session_id: String,
    /// Every stored message, oldest first (empty for an unknown session).
    messages: Vec<SessionMessage>,
    /// Whether sessions outlive the process.
    session_persistence: bool,
}

/// `GET /api/sessions/{id}/state`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionStateBody {
    /// The session id.
    session_id: String,
    /// Its turn state.
    state: SessionTurnState,
    /// The running (or last failed) turn.
    #[serde(skip_serializing_if = "Option::is_none")]
    turn_id: Option<String>,
    /// When that turn started (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    turn_started_at: Option<String>,
}

/// `PUT /api/sessions/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionRenamed {
    /// The session id.
    session_id: String,
    /// The new name, trimmed.
    name: String,
}

/// `DELETE /api/sessions/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDeleted {
    /// Always true.
    deleted: bool,
    /// The session id.
    session_id: String,
}

/// `POST /api/sessions/{id}/messages`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePushed {
    /// The session id.
    session_id: String,
    /// The message's role.
    role: String,
    /// How many attached sockets it was sent to.
    delivered: u64,
}

/// The constant `"accepted"`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Accepted {
    /// Queued; its frames go to the attached sockets.
    Accepted,
}

/// `POST /api/sessions/{id}/turns`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TurnAccepted {
    /// The session id.
    session_id: String,
    /// Always `accepted`.
    status: Accepted,
    /// How many sockets were attached to the session when the turn was queued.
    attached: u64,
}

// ---- events ----

/// One event of `GET /api/events`: `id:` (increasing), `event:` (the type) and one `data:` line of JSON
/// with `type`, `timestamp` and the event's fields; `lagged`/`reset` notices carry `{type, missed}`.
pub struct BusEvent;

impl utoipa::PartialSchema for BusEvent {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let data = serde_json::json!({
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {"type": "string", "description": "The event's type (its `event:` name)."},
                "timestamp": {"type": "string", "description": "When it happened (RFC 3339)."},
                "missed": {"type": "integer", "minimum": 0, "description": "`lagged`/`reset`: events lost."}
            }
        });
        construct_core::openapi::sse_event("One event of the stream.", &[], data).into()
    }
}

impl ToSchema for BusEvent {}

/// One event of `GET /api/daemon/logs`: a `log` line, or a `lagged`/`reset` notice.
pub struct LogEvent;

impl utoipa::PartialSchema for LogEvent {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let data = serde_json::json!({
            "oneOf": [
                {
                    "type": "object",
                    "required": ["type", "line", "level", "target", "timestamp"],
                    "properties": {
                        "type": {"const": "log"},
                        "line": {"type": "string", "description": "The formatted line."},
                        "level": {"enum": ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]},
                        "target": {"type": "string", "description": "The module that logged it."},
                        "timestamp": {"type": "string", "description": "RFC 3339."}
                    }
                },
                {
                    "type": "object",
                    "required": ["type", "missed"],
                    "properties": {
                        "type": {"enum": ["lagged", "reset"]},
                        "missed": {"type": "integer", "minimum": 0}
                    }
                }
            ]
        });
        construct_core::openapi::sse_event("One event of the stream.", &["log", "lagged", "reset"], data)
            .into()
    }
}

impl ToSchema for LogEvent {}

// ---- canvas ----

/// One rendered frame.
#[derive(Debug, Serialize, ToSchema)]
pub struct Frame {
    /// Its id.
    frame_id: String,
    /// `html`, `svg`, `markdown` or `text`.
    content_type: String,
    /// The content.
    content: String,
    /// When it was rendered (RFC 3339).
    timestamp: String,
}

/// `GET /api/canvas`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CanvasList {
    /// The ids of the canvases holding content.
    canvases: Vec<String>,
}

/// `GET /api/canvas/{id}` and `POST /api/canvas/{id}`: a canvas and its current frame.
#[derive(Debug, Serialize, ToSchema)]
pub struct CanvasCurrent {
    /// The canvas id.
    canvas_id: String,
    /// Its current frame.
    frame: Frame,
}

/// `GET /api/canvas/{id}/history`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CanvasHistory {
    /// The canvas id.
    canvas_id: String,
    /// Its frames, oldest first, at most 50 (empty for a canvas with none).
    frames: Vec<Frame>,
}

/// The constant `"cleared"`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Cleared {
    /// The canvas is gone.
    Cleared,
}

/// `DELETE /api/canvas/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CanvasCleared {
    /// The canvas id.
    canvas_id: String,
    /// Always `cleared`.
    status: Cleared,
}

/// A frame's content, served as a document of its own.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = String)]
pub struct FrameDocument(String);

// ---- nodes ----

/// A capability a node advertises.
#[derive(Debug, Serialize, ToSchema)]
pub struct NodeCapability {
    /// Its name.
    name: String,
    /// What it does (empty when the node said nothing).
    description: String,
}

/// A connected node.
#[derive(Debug, Serialize, ToSchema)]
pub struct NodeSummary {
    /// The node id.
    node_id: String,
    /// How many capabilities it advertises.
    capability_count: u64,
    /// Its capabilities.
    capabilities: Vec<NodeCapability>,
}

/// `GET /api/nodes`.
#[derive(Debug, Serialize, ToSchema)]
pub struct NodeList {
    /// How many nodes are connected.
    count: u64,
    /// The connected nodes, by id.
    nodes: Vec<NodeSummary>,
}

/// `POST /api/nodes/{id}/invoke`: the node's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Invocation {
    /// The call's id.
    call_id: String,
    /// Whether the node reported success.
    success: bool,
    /// What it returned.
    output: String,
    /// Its error, when it failed.
    error: Option<String>,
}
