//! One tracing span per request: method, matched route, request id, then status and latency.
//!
//! The span never records headers, cookies, query strings or bodies, which is where credentials travel.
//! The route is the *matched* pattern (`/api/devices/{id}`), recorded by [`record_route`] once routing has
//! happened, so ids and tokens in paths stay out of the log too; unmatched requests log `route=unmatched`.

use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{MakeSpan, OnResponse, TraceLayer};
use tracing::{Level, Span, field};

use super::request_id::REQUEST_ID_HEADER;

/// Builds the request span.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &http::Request<B>) -> Span {
        let request_id = request.headers().get(&REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        tracing::info_span!(
            "request",
            method = %request.method(),
            route = "unmatched",
            request_id,
            status = field::Empty,
            latency_ms = field::Empty,
        )
    }
}

/// Records status and latency on the span and logs one line per response.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogResponse;

impl<B> OnResponse<B> for LogResponse {
    fn on_response(self, response: &http::Response<B>, latency: Duration, span: &Span) {
        let status = response.status().as_u16();
        span.record("status", status);
        span.record("latency_ms", latency.as_secs_f64() * 1000.0);
        if response.status().is_server_error() {
            tracing::event!(Level::WARN, status, "response");
        } else {
            tracing::event!(Level::DEBUG, status, "response");
        }
    }
}

/// The trace layer the stack uses.
pub fn layer() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RequestSpan, (), LogResponse> {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_request(())
        .on_response(LogResponse)
}

/// Route-level middleware: writes the matched route pattern into the current request span.
pub async fn record_route(matched: Option<MatchedPath>, request: Request, next: Next) -> Response {
    if let Some(matched) = matched {
        Span::current().record("route", matched.as_str());
    }
    next.run(request).await
}
