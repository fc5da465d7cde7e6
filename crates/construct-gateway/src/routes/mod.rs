//! The gateway's own routes: liveness, readiness, and the JSON 404 for everything unknown.

mod health;

use axum::routing::get;
use construct_core::routes::{Access, RouteGroup};

use crate::state::AppState;

pub(crate) use health::not_found;

/// `/health` and `/readyz`, with state applied. Both are public, and neither is rate limited: probes poll
/// them hard and they are cheap.
pub(crate) fn route_group(state: AppState) -> RouteGroup {
    RouteGroup::new("probes", Access::Public)
        .route("/health", get(health::health))
        .route("/readyz", get(health::readyz))
        .with_state(state)
}
