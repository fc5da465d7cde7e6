//! The REST companions of `/ws/chat`: list, read, rename and delete chat sessions.
//!
//! Ids are validated (`[A-Za-z0-9_-]{1,128}`, else 400 `INVALID_SESSION_ID`): upstream used them unchecked
//! as store keys and file paths. Only the dashboard's sessions (`gw_<id>`) are listed, as upstream did.

use std::time::Duration;

use axum::extract::State;
use construct_core::extract::{Json, Path};
use construct_core::sessions::{SessionInfo, TurnState, chat_key, valid_session_id};
use construct_core::{ApiError, ErrorCode};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::RealtimeState;

/// 400 for a session id outside `[A-Za-z0-9_-]{1,128}`.
pub const INVALID_SESSION_ID: ErrorCode = ErrorCode::new("INVALID_SESSION_ID");
/// 404 for a session that does not exist.
pub const SESSION_NOT_FOUND: ErrorCode = ErrorCode::new("SESSION_NOT_FOUND");
/// 409 when deleting a session whose turn is running.
pub const SESSION_BUSY: ErrorCode = ErrorCode::new("SESSION_BUSY");
/// 422 for a pushed message with a bad role or content.
pub const INVALID_MESSAGE: ErrorCode = ErrorCode::new("INVALID_MESSAGE");
/// Longest pushed message or turn input, in bytes.
pub const MAX_PUSH_BYTES: usize = 32 * 1024;
/// 400 for an empty or overlong session name.
pub const INVALID_NAME: ErrorCode = ErrorCode::new("INVALID_NAME");

/// Longest session name.
pub const MAX_NAME_LEN: usize = 200;
/// A session with activity this recent is `active`.
const ACTIVE_WINDOW: Duration = Duration::from_secs(300);

/// The key of a valid chat session id.
pub fn checked_key(id: &str) -> Result<String, ApiError> {
    if valid_session_id(id) {
        Ok(chat_key(id))
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            INVALID_SESSION_ID,
            "Session ids are 1-128 characters of A-Z a-z 0-9 _ -",
        ))
    }
}

/// A trimmed, non-empty name of at most [`MAX_NAME_LEN`] characters.
pub fn checked_name(raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN || name.chars().any(char::is_control) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            INVALID_NAME,
            format!("name is required: 1-{MAX_NAME_LEN} printable characters"),
        ));
    }
    Ok(name.to_owned())
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, SESSION_NOT_FOUND, format!("Session {id} not found"))
}

pub(crate) fn store_error(error: construct_core::devices::StoreError) -> ApiError {
    tracing::error!(%error, "session store failed");
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::STORE_UNAVAILABLE, "Session store unavailable")
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

fn public_id(info: &SessionInfo) -> &str {
    info.key.strip_prefix(construct_core::sessions::CHAT_PREFIX).unwrap_or(&info.key)
}

fn summary(info: &SessionInfo) -> Value {
    let active = (OffsetDateTime::now_utc() - info.last_activity) < ACTIVE_WINDOW;
    let mut v = json!({
        "id": public_id(info),
        "channel": "gateway",
        "started_at": rfc3339(info.created_at),
        "last_activity": rfc3339(info.last_activity),
        "status": if active { "active" } else { "idle" },
        "message_count": info.message_count,
        "state": info.state.as_str(),
    });
    if let Some(name) = &info.name {
        v["name"] = json!(name);
    }
    v
}

#[utoipa::path(
    get,
    path = "/api/sessions",
    tag = "sessions",
    operation_id = "list_sessions",
    summary = "List the dashboard's chat sessions",
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The dashboard's sessions (`gw_` keys) and whether they outlive the process.", body = crate::openapi::schemas::SessionList),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (the session store, or the credential check).", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn list(State(state): State<RealtimeState>) -> Result<Json<Value>, ApiError> {
    let sessions = state.0.sessions.list(Some("gateway")).await.map_err(store_error)?;
    Ok(Json(json!({
        "sessions": sessions.iter().map(summary).collect::<Vec<_>>(),
        "session_persistence": state.0.session_persistence,
    })))
}

