//! The shapes of the JSON answers the `/api/mcp/*` routes build with `json!`, written out for the OpenAPI
//! document.
//!
//! Each type mirrors one answer field for field; none is ever built. A field the handler leaves out when it
//! has nothing to say is `skip_serializing_if` here (not required, never null); a field it always writes,
//! possibly as `null`, is a plain `Option` (required, nullable). When a handler's answer changes, the type
//! here must change with it.

#![allow(dead_code)] // Describes JSON the handlers write; never built.

use serde::Serialize;
use utoipa::ToSchema;

/// `GET /api/mcp/discovery`: `{available: true, url, pid, health}` when the discovery file names a live
/// process that answers, else `{available: false, reason}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct McpDiscovery {
    /// Whether the MCP server runs and answers.
    available: bool,
    /// Its Streamable HTTP endpoint (when available).
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    /// Its process id (when available).
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
    /// Its `/health` answer (when available).
    #[serde(skip_serializing_if = "Option::is_none")]
    health: Option<McpHealth>,
    /// Why it is not available (when not).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// The MCP listener's `/health`, as `GET /api/mcp/health` relays it.
#[derive(Debug, Serialize, ToSchema)]
pub struct McpHealth {
    /// `ok`.
    status: String,
    /// The serving process's id.
    pid: u32,
    /// Seconds since the server started.
    uptime_seconds: u64,
    /// When it started (RFC 3339).
    started_at: String,
    /// The MCP protocol version it speaks.
    protocol_version: String,
    /// MCP sessions open.
    sessions: u64,
}

/// `POST /api/mcp/session`: shown once (`Cache-Control: no-store`).
#[derive(Debug, Serialize, ToSchema)]
pub struct McpSession {
    /// The session id.
    session_id: String,
    /// The session token for `Authorization: Bearer` on the MCP listener; kept only as a hash.
    token: String,
    /// The MCP server's Streamable HTTP endpoint.
    url: String,
    /// When the token expires (RFC 3339).
    expires_at: String,
}

/// One event of a session's progress stream: `data: {token, progress, total?, message?, tool?, timestamp}`,
/// or `event: lagged` with `{missed}`.
pub struct ProgressEvent;

impl utoipa::PartialSchema for ProgressEvent {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let data = serde_json::json!({
            "oneOf": [
                {
                    "type": "object",
                    "required": ["token", "progress", "timestamp"],
                    "properties": {
                        "token": {"type": "integer", "minimum": 0, "description": "Which call of the session."},
                        "progress": {"type": "integer", "minimum": 0},
                        "total": {"type": "integer", "minimum": 0},
                        "message": {"type": "string"},
                        "tool": {"type": "string"},
                        "timestamp": {"type": "string", "description": "RFC 3339."}
                    }
                },
                {"type": "object", "required": ["missed"], "properties": {"missed": {"type": "integer", "minimum": 0}}}
            ]
        });
        construct_core::openapi::sse_event(
            "One event of the stream (`event:` only on `lagged`).",
            &["lagged"],
            data,
        )
        .into()
    }
}

impl ToSchema for ProgressEvent {}

/// `POST /api/mcp/call`.
#[derive(Debug, Serialize, ToSchema)]
pub struct McpCallResult {
    /// The tool that ran.
    tool: String,
    /// Its result (the tool's own JSON).
    #[schema(value_type = Object)]
    result: serde_json::Value,
}

/// One configured external MCP server; header values never leave the gateway.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExternalServer {
    /// Its name.
    name: String,
    /// Always `http`.
    transport: String,
    /// Its Streamable HTTP endpoint.
    url: String,
    /// The names of the headers configured for it.
    header_names: Vec<String>,
}

/// `GET /api/mcp/servers`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExternalServers {
    /// `[[mcp.servers]]`.
    servers: Vec<ExternalServer>,
    /// `[mcp] allow_stdio`.
    allow_stdio: bool,
}

/// `POST /api/mcp/servers/test`: `{ok: true, tool_count, tools, latency_ms}` or `{ok: false, error,
/// latency_ms}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServerTest {
    /// Whether the server connected, initialized and listed its tools.
    ok: bool,
    /// How many tools it lists (when `ok`).
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_count: Option<u64>,
    /// Their names (when `ok`).
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<Vec<String>>,
    /// What went wrong (when not `ok`).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// How long the test took, in milliseconds.
    latency_ms: u64,
}
