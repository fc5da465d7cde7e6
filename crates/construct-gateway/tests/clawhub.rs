//! The ClawHub routes against a fake registry on a loopback port speaking ClawHub's API.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::*;
use construct_core::secret::Secret;
use http::{Method, StatusCode};
use serde_json::json;

const SKILL_MD: &str = "# PDF Tools\n\nRead and split PDFs.\n";

async fn fake_search(Query(q): Query<HashMap<String, String>>, headers: HeaderMap) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    axum::Json(json!({"results": [{"slug": "pdf-tools", "score": 0.9}], "q": q.get("q"), "limit": q.get("limit"), "auth": auth}))
        .into_response()
}

async fn fake_list(Query(q): Query<HashMap<String, String>>) -> Response {
    axum::Json(
        json!({"items": [{"slug": "pdf-tools"}], "sort": q.get("sort"), "safe": q.get("nonSuspiciousOnly")}),
    )
    .into_response()
}

async fn fake_detail(Path(slug): Path<String>) -> Response {
    match slug.as_str() {
        "pdf-tools" | "huge" | "quoted" => axum::Json(json!({
            "slug": slug,
            "displayName": "PDF Tools",
            "description": "Read PDFs",
            "latestVersion": {"version": "2.1.0"},
        }))
        .into_response(),
        long if long.starts_with("long-") => axum::Json(json!({"slug": slug})).into_response(),
        "broken" => (StatusCode::INTERNAL_SERVER_ERROR, "upstream exploded").into_response(),
        "locked" => (StatusCode::UNAUTHORIZED, "bad token").into_response(),
        _ => (StatusCode::NOT_FOUND, "no such skill").into_response(),
    }
}

async fn fake_file(Path(slug): Path<String>, Query(q): Query<HashMap<String, String>>) -> Response {
    assert_eq!(
        (q.get("path").map(String::as_str), q.get("tag").map(String::as_str)),
        (Some("SKILL.md"), Some("latest"))
    );
    match slug.as_str() {
        "pdf-tools" => ([("content-type", "text/markdown")], SKILL_MD).into_response(),
        "quoted" => axum::Json(json!("# Quoted\n")).into_response(),
        "huge" => "x".repeat(300 * 1024).into_response(),
        long if long.starts_with("long-") => SKILL_MD.into_response(),
        _ => (StatusCode::NOT_FOUND, "none").into_response(),
    }
}

async fn fake_clawhub() -> SocketAddr {
    let app = axum::Router::new()
        .route("/api/v1/search", get(fake_search))
        .route("/api/v1/skills", get(fake_list))
        .route("/api/v1/skills/{slug}", get(fake_detail))
        .route("/api/v1/skills/{slug}/file", get(fake_file));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn with_registry(url: String, token: Option<&str>) -> (Harness, String) {
    let token = token.map(Secret::new);
    let h = harness(move |l| {
        l.config.clawhub.api_url = url;
        l.config.clawhub.api_token = token;
    });
    let (admin, _) = pair_first(&h).await;
    (h, admin)
}

#[tokio::test]
async fn search_trending_and_detail_pass_through_with_the_token() {
    let addr = fake_clawhub().await;
    let (h, admin) = with_registry(format!("http://{addr}/"), Some("hub-token")).await;
    let r = &h.router;
    let (status, _, found) =
        call(Method::GET, "/api/clawhub/search?q=pdf%20tools&limit=5").token(&admin).send(r).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!((found["q"].as_str(), found["limit"].as_str()), (Some("pdf tools"), Some("5")));
    assert_eq!(found["auth"], "Bearer hub-token");
    let (_, _, trending) = call(Method::GET, "/api/clawhub/trending").token(&admin).send(r).await;
    assert_eq!((trending["sort"].as_str(), trending["safe"].as_str()), (Some("trending"), Some("true")));
    let (status, _, detail) = call(Method::GET, "/api/clawhub/skills/pdf-tools").token(&admin).send(r).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["skill_md"], SKILL_MD, "raw markdown is kept (upstream parsed it as JSON and lost it)");
    let (_, _, quoted) = call(Method::GET, "/api/clawhub/skills/quoted").token(&admin).send(r).await;
    assert_eq!(quoted["skill_md"], "# Quoted\n");

    for (uri, status, code) in [
        ("/api/clawhub/search", StatusCode::BAD_REQUEST, "INVALID_QUERY"),
        ("/api/clawhub/search?q=pdf&limit=0", StatusCode::BAD_REQUEST, "INVALID_QUERY"),
        ("/api/clawhub/trending?limit=101", StatusCode::BAD_REQUEST, "INVALID_QUERY"),
        ("/api/clawhub/skills/..", StatusCode::BAD_REQUEST, "INVALID_PATH"),
        ("/api/clawhub/skills/a%2F..%2F..%2Fadmin", StatusCode::BAD_REQUEST, "INVALID_PATH"),
        ("/api/clawhub/skills/missing", StatusCode::NOT_FOUND, "CLAWHUB_NOT_FOUND"),
        ("/api/clawhub/skills/broken", StatusCode::BAD_GATEWAY, "CLAWHUB_ERROR"),
        ("/api/clawhub/skills/locked", StatusCode::BAD_GATEWAY, "CLAWHUB_ERROR"),
    ] {
        assert_error(&call(Method::GET, uri).token(&admin).send(r).await, status, code);
    }
    assert_error(
        &call(Method::GET, "/api/clawhub/trending").send(r).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
    );
}