#[utoipa::path(
    get,
    path = "/api/sessions/running",
    tag = "sessions",
    operation_id = "list_running_sessions",
    summary = "List the sessions whose turn is running",
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The sessions with a running turn.", body = crate::openapi::schemas::RunningSessions),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (the session store, or the credential check).", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn running(State(state): State<RealtimeState>) -> Result<Json<Value>, ApiError> {
    let sessions = state.0.sessions.list(Some("gateway")).await.map_err(store_error)?;
    let running: Vec<Value> = sessions
        .iter()
        .filter(|s| s.state == TurnState::Running)
        .map(|s| {
            json!({
                "session_id": public_id(s),
                "created_at": rfc3339(s.created_at),
                "last_activity": rfc3339(s.last_activity),
                "message_count": s.message_count,
                "turn_id": s.turn_id,
                "turn_started_at": s.turn_started_at.map(rfc3339),
            })
        })
        .collect();
    Ok(Json(json!({ "sessions": running })))
}

#[utoipa::path(
    get,
    path = "/api/sessions/{id}/messages",
    tag = "sessions",
    operation_id = "get_session_messages",
    summary = "Read a session's stored messages",
    params(
        ("id" = String, Path, pattern = "^[A-Za-z0-9_-]{1,128}$", description = "The session id, `[A-Za-z0-9_-]{1,128}`."),
    ),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "Every stored message, oldest first; an unknown session has none.", body = crate::openapi::schemas::SessionMessages),
        (status = 400, description = "`INVALID_SESSION_ID`: the id is outside `[A-Za-z0-9_-]{1,128}`; `INVALID_PATH`: a malformed path parameter.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (the session store, or the credential check).", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn messages(
    State(state): State<RealtimeState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = checked_key(&id)?;
    let messages = state.0.sessions.load(&key, usize::MAX).await.map_err(store_error)?;
    Ok(Json(json!({
        "session_id": id,
        "messages": messages,
        "session_persistence": state.0.session_persistence,
    })))
}

#[utoipa::path(
    get,
    path = "/api/sessions/{id}/state",
    tag = "sessions",
    operation_id = "get_session_state",
    summary = "Read a session's turn state",
    params(
        ("id" = String, Path, pattern = "^[A-Za-z0-9_-]{1,128}$", description = "The session id, `[A-Za-z0-9_-]{1,128}`."),
    ),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The turn state, with the running (or last failed) turn when there is one.", body = crate::openapi::schemas::SessionStateBody),
        (status = 400, description = "`INVALID_SESSION_ID`: the id is outside `[A-Za-z0-9_-]{1,128}`; `INVALID_PATH`: a malformed path parameter.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`SESSION_NOT_FOUND`: no session has this id.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (the session store, or the credential check).", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn session_state(
    State(state): State<RealtimeState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = checked_key(&id)?;
    let info = state.0.sessions.get(&key).await.map_err(store_error)?.ok_or_else(|| not_found(&id))?;
    let mut v = json!({"session_id": id, "state": info.state.as_str()});
    if let Some(turn) = &info.turn_id {
        v["turn_id"] = json!(turn);
    }
    if let Some(at) = info.turn_started_at {
        v["turn_started_at"] = json!(rfc3339(at));
    }
    Ok(Json(v))
}

/// Body of `PUT /api/sessions/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct Rename {
    /// The new name: 1-200 printable characters once trimmed (the pattern counts them).
    #[schema(
        pattern = r"^[\t\n\x0b\x0c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^\x00-\x1f\x7f-\x9f \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]([^\x00-\x1f\x7f-\x9f]{0,198}[^\x00-\x1f\x7f-\x9f \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?[\t\n\x0b\x0c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    name: String,
}

#[utoipa::path(
    put,
    path = "/api/sessions/{id}",
    tag = "sessions",
    operation_id = "rename_session",
    summary = "Rename a session",
    params(
        ("id" = String, Path, pattern = "^[A-Za-z0-9_-]{1,128}$", description = "The session id, `[A-Za-z0-9_-]{1,128}`."),
    ),
    request_body(content = Rename, content_type = "application/json"),
    security(("bearer" = ["chat"]), ("session_cookie" = ["chat"])),
    responses(
        (status = 200, description = "Renamed.", body = crate::openapi::schemas::SessionRenamed),
        (status = 400, description = "`INVALID_SESSION_ID`: the id is outside `[A-Za-z0-9_-]{1,128}`; `INVALID_PATH`: a malformed path parameter; `INVALID_NAME`: an empty name, one over 200 characters, or one with control characters; `INVALID_JSON`: the body is not JSON; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`SESSION_NOT_FOUND`: no session has this id.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::IdempotencyInProgress,
        construct_core::openapi::BodyTooLarge,
        construct_core::openapi::NotJson,
        (status = 422, description = "`INVALID_BODY`: a missing or mistyped `name`; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (the session store, or the credential check).", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn rename(
    State(state): State<RealtimeState>,
    Path(id): Path<String>,
    Json(body): Json<Rename>,
) -> Result<Json<Value>, ApiError> {
    let key = checked_key(&id)?;
    let name = checked_name(&body.name)?;
    if !state.0.sessions.rename(&key, &name).await.map_err(store_error)? {
        return Err(not_found(&id));
    }
    Ok(Json(json!({"session_id": id, "name": name})))
}

#[utoipa::path(
    delete,
    path = "/api/sessions/{id}",
    tag = "sessions",
    operation_id = "delete_session",
    summary = "Delete a session and its messages",
    params(
        ("id" = String, Path, pattern = "^[A-Za-z0-9_-]{1,128}$", description = "The session id, `[A-Za-z0-9_-]{1,128}`."),
    ),
    security(("bearer" = ["chat"]), ("session_cookie" = ["chat"])),
    responses(
        (status = 200, description = "Deleted.", body = crate::openapi::schemas::SessionDeleted),
        (status = 400, description = "`INVALID_SESSION_ID`: the id is outside `[A-Za-z0-9_-]{1,128}`; `INVALID_PATH`: a malformed path parameter; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`SESSION_NOT_FOUND`: no session has this id.", body = construct_core::openapi::ErrorBody),
        (status = 409, description = "`SESSION_BUSY`: a turn is running in the session; cancel it first; `IDEMPOTENCY_IN_PROGRESS`: a request with the same `Idempotency-Key` is still running.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::IdempotencyKeyReused,
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (the session store, or the credential check).", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn delete(
    State(state): State<RealtimeState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = checked_key(&id)?;
    let info = state.0.sessions.get(&key).await.map_err(store_error)?.ok_or_else(|| not_found(&id))?;
    if info.state == TurnState::Running {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            SESSION_BUSY,
            "A turn is running in this session; cancel it first",
        ));
    }
    if !state.0.sessions.delete(&key).await.map_err(store_error)? {
        return Err(not_found(&id));
    }
    Ok(Json(json!({"deleted": true, "session_id": id})))
}

/// Body of `POST /api/sessions/{id}/messages`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PushMessage {
    /// `system`, `assistant` or `event` (context for the agent, like a system message).
    #[schema(pattern = "^(system|assistant|event)$")]
    role: String,
    /// 1 byte to 32 KiB (of UTF-8), not blank.
    #[schema(
        min_length = 1,
        max_length = 32768,
        pattern = r"^[\s\S]*[^\t\n\x0b\x0c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][\s\S]*$"
    )]
    content: String,
}

