//! The gateway's `/api/mcp/*` routes.
//!
//! - `GET /api/mcp/discovery`, `GET /api/mcp/health` (read): whether the MCP server runs, from the
//!   discovery file (checked: the process lives and answers) and from this gateway's own server.
//! - `POST /api/mcp/session` (chat): mints `{session_id, token, url, expires_at}` for the caller.
//! - `GET /api/mcp/session/{id}/events` (chat): that session's progress as Server-Sent Events, for the
//!   principal that minted it (upstream forwarded the gateway token to the MCP server, which refused it).
//! - `POST /api/mcp/call` (chat; its own 120 s timeout) `{tool, arguments?, session_id?}`: runs a tool in
//!   process, reporting progress to the session when the caller owns it.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use construct_auth::Caller;
use construct_core::extract::{Json, Path, from_json_slice};
use construct_core::{ApiError, ErrorCode};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use crate::McpState;
use crate::discovery::{DiscoverError, discover, health_url};
use crate::server::progress_stream;
use crate::sessions::MintError;
use crate::tools::ToolError;

/// 503 when the MCP server is not running.
pub const MCP_UNAVAILABLE: ErrorCode = ErrorCode::new("MCP_UNAVAILABLE");
/// 429 when `[mcp] max_sessions` are open.
pub const TOO_MANY_SESSIONS: ErrorCode = ErrorCode::new("TOO_MANY_SESSIONS");
/// 404 for a session that does not exist, expired, or belongs to someone else.
pub const SESSION_NOT_FOUND: ErrorCode = ErrorCode::new("SESSION_NOT_FOUND");
/// 404 for a tool the server does not have.
pub const UNKNOWN_TOOL: ErrorCode = ErrorCode::new("UNKNOWN_TOOL");
/// 422 for arguments a tool refuses.
pub const INVALID_ARGUMENTS: ErrorCode = ErrorCode::new("INVALID_ARGUMENTS");
/// 502 when a tool ran and failed.
pub const TOOL_FAILED: ErrorCode = ErrorCode::new("TOOL_FAILED");

fn unavailable() -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, MCP_UNAVAILABLE, "The MCP server is not running")
}

pub(crate) async fn discovery(State(state): State<McpState>) -> Json<Value> {
    Json(match discover(&state.0.data_dir, &state.0.http).await {
        Ok((found, health)) => {
            json!({"available": true, "url": found.url, "pid": found.pid, "health": health})
        }
        Err(DiscoverError::Missing) => json!({"available": false, "reason": "discovery file missing"}),
        Err(error) => json!({"available": false, "reason": error.to_string()}),
    })
}

pub(crate) async fn health(State(state): State<McpState>) -> Result<Json<Value>, ApiError> {
    let url = state.url().ok_or_else(unavailable)?;
    let answer = state
        .0
        .http
        .get(health_url(&url))
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await
        .map_err(|_| unavailable())?;
    answer.json().await.map(Json).map_err(|_| unavailable())
}

pub(crate) async fn session(
    State(state): State<McpState>,
    Caller(caller): Caller,
) -> Result<Response, ApiError> {
    let url = state.url().ok_or_else(unavailable)?;
    let minted = state.0.sessions.mint(caller.id()).map_err(|MintError::Full| {
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, TOO_MANY_SESSIONS, "Too many MCP sessions are open")
            .with_retry_after(60)
    })?;
    let body = json!({
        "session_id": minted.session_id,
        "token": minted.token,
        "url": url,
        "expires_at": minted.expires_at.format(&Rfc3339).unwrap_or_default(),
    });
    // The token is shown once: no cache (and no idempotent replay) may keep it.
    Ok(([(http::header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

pub(crate) async fn session_events(
    State(state): State<McpState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, SESSION_NOT_FOUND, "No such MCP session");
    if !state.0.sessions.owned_by(&id, caller.id()) {
        return Err(not_found());
    }
    let receiver = state.0.sessions.subscribe(&id).ok_or_else(not_found)?;
    Ok(([("x-accel-buffering", "no")], progress_stream(receiver, state.0.closing.clone())).into_response())
}

/// Body of `POST /api/mcp/call`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallBody {
    tool: String,
    #[serde(default)]
    arguments: Value,
    #[serde(default)]
    session_id: Option<String>,
}

pub(crate) async fn call(
    State(state): State<McpState>,
    Caller(caller): Caller,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: CallBody = from_json_slice(&body)?;
    if !body.arguments.is_null() && !body.arguments.is_object() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            INVALID_ARGUMENTS,
            "arguments must be a JSON object",
        ));
    }
    let session = match body.session_id.as_deref() {
        Some(id) if state.0.sessions.owned_by(id, caller.id()) => Some(id),
        Some(_) => {
            return Err(ApiError::new(StatusCode::NOT_FOUND, SESSION_NOT_FOUND, "No such MCP session"));
        }
        None => None,
    };
    let progress = state.0.sessions.reporter(session, &body.tool);
    let result = state.0.tools.call(&body.tool, body.arguments, &progress).await.map_err(|error| {
        let (status, code) = match &error {
            ToolError::UnknownTool(_) => (StatusCode::NOT_FOUND, UNKNOWN_TOOL),
            ToolError::InvalidArguments(_) => (StatusCode::UNPROCESSABLE_ENTITY, INVALID_ARGUMENTS),
            ToolError::NotFound(_) => (StatusCode::NOT_FOUND, ErrorCode::NOT_FOUND),
            ToolError::Failed(_) => (StatusCode::BAD_GATEWAY, TOOL_FAILED),
        };
        ApiError::new(status, code, error.to_string())
    })?;
    Ok(Json(json!({"tool": body.tool, "result": result})))
}
