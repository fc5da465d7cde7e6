//! Turns every error response into the JSON envelope.
//!
//! Handlers, our extractors and our layers already answer with `ApiError`. What remains are responses
//! produced by parts we do not own: axum's router (405 with an empty body), axum's own extractors
//! (plain-text rejections), and whatever an embedder mounts. This layer rewrites any 4xx/5xx response that
//! is not JSON into the envelope for its status. Only headers that still make sense for the new body are
//! kept (`Allow`, `Retry-After`, `WWW-Authenticate`, the request id, CORS); the old body's representation
//! headers (`Content-Encoding`, `Content-Range`, `ETag`, ...) go with it.
//!
//! It is a plain tower layer (no boxing, no extractor machinery) because every request passes through it.

use std::task::{Context, Poll};

use axum::response::{IntoResponse, Response};
use construct_core::ApiError;
use futures_util::FutureExt;
use futures_util::future::Map;
use http::header;
use tower::{Layer, Service};

/// The layer: wraps a service so its error responses leave as envelopes.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvelopeLayer;

impl<S> Layer<S> for EnvelopeLayer {
    type Service = Envelope<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Envelope { inner }
    }
}

/// The service [`EnvelopeLayer`] produces.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<S> {
    inner: S,
}

type Rewrite<E> = fn(Result<Response, E>) -> Result<Response, E>;

impl<S, R> Service<R> for Envelope<S>
where
    S: Service<R, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Map<S::Future, Rewrite<S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        self.inner.call(request).map(|result| result.map(ensure_envelope))
    }
}

/// Rewrites a non-JSON error response into the envelope; passes everything else through untouched.
pub fn ensure_envelope(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) {
        return response;
    }
    let original = response.headers().clone();
    let mut envelope = ApiError::from_status(status).into_response();
    let headers = envelope.headers_mut();
    for (name, value) in &original {
        let name_str = name.as_str();
        if KEPT_HEADERS.contains(&name_str) || name_str.starts_with("access-control-") {
            headers.append(name, value.clone());
        }
    }
    envelope
}

/// Headers of an error response that stay valid when its body is replaced.
/// (`content-range` tells a 416's client how long the file is.)
const KEPT_HEADERS: &[&str] =
    &["allow", "retry-after", "www-authenticate", "x-request-id", "vary", "content-range"];

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("application/problem+json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http::{HeaderValue, StatusCode};
    use http_body_util::BodyExt;

    async fn run(response: Response) -> (http::response::Parts, serde_json::Value) {
        let (parts, body) = ensure_envelope(response).into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        (parts, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
    }

    #[tokio::test]
    async fn plain_error_becomes_envelope_keeping_headers() {
        let mut response = Response::new(Body::from("length limit exceeded"));
        *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET,HEAD"));
        response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        response.headers_mut().insert(header::ETAG, HeaderValue::from_static("\"v1\""));
        let (parts, json) = run(response).await;
        assert_eq!(parts.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(parts.headers[header::ALLOW], "GET,HEAD");
        assert!(parts.headers.get(header::CONTENT_ENCODING).is_none(), "the old body's encoding is dropped");
        assert!(parts.headers.get(header::ETAG).is_none());
        assert_eq!(parts.headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(json["code"], "METHOD_NOT_ALLOWED");
    }

    #[tokio::test]
    async fn json_errors_and_successes_pass_through() {
        let original = ApiError::new(StatusCode::FORBIDDEN, construct_core::ErrorCode::new("CUSTOM"), "x");
        let (_, json) = run(original.into_response()).await;
        assert_eq!(json["code"], "CUSTOM");

        let (parts, _) = run(Response::new(Body::from("hello"))).await;
        assert_eq!(parts.status, StatusCode::OK);
    }
}
