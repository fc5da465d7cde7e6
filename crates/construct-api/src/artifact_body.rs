//! `GET /api/artifact-body?location=` (read): the bytes of an artifact stored on this machine.
//!
//! Only files under `[kumiho] artifact_roots` (default `<data dir>/artifacts`) are served, judged after
//! canonicalisation, so neither `..` nor a symlink can reach outside them (upstream served any file the
//! process could read). Active content never renders on the dashboard's origin: HTML, SVG and XML come as
//! attachments, everything carries `X-Content-Type-Options: nosniff`. The body is streamed with Range
//! support (tower-http's `ServeFile`) instead of being read whole into memory.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use construct_core::extract::Query;
use construct_core::{ApiError, ErrorCode};
use http::{HeaderValue, Request, StatusCode, header};
use serde::Deserialize;
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::ApiState;

/// 400 for an empty, relative or unparseable location.
pub const INVALID_LOCATION: ErrorCode = ErrorCode::new("INVALID_LOCATION");
/// 403 for a file outside the artifact roots.
pub const OUTSIDE_ARTIFACT_ROOTS: ErrorCode = ErrorCode::new("OUTSIDE_ARTIFACT_ROOTS");

/// Query of `GET /api/artifact-body`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Location {
    /// An absolute path or a `file:///` (or `file://localhost/`) URI under an artifact root; surrounding
    /// whitespace is ignored.
    #[param(
        pattern = r"^[\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*(?:/|file://(?:localhost)?/)[\s\S]*$"
    )]
    location: String,
}

fn invalid(message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, INVALID_LOCATION, message.to_owned())
}

/// The path a location names: `file://` URIs (percent-decoded) or absolute paths.
pub fn location_path(raw: &str) -> Result<PathBuf, ApiError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(invalid("location is empty"));
    }
    let path = if raw.starts_with("file://") {
        url::Url::parse(raw)
            .ok()
            .and_then(|u| u.to_file_path().ok())
            .ok_or_else(|| invalid("location is not a valid file:// URI"))?
    } else {
        PathBuf::from(raw)
    };
    if !path.is_absolute() {
        return Err(invalid("location must be an absolute path or a file:// URI"));
    }
    Ok(path)
}

/// The canonical path of `path` if it lies under one of `roots` (canonicalised too).
pub fn confine(path: &Path, roots: &[PathBuf]) -> Result<PathBuf, ApiError> {
    let not_found =
        || ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NOT_FOUND, "Artifact not found on disk");
    let canonical = std::fs::canonicalize(path).map_err(|_| not_found())?;
    let inside = roots
        .iter()
        .filter_map(|root| std::fs::canonicalize(root).ok())
        .any(|root| canonical.starts_with(&root));
    if !inside {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            OUTSIDE_ARTIFACT_ROOTS,
            "This location is outside the artifact roots",
        ));
    }
    if !canonical.is_file() {
        return Err(invalid("artifact location is not a regular file"));
    }
    Ok(canonical)
}

/// Whether a content type could run script on the dashboard's origin if rendered.
fn active(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence.contains("html")
        || essence.contains("svg")
        || essence.contains("xml")
        || essence == "application/javascript"
        || essence == "text/javascript"
}

/// `Content-Disposition` with the file name percent-encoded (RFC 6266 `filename*`), never raw.
fn disposition(kind: &str, path: &Path) -> HeaderValue {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("artifact");
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!("{kind}; filename*=UTF-8''{encoded}"))
        .unwrap_or(HeaderValue::from_static("attachment"))
}

#[utoipa::path(
    get,
    path = "/api/artifact-body",
    tag = "kumiho",
    operation_id = "artifact_body",
    summary = "The bytes of an artifact stored under an artifact root",
    params(Location),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The file, streamed; `X-Content-Type-Options: nosniff`, `Content-Security-Policy: default-src 'none'; sandbox`, `Cache-Control: private, max-age=60`; HTML, SVG, XML and JavaScript as `Content-Disposition: attachment`, anything else `inline`.", content_type = "*/*", body = crate::openapi::schemas::FileBytes),
        (status = 206, description = "The requested `Range` of the file.", content_type = "*/*", body = crate::openapi::schemas::FileBytes),
        (status = 304, description = "Not modified since `If-Modified-Since` / `If-None-Match`."),
        (status = 400, description = "`INVALID_LOCATION`: `location` is empty, relative, not a valid `file://` URI, or not a regular file.", body = construct_core::openapi::ErrorBody),
        (status = 403, description = "`FORBIDDEN_SCOPE`: the credential lacks the `read` scope; `ORIGIN_NOT_ALLOWED`: a session cookie sent from a foreign origin; `OUTSIDE_ARTIFACT_ROOTS`: the file is outside the artifact roots (after canonicalisation).", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`NOT_FOUND`: no file at `location`.", body = construct_core::openapi::ErrorBody),
        (status = 416, description = "`BAD_REQUEST`: the `Range` cannot be satisfied; `Content-Range` gives the length.", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn artifact_body(
    State(state): State<ApiState>,
    Query(query): Query<Location>,
    request: Request<Body>,
) -> Result<Response, ApiError> {
    let roots = crate::revision_files::artifact_roots(&state);
    let path = confine(&location_path(&query.location)?, &roots)?;
    // Range and conditional headers pass through to the file service; nothing else does.
    let mut inner = Request::get("/").body(Body::empty()).map_err(|_| ApiError::internal())?;
    for name in [header::RANGE, header::IF_RANGE, header::IF_MODIFIED_SINCE, header::IF_NONE_MATCH] {
        if let Some(value) = request.headers().get(&name) {
            inner.headers_mut().insert(name, value.clone());
        }
    }
    let response = ServeFile::new(&path).oneshot(inner).await.map_err(|_| ApiError::internal())?;
    let mut response = response.map(Body::new).into_response();
    let headers = response.headers_mut();
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let kind = if active(&content_type) { "attachment" } else { "inline" };
    headers.insert(header::CONTENT_DISPOSITION, disposition(kind, &path));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=60"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_and_dispositions() {
        assert_eq!(location_path("file:///tmp/a%20b.txt").unwrap(), PathBuf::from("/tmp/a b.txt"));
        assert_eq!(location_path(" /tmp/x ").unwrap(), PathBuf::from("/tmp/x"));
        for bad in ["", "relative/x", "file://host/x", "s3://bucket/key"] {
            assert_eq!(location_path(bad).unwrap_err().code(), INVALID_LOCATION, "{bad}");
        }
        assert!(active("text/html; charset=utf-8") && active("image/svg+xml") && !active("text/plain"));
        let header = disposition("attachment", Path::new("/x/evil\"; name.html"));
        assert_eq!(header, "attachment; filename*=UTF-8''evil%22%3B%20name.html");
    }
}
