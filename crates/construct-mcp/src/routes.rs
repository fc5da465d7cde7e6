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
    let minted = state.0.sessions.mint(caller.id()).map_err(|error| match error {
        MintError::Full => {
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, TOO_MANY_SESSIONS, "Too many MCP sessions are open")
                .with_retry_after(60)
        }
        MintError::Random => {
            tracing::error!("system random source failed while minting an MCP session");
            ApiError::internal()
        }
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

/// `?session_id=` of `WS /ws/mcp/events`.
#[derive(Debug, Deserialize)]
pub(crate) struct EventsQuery {
    session_id: String,
}

/// Close reasons are at most 123 bytes.
fn reason(text: &str) -> String {
    let mut cut = text.len().min(120);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text[..cut].to_owned()
}

/// `WS /ws/mcp/events?session_id=` (chat): the session's progress, read from the MCP server's event
/// stream (Server-Sent Events) and relayed as one text frame per event. Checked before the upgrade: the
/// session must be the caller's (404), the server must run (503), Origin and the per-client cap as every
/// socket. An upstream that cannot be reached, or fails, closes the socket with 1011 and the reason.
pub(crate) async fn ws_events(
    State(state): State<McpState>,
    Caller(caller): Caller,
    construct_auth::Client(client): construct_auth::Client,
    construct_core::extract::Query(query): construct_core::extract::Query<EventsQuery>,
    headers: http::HeaderMap,
    upgrade: axum::extract::ws::WebSocketUpgrade,
) -> Result<Response, ApiError> {
    use construct_auth::ws::{PROTOCOL, close};
    use futures_util::StreamExt;

    if !state.0.sessions.owned_by(&query.session_id, caller.id()) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, SESSION_NOT_FOUND, "No such MCP session"));
    }
    let url = state.url().ok_or_else(unavailable)?;
    let permit = state.0.ws.admit(&headers, client.key, "/ws/mcp/events")?;
    let events = format!("{}/session/{}/events", crate::discovery::base_url(&url), query.session_id);
    Ok(state.0.ws.configure(upgrade, PROTOCOL).on_upgrade(move |socket| async move {
        let (mut reader, outbox) = state.0.ws.connect(socket, permit);
        let answer = state
            .0
            .http
            .get(&events)
            .bearer_auth(state.0.sessions.bridge_token())
            .header(http::header::ACCEPT, "text/event-stream")
            .send();
        let answer = match tokio::time::timeout(std::time::Duration::from_secs(5), answer).await {
            Ok(Ok(answer)) if answer.status().is_success() => answer,
            Ok(Ok(answer)) => {
                outbox.close(close::INTERNAL, &reason(&format!("mcp upstream answered {}", answer.status()))).await;
                return;
            }
            Ok(Err(error)) => {
                let detail = error.without_url().to_string();
                outbox.close(close::INTERNAL, &reason(&format!("mcp upstream unreachable: {detail}"))).await;
                return;
            }
            Err(_) => {
                outbox.close(close::INTERNAL, "mcp upstream unreachable: timed out").await;
                return;
            }
        };
        let mut body = answer.bytes_stream();
        let mut parser = crate::sse::SseParser::default();
        loop {
            tokio::select! {
                chunk = body.next() => match chunk {
                    Some(Ok(bytes)) => {
                        for event in parser.feed(&bytes) {
                            if relay(&outbox, event).is_err() {
                                return;
                            }
                        }
                    }
                    Some(Err(error)) => {
                        let detail = error.without_url().to_string();
                        outbox.close(close::INTERNAL, &reason(&format!("mcp upstream failed: {detail}"))).await;
                        return;
                    }
                    None => {
                        if let Some(event) = parser.finish() {
                            let _ = relay(&outbox, event);
                        }
                        outbox.close(close::NORMAL, "mcp event stream ended").await;
                        return;
                    }
                },
                frame = reader.next() => if frame.is_none() {
                    return;
                },
            }
        }
    }))
}

