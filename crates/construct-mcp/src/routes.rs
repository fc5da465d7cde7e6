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

#[utoipa::path(
    get,
    path = "/api/mcp/discovery",
    tag = "mcp",
    operation_id = "get_mcp_discovery",
    summary = "Whether the MCP server runs, from its discovery file",
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "`{available: true, url, pid, health}` when `<data-dir>/mcp.json` names a live process that answers, else `{available: false, reason}`.", body = crate::openapi::schemas::McpDiscovery),
    )
)]
pub(crate) async fn discovery(State(state): State<McpState>) -> Json<Value> {
    Json(match discover(&state.0.data_dir, &state.0.http).await {
        Ok((found, health)) => {
            json!({"available": true, "url": found.url, "pid": found.pid, "health": health})
        }
        Err(DiscoverError::Missing) => json!({"available": false, "reason": "discovery file missing"}),
        Err(error) => json!({"available": false, "reason": error.to_string()}),
    })
}

#[utoipa::path(
    get,
    path = "/api/mcp/health",
    tag = "mcp",
    operation_id = "get_mcp_health",
    summary = "The MCP listener's health",
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The MCP listener's own `/health` answer.", body = crate::openapi::schemas::McpHealth),
        (status = 503, description = "`MCP_UNAVAILABLE`: the MCP server is not running or does not answer within 5 s; `STORE_UNAVAILABLE`: the gateway's store cannot be reached to check the credential.", body = construct_core::openapi::ErrorBody),
    )
)]
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

#[utoipa::path(
    post,
    path = "/api/mcp/session",
    tag = "mcp",
    operation_id = "create_mcp_session",
    summary = "Mint an MCP session token for the caller",
    params(
        construct_core::openapi::IdempotencyKey,
    ),
    security(("bearer" = ["chat"]), ("session_cookie" = ["chat"])),
    responses(
        (status = 200, description = "The session and its token, shown once (`Cache-Control: no-store`): the token is kept only as a hash, lives `[mcp] session_ttl_secs` and dies with the gateway.", body = crate::openapi::schemas::McpSession,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 400, description = "`INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::IdempotencyInProgress,
        construct_core::openapi::IdempotencyKeyReused,
        (status = 429, description = "`RATE_LIMITED`: the API rate limit, or the lockout after repeated bad tokens; see `Retry-After`; `TOO_MANY_SESSIONS`: `[mcp] max_sessions` are open (`Retry-After: 60`).", body = construct_core::openapi::ErrorBody),
        (status = 500, description = "`INTERNAL_ERROR`: the system random source failed.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`MCP_UNAVAILABLE`: the MCP server is not running; `STORE_UNAVAILABLE`: the gateway's store cannot be reached to check the credential.", body = construct_core::openapi::ErrorBody),
    )
)]
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

