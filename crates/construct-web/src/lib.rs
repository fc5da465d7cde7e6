//! # construct-web
//!
//! The web dashboard, built from `web-dashboard/` by `cargo xtask web` into `web-dashboard/dist` (committed,
//! so `cargo build` needs no Node) and embedded here with `include_dir`.
//!
//! - `GET /_app/assets/{file}`: the hashed bundles, `Cache-Control: public, max-age=31536000, immutable`.
//! - The app itself (`index.html`) at `/`, at `/_app/` (which upstream's desktop shell loads) and at any
//!   browser navigation to a client route: `Cache-Control: no-cache`, the path prefix written into its
//!   `construct-base` meta tag and its asset URLs.
//! - Every answer carries `X-Content-Type-Options: nosniff`; the app also a strict Content-Security-Policy
//!   (`default-src 'self'`, no inline script, `frame-ancestors 'none'`), `X-Frame-Options: DENY` and
//!   `Referrer-Policy: no-referrer`.
//! - Unknown `/api/…` and `/ws/…` paths, and requests that are not a browser navigation, stay JSON 404s.
//!
//! Invariants: only files in the embedded tree are served (paths are looked up, never joined to a
//! directory); nothing here authenticates (the app is public; its data is not).

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use construct_core::ApiError;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use include_dir::{Dir, include_dir};

static DIST: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../web-dashboard/dist");

/// The policy of the app's page: its own scripts and styles only, no framing, no plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'self'; object-src 'none'";

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The app's page for a gateway served under `prefix` ("" or "/construct"): the prefix goes into the
/// `construct-base` meta tag and in front of every asset URL.
pub fn index_html(prefix: &str) -> String {
    let page = DIST.get_file("index.html").and_then(|f| f.contents_utf8()).unwrap_or_default();
    // The prefix is validated at startup to URL-path characters; escape what HTML attributes care about.
    let escaped =
        prefix.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;");
    page.replace(
        r#"<meta name="construct-base" content="" />"#,
        &format!(r#"<meta name="construct-base" content="{escaped}" />"#),
    )
    .replace("\"/_app/", &format!("\"{escaped}/_app/"))
}

fn secure(headers: &mut HeaderMap) {
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
}

/// The app's page with its headers.
pub fn page(prefix: &str) -> Response {
    let mut response = (StatusCode::OK, index_html(prefix)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    secure(headers);
    response
}

/// An embedded asset (`assets/…`), immutable; a JSON 404 for anything else.
pub fn asset(path: &str) -> Response {
    let found = path
        .strip_prefix("assets/")
        .filter(|rest| !rest.is_empty() && !rest.contains("..") && !rest.contains('\\'))
        .and_then(|_| DIST.get_file(path));
    let Some(file) = found else { return ApiError::not_found().into_response() };
    let mut response = Response::new(Body::from(file.contents()));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    secure(headers);
    response
}

/// Whether a request is a browser navigating to a page (GET or HEAD, wanting HTML).
fn navigation(request: &Request) -> bool {
    matches!(*request.method(), Method::GET | Method::HEAD)
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

/// What the gateway answers for paths no route claims, under `prefix`: the app for a browser navigating
/// to a client route, else the JSON 404. `/api/…`, `/ws/…` and `/_app/…` never fall back to the app.
pub fn fallback(prefix: &str, request: &Request) -> Response {
    let path = request.uri().path();
    let path = path.strip_prefix(prefix).unwrap_or(path);
    let reserved =
        ["/api/", "/ws/", "/_app/"].iter().any(|p| path.starts_with(p)) || path == "/api" || path == "/ws";
    if !reserved && navigation(request) {
        return page(prefix);
    }
    ApiError::not_found().into_response()
}

/// The dashboard's routes: `/`, `/_app/`, `/_app/index.html` and `/_app/assets/{*file}` (public).
pub fn route_group(prefix: &str) -> construct_core::routes::RouteGroup {
    use axum::routing::get;
    use construct_core::routes::{Access, RouteGroup};
    let (p1, p2, p3) = (prefix.to_owned(), prefix.to_owned(), prefix.to_owned());
    RouteGroup::new("dashboard", Access::Public)
        .route("/", get(move || async move { page(&p1) }))
        .route("/_app/", get(move || async move { page(&p2) }))
        .route("/_app/index.html", get(move || async move { page(&p3) }))
        .route(
            "/_app/assets/{*file}",
            get(|axum::extract::Path(file): axum::extract::Path<String>| async move {
                asset(&format!("assets/{file}"))
            }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_reaches_the_meta_tag_and_every_asset_url() {
        let page = index_html("/construct");
        assert!(page.contains(r#"<meta name="construct-base" content="/construct" />"#), "{page}");
        assert!(page.contains("\"/construct/_app/assets/"), "{page}");
        assert!(!page.contains("\"/_app/"), "{page}");
        assert!(!page.contains("<script>"), "no inline script");
        assert_eq!(
            index_html(""),
            DIST.get_file("index.html").and_then(|f| f.contents_utf8()).unwrap_or_default()
        );
        assert!(index_html("/a\"<b>").contains("content=\"/a&quot;&lt;b&gt;\""));
    }

    #[test]
    fn only_embedded_assets_are_served() {
        assert_eq!(asset("assets/../index.html").status(), StatusCode::NOT_FOUND);
        assert_eq!(
            asset("index.html").status(),
            StatusCode::NOT_FOUND,
            "the page is served by its own routes"
        );
        assert_eq!(asset("assets/missing.js").status(), StatusCode::NOT_FOUND);
        let script = DIST
            .get_dir("assets")
            .and_then(|d| d.files().find(|f| f.path().extension().is_some_and(|e| e == "js")));
        let script = script.map(|f| f.path().display().to_string()).unwrap_or_default();
        let response = asset(&script);
        assert_eq!(response.status(), StatusCode::OK, "{script}");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
    }
}
