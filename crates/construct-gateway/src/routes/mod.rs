//! The gateway's own routes: liveness, readiness, metrics, and the JSON 404 for everything unknown.

pub(crate) mod health;
pub mod metrics;

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

/// `GET /metrics` for admins (and, with `[gateway] metrics_listen`, on a listener of its own).
pub(crate) fn metrics_group(state: metrics::MetricsState) -> RouteGroup {
    RouteGroup::new("metrics", Access::Scope(construct_core::principal::Scope::Admin))
        .route("/metrics", get(metrics::metrics))
        .with_state(state)
}

/// `GET /api/openapi.json` for readers; `prefix` is the gateway's path prefix ("" for none).
pub(crate) fn openapi_group(prefix: &str) -> RouteGroup {
    RouteGroup::new("openapi", Access::Scope(construct_core::principal::Scope::Read))
        .route("/api/openapi.json", get(crate::openapi::serve))
        .with_state(std::sync::Arc::<str>::from(prefix))
}
