//! `GET /api/kumiho/{*path}` (read): the dashboard's window onto Kumiho.
//!
//! Only the paths the dashboard uses are served (upstream appended any path, `..` included, to the Kumiho
//! base and lent it the service token): the path must be one of [`ALLOWED`] exactly, its slashes sent as
//! they are or percent-encoded (as OpenAPI tools encode a path parameter). A path with `..`, `%2e`, `//`
//! or a backslash is 400 before anything else. The request is answered by Kumiho's REST contract served in process over the gateway's
//! `KumihoApi` (the embedded store, or the client of a remote Kumiho), so every kref is validated on the
//! way. Kumiho refusing the gateway's credentials is 502, never a 401 the browser would take for its own.
//! Responses are capped in size, and list responses are cached for 30 s; writes made through the gateway's
//! APIs clear the cache ([`KumihoCache::invalidate`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use construct_core::{ApiError, ErrorCode};
use http::{HeaderValue, Request, StatusCode, header};
use tower::ServiceExt;

use crate::ApiState;

/// 400 for a proxy path that tries to leave the allow-list by traversal or encoding.
pub const INVALID_PATH: ErrorCode = ErrorCode::new("INVALID_PATH");
/// 502 when Kumiho's answer is larger than the proxy passes on.
pub const RESPONSE_TOO_LARGE: ErrorCode = ErrorCode::new("RESPONSE_TOO_LARGE");

/// The Kumiho paths the dashboard reads.
pub const ALLOWED: [&str; 12] = [
    "projects",
    "spaces",
    "items",
    "items/by-kref",
    "items/fulltext-search",
    "revisions",
    "revisions/by-kref",
    "revisions/latest",
    "artifacts",
    "artifacts/by-kref",
    "edges",
    "bundles/members",
];
/// The `path` of the proxy route, as the OpenAPI document describes it: one of [`ALLOWED`].
pub struct KumihoPath;

impl utoipa::PartialSchema for KumihoPath {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(ALLOWED))
            .description(Some("A Kumiho path the gateway serves."))
            .into()
    }
}

impl utoipa::ToSchema for KumihoPath {}

/// Largest answer passed on.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;
/// How long a list answer is reused.
pub const CACHE_TTL: Duration = Duration::from_secs(30);
const CACHE_ENTRIES: usize = 256;

/// Recent list answers, by path and query.
#[derive(Default)]
pub struct KumihoCache {
    entries: Mutex<HashMap<String, (Instant, Bytes)>>,
}

impl KumihoCache {
    fn get(&self, key: &str) -> Option<Bytes> {
        let entries = self.entries.lock().ok()?;
        entries.get(key).filter(|(at, _)| at.elapsed() < CACHE_TTL).map(|(_, body)| body.clone())
    }

    fn put(&self, key: String, body: Bytes) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
            if entries.len() >= CACHE_ENTRIES
                && let Some(oldest) = entries.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
            entries.insert(key, (Instant::now(), body));
        }
    }

    /// Forgets every cached answer (after a write through the gateway).
    pub fn invalidate(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// Rejects traversal and encoding tricks in the raw request path. An encoded slash alone is no trick: the
/// path must then equal an [`ALLOWED`] entry, and `..` or `%2e` next to it is refused here.
fn check_raw_path(raw: &str) -> Result<(), ApiError> {
    let lowered = raw.to_ascii_lowercase();
    let tricky = raw.contains("..")
        || raw.contains("//")
        || raw.contains('\\')
        || lowered.contains("%2f%2f")
        || ["%2e", "%5c", "%00"].iter().any(|needle| lowered.contains(needle));
    if tricky {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, INVALID_PATH, "Invalid Kumiho path"));
    }
    Ok(())
}

