//! `GET /metrics` (admin): the gateway's metrics for Prometheus, as OpenMetrics text.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use construct_core::metrics::{CONTENT_TYPE, Metrics};
use construct_core::queue::WorkQueue;
use http::header;

/// What the route reads: the metrics, and the gauges sampled when scraped.
#[derive(Clone)]
pub struct MetricsState {
    /// The gateway's metrics.
    pub metrics: Arc<Metrics>,
    /// The channel work queue, whose depth is read at each scrape.
    pub queue: Arc<dyn WorkQueue>,
}

/// Samples the scrape-time gauges, then renders everything.
pub async fn render(state: &MetricsState) -> Response {
    // A queue that cannot answer leaves the last value rather than failing the scrape.
    if let Ok(depth) = state.queue.depth().await {
        state.metrics.webhook_queue_depth.set(depth);
    }
    ([(header::CONTENT_TYPE, CONTENT_TYPE), (header::CACHE_CONTROL, "no-store")], state.metrics.render())
        .into_response()
}

/// `GET /metrics`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "metrics",
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "OpenMetrics text (`application/openmetrics-text; version=1.0.0`).",
            body = String, content_type = "application/openmetrics-text"),
    )
)]
pub async fn metrics(State(state): State<MetricsState>) -> Response {
    render(&state).await
}