pub(crate) fn checked_content(content: &str) -> Result<(), ApiError> {
    if content.trim().is_empty() || content.len() > MAX_PUSH_BYTES {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            INVALID_MESSAGE,
            format!("content must be 1 to {MAX_PUSH_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// An existing session's key, or 404.
async fn existing(state: &RealtimeState, id: &str) -> Result<String, ApiError> {
    let key = checked_key(id)?;
    match state.0.sessions.get(&key).await.map_err(store_error)? {
        Some(_) => Ok(key),
        None => Err(not_found(id)),
    }
}

/// `POST /api/sessions/{id}/messages` (chat): stores a system, assistant or event message in the session and
/// delivers it at once to every socket attached to it (`message {role, content}`, or `agent_event` for an
/// event). 201 `{session_id, role, delivered}`.
#[utoipa::path(
    post,
    path = "/api/sessions/{id}/messages",
    tag = "sessions",
    operation_id = "push_session_message",
    summary = "Store a message in a session and send it to its sockets",
    params(
        ("id" = String, Path, pattern = "^[A-Za-z0-9_-]{1,128}$", description = "The session id, `[A-Za-z0-9_-]{1,128}`."),
    ),
    request_body(content = PushMessage, content_type = "application/json"),
    security(("bearer" = ["chat"]), ("session_cookie" = ["chat"])),
    responses(
        (status = 201, description = "Stored and sent to every socket attached to the session (as `message {role, content}`, or `agent_event` for an event).", body = crate::openapi::schemas::MessagePushed),
        (status = 400, description = "`INVALID_SESSION_ID`: the id is outside `[A-Za-z0-9_-]{1,128}`; `INVALID_PATH`: a malformed path parameter; `INVALID_JSON`: the body is not JSON; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`SESSION_NOT_FOUND`: no session has this id.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::IdempotencyInProgress,
        construct_core::openapi::BodyTooLarge,
        construct_core::openapi::NotJson,
        (status = 422, description = "`INVALID_MESSAGE`: a role other than `system`, `assistant` or `event`, or content that is blank or over 32 KiB; `INVALID_BODY`: a missing, mistyped or unknown field; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (the session store, or the credential check).", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn push_message(
    State(state): State<RealtimeState>,
    Path(id): Path<String>,
    Json(body): Json<PushMessage>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if !matches!(body.role.as_str(), "system" | "assistant" | "event") {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            INVALID_MESSAGE,
            "role must be system, assistant or event",
        ));
    }
    checked_content(&body.content)?;
    let key = existing(&state, &id).await?;
    let message =
        construct_core::history::HistoryMessage { role: body.role.clone(), content: body.content.clone() };
    state.0.sessions.append(&key, vec![message]).await.map_err(store_error)?;
    let frame = if body.role == "event" {
        json!({"type": "agent_event", "event": {"source": "api", "content": body.content}})
    } else {
        json!({"type": "message", "role": body.role, "content": body.content})
    };
    let mut delivered = 0;
    for outbox in state.0.attached.outboxes(&key) {
        if outbox.control(&frame).await.is_ok() {
            delivered += 1;
        }
    }
    Ok((StatusCode::CREATED, Json(json!({"session_id": id, "role": body.role, "delivered": delivered}))))
}

/// Body of `POST /api/sessions/{id}/turns`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PushTurn {
    /// What the session's user says: 1 byte to 32 KiB (of UTF-8), not blank.
    #[schema(
        min_length = 1,
        max_length = 32768,
        pattern = r"^[\s\S]*[^\t\n\x0b\x0c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][\s\S]*$"
    )]
    content: String,
}

/// `POST /api/sessions/{id}/turns` (chat): an agent turn for the session as if its user had typed
/// `content`, in the session's queue like any other, streaming to every socket attached to it. 202
/// `{session_id, status: "accepted", attached}`; 409 `SESSION_BUSY` when the session's queue is full.
#[utoipa::path(
    post,
    path = "/api/sessions/{id}/turns",
    tag = "sessions",
    operation_id = "push_session_turn",
    summary = "Run an agent turn in a session as if its user had typed it",
    params(
        ("id" = String, Path, pattern = "^[A-Za-z0-9_-]{1,128}$", description = "The session id, `[A-Za-z0-9_-]{1,128}`."),
    ),
    request_body(content = PushTurn, content_type = "application/json"),
    security(("bearer" = ["chat"]), ("session_cookie" = ["chat"])),
    responses(
        (status = 202, description = "Queued behind the session's other turns; its frames stream to every attached socket and its messages are stored.", body = crate::openapi::schemas::TurnAccepted),
        (status = 400, description = "`INVALID_SESSION_ID`: the id is outside `[A-Za-z0-9_-]{1,128}`; `INVALID_PATH`: a malformed path parameter; `INVALID_JSON`: the body is not JSON; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`SESSION_NOT_FOUND`: no session has this id.", body = construct_core::openapi::ErrorBody),
        (status = 409, description = "`SESSION_BUSY`: the session's turn queue is full, or waiting for it timed out; `IDEMPOTENCY_IN_PROGRESS`: a request with the same `Idempotency-Key` is still running.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::BodyTooLarge,
        construct_core::openapi::NotJson,
        (status = 422, description = "`INVALID_MESSAGE`: content that is blank or over 32 KiB; `INVALID_BODY`: a missing, mistyped or unknown field; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (the session store, or the credential check).", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn push_turn(
    State(state): State<RealtimeState>,
    Path(id): Path<String>,
    Json(body): Json<PushTurn>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    checked_content(&body.content)?;
    let key = existing(&state, &id).await?;
    let guard = state.0.queue.acquire(&key).await.map_err(|busy| {
        ApiError::new(StatusCode::CONFLICT, SESSION_BUSY, format!("Session {id} is busy: {busy}"))
    })?;
    let attached = state.0.attached.count(&key);
    let audience = crate::chat::Audience::Session {
        attached: std::sync::Arc::clone(&state.0.attached),
        key: key.clone(),
    };
    let (task_state, task_id) = (state.clone(), id.clone());
    tokio::spawn(async move {
        let cancel = tokio_util::sync::CancellationToken::new();
        crate::chat::run_turn(&task_state, &task_id, &key, &audience, &body.content, cancel).await;
        drop(guard);
    });
    Ok((StatusCode::ACCEPTED, Json(json!({"session_id": id, "status": "accepted", "attached": attached}))))
}
