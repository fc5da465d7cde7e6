//! The error envelope.
//!
//! Every error the gateway sends, whatever produced it (a handler, an extractor, a middleware, the router
//! itself), is JSON of one shape: `{"error": "<human message>", "code": "<SNAKE_CASE>"}` with the right
//! HTTP status. Clients branch on `code`; `error` is for people and may change wording. A 401 also carries
//! `WWW-Authenticate: Bearer`, and a 429 or 503 with a known wait carries `Retry-After` plus a
//! `retry_after` field for clients that cannot read headers.
//!
//! Route crates build their own error enums and convert them into [`ApiError`] at the edge.

use std::borrow::Cow;
use std::fmt;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};

/// A machine-readable error code, always `SCREAMING_SNAKE_CASE`.
///
/// Codes are open-ended so that extension crates can add their own with [`ErrorCode::new`]; the common
/// ones are associated constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(&'static str);

impl ErrorCode {
    /// Malformed request that no more specific code describes.
    pub const BAD_REQUEST: Self = Self("BAD_REQUEST");
    /// The body is not syntactically valid JSON.
    pub const INVALID_JSON: Self = Self("INVALID_JSON");
    /// The body is JSON but does not match the expected schema.
    pub const INVALID_BODY: Self = Self("INVALID_BODY");
    /// The query string does not match the expected parameters.
    pub const INVALID_QUERY: Self = Self("INVALID_QUERY");
    /// A path parameter could not be parsed.
    pub const INVALID_PATH: Self = Self("INVALID_PATH");
    /// The request's `Content-Type` is not one this route accepts.
    pub const UNSUPPORTED_MEDIA_TYPE: Self = Self("UNSUPPORTED_MEDIA_TYPE");
    /// No credentials, or credentials that are not valid.
    pub const UNAUTHORIZED: Self = Self("UNAUTHORIZED");
    /// Valid credentials without the right to do this.
    pub const FORBIDDEN: Self = Self("FORBIDDEN");
    /// Nothing is served at this path.
    pub const NOT_FOUND: Self = Self("NOT_FOUND");
    /// The path exists but not for this method.
    pub const METHOD_NOT_ALLOWED: Self = Self("METHOD_NOT_ALLOWED");
    /// The request took longer than the route's timeout to produce a response.
    pub const REQUEST_TIMEOUT: Self = Self("REQUEST_TIMEOUT");
    /// The state changed under the request.
    pub const CONFLICT: Self = Self("CONFLICT");
    /// The body is larger than the route's limit.
    pub const PAYLOAD_TOO_LARGE: Self = Self("PAYLOAD_TOO_LARGE");
    /// The client is sending too many requests.
    pub const RATE_LIMITED: Self = Self("RATE_LIMITED");
    /// An unexpected failure inside the gateway; details are in the server log, never in the response.
    pub const INTERNAL_ERROR: Self = Self("INTERNAL_ERROR");
    /// The gateway cannot serve right now (starting, draining, or a dependency is down): `/readyz`.
    pub const NOT_READY: Self = Self("NOT_READY");
    /// A store the request needs (devices, sessions, canvases, the work queue, idempotency records)
    /// cannot be reached.
    pub const STORE_UNAVAILABLE: Self = Self("STORE_UNAVAILABLE");

    /// A code of an extension crate. `code` must be `SCREAMING_SNAKE_CASE`; this is checked in debug builds.
    pub const fn new(code: &'static str) -> Self {
        Self(code)
    }

    /// The code as sent on the wire.
    pub const fn as_str(self) -> &'static str {
        self.0
    }

    /// The code a bare status maps to when nothing more specific is known.
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::BAD_REQUEST => Self::BAD_REQUEST,
            StatusCode::UNAUTHORIZED => Self::UNAUTHORIZED,
            StatusCode::FORBIDDEN => Self::FORBIDDEN,
            StatusCode::NOT_FOUND => Self::NOT_FOUND,
            StatusCode::METHOD_NOT_ALLOWED => Self::METHOD_NOT_ALLOWED,
            StatusCode::REQUEST_TIMEOUT => Self::REQUEST_TIMEOUT,
            StatusCode::CONFLICT => Self::CONFLICT,
            StatusCode::PAYLOAD_TOO_LARGE => Self::PAYLOAD_TOO_LARGE,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UNSUPPORTED_MEDIA_TYPE,
            StatusCode::UNPROCESSABLE_ENTITY => Self::INVALID_BODY,
            StatusCode::TOO_MANY_REQUESTS => Self::RATE_LIMITED,
            StatusCode::SERVICE_UNAVAILABLE => Self::NOT_READY,
            s if s.is_client_error() => Self::BAD_REQUEST,
            _ => Self::INTERNAL_ERROR,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// The JSON body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    /// Human-readable message.
    pub error: String,
    /// Machine-readable `SCREAMING_SNAKE_CASE` code.
    pub code: String,
    /// Seconds to wait before retrying, when the server knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Route-specific fields (`validation_errors`, ...), beside the standard ones.
    #[serde(flatten, default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub details: std::collections::BTreeMap<String, serde_json::Value>,
}