#[utoipa::path(
    get,
    path = "/api/mcp/session/{id}/events",
    tag = "mcp",
    operation_id = "stream_mcp_session_events",
    summary = "Follow an MCP session's progress as Server-Sent Events",
    params(
        ("id" = String, Path, description = "The session id, as `POST /api/mcp/session` minted it for this principal."),
    ),
    security(("bearer" = ["chat"]), ("session_cookie" = ["chat"])),
    responses(
        (status = 200, description = "A Server-Sent Events stream (`X-Accel-Buffering: no`): one `data:` line of JSON `{token, progress, total?, message?, tool?, timestamp}` per progress step of the session's tool calls; a reader that fell behind gets `event: lagged` with `{missed}`. It ends when the gateway stops.", content_type = "text/event-stream", body = crate::openapi::schemas::ProgressEvent),
        (status = 400, description = "`INVALID_PATH`: a malformed path parameter.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`SESSION_NOT_FOUND`: no such session, it expired, or another principal minted it.", body = construct_core::openapi::ErrorBody),
    )
)]
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
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CallBody {
    /// The tool's name.
    tool: String,
    /// Its arguments, an object (absent or `null`: none).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    arguments: Value,
    /// A session of the caller's to report progress to.
    #[serde(default)]
    #[schema(nullable = false)]
    session_id: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/mcp/call",
    tag = "mcp",
    operation_id = "call_mcp_tool",
    summary = "Run an MCP tool in process",
    params(
        construct_core::openapi::IdempotencyKey,
    ),
    request_body(content = CallBody, content_type = "application/json"),
    security(("bearer" = ["chat"]), ("session_cookie" = ["chat"])),
    responses(
        (status = 200, description = "`{tool, result}`: the tool's result; progress went to the session when it is the caller's.", body = crate::openapi::schemas::McpCallResult),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`UNKNOWN_TOOL`: the server has no such tool; `NOT_FOUND`: the item the tool was asked for does not exist; `SESSION_NOT_FOUND`: `session_id` names no session of the caller's.", body = construct_core::openapi::ErrorBody),
        (status = 408, description = "`REQUEST_TIMEOUT`: the call ran past this route's 120 s.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::IdempotencyInProgress,
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the body is over 512 KiB.", body = construct_core::openapi::ErrorBody),
        (status = 422, description = "`INVALID_BODY`: a missing or mistyped `tool`, or an unknown field; `INVALID_ARGUMENTS`: `arguments` is not an object, or the tool refuses them; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        (status = 502, description = "`TOOL_FAILED`: the tool ran and failed.", body = construct_core::openapi::ErrorBody),
    )
)]
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
#[utoipa::path(
    get,
    path = "/api/mcp/servers",
    tag = "mcp",
    operation_id = "list_mcp_servers",
    summary = "List the configured external MCP servers",
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "`[[mcp.servers]]` with header names only (their values never leave the gateway), and `[mcp] allow_stdio`.", body = crate::openapi::schemas::ExternalServers),
    )
)]
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
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TestBody {
    /// The server's name, 1 to 100 characters; alone, it names a configured server to test.
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    name: String,
    /// How to reach it (default `http`; `null` means the default).
    #[serde(default)]
    transport: Option<crate::external::Transport>,
    /// Its Streamable HTTP endpoint (http; an http or https URL).
    #[serde(default)]
    #[schema(
        pattern = r"^https?://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,4})?(/[A-Za-z0-9._~/-]*)?$"
    )]
    url: Option<String>,
    /// Headers to send (http).
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
    /// The command to run (stdio).
    #[serde(default)]
    command: Option<String>,
    /// Its arguments (stdio).
    #[serde(default)]
    args: Vec<String>,
    /// Its environment (stdio).
    #[serde(default)]
    env: std::collections::BTreeMap<String, String>,
    /// How long the test may take, in milliseconds, brought into 100 to 10 000 (default 10 000); any JSON
    /// number.
    #[serde(default)]
    timeout_ms: Option<f64>,
}

fn invalid(message: impl Into<std::borrow::Cow<'static, str>>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::new("INVALID_FIELD"), message)
}

/// `POST /api/mcp/servers/test` (admin): connects, initializes and lists the tools of a server within
/// `timeout_ms` (at most 10 s). A request naming only a configured server tests it with its configured
/// headers (which never travel to the client); 404 `MCP_SERVER_NOT_FOUND` when none has that name. 422
/// `INVALID_FIELD` for a request that cannot be tested;
/// otherwise 200 `{ok: true, tool_count, tools, latency_ms}` or `{ok: false, error, latency_ms}`.
#[utoipa::path(
    post,
    path = "/api/mcp/servers/test",
    tag = "mcp",
    operation_id = "test_mcp_server",
    summary = "Connect to an MCP server and list its tools",
    params(
        construct_core::openapi::IdempotencyKey,
    ),
    request_body(content = TestBody, content_type = "application/json"),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "The test ran: `{ok: true, tool_count, tools, latency_ms}`, or `{ok: false, error, latency_ms}` when the server could not be reached, initialized or listed.", body = crate::openapi::schemas::ServerTest),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 403, description = "`FORBIDDEN_SCOPE`: the credential lacks the `admin` scope; `ORIGIN_NOT_ALLOWED`: a session cookie sent from a foreign origin; `STDIO_DISABLED`: a stdio server, unless `[mcp] allow_stdio = true`.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`MCP_SERVER_NOT_FOUND`: no `url` (http) and no configured server of that name.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::IdempotencyInProgress,
        construct_core::openapi::BodyTooLarge,
        (status = 422, description = "`INVALID_FIELD`: no name (or one over 100 characters), a `url` that is not an http(s) URL, or no `command` for stdio; `INVALID_BODY`: an unknown field or transport; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn test_server(State(state): State<McpState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    use crate::external::{Target, Transport, probe};
    let body: TestBody = from_json_slice(&body)?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
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
                (None, None) => {
                    return Err(ApiError::new(
                        StatusCode::NOT_FOUND,
                        ErrorCode::new("MCP_SERVER_NOT_FOUND"),
                        format!("No url was given and no configured MCP server is named {name:?}"),
                    ));
                }
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
    let millis = body.timeout_ms.unwrap_or(10_000.0).clamp(100.0, 10_000.0);
    let timeout = std::time::Duration::from_millis(millis as u64);
    let probed = probe(&target, timeout).await;
    let latency_ms = probed.latency.as_millis() as u64;
    Ok(Json(match probed.tools {
        Ok(tools) => json!({"ok": true, "tool_count": tools.len(), "tools": tools, "latency_ms": latency_ms}),
        Err(error) => json!({"ok": false, "error": error, "latency_ms": latency_ms}),
    }))
}
