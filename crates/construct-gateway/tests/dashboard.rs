//! The embedded dashboard through the assembled router: its page, its assets, the fallback rules.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use axum::body::Body;
use axum::extract::ConnectInfo;
use common::*;
use http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn fetch(
    h: &Harness,
    method: Method,
    uri: &str,
    accept: Option<&str>,
) -> (StatusCode, http::HeaderMap, String) {
    let mut builder = Request::builder().method(method).uri(uri).header(header::HOST, "gateway.example");
    if let Some(accept) = accept {
        builder = builder.header(header::ACCEPT, accept);
    }
    let mut request = builder.body(Body::empty()).unwrap();
    request.extensions_mut().insert(ConnectInfo(REMOTE.parse::<std::net::SocketAddr>().unwrap()));
    let response = h.router.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&body.collect().await.unwrap().to_bytes()).into_owned(),
    )
}

const HTML: Option<&str> = Some("text/html,application/xhtml+xml,*/*;q=0.8");

#[tokio::test]
async fn the_page_and_its_assets_are_served_with_strict_headers() {
    let h = harness(|_| {});
    for path in ["/", "/_app/", "/_app/index.html"] {
        let (status, headers, page) = fetch(&h, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("default-src 'self'")
                && csp.contains("frame-ancestors 'none'")
                && !csp.contains("unsafe-inline")
        );
        assert_eq!(
            (
                headers[header::X_CONTENT_TYPE_OPTIONS].to_str().unwrap(),
                headers[header::REFERRER_POLICY].to_str().unwrap()
            ),
            ("nosniff", "no-referrer")
        );
        assert!(page.contains("<div id=\"root\">"), "{page}");
    }
    let (_, _, page) = fetch(&h, Method::GET, "/", None).await;
    let script = page.split("src=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(script.starts_with("/_app/assets/"), "{script}");
    let (status, headers, _) = fetch(&h, Method::GET, &script, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
    assert_eq!(headers[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
    let (status, _, body) = fetch(&h, Method::GET, "/_app/assets/..%2F..%2Fetc%2Fpasswd", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("\"code\":\"NOT_FOUND\""));
}

#[tokio::test]
async fn client_routes_get_the_page_and_everything_else_stays_a_json_404() {
    let h = harness(|_| {});
    let (status, headers, _) = fetch(&h, Method::GET, "/chat/session-1", HTML).await;
    assert_eq!(
        (status, headers[header::CONTENT_TYPE].to_str().unwrap()),
        (StatusCode::OK, "text/html; charset=utf-8")
    );
    for (method, uri, accept) in [
        (Method::GET, "/api/nothing-here", HTML),
        (Method::GET, "/ws/nothing-here", HTML),
        (Method::GET, "/_app/missing.html", HTML),
        (Method::GET, "/chat", None),
        (Method::POST, "/chat", HTML),
    ] {
        let (status, headers, body) = fetch(&h, method.clone(), uri, accept).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {uri}");
        assert!(
            headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"),
            "{method} {uri}: {body}"
        );
    }
}

#[tokio::test]
async fn under_a_path_prefix_the_page_points_at_prefixed_assets() {
    let h = harness(|l| l.config.gateway.path_prefix = Some("/construct".into()));
    let (status, _, page) = fetch(&h, Method::GET, "/construct", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("content=\"/construct\"") && page.contains("\"/construct/_app/assets/"), "{page}");
    let (status, _, _) = fetch(&h, Method::GET, "/construct/devices", HTML).await;
    assert_eq!(status, StatusCode::OK, "client routes under the prefix");
    let (status, _, _) = fetch(&h, Method::GET, "/elsewhere", HTML).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "outside the prefix");
}

fn set_cookie(headers: &http::HeaderMap) -> String {
    headers.get(header::SET_COOKIE).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

#[tokio::test]
async fn the_browser_signs_in_with_an_httponly_cookie_and_signs_out() {
    let h = harness(|_| {});
    let r = &h.router;
    let code = h.gateway.pairing().ensure_initial_code().await.unwrap().unwrap().code;
    let foreign = call(Method::POST, "/api/auth/login")
        .header("origin", "https://evil.example")
        .json(serde_json::json!({"code": code}));
    assert_error(&foreign.send(r).await, StatusCode::FORBIDDEN, "ORIGIN_NOT_ALLOWED");
    assert_error(
        &call(Method::POST, "/api/auth/login").json(serde_json::json!({"code": "000000"})).send(r).await,
        StatusCode::FORBIDDEN,
        "INVALID_PAIRING_CODE",
    );
    assert_error(
        &call(Method::POST, "/api/auth/login")
            .json(serde_json::json!({"code": code, "token": "x"}))
            .send(r)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_BODY",
    );
    let (status, headers, body) = call(Method::POST, "/api/auth/login")
        .header("origin", "http://gateway.example")
        .json(serde_json::json!({"code": code, "name": "laptop"}))
        .send(r)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cookie = set_cookie(&headers);
    for part in ["construct_session=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: no Secure flag, or the browser would drop it");
    let value = cookie.split(';').next().unwrap().to_owned();
    let token = value.trim_start_matches("construct_session=");
    assert!(!body.to_string().contains(token), "the token never reaches scripts");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");

    let (status, _, session) = call(Method::GET, "/api/auth/session").header("cookie", &value).send(r).await;
    assert_eq!((status, session["authenticated"].as_bool()), (StatusCode::OK, Some(true)), "{session}");
    assert_eq!(session["kind"], "device", "a device: signing out revokes it");
    assert_eq!(session["name"], "laptop", "the name the dashboard shows");
    let own =
        call(Method::GET, "/api/status").header("cookie", &value).header("origin", "http://gateway.example");
    assert_eq!(own.send(r).await.0, StatusCode::OK);
    let cross =
        call(Method::GET, "/api/status").header("cookie", &value).header("origin", "https://evil.example");
    assert_error(&cross.send(r).await, StatusCode::FORBIDDEN, "ORIGIN_NOT_ALLOWED");

    let (status, headers, _) = call(Method::POST, "/api/auth/logout").header("cookie", &value).send(r).await;
    assert_eq!(status, StatusCode::OK);
    assert!(set_cookie(&headers).contains("Max-Age=0"));
    assert_error(
        &call(Method::GET, "/api/auth/session").header("cookie", &value).send(r).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
    );
}

#[tokio::test]
async fn under_tls_the_cookie_is_secure_and_scoped_to_the_prefix() {
    use construct_tls::testing::{Authority, Usage};
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) =
        Authority::new("CA").issue("localhost", &["localhost"], Usage::Server).write(certs.path(), "server");
    let h = harness(move |l| {
        l.config.gateway.path_prefix = Some("/construct".into());
        l.config.gateway.tls.enabled = true;
        l.config.gateway.tls.cert_path = Some(cert);
        l.config.gateway.tls.key_path = Some(key);
    });
    let code = h.gateway.pairing().ensure_initial_code().await.unwrap().unwrap().code;
    let (status, headers, body) = call(Method::POST, "/construct/api/auth/login")
        .json(serde_json::json!({"code": code}))
        .send(&h.router)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cookie = set_cookie(&headers);
    assert!(cookie.contains("; Secure") && cookie.contains("Path=/construct;"), "{cookie}");
}

#[tokio::test]
async fn without_pairing_on_loopback_the_dashboard_opens_as_the_local_operator() {
    let h = harness(|l| l.config.gateway.require_pairing = false);
    let (status, _, session) = call(Method::GET, "/api/auth/session").from(LOCAL).send(&h.router).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["principal"], "local-operator");
    assert_eq!(session["kind"], "local_operator", "the dashboard hides sign-out: nothing to revoke");
    assert_eq!(
        session["scopes"],
        serde_json::json!(["read", "chat", "admin"]),
        "never the terminal implicitly"
    );
    let (status, _, body) = call(Method::POST, "/api/auth/logout").from(LOCAL).send(&h.router).await;
    assert_eq!((status, &body["revoked"]), (StatusCode::OK, &serde_json::json!(false)));
    let remote = call(Method::GET, "/api/auth/session").send(&h.router).await;
    assert_error(&remote, StatusCode::FORBIDDEN, "LOOPBACK_ONLY");
}
