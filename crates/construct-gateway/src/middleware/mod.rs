//! The middleware stack, as tower layers, each in its own module and tested alone.
//!
//! The stack is applied with `Router::layer`, which in axum wraps each endpoint *after* routing, so the
//! layers see the matched route pattern. Outermost first, every request passes through:
//!
//! 1. [`request_id`]: accept a well-formed `X-Request-Id` or mint one; echo it on the response.
//! 2. [`trace`]: one span per request (method, route, request id, status, latency; never headers).
//! 3. [`metrics`]: requests counted by method, route pattern and status, with their latency.
//! 4. [`panic`]: a panicking handler becomes a 500 envelope instead of a dropped connection.
//! 5. [`envelope`]: any error response that is not already JSON becomes the `{"error","code"}` envelope
//!    (axum's 405, axum's plain-text extractor rejections, whatever an embedder mounts).
//!
//! Per route group, closer to the handlers, [`limits`] applies the group's [`body_limit`] and [`timeout`].
//! tower-http has layers for most of these; ours exist because tower-http's re-box every response body
//! or arm a timer per request, costs that `cargo xtask bench` showed (each module says which).

pub mod body_limit;
pub mod envelope;
pub mod limits;
pub mod metrics;
pub mod panic;
pub mod request_id;
pub mod timeout;
pub mod trace;

use std::sync::Arc;

use axum::Router;
use construct_core::metrics::Metrics;
use tower::ServiceBuilder;

/// Wraps a fully routed application in the gateway-wide layers, recording into `metrics`.
pub fn stack(app: Router, metrics: Arc<Metrics>) -> Router {
    app.layer(
        ServiceBuilder::new()
            .layer(request_id::RequestIdLayer)
            .layer(trace::TraceLayer)
            .layer(metrics::MetricsLayer::new(metrics))
            .layer(panic::CatchPanicLayer)
            .layer(envelope::EnvelopeLayer),
    )
}
