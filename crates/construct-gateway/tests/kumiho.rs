//! The Kumiho proxy and the artifact body route through the assembled router.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use common::*;
use construct_core::LoadedConfig;
use construct_gateway::Gateway;
use construct_kumiho::model::Metadata;
use construct_kumiho::{HttpKumiho, KumihoApi, LocalKumiho};
use http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

async fn setup(kumiho: Arc<dyn KumihoApi>, configure: impl FnOnce(&mut LoadedConfig)) -> (Harness, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut loaded = LoadedConfig::with_defaults(dir.path());
    configure(&mut loaded);
    let gateway = Gateway::builder(loaded).kumiho(kumiho).build().unwrap();
    let h = Harness::from_parts(gateway, dir);
    let (token, _) = pair_first(&h).await;
    (h, token)
}

async fn seeded() -> Arc<LocalKumiho> {
    let store = Arc::new(LocalKumiho::in_memory().unwrap());
    store.create_project("Construct", None).await.unwrap();
    store.create_space("/Construct", "AgentPool").await.unwrap();
    store.create_item("/Construct/AgentPool", "reviewer", "agent", &Metadata::new()).await.unwrap();
    store
}

#[tokio::test]
async fn the_proxy_serves_allowed_paths_from_the_embedded_store() {
    let store = seeded().await;
    let (h, token) = setup(store.clone(), |_| {}).await;
    let (status, _, body) = call(Method::GET, "/api/kumiho/projects").token(&token).send(&h.router).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body[0]["name"], "Construct");
    let (status, headers, body) = call(Method::GET, "/api/kumiho/items?space_path=/Construct/AgentPool")
        .token(&token)
        .send(&h.router)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(body[0]["kref"], "kref://Construct/AgentPool/reviewer.agent");
    let got = call(Method::GET, "/api/kumiho/items/by-kref?kref=kref://Construct/AgentPool/ghost.agent")
        .token(&token)
        .send(&h.router)
        .await;
    assert_eq!(got.0, StatusCode::NOT_FOUND);

    // List answers are reused for 30 s.
    store.create_item("/Construct/AgentPool", "writer", "agent", &Metadata::new()).await.unwrap();
    let (_, _, cached) = call(Method::GET, "/api/kumiho/items?space_path=/Construct/AgentPool")
        .token(&token)
        .send(&h.router)
        .await;
    assert_eq!(cached.as_array().unwrap().len(), 1, "served from the cache");
    let (_, _, fresh) =
        call(Method::GET, "/api/kumiho/items?space_path=/Construct/AgentPool&include_deprecated=false")
            .token(&token)
            .send(&h.router)
            .await;
    assert_eq!(fresh.as_array().unwrap().len(), 2, "another query is another entry");
}

#[tokio::test]
async fn the_proxy_refuses_what_it_does_not_serve() {
    let (h, token) = setup(seeded().await, |_| {}).await;
    assert_error(
        &call(Method::GET, "/api/kumiho/projects").send(&h.router).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
    );
    for path in ["/api/kumiho/admin/users", "/api/kumiho/items/deprecate", "/api/kumiho/"] {
        let got = call(Method::GET, path).token(&token).send(&h.router).await;
        assert_error(&got, StatusCode::NOT_FOUND, "NOT_FOUND");
    }
    for path in [
        "/api/kumiho/%2e%2e/%2e%2e/admin",
        "/api/kumiho/items/..%2f..%2fsecrets",
        "/api/kumiho//projects",
        "/api/kumiho/items%5c..",
    ] {
        let got = call(Method::GET, path).token(&token).send(&h.router).await;
        assert_error(&got, StatusCode::BAD_REQUEST, "INVALID_PATH");
    }
    let got = call(Method::POST, "/api/kumiho/projects")
        .token(&token)
        .json(json!({"name": "x"}))
        .send(&h.router)
        .await;
    assert_eq!(got.0, StatusCode::METHOD_NOT_ALLOWED, "GET only");
}