fn json_response(status: StatusCode, body: Bytes) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[utoipa::path(
    get,
    path = "/api/kumiho/{path}",
    tag = "kumiho",
    operation_id = "kumiho_proxy",
    summary = "Read-only window onto Kumiho's REST API",
    params(
        ("path" = KumihoPath, Path, description = "The Kumiho path, its slashes sent as they are or percent-encoded. The query string is passed to Kumiho as is."),
    ),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "Kumiho's JSON answer, passed through (list answers cached 30 s).", body = serde_json::Value),
        (status = 400, description = "`INVALID_PATH`: `..`, `//`, a backslash or `%2e`/`%5c`/`%00` in the path; `BAD_REQUEST`: Kumiho refused the query.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`NOT_FOUND`: not a Kumiho path the gateway serves, or nothing there.", body = construct_core::openapi::ErrorBody),
        (status = 502, description = "`KUMIHO_BAD_GATEWAY`: Kumiho refused the gateway's credentials or answered badly; `RESPONSE_TOO_LARGE`: Kumiho's answer is over 8 MiB.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`KUMIHO_UNAVAILABLE`: Kumiho cannot be reached; `STORE_UNAVAILABLE`: the gateway's store cannot be reached to check the credential.", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn proxy(
    State(state): State<ApiState>,
    request: Request<Body>,
) -> Result<Response, ApiError> {
    let raw = request.uri().path().to_owned();
    check_raw_path(&raw)?;
    let sent = raw.split_once("/api/kumiho/").map(|(_, p)| p).unwrap_or_default();
    let sent = sent.replace("%2F", "/").replace("%2f", "/");
    let Some(path) = ALLOWED.iter().copied().find(|allowed| *allowed == sent.trim_end_matches('/')) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NOT_FOUND,
            "Not a Kumiho path the gateway serves",
        ));
    };
    let target = match request.uri().query() {
        Some(query) => format!("/api/v1/{path}?{query}"),
        None => format!("/api/v1/{path}"),
    };
    if let Some(body) = state.kumiho_cache.get(&target) {
        return Ok(json_response(StatusCode::OK, body));
    }
    let inner = Request::get(&target).body(Body::empty()).map_err(|_| ApiError::internal())?;
    let router: Router = construct_kumiho::router::router(std::sync::Arc::clone(&state.kumiho), None);
    let response = router.oneshot(inner).await.map_err(|_| ApiError::internal())?;
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), MAX_RESPONSE_BYTES).await.map_err(|_| {
        ApiError::new(StatusCode::BAD_GATEWAY, RESPONSE_TOO_LARGE, "Kumiho's answer is too large to pass on")
    })?;
    if matches!(status.as_u16(), 401 | 403) {
        // The gateway's own credentials were refused: not the browser's problem to re-pair over.
        return Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            construct_kumiho::api::KUMIHO_BAD_GATEWAY,
            "Kumiho refused the gateway's credentials",
        ));
    }
    if !status.is_success() {
        return Err(kumiho_refusal(status, &body));
    }
    if status == StatusCode::OK {
        state.kumiho_cache.put(target, body.clone());
    }
    Ok(json_response(status, body))
}

/// Kumiho's refusal (`{"error": …}`, or plain text for a malformed query) in the gateway's envelope, with
/// Kumiho's status and message, so every error the proxy answers has the documented shape.
fn kumiho_refusal(status: StatusCode, body: &[u8]) -> ApiError {
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(serde_json::Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(500).collect());
    ApiError::new(status, ErrorCode::for_status(status), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kumiho_refusals_come_in_the_envelope() {
        let plain = kumiho_refusal(
            StatusCode::BAD_REQUEST,
            b"Failed to deserialize query string: missing field `kref`",
        );
        assert_eq!((plain.status(), plain.code()), (StatusCode::BAD_REQUEST, ErrorCode::BAD_REQUEST));
        assert!(plain.message().contains("missing field"));
        let json = kumiho_refusal(StatusCode::NOT_FOUND, br#"{"error": "no such item"}"#);
        assert_eq!((json.code(), json.message()), (ErrorCode::NOT_FOUND, "no such item"));
    }

    #[test]
    fn raw_paths() {
        assert!(check_raw_path("/api/kumiho/items").is_ok());
        assert!(check_raw_path("/api/kumiho/items%2Fby-kref").is_ok(), "an encoded slash alone is fine");
        for bad in [
            "/api/kumiho/../admin",
            "/api/kumiho/%2e%2e/x",
            "/api/kumiho/%2E%2E/x",
            "/api/kumiho//projects",
            "/api/kumiho/a\\b",
            "/api/kumiho/items%2f..%2fx",
            "/api/kumiho/%2F%2Fprojects",
        ] {
            assert_eq!(check_raw_path(bad).unwrap_err().code(), INVALID_PATH, "{bad}");
        }
    }
}
