//! The middleware stack, as tower layers, each in its own module and tested alone.
//!
//! Outermost first, every request passes through:
//! The stack is applied with `Router::layer`, which in axum wraps each endpoint *after* routing, so the
//! layers see the matched route pattern.
//!
//! 1. [`request_id`]: accept a well-formed `X-Request-Id` or mint one; echo it on the response.
//! 2. [`trace`]: one span per request (method, route, request id, status, latency; never headers).
//! 3. [`panic`]: a panicking handler becomes a 500 envelope instead of a dropped connection.
//! 4. [`envelope`]: any error response that is not already JSON becomes the `{"error","code"}` envelope
//!    (axum's 405, tower-http's 408 and 413, plain-text rejections).
//!
//! Per route group, closer to the handlers, [`limits`] applies the group's body limit and timeout.
//! Costs are measured by `cargo xtask bench` against a bare axum server.

pub mod body_limit;
pub mod envelope;
pub mod limits;
pub mod panic;
pub mod request_id;
pub mod timeout;
pub mod trace;

use axum::Router;
use tower::ServiceBuilder;

/// Wraps a fully routed application in the gateway-wide layers.
pub fn stack(app: Router) -> Router {
    app.layer(
        ServiceBuilder::new()
            .layer(request_id::layer())
            .layer(trace::TraceLayer)
            .layer(panic::CatchPanicLayer)
            .layer(envelope::EnvelopeLayer),
    )
}
