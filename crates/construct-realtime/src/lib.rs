//! # construct-realtime
//!
//! The gateway's live surfaces:
//! - [`canvas`]: the live canvas, REST and `WS /ws/canvas/{id}`, following the bus;
//! - [`chat`]: `WS /ws/chat`, chat with the agent in stored sessions, serialised by the [`session_queue`],
//!   with the REST companions in [`sessions_api`];
//! - [`nodes`]: remote capability providers over `WS /ws/nodes`, and invoking them over REST;
//! - [`sse`]: `GET /api/events`, the event bus as Server-Sent Events with ids, replay and lag notices;
//! - [`terminal`]: a shell over `WS /ws/terminal`, opt-in, with an allowlisted environment;
//! - [`openapi`]: this crate's part of the OpenAPI document ([`ApiDoc`]), the REST routes only;
//! - [`ws`]: what every WebSocket shares (Origin check, per-client cap, bounded lag-aware outbox, pings,
//!   idle timeout, meaningful close codes).
//!
//! Invariants: every queue is bounded and every skip is reported; every socket is authenticated (by its
//! route group's guard) and Origin-checked before the upgrade; handlers reach state through traits.

pub mod canvas;
pub mod chat;
pub mod coding_tools;
pub mod nodes;
pub mod openapi;
pub mod session_queue;
pub mod sessions_api;
pub mod sse;
pub mod terminal;
pub use construct_auth::ws;

use std::sync::Arc;

use axum::routing::{delete, get, post, put};
use construct_agent::Agent;
use construct_core::canvas::CanvasStore;
use construct_core::events::EventBus;
use construct_core::principal::Scope;
use construct_core::routes::{Access, RouteGroup};
use construct_core::sessions::SessionStore;

pub use chat::Attached;
pub use openapi::ApiDoc;
pub use session_queue::SessionQueue;
pub use ws::WsPolicy;

/// What the realtime routes share.
#[derive(Clone)]
pub struct RealtimeState(Arc<RealtimeShared>);

/// The parts of [`RealtimeState`].
pub struct RealtimeShared {
    /// Where events come from and go.
    pub events: Arc<dyn EventBus>,
    /// WebSocket admission and limits.
    pub ws: WsPolicy,
    /// Chat sessions.
    pub sessions: Arc<dyn SessionStore>,
    /// Whether sessions outlive the process (reported to clients).
    pub session_persistence: bool,
    /// Runs chat turns.
    pub agent: Arc<dyn Agent>,
    /// One turn per session at a time.
    pub queue: SessionQueue,
    /// Sockets attached to each session.
    pub attached: Arc<Attached>,
    /// Canvas frames.
    pub canvas: Arc<dyn CanvasStore>,
    /// Connected nodes.
    pub nodes: Arc<nodes::NodeRegistry>,
    /// Whether the node routes are mounted.
    pub nodes_enabled: bool,
    /// The MCP server, for coding tools launched in the terminal (`None`: not running).
    pub mcp: Option<Arc<dyn construct_core::mcp::McpIssuer>>,
    /// How long an invocation waits for its node.
    pub node_timeout: std::time::Duration,
    /// Terminal sessions and their settings.
    pub terminals: Arc<terminal::Terminals>,
    /// Whether `/ws/terminal` is mounted.
    pub terminal_enabled: bool,
    /// Where terminal openings and closings are recorded.
    pub audit: Arc<dyn construct_core::audit::AuditLog>,
    /// The gateway's own log lines, for `GET /api/daemon/logs`.
    pub logs: Arc<dyn EventBus>,
}

impl RealtimeShared {
    /// Publishes an event; a bus failure is logged, never fatal.
    pub async fn publish(&self, kind: &str, payload: serde_json::Value) {
        if let Err(error) = self.events.publish(kind, payload).await {
            tracing::warn!(%error, kind, "cannot publish event");
        }
    }
}

impl RealtimeState {
    /// State made of these parts.
    pub fn new(shared: RealtimeShared) -> Self {
        Self(Arc::new(shared))
    }

    /// The parts.
    pub fn shared(&self) -> &RealtimeShared {
        &self.0
    }
}

/// The realtime route groups.
pub fn route_groups(state: RealtimeState) -> Vec<RouteGroup> {
    let mut groups = vec![
        RouteGroup::new("daemon-logs", Access::Scope(Scope::Admin))
            .route("/api/daemon/logs", get(sse::daemon_logs))
            .with_state(state.clone()),
        RouteGroup::new("realtime-read", Access::Scope(Scope::Read))
            .route("/api/events", get(sse::events))
            .route("/api/canvas", get(canvas::list))
            .route("/api/canvas/{id}", get(canvas::get))
            .route("/api/canvas/{id}/history", get(canvas::history))
            .route("/api/canvas/{id}/view", get(canvas::view))
            .route("/ws/canvas/{id}", get(canvas::ws_canvas))
            .route("/api/sessions", get(sessions_api::list))
            .route("/api/sessions/running", get(sessions_api::running))
            .route("/api/sessions/{id}/messages", get(sessions_api::messages))
            .route("/api/sessions/{id}/state", get(sessions_api::session_state))
            .with_state(state.clone()),
        RouteGroup::new("realtime-chat", Access::Scope(Scope::Chat))
            .route("/ws/chat", get(chat::ws_chat))
            .route("/api/sessions/{id}", put(sessions_api::rename).delete(sessions_api::delete))
            .route("/api/sessions/{id}/messages", post(sessions_api::push_message))
            .route("/api/sessions/{id}/turns", post(sessions_api::push_turn))
            .route("/api/canvas/{id}", delete(canvas::clear))
            .with_state(state.clone()),
        // Its own body limit, so the 256 KiB content limit can be reached (upstream's could not).
        RouteGroup::new("canvas-render", Access::Scope(Scope::Chat))
            .body_limit(canvas::RENDER_BODY_LIMIT)
            .route("/api/canvas/{id}", post(canvas::render))
            .with_state(state.clone()),
    ];
    if state.0.terminal_enabled {
        groups.push(
            RouteGroup::new("terminal", Access::Scope(Scope::Terminal))
                .route("/ws/terminal", get(terminal::ws_terminal))
                .with_state(state.clone()),
        );
    }
    if state.0.nodes_enabled {
        let invoke_timeout = state.0.node_timeout + std::time::Duration::from_secs(5);
        groups.extend([
            RouteGroup::new("nodes-socket", Access::Node)
                .route("/ws/nodes", get(nodes::ws_nodes))
                .with_state(state.clone()),
            RouteGroup::new("nodes-read", Access::Scope(Scope::Read))
                .route("/api/nodes", get(nodes::list))
                .with_state(state.clone()),
            // Its own timeout: an invocation may wait for its node longer than the global request timeout.
            RouteGroup::new("nodes-invoke", Access::Scope(Scope::Admin))
                .timeout(invoke_timeout)
                .route("/api/nodes/{id}/invoke", post(nodes::invoke))
                .with_state(state),
        ]);
    }
    groups
}
