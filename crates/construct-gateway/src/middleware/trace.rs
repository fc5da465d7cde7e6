//! One tracing span per request: method, matched route, request id, then status and latency.
//!
//! The span never records headers, cookies, query strings or bodies, which is where credentials travel.
//! The route is the *matched* pattern (`/api/devices/{id}`), so ids and tokens in paths stay out of the log
//! too; unmatched requests log `route=unmatched`.
//!
//! The span is at DEBUG level: the default `info` filter logs no line per request (set
//! `RUST_LOG=construct_gateway=debug` for an access log). A 5xx response is always logged at WARN, with
//! method and request id, whatever the filter. When the span is disabled the layer does almost nothing: no clock
//! reads, no span, no body wrapping (tower-http's `TraceLayer` wraps every response body, an allocation per
//! request; an enabled span at INFO cost 15 % of `/health` throughput in `cargo xtask bench`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::response::Response;
use http::{HeaderValue, Method};
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

/// The span for `request`: disabled (and free) unless `request` spans are enabled at DEBUG.
pub fn request_span(request: &Request) -> Span {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str);
    let request_id = request.headers().get(&REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    tracing::debug_span!(
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
            let origin = (request.method().clone(), request.headers().get(&REQUEST_ID_HEADER).cloned());
            return TraceFuture {
                inner: self.inner.call(request),
                span,
                started: None,
                origin: Some(origin),
            };
        }
        let inner = span.in_scope(|| self.inner.call(request));
        TraceFuture { inner, span, started: Some(Instant::now()), origin: None }
    }
}

pin_project! {
    /// Future of [`Trace`].
    pub struct TraceFuture<F> {
        #[pin]
        inner: F,
        span: Span,
        started: Option<Instant>,
        // Kept only while the span is disabled, to name a failing request in the WARN line. (Not the route:
        // cloning its shared `Arc<str>` on every request measurably contends between worker threads.)
        origin: Option<(Method, Option<HeaderValue>)>,
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
            let result = std::task::ready!(this.inner.poll(cx));
            if let (Ok(response), Some((method, request_id))) = (&result, this.origin.take())
                && response.status().is_server_error()
            {
                let request_id = request_id.as_ref().and_then(|v| v.to_str().ok()).unwrap_or("");
                tracing::warn!(%method, request_id, status = response.status().as_u16(), "response");
            }
            return Poll::Ready(result);
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

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// Collects everything the subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// tracing caches per-callsite interest process-wide; tests that swap subscribers take turns.
    static SUBSCRIBER_SWAP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    async fn logs_of(request: http::Request<Body>) -> String {
        let _turn = SUBSCRIBER_SWAP.lock().await;
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(Level::DEBUG)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = Router::new().route("/items/{id}", get(|| async { "ok" })).layer(TraceLayer);
        let _ = app.oneshot(request).await.unwrap();
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    }

    #[tokio::test]
    async fn logs_the_route_pattern_and_never_credentials() {
        let request = http::Request::get("/items/secret-id-123?token=query-secret")
            .header("authorization", "Bearer header-secret")
            .header("cookie", "session=cookie-secret")
            .header("x-request-id", "req-77")
            .body(Body::empty())
            .unwrap();
        let logs = logs_of(request).await;
        assert!(logs.contains("route=\"/items/{id}\""), "{logs}");
        assert!(logs.contains("request_id=\"req-77\""), "{logs}");
        assert!(logs.contains("status=200"), "{logs}");
        for secret in ["secret-id-123", "query-secret", "header-secret", "cookie-secret"] {
            assert!(!logs.contains(secret), "{secret} leaked into: {logs}");
        }
    }

    #[tokio::test]
    async fn server_errors_are_logged_even_when_the_span_is_off() {
        let _turn = SUBSCRIBER_SWAP.lock().await;
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(Level::INFO)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = Router::new()
            .route("/ok", get(|| async { "ok" }))
            .route("/bad/{id}", get(|| async { http::StatusCode::BAD_GATEWAY }))
            .layer(TraceLayer);
        let _ = app.clone().oneshot(http::Request::get("/ok").body(Body::empty()).unwrap()).await.unwrap();
        let bad = http::Request::get("/bad/7").header("x-request-id", "req-9").body(Body::empty()).unwrap();
        let _ = app.oneshot(bad).await.unwrap();
        let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert_eq!(logs.lines().count(), 1, "{logs}");
        assert!(
            logs.contains("WARN") && logs.contains("request_id=\"req-9\"") && logs.contains("status=502"),
            "{logs}"
        );
    }

    #[tokio::test]
    async fn disabled_spans_cost_nothing_and_log_nothing() {
        let _turn = SUBSCRIBER_SWAP.lock().await;
        // No subscriber: the span is disabled and the request still succeeds.
        let app = Router::new().route("/", get(|| async { "ok" })).layer(TraceLayer);
        let response = app.oneshot(http::Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), 200);
    }
}