#[tokio::test]
async fn a_remote_kumiho_refusing_the_gateway_is_a_502_not_a_401() {
    let backend: Arc<dyn KumihoApi> = Arc::new(LocalKumiho::in_memory().unwrap());
    let app = construct_kumiho::router::router(backend, Some("right-token"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = Arc::new(HttpKumiho::new(&url, "wrong-token").unwrap());
    let (h, token) = setup(client.clone(), |_| {}).await;
    let got = call(Method::GET, "/api/kumiho/projects").token(&token).send(&h.router).await;
    assert_error(&got, StatusCode::BAD_GATEWAY, "KUMIHO_BAD_GATEWAY");
    client.set_endpoint(&url, "right-token");
    assert_eq!(
        call(Method::GET, "/api/kumiho/projects").token(&token).send(&h.router).await.0,
        StatusCode::OK
    );
}

/// GET /api/artifact-body with optional extra headers; returns status, headers and raw body.
async fn body_of(
    h: &Harness,
    token: &str,
    location: &str,
    range: Option<&str>,
) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let encoded: String = url::form_urlencoded::byte_serialize(location.as_bytes()).collect();
    let mut request = Request::get(format!("/api/artifact-body?location={encoded}"))
        .header("host", "gateway.example")
        .header("authorization", format!("Bearer {token}"));
    if let Some(range) = range {
        request = request.header(header::RANGE, range);
    }
    let mut request = request.body(Body::empty()).unwrap();
    request.extensions_mut().insert(ConnectInfo(REMOTE.parse::<std::net::SocketAddr>().unwrap()));
    let response = h.router.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    (parts.status, parts.headers, body.collect().await.unwrap().to_bytes().to_vec())
}

#[tokio::test]
async fn artifact_bodies_stay_inside_their_roots_and_never_render_active_content() {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("notes.txt"), "hello artifact").unwrap();
    std::fs::write(root.path().join("page.html"), "<script>alert(1)</script>").unwrap();
    std::fs::write(outside.path().join("secret.txt"), "do not serve").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), root.path().join("link.txt")).unwrap();
    let roots = vec![root.path().to_owned()];
    let (h, token) =
        setup(Arc::new(LocalKumiho::in_memory().unwrap()), move |l| l.config.kumiho.artifact_roots = roots)
            .await;
    let inside = |name: &str| root.path().join(name).display().to_string();

    let (status, headers, body) = body_of(&h, &token, &inside("notes.txt"), None).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, &b"hello artifact"[..]));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("inline"));
    let (status, _, body) =
        body_of(&h, &token, &format!("file://{}", inside("notes.txt")), Some("bytes=6-13")).await;
    assert_eq!((status, body.as_slice()), (StatusCode::PARTIAL_CONTENT, &b"artifact"[..]), "Range works");

    let (status, headers, _) = body_of(&h, &token, &inside("page.html"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment"), "HTML never inline");

    let escape = format!(
        "{}/../{}/secret.txt",
        root.path().display(),
        outside.path().file_name().unwrap().to_str().unwrap()
    );
    for location in
        [outside.path().join("secret.txt").display().to_string(), escape, "/etc/passwd".to_owned()]
    {
        let (status, _, body) = body_of(&h, &token, &location, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{location}");
        assert!(!String::from_utf8_lossy(&body).contains("do not serve"));
    }
    #[cfg(unix)]
    assert_eq!(
        body_of(&h, &token, &inside("link.txt"), None).await.0,
        StatusCode::FORBIDDEN,
        "symlinks cannot escape"
    );
    assert_eq!(body_of(&h, &token, "relative/notes.txt", None).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(body_of(&h, &token, "", None).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(body_of(&h, &token, &inside("missing.txt"), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        body_of(&h, &token, &root.path().display().to_string(), None).await.0,
        StatusCode::BAD_REQUEST,
        "not a file"
    );
    let got = call(Method::GET, "/api/artifact-body?location=/etc/passwd").send(&h.router).await;
    assert_error(&got, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
}
