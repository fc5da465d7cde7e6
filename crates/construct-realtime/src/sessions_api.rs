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
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::NOT_READY, "Session store unavailable")
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

pub(crate) async fn list(State(state): State<RealtimeState>) -> Result<Json<Value>, ApiError> {
    let sessions = state.0.sessions.list(Some("gateway")).await.map_err(store_error)?;
    Ok(Json(json!({
        "sessions": sessions.iter().map(summary).collect::<Vec<_>>(),
        "session_persistence": state.0.session_persistence,
    })))
}

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
#[derive(Debug, Deserialize)]
pub(crate) struct Rename {
    name: String,
}

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
