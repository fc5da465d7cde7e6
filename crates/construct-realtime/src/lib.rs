//! # construct-realtime
//!
//! The gateway's live surfaces:
//! - [`sse`]: `GET /api/events`, the event bus as Server-Sent Events with ids, replay and lag notices;
//! - [`ws`]: what every WebSocket shares (Origin check, per-client cap, bounded lag-aware outbox, pings,
//!   idle timeout, meaningful close codes).
//!
//! Invariants: every queue is bounded and every skip is reported; every socket is authenticated (by its
//! route group's guard) and Origin-checked before the upgrade; handlers reach state through traits.

pub mod sse;
pub mod ws;

use std::sync::Arc;

use axum::routing::get;
use construct_core::events::EventBus;
use construct_core::principal::Scope;
use construct_core::routes::{Access, RouteGroup};

pub use ws::WsPolicy;

/// What the realtime routes share.
#[derive(Clone)]
pub struct RealtimeState(Arc<RealtimeShared>);

/// The parts of [`RealtimeState`].
pub struct RealtimeShared {
    /// Where events come from.
    pub events: Arc<dyn EventBus>,
    /// WebSocket admission and limits.
    pub ws: WsPolicy,
}

impl RealtimeState {
    /// State made of these parts.
    pub fn new(shared: RealtimeShared) -> Self {
        Self(Arc::new(shared))
    }
}

/// The realtime route groups.
pub fn route_groups(state: RealtimeState) -> Vec<RouteGroup> {
    vec![
        RouteGroup::new("events", Access::Scope(Scope::Read))
            .route("/api/events", get(sse::events))
            .with_state(state),
    ]
}
