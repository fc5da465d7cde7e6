//! # construct-mcp
//!
//! The gateway's own MCP server and the routes that reach it:
//! - [`tools`]: the tool box, one thin call per tool into the traits the REST API uses;
//! - [`server`]: rmcp over Streamable HTTP at `/mcp` on a loopback listener with a random port, session
//!   tokens required, progress as notifications and as per-session Server-Sent Events;
//! - [`sessions`]: MCP session tokens (hashed, expiring, never stored);
//! - [`discovery`]: `<data-dir>/mcp.json` and [`discovery::discover`];
//! - [`routes`]: `/api/mcp/discovery`, `/api/mcp/health`, `/api/mcp/session`, `/api/mcp/session/{id}/events`,
//!   `/api/mcp/call`, and `WS /ws/mcp/events`, which relays a session's event stream through [`sse`];
//! - [`openapi`]: this crate's part of the gateway's OpenAPI document ([`ApiDoc`]).
//!
//! Invariants: the MCP listener binds loopback only; tokens exist only as hashes and only in this process;
//! a tool reaches the gateway's state only through core traits.

pub mod discovery;
pub mod external;
pub mod openapi;
pub mod routes;
pub mod server;
pub mod sessions;
pub mod sse;
pub mod tools;

pub use openapi::ApiDoc;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use construct_core::principal::Scope;
use construct_core::routes::{Access, RouteGroup};

use crate::sessions::McpSessions;
use crate::tools::ToolBox;

/// The timeout of `POST /api/mcp/call`.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// What the MCP routes share. Cheap to clone.
#[derive(Clone)]
pub struct McpState(Arc<McpShared>);

/// The parts of [`McpState`].
pub struct McpShared {
    /// The tools.
    pub tools: Arc<ToolBox>,
    /// The sessions.
    pub sessions: Arc<McpSessions>,
    /// The data directory (the discovery file is there).
    pub data_dir: PathBuf,
    /// For health checks.
    pub http: reqwest::Client,
    /// Cancelled when the gateway begins to stop: open event streams end.
    pub closing: tokio_util::sync::CancellationToken,
    /// How sockets are admitted (shared with every WebSocket route).
    pub ws: construct_auth::ws::WsPolicy,
    url: RwLock<Option<String>>,
    external: RwLock<External>,
}

/// `[[mcp.servers]]` and `[mcp] allow_stdio`.
#[derive(Debug, Clone, Default)]
pub struct External {
    /// The configured servers.
    pub servers: Vec<construct_core::config::ExternalMcpServer>,
    /// Whether stdio servers may be run.
    pub allow_stdio: bool,
}

impl McpState {
    /// State for these tools and sessions; `closing` ends open event streams at shutdown.
    pub fn new(
        tools: Arc<ToolBox>,
        sessions: Arc<McpSessions>,
        data_dir: PathBuf,
        closing: tokio_util::sync::CancellationToken,
        ws: construct_auth::ws::WsPolicy,
    ) -> Self {
        Self(Arc::new(McpShared {
            tools,
            sessions,
            data_dir,
            http: reqwest::Client::new(),
            closing,
            ws,
            url: RwLock::new(None),
            external: RwLock::default(),
        }))
    }

    /// Sets the external servers and whether stdio ones may run.
    pub fn set_external(&self, external: External) {
        *self.0.external.write().unwrap_or_else(std::sync::PoisonError::into_inner) = external;
    }

    /// The external servers and the stdio setting.
    pub fn external(&self) -> External {
        self.0.external.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// The parts.
    pub fn shared(&self) -> &McpShared {
        &self.0
    }

    /// The running server's URL, once started.
    pub fn url(&self) -> Option<String> {
        self.0.url.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Starts the MCP server (see [`server::start`]) and remembers its URL until it stops.
    pub async fn start(
        &self,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> std::io::Result<server::RunningMcp> {
        let running = server::start(
            Arc::clone(&self.0.tools),
            Arc::clone(&self.0.sessions),
            self.0.data_dir.clone(),
            shutdown,
        )
        .await?;
        *self.0.url.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(running.url.clone());
        Ok(running)
    }

    /// Forgets the URL (the server stopped).
    pub fn stopped(&self) {
        *self.0.url.write().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

/// The `/api/mcp/*` route groups, state applied.
pub fn route_groups(state: McpState) -> Vec<RouteGroup> {
    use axum::routing::{get, post};
    vec![
        RouteGroup::new("mcp-read", Access::Scope(Scope::Read))
            .route("/api/mcp/discovery", get(routes::discovery))
            .route("/api/mcp/health", get(routes::health))
            .with_state(state.clone()),
        RouteGroup::new("mcp-chat", Access::Scope(Scope::Chat))
            .route("/api/mcp/session", post(routes::session))
            .route("/api/mcp/session/{id}/events", get(routes::session_events))
            .route("/ws/mcp/events", get(routes::ws_events))
            .with_state(state.clone()),
        RouteGroup::new("mcp-admin", Access::Scope(Scope::Admin))
            .route("/api/mcp/servers", get(routes::servers))
            .route("/api/mcp/servers/test", post(routes::test_server))
            .with_state(state.clone()),
        RouteGroup::new("mcp-call", Access::Scope(Scope::Chat))
            .timeout(CALL_TIMEOUT)
            .body_limit(512 * 1024)
            .route("/api/mcp/call", post(routes::call))
            .with_state(state),
    ]
}

impl construct_core::mcp::McpIssuer for McpState {
    fn grant(&self, owner: &str) -> Option<construct_core::mcp::McpGrant> {
        let url = self.url()?;
        let minted = self.0.sessions.mint(owner).ok()?;
        Some(construct_core::mcp::McpGrant { url, token: minted.token, session_id: minted.session_id })
    }
}
