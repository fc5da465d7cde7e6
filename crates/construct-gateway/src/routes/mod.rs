//! The gateway's own routes: liveness, readiness, and the JSON 404 for everything unknown.

mod health;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

pub(crate) use health::not_found;

/// `/health` and `/readyz`, with state applied. Both are public.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::health))
        .route("/readyz", get(health::readyz))
        .with_state(state)
}
