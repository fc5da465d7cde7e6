//! One tracing span per request: method, matched route, request id, then status and latency.
//!
//! The span never records headers, cookies, query strings or bodies, which is where credentials travel.
//! The route is the *matched* pattern (`/api/devices/{id}`), so ids and tokens in paths stay out of the log
//! too; unmatched requests log `route=unmatched`.
//!
//! When the `request` span is disabled by the log filter, the layer does no work at all: no clock reads,
//! no body wrapping. (tower-http's `TraceLayer` wraps every response body, an allocation per request.)

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::response::Response;
use pin_project_lite::pin_project;
use tower::{Layer, Service};
use tracing::{Level, Span, field};

use super::request_id::REQUEST_ID_HEADER;

/// Wraps each request in a span and logs its outcome.
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceLayer;

impl<S> Layer<S> for TraceLayer {
    type Service = Trace<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Trace { inner }
    }
}

/// The service [`TraceLayer`] produces.
#[derive(Debug, Clone, Copy)]
pub struct Trace<S> {
    inner: S,
}

/// The span for `request`: disabled (and free) unless `request` spans are enabled at INFO.
pub fn request_span(request: &Request) -> Span {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str);
    let request_id = request.headers().get(&REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    tracing::info_span!(
        "request",
        method = %request.method(),
        route,
        request_id,
        status = field::Empty,
        latency_ms = field::Empty,
    )
}

impl<S> Service<Request> for Trace<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = TraceFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let span = request_span(&request);
        if span.is_disabled() {
            return TraceFuture { inner: self.inner.call(request), span, started: None };
        }
        let inner = span.in_scope(|| self.inner.call(request));
        TraceFuture { inner, span, started: Some(Instant::now()) }
    }
}

pin_project! {
    /// Future of [`Trace`].
    pub struct TraceFuture<F> {
        #[pin]
        inner: F,
        span: Span,
        started: Option<Instant>,
    }
}

impl<F, E> Future for TraceFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(started) = *this.started else {
            return this.inner.poll(cx);
        };
        let _entered = this.span.enter();
        let result = std::task::ready!(this.inner.poll(cx));
        if let Ok(response) = &result {
            let status = response.status().as_u16();
            this.span.record("status", status);
            this.span.record("latency_ms", started.elapsed().as_secs_f64() * 1000.0);
            if response.status().is_server_error() {
                tracing::event!(Level::WARN, status, "response");
            } else {
                tracing::event!(Level::DEBUG, status, "response");
            }
        }
        Poll::Ready(result)
    }
}