/// One upstream event to the socket: progress verbatim (a lagging socket is told what it missed), and the
/// upstream's own `lagged` notice as `{"type":"lagged","missed":n}`.
fn relay(
    outbox: &construct_auth::ws::Outbox,
    event: crate::sse::SseEvent,
) -> Result<(), construct_auth::ws::Closed> {
    match event.event.as_deref() {
        Some("lagged") => {
            let missed = serde_json::from_str::<Value>(&event.data)
                .ok()
                .and_then(|v| v["missed"].as_u64())
                .unwrap_or(0);
            outbox.stream(&json!({"type": "lagged", "missed": missed}))
        }
        _ => outbox.stream_message(axum::extract::ws::Message::Text(event.data.into())),
    }
}

/// `GET /api/mcp/servers` (admin): the configured external servers, header names only.
pub(crate) async fn servers(State(state): State<McpState>) -> Json<Value> {
    let external = state.external();
    let servers: Vec<Value> = external
        .servers
        .iter()
        .map(|s| json!({"name": s.name, "transport": "http", "url": s.url, "header_names": s.headers.keys().collect::<Vec<_>>()}))
        .collect();
    Json(json!({"servers": servers, "allow_stdio": external.allow_stdio}))
}

/// Body of `POST /api/mcp/servers/test`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestBody {
    name: String,
    #[serde(default)]
    transport: Option<crate::external::Transport>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    timeout_ms: Option<u64>,
}

fn invalid(message: impl Into<std::borrow::Cow<'static, str>>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::new("INVALID_FIELD"), message)
}

/// `POST /api/mcp/servers/test` (admin): connects, initializes and lists the tools of a server within
/// `timeout_ms` (at most 10 s). A request naming only a configured server tests it with its configured
/// headers (which never travel to the client). 422 `INVALID_FIELD` for a request that cannot be tested;
/// otherwise 200 `{ok: true, tool_count, tools, latency_ms}` or `{ok: false, error, latency_ms}`.
pub(crate) async fn test_server(State(state): State<McpState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    use crate::external::{Target, Transport, probe};
    let body: TestBody = from_json_slice(&body)?;
    let name = body.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(invalid("name is required (1 to 100 characters)"));
    }
    let external = state.external();
    let target = match body.transport.unwrap_or_default() {
        Transport::Http => {
            let configured = external.servers.iter().find(|s| s.name == name);
            match (body.url.as_deref().map(str::trim).filter(|u| !u.is_empty()), configured) {
                (Some(url), _) => {
                    let parsed = url::Url::parse(url).map_err(|_| invalid("url is not a URL"))?;
                    if !matches!(parsed.scheme(), "http" | "https") {
                        return Err(invalid("url must be http or https"));
                    }
                    Target::Http { url: url.to_owned(), headers: body.headers }
                }
                (None, Some(server)) => Target::Http {
                    url: server.url.clone(),
                    headers: server.headers.iter().map(|(k, v)| (k.clone(), v.expose().to_owned())).collect(),
                },
                (None, None) => return Err(invalid("url is required for the http transport")),
            }
        }
        Transport::Stdio => {
            if !external.allow_stdio {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    ErrorCode::new("STDIO_DISABLED"),
                    "stdio MCP servers run local commands; set [mcp] allow_stdio = true to allow them",
                ));
            }
            let command = body.command.as_deref().map(str::trim).filter(|c| !c.is_empty());
            let command = command.ok_or_else(|| invalid("command is required for the stdio transport"))?;
            Target::Stdio { command: command.to_owned(), args: body.args, env: body.env }
        }
    };
    let timeout = std::time::Duration::from_millis(body.timeout_ms.unwrap_or(10_000).clamp(100, 10_000));
    let probed = probe(&target, timeout).await;
    let latency_ms = probed.latency.as_millis() as u64;
    Ok(Json(match probed.tools {
        Ok(tools) => json!({"ok": true, "tool_count": tools.len(), "tools": tools, "latency_ms": latency_ms}),
        Err(error) => json!({"ok": false, "error": error, "latency_ms": latency_ms}),
    }))
}
