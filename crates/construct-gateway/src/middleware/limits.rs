//! Per-group body limit and timeout.
//!
//! Upstream applied one 64 KiB / 30 s pair of layers over everything and then tried to widen it for a few
//! routes, which silently did not work. Here every route group states its own limits (defaulting to the
//! configured `max_body_bytes` and `request_timeout_secs`) and they are applied to that group alone.
//!
//! The timeout bounds the time to the response *head*: a handler that returns a streaming body (SSE, a
//! WebSocket upgrade) is not cut off later. The body limit is enforced up front from `Content-Length`
//! (413 before the handler runs) and while streaming for chunked bodies (see [`super::body_limit`]).

use std::time::Duration;

use super::body_limit::BodyLimitLayer;
use super::timeout::TimeoutLayer;
use axum::Router;
use axum::extract::DefaultBodyLimit;

/// The limits of one route group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteLimits {
    /// Largest accepted request body, in bytes.
    pub body_bytes: usize,
    /// Longest time to produce the response head.
    pub timeout: Duration,
}

impl RouteLimits {
    /// Wraps every route of `router` in these limits.
    pub fn apply<S>(self, router: Router<S>) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        router
            .layer(DefaultBodyLimit::max(self.body_bytes))
            .layer(BodyLimitLayer::new(self.body_bytes))
            .layer(TimeoutLayer::new(self.timeout))
    }
}