/// An error ready to be sent: status, code, message and optional retry hint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    message: Cow<'static, str>,
    retry_after: Option<u64>,
    details: std::collections::BTreeMap<&'static str, serde_json::Value>,
}

impl ApiError {
    /// An error with an explicit status, code and message.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        debug_assert!(
            code.as_str().bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
            "error codes are SCREAMING_SNAKE_CASE: {code}"
        );
        Self { status, code, message: message.into(), retry_after: None, details: Default::default() }
    }

    /// The envelope for a bare status, with the status's canonical reason as message.
    pub fn from_status(status: StatusCode) -> Self {
        let message = status.canonical_reason().unwrap_or("Error");
        Self::new(status, ErrorCode::for_status(status), message)
    }

    /// 404 for a path nothing is served at.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NOT_FOUND, "Not found")
    }

    /// 405 for a known path requested with a method it does not serve.
    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, ErrorCode::METHOD_NOT_ALLOWED, "Method not allowed")
    }

    /// 408 when the route's timeout elapsed before a response was ready.
    pub fn request_timeout() -> Self {
        Self::new(StatusCode::REQUEST_TIMEOUT, ErrorCode::REQUEST_TIMEOUT, "Request timed out")
    }

    /// 413 when the body is over the route's limit.
    pub fn payload_too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PAYLOAD_TOO_LARGE, "Request body is too large")
    }

    /// 500; the cause belongs in the log, never in the response.
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::INTERNAL_ERROR, "Internal server error")
    }

    /// Adds a retry hint, sent as the `Retry-After` header and the `retry_after` field.
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// Adds a route-specific field to the envelope (`error`, `code` and `retry_after` are reserved).
    pub fn with_detail(mut self, key: &'static str, value: serde_json::Value) -> Self {
        debug_assert!(!matches!(key, "error" | "code" | "retry_after"), "reserved envelope field {key}");
        self.details.insert(key, value);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The machine-readable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The envelope this error serialises to.
    pub fn envelope(&self) -> ErrorEnvelope {
        ErrorEnvelope {
            error: self.message.to_string(),
            code: self.code.as_str().to_owned(),
            retry_after: self.retry_after,
            details: self.details.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.envelope())).into_response();
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_json(response: Response) -> serde_json::Value {
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        serde_json::from_slice(&bytes).expect("json")
    }

    #[tokio::test]
    async fn envelope_shape_and_headers() {
        let response =
            ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::UNAUTHORIZED, "pair first").into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(
            body_json(response).await,
            serde_json::json!({"error": "pair first", "code": "UNAUTHORIZED"})
        );
    }

    #[tokio::test]
    async fn retry_after_is_header_and_field() {
        let response = ApiError::new(StatusCode::TOO_MANY_REQUESTS, ErrorCode::RATE_LIMITED, "slow down")
            .with_retry_after(42)
            .into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "42");
        assert!(response.headers().get(header::WWW_AUTHENTICATE).is_none());
        assert_eq!(body_json(response).await["retry_after"], 42);
    }

    #[test]
    fn status_mapping_covers_common_statuses() {
        assert_eq!(ErrorCode::for_status(StatusCode::NOT_FOUND), ErrorCode::NOT_FOUND);
        assert_eq!(ErrorCode::for_status(StatusCode::IM_A_TEAPOT), ErrorCode::BAD_REQUEST);
        assert_eq!(ErrorCode::for_status(StatusCode::BAD_GATEWAY), ErrorCode::INTERNAL_ERROR);
        assert_eq!(ApiError::from_status(StatusCode::GONE).message(), "Gone");
    }
}