#[tokio::test]
async fn install_creates_a_checked_skill_once() {
    let addr = fake_clawhub().await;
    let (h, admin) = with_registry(format!("http://{addr}"), None).await;
    let r = &h.router;
    let (status, _, installed) =
        call(Method::POST, "/api/clawhub/install/pdf-tools").token(&admin).send(r).await;
    assert_eq!(status, StatusCode::CREATED, "{installed}");
    assert_eq!(
        (installed["installed"].as_bool(), installed["name"].as_str(), installed["slug"].as_str()),
        (Some(true), Some("PDF Tools"), Some("pdf-tools"))
    );
    let kref = installed["kref"].as_str().unwrap();
    assert_eq!(kref, "kref://CognitiveMemory/Skills/pdf-tools.skilldef");
    let (_, _, skill) = call(Method::GET, &format!("/api/skills/{kref}")).token(&admin).send(r).await;
    assert_eq!(skill["skill"]["content"], SKILL_MD);
    assert_eq!(skill["skill"]["tags"], json!(["clawhub", "pdf-tools"]));
    let (_, _, list) = call(Method::GET, "/api/skills").token(&admin).send(r).await;
    assert_eq!(list["total_count"], 1, "the list sees the install at once");

    assert_error(
        &call(Method::POST, "/api/clawhub/install/pdf-tools").token(&admin).send(r).await,
        StatusCode::CONFLICT,
        "CONFLICT",
    );
    for (slug, status, code) in [
        ("huge", StatusCode::UNPROCESSABLE_ENTITY, "INVALID_SKILL"),
        ("broken", StatusCode::BAD_GATEWAY, "CLAWHUB_ERROR"),
        ("missing", StatusCode::NOT_FOUND, "CLAWHUB_NOT_FOUND"),
        ("..", StatusCode::BAD_REQUEST, "INVALID_PATH"),
        ("a%2Fb", StatusCode::BAD_REQUEST, "INVALID_PATH"),
    ] {
        let got = call(Method::POST, &format!("/api/clawhub/install/{slug}")).token(&admin).send(r).await;
        assert_error(&got, status, code);
    }
    let (_, _, list) = call(Method::GET, "/api/skills").token(&admin).send(r).await;
    assert_eq!(list["total_count"], 1, "failed installs leave nothing behind");

    // A slug too long for a tag (tags are at most 50 characters) still installs, tagged `clawhub` only;
    // one too long for a skill name (100) does not.
    let too_long = format!("long-{}", "x".repeat(96));
    let got = call(Method::POST, &format!("/api/clawhub/install/{too_long}")).token(&admin).send(r).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "INVALID_FIELD");
    let long = format!("long-{}", "x".repeat(95));
    let (status, _, installed) =
        call(Method::POST, &format!("/api/clawhub/install/{long}")).token(&admin).send(r).await;
    assert_eq!(status, StatusCode::CREATED, "{installed}");
    let kref = installed["kref"].as_str().unwrap();
    let (_, _, skill) = call(Method::GET, &format!("/api/skills/{kref}")).token(&admin).send(r).await;
    assert_eq!(
        (skill["skill"]["name"].as_str(), skill["skill"]["tags"].clone()),
        (Some(&*long), json!(["clawhub"]))
    );

    let code = mint_code(&h, &admin, Some(json!({"scopes": ["read"]}))).await;
    let (_, _, paired) = call(Method::POST, "/pair").header("x-pairing-code", &code).send(r).await;
    let reader = paired["token"].as_str().unwrap();
    assert_error(
        &call(Method::POST, "/api/clawhub/install/quoted").token(reader).send(r).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN_SCOPE",
    );
}

#[tokio::test]
async fn a_disabled_or_unreachable_registry_is_said_plainly() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let (h, admin) = with_registry(format!("http://{closed}"), None).await;
    assert_error(
        &call(Method::GET, "/api/clawhub/trending").token(&admin).send(&h.router).await,
        StatusCode::BAD_GATEWAY,
        "CLAWHUB_UNREACHABLE",
    );
    let h = harness(|l| l.config.clawhub.enabled = false);
    let (admin, _) = pair_first(&h).await;
    assert_error(
        &call(Method::POST, "/api/clawhub/install/pdf-tools").token(&admin).send(&h.router).await,
        StatusCode::BAD_REQUEST,
        "CLAWHUB_DISABLED",
    );
}
