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
    // Its slash percent-encoded, as OpenAPI tools send a path parameter, the path is the same one.
    let got = call(Method::GET, "/api/kumiho/items%2Fby-kref?kref=kref://Construct/AgentPool/reviewer.agent")
        .token(&token)
        .send(&h.router)
        .await;
    assert_eq!(
        (got.0, got.2["kref"].as_str()),
        (StatusCode::OK, Some("kref://Construct/AgentPool/reviewer.agent"))
    );

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
    for path in [
        "/api/kumiho/admin/users",
        "/api/kumiho/items/deprecate",
        "/api/kumiho/",
        "/api/kumiho/items%2Fdeprecate",
    ] {
        let got = call(Method::GET, path).token(&token).send(&h.router).await;
        assert_error(&got, StatusCode::NOT_FOUND, "NOT_FOUND");
    }
    for path in [
        "/api/kumiho/%2e%2e/%2e%2e/admin",
        "/api/kumiho/items/..%2f..%2fsecrets",
        "/api/kumiho//projects",
        "/api/kumiho/items%5c..",
        "/api/kumiho/items%2F%2Fby-kref",
    ] {
        let got = call(Method::GET, path).token(&token).send(&h.router).await;
        assert_error(&got, StatusCode::BAD_REQUEST, "INVALID_PATH");
    }
    // Kumiho's own refusals (plain text for a malformed query, `{"error"}` otherwise) come in the envelope.
    let got = call(Method::GET, "/api/kumiho/items/by-kref").token(&token).send(&h.router).await;
    assert_error(&got, StatusCode::BAD_REQUEST, "BAD_REQUEST");
    let got = call(Method::GET, "/api/kumiho/items/by-kref?kref=kref://Construct/AgentPool/ghost.agent")
        .token(&token)
        .send(&h.router)
        .await;
    assert_error(&got, StatusCode::NOT_FOUND, "NOT_FOUND");
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

async fn read_only_token(h: &Harness, admin: &str) -> String {
    let code = mint_code(h, admin, Some(json!({"scopes": ["read"]}))).await;
    let (status, _, body) = call(Method::POST, "/pair").header("x-pairing-code", &code).send(&h.router).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

fn agent(name: &str) -> serde_json::Value {
    json!({"name": name, "identity": format!("I am {name}"), "soul": "careful", "expertise": ["rust", " review "], "role": "reviewer"})
}

#[tokio::test]
async fn agents_are_created_listed_updated_deprecated_and_deleted() {
    let store = Arc::new(LocalKumiho::in_memory().unwrap());
    let (h, admin) = setup(store.clone(), |_| {}).await;
    let r = &h.router;
    let (status, _, body) = call(Method::GET, "/api/agents").token(&admin).send(r).await;
    assert_eq!(
        (status, body.clone()),
        (StatusCode::OK, json!({"agents": [], "total_count": 0, "page": 1, "per_page": 9}))
    );

    let (status, _, body) =
        call(Method::POST, "/api/agents").token(&admin).json(agent("Code Reviewer")).send(r).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let created = &body["agent"];
    assert_eq!(created["kref"], "kref://Construct/AgentPool/code-reviewer.agent");
    assert_eq!((created["name"].as_str(), created["revision"].as_i64()), (Some("Code Reviewer"), Some(1)));
    assert_eq!(created["expertise"], json!(["rust", "review"]));
    let kref = created["kref"].as_str().unwrap().to_owned();
    assert_error(
        &call(Method::POST, "/api/agents").token(&admin).json(agent("code reviewer!")).send(r).await,
        StatusCode::CONFLICT,
        "CONFLICT",
    );

    // Update publishes a new revision; the slug stays, the display name changes. The scheme in the path is
    // optional and never doubled.
    let mut renamed = agent("Senior Reviewer");
    renamed["soul"] = json!("strict");
    for path in
        [format!("/api/agents/{kref}"), "/api/agents/Construct/AgentPool/code-reviewer.agent".to_owned()]
    {
        let (status, _, body) = call(Method::PUT, &path).token(&admin).json(renamed.clone()).send(r).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(body["agent"]["kref"], kref.as_str());
        assert_eq!(body["agent"]["name"], "Senior Reviewer");
    }
    let (_, _, body) = call(Method::GET, "/api/agents").token(&admin).send(r).await;
    assert_eq!(
        (body["agents"][0]["revision"].as_i64(), body["agents"][0]["soul"].as_str()),
        (Some(3), Some("strict"))
    );

    // Search.
    let (_, _, body) = call(Method::GET, "/api/agents?q=Reviewer").token(&admin).send(r).await;
    assert_eq!(body["total_count"], 1);

    // Deprecate hides it from the default list; delete removes it.
    let (status, _, body) = call(Method::POST, "/api/agents/deprecate")
        .token(&admin)
        .json(json!({"kref": kref, "deprecated": true}))
        .send(r)
        .await;
    assert_eq!((status, body["agent"]["deprecated"].as_bool()), (StatusCode::OK, Some(true)));
    assert_eq!(call(Method::GET, "/api/agents").token(&admin).send(r).await.2["total_count"], 0);
    assert_eq!(
        call(Method::GET, "/api/agents?include_deprecated=true").token(&admin).send(r).await.2["total_count"],
        1
    );
    assert_eq!(
        call(Method::DELETE, &format!("/api/agents/{kref}")).token(&admin).send(r).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(Method::DELETE, &format!("/api/agents/{kref}")).token(&admin).send(r).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn agent_input_is_checked_and_mutations_need_admin() {
    let (h, admin) = setup(Arc::new(LocalKumiho::in_memory().unwrap()), |_| {}).await;
    let r = &h.router;
    let post = |body: serde_json::Value| call(Method::POST, "/api/agents").token(&admin).json(body);
    assert_error(&post(agent("***")).send(r).await, StatusCode::UNPROCESSABLE_ENTITY, "INVALID_FIELD");
    assert_error(
        &post(json!({"name": "x", "soul": "s"})).send(r).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_BODY",
    );
    let mut extra = agent("x");
    extra["admin"] = json!(true);
    assert_error(&post(extra).send(r).await, StatusCode::UNPROCESSABLE_ENTITY, "INVALID_BODY");
    let mut huge = agent("x");
    huge["identity"] = json!("i".repeat(20_000));
    assert_error(&post(huge).send(r).await, StatusCode::UNPROCESSABLE_ENTITY, "INVALID_FIELD");
    assert_error(&post(agent("   ")).send(r).await, StatusCode::UNPROCESSABLE_ENTITY, "INVALID_FIELD");
    // A body the document allows is never refused for its size, however its JSON escapes it (each
    // control character below is six bytes on the wire: ~96 KiB, over the gateway's default 64 KiB).
    let mut escaped = agent("escaped");
    escaped["identity"] = json!("\u{1}".repeat(16_384));
    let (status, _, created) = post(escaped).send(r).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    // Lengths count what was sent, as the document's `maxLength` does: padding does not sneak past.
    let padded = format!("\r{}", "n".repeat(100));
    assert_error(&post(agent(&padded)).send(r).await, StatusCode::UNPROCESSABLE_ENTITY, "INVALID_FIELD");
    let mut padded_tone = agent("x");
    padded_tone["tone"] = json!(format!("{} ", "t".repeat(200)));
    assert_error(&post(padded_tone).send(r).await, StatusCode::UNPROCESSABLE_ENTITY, "INVALID_FIELD");
    let put = |path: &str| call(Method::PUT, path).token(&admin).json(agent("x"));
    assert_error(&put("/api/agents/not-a-kref").send(r).await, StatusCode::BAD_REQUEST, "INVALID_KREF");
    assert_error(
        &put("/api/agents/Construct/Skills/x.skilldef").send(r).await,
        StatusCode::BAD_REQUEST,
        "INVALID_KREF",
    );
    assert_error(
        &put("/api/agents/Construct/AgentPool/../x.agent").send(r).await,
        StatusCode::BAD_REQUEST,
        "INVALID_KREF",
    );
    assert_eq!(put("/api/agents/Construct/AgentPool/ghost.agent").send(r).await.0, StatusCode::NOT_FOUND);
    assert_error(
        &call(Method::GET, "/api/agents?per_page=101").token(&admin).send(r).await,
        StatusCode::BAD_REQUEST,
        "INVALID_QUERY",
    );
    assert_error(
        &call(Method::GET, "/api/agents?page=0").token(&admin).send(r).await,
        StatusCode::BAD_REQUEST,
        "INVALID_QUERY",
    );
    // No list holds more than 100000 items, so a later page is refused rather than answered empty.
    assert_eq!(call(Method::GET, "/api/agents?page=100000").token(&admin).send(r).await.0, StatusCode::OK);
    assert_error(
        &call(Method::GET, "/api/agents?page=100001").token(&admin).send(r).await,
        StatusCode::BAD_REQUEST,
        "INVALID_QUERY",
    );
    assert_error(
        &call(Method::GET, "/api/agents?page=2147483648").token(&admin).send(r).await,
        StatusCode::BAD_REQUEST,
        "INVALID_QUERY",
    );

    let reader = read_only_token(&h, &admin).await;
    assert_eq!(call(Method::GET, "/api/agents").token(&reader).send(r).await.0, StatusCode::OK);
    assert_error(
        &call(Method::POST, "/api/agents").token(&reader).json(agent("y")).send(r).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN_SCOPE",
    );
    assert_error(
        &call(Method::DELETE, "/api/agents/Construct/AgentPool/y.agent").token(&reader).send(r).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN_SCOPE",
    );
}

#[tokio::test]
async fn agent_lists_page_over_everything_never_the_first_hundred() {
    let store = Arc::new(LocalKumiho::in_memory().unwrap());
    store.create_project("Construct", None).await.unwrap();
    store.create_space("/Construct", "AgentPool").await.unwrap();
    for n in 0..105 {
        let item = store
            .create_item("/Construct/AgentPool", &format!("a{n:03}"), "agent", &Metadata::new())
            .await
            .unwrap();
        let mut meta = Metadata::new();
        meta.insert("display_name".into(), format!("Agent {n}"));
        store.create_revision(&item.kref, &meta).await.unwrap();
    }
    let (h, admin) = setup(store, |_| {}).await;
    let (_, _, body) =
        call(Method::GET, "/api/agents?page=11&per_page=10").token(&admin).send(&h.router).await;
    assert_eq!(body["total_count"], 105);
    let names: Vec<&str> =
        body["agents"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Agent 100", "Agent 101", "Agent 102", "Agent 103", "Agent 104"]);
    assert_eq!(body["agents"][0]["revision"], 1, "enriched from the latest revision when none is published");
}

fn skill(name: &str, content: &str) -> serde_json::Value {
    json!({"name": name, "description": "how to review", "content": content, "domain": "Engineering", "tags": ["review", "rust"]})
}

#[tokio::test]
async fn every_skill_revision_keeps_its_own_content() {
    let (h, admin) = setup(Arc::new(LocalKumiho::in_memory().unwrap()), |_| {}).await;
    let r = &h.router;
    let (status, _, body) = call(Method::POST, "/api/skills")
        .token(&admin)
        .json(skill("Code Review", "# v1\nfirst"))
        .send(r)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let kref = body["skill"]["kref"].as_str().unwrap().to_owned();
    assert_eq!(kref, "kref://CognitiveMemory/Skills/code-review.skilldef");
    assert_eq!(body["skill"]["tags"], json!(["review", "rust"]));
    let (status, _, body) = call(Method::PUT, &format!("/api/skills/{kref}"))
        .token(&admin)
        .json(skill("Code Review", "# v2\nsecond"))
        .send(r)
        .await;
    assert_eq!((status, body["skill"]["revision_number"].as_i64()), (StatusCode::OK, Some(2)), "{body}");

    let (_, _, body) = call(Method::GET, "/api/skills/CognitiveMemory/Skills/code-review.skilldef")
        .token(&admin)
        .send(r)
        .await;
    assert_eq!(body["skill"]["content"], "# v2\nsecond");
    // Revision 1 still has its own body, reachable through the proxy and the artifact route.
    let (_, _, artifacts) = call(Method::GET, &format!("/api/kumiho/artifacts?revision_kref={kref}%3Fr%3D1"))
        .token(&admin)
        .send(r)
        .await;
    let location = artifacts[0]["location"].as_str().unwrap().to_owned();
    let (status, _, first) = body_of(&h, &admin, &location, None).await;
    assert_eq!((status, String::from_utf8(first).unwrap()), (StatusCode::OK, "# v1\nfirst".to_owned()));

    let (_, _, list) = call(Method::GET, "/api/skills").token(&admin).send(r).await;
    assert_eq!(
        (list["total_count"].as_u64(), list["skills"][0]["content"].as_str()),
        (Some(1), Some("how to review"))
    );

    // Delete removes the item and its files.
    let file = url::Url::parse(&location).unwrap().to_file_path().unwrap();
    assert!(file.exists());
    assert_eq!(
        call(Method::DELETE, &format!("/api/skills/{kref}")).token(&admin).send(r).await.0,
        StatusCode::NO_CONTENT
    );
    assert!(!file.exists(), "no orphaned files");
}

#[tokio::test]
async fn skill_bodies_are_bounded_and_never_read_from_outside_the_roots() {
    let store = Arc::new(LocalKumiho::in_memory().unwrap());
    let (h, admin) = setup(store.clone(), |_| {}).await;
    let r = &h.router;
    let big = "x".repeat(256 * 1024);
    assert_eq!(
        call(Method::POST, "/api/skills").token(&admin).json(skill("Big", &big)).send(r).await.0,
        StatusCode::CREATED
    );
    let too_big = "x".repeat(256 * 1024 + 1);
    assert_error(
        &call(Method::POST, "/api/skills").token(&admin).json(skill("Bigger", &too_big)).send(r).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_FIELD",
    );
    assert_error(
        &call(Method::POST, "/api/skills").token(&admin).json(skill("Empty", " ")).send(r).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_FIELD",
    );

    // A skill whose artifact points at a system file (a poisoned Kumiho) reads as empty, not as the file.
    let item =
        store.create_item("/CognitiveMemory/Skills", "poisoned", "skilldef", &Metadata::new()).await.unwrap();
    let revision = store.create_revision(&item.kref, &Metadata::new()).await.unwrap();
    store.create_artifact(&revision.kref, "SKILL.md", "file:///etc/passwd", &Metadata::new()).await.unwrap();
    let (status, _, body) =
        call(Method::GET, &format!("/api/skills/{}", item.kref)).token(&admin).send(r).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body["skill"]["content"].as_str().unwrap().contains("root:"), "{body}");
}

#[tokio::test]
async fn teams_own_their_edges_and_survive_agent_edits() {
    let store = Arc::new(LocalKumiho::in_memory().unwrap());
    let (h, admin) = setup(store.clone(), |_| {}).await;
    let r = &h.router;
    let mut krefs = Vec::new();
    for name in ["Lead", "Coder", "Tester"] {
        let (status, _, body) =
            call(Method::POST, "/api/agents").token(&admin).json(agent(name)).send(r).await;
        assert_eq!(status, StatusCode::CREATED);
        krefs.push(body["agent"]["kref"].as_str().unwrap().to_owned());
    }
    let (lead, coder, tester) = (&krefs[0], &krefs[1], &krefs[2]);
    let team = |name: &str, edges: serde_json::Value| json!({"name": name, "description": "builds things", "members": [lead, coder, tester, coder], "edges": edges});
    let shared_edges = json!([{"from_kref": coder, "to_kref": lead, "edge_type": "reports_to"},
        {"from_kref": tester, "to_kref": coder, "edge_type": "DEPENDS_ON"}]);
    let (status, _, alpha) = call(Method::POST, "/api/teams")
        .token(&admin)
        .json(team("Alpha Team", shared_edges.clone()))
        .send(r)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{alpha}");
    let alpha_kref = alpha["team"]["kref"].as_str().unwrap().to_owned();
    assert_eq!(alpha_kref, "kref://Construct/Teams/alpha-team.bundle", "slugified");
    assert_eq!(alpha["team"]["members"].as_array().unwrap().len(), 3, "duplicates merged, not a false cycle");
    assert_eq!(alpha["team"]["edges"][0]["edge_type"], "REPORTS_TO");
    let beta_edges = json!([{"from_kref": coder, "to_kref": lead, "edge_type": "SUPPORTS"}]);
    let (status, _, beta) =
        call(Method::POST, "/api/teams").token(&admin).json(team("Beta", beta_edges)).send(r).await;
    assert_eq!(status, StatusCode::CREATED, "{beta}");
    let beta_kref = beta["team"]["kref"].as_str().unwrap().to_owned();

    // Updating Alpha to drop its edges leaves Beta's edge alone, in the view and in Kumiho.
    let (status, _, _) = call(Method::PUT, &format!("/api/teams/{alpha_kref}"))
        .token(&admin)
        .json(team("Alpha Team", json!([])))
        .send(r)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, beta_now) = call(Method::GET, &format!("/api/teams/{beta_kref}")).token(&admin).send(r).await;
    assert_eq!(beta_now["team"]["edges"].as_array().unwrap().len(), 1, "{beta_now}");
    let coder_revision = store.revision_by_tag(coder, "published").await.unwrap();
    let kumiho_edges = store
        .list_edges(&coder_revision.kref, None, construct_kumiho::model::Direction::Outgoing)
        .await
        .unwrap();
    assert_eq!(kumiho_edges.iter().map(|e| e.edge_type.as_str()).collect::<Vec<_>>(), ["SUPPORTS"]);

    // An agent publishing a new revision does not make a team's edges vanish from its view.
    call(Method::PUT, &format!("/api/agents/{coder}")).token(&admin).json(agent("Coder")).send(r).await;
    let (_, _, beta_now) = call(Method::GET, &format!("/api/teams/{beta_kref}")).token(&admin).send(r).await;
    assert_eq!(beta_now["team"]["edges"].as_array().unwrap().len(), 1);

    // The list reads the summary from where it is written.
    let (_, _, list) = call(Method::GET, "/api/teams").token(&admin).send(r).await;
    let alpha_row =
        list["teams"].as_array().unwrap().iter().find(|t| t["kref"] == alpha_kref.as_str()).unwrap().clone();
    assert_eq!((alpha_row["member_count"].as_u64(), alpha_row["edge_count"].as_u64()), (Some(3), Some(0)));
    assert_eq!(alpha_row["member_names"], json!(["lead", "coder", "tester"]));

    // Deleting Alpha leaves Beta intact.
    assert_eq!(
        call(Method::DELETE, &format!("/api/teams/{alpha_kref}")).token(&admin).send(r).await.0,
        StatusCode::NO_CONTENT
    );
    let (status, _, beta_now) =
        call(Method::GET, &format!("/api/teams/{beta_kref}")).token(&admin).send(r).await;
    assert_eq!((status, beta_now["team"]["members"].as_array().unwrap().len()), (StatusCode::OK, 3));
    assert_eq!(
        store
            .list_edges(&coder_revision.kref, None, construct_kumiho::model::Direction::Outgoing)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn invalid_team_graphs_are_refused_with_their_reasons() {
    let (h, admin) = setup(Arc::new(LocalKumiho::in_memory().unwrap()), |_| {}).await;
    let r = &h.router;
    let (_, _, a) = call(Method::POST, "/api/agents").token(&admin).json(agent("A")).send(r).await;
    let (_, _, b) = call(Method::POST, "/api/agents").token(&admin).json(agent("B")).send(r).await;
    let (a, b) =
        (a["agent"]["kref"].as_str().unwrap().to_owned(), b["agent"]["kref"].as_str().unwrap().to_owned());
    let post = |body: serde_json::Value| call(Method::POST, "/api/teams").token(&admin).json(body);
    let got = post(json!({"name": "t", "members": [a, b], "edges": [
        {"from_kref": a, "to_kref": b, "edge_type": "DEPENDS_ON"}, {"from_kref": b, "to_kref": a, "edge_type": "DEPENDS_ON"}]}))
    .send(r)
    .await;
    assert_error(&got, StatusCode::BAD_REQUEST, "INVALID_TEAM_GRAPH");
    let codes: Vec<&str> =
        got.2["validation_errors"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["reciprocal_depends", "cycle"]);
    let ghost = "kref://Construct/AgentPool/ghost.agent";
    let got = post(json!({"name": "t", "members": [a, ghost]})).send(r).await;
    assert_eq!(got.2["validation_errors"][0]["code"], "unknown_member");
    let got = post(json!({"name": "t", "members": [a], "edges": [{"from_kref": a, "to_kref": b, "edge_type": "SUPPORTS"}]})).send(r).await;
    assert_eq!(got.2["validation_errors"][0]["code"], "dangling_ref");
    assert_error(
        &post(json!({"name": "t", "members": ["Construct/Skills/x.skilldef"]})).send(r).await,
        StatusCode::BAD_REQUEST,
        "INVALID_KREF",
    );
    assert_error(
        &post(json!({"name": "!!!", "members": [a]})).send(r).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_FIELD",
    );
    // Nothing was left behind by the refusals.
    assert_eq!(call(Method::GET, "/api/teams").token(&admin).send(r).await.2["total_count"], 0);
}

#[tokio::test]
async fn the_memory_graph_is_bounded_and_counts_before_truncating() {
    let store = Arc::new(LocalKumiho::in_memory().unwrap());
    store.create_project("CognitiveMemory", None).await.unwrap();
    store.create_space("/CognitiveMemory", "Facts").await.unwrap();
    store.create_space("/CognitiveMemory", "People").await.unwrap();
    let mut revisions = Vec::new();
    for (space, name, kind) in
        [("Facts", "rust", "fact"), ("Facts", "tokio", "fact"), ("People", "ada", "person")]
    {
        let item = store
            .create_item(&format!("/CognitiveMemory/{space}"), name, kind, &Metadata::new())
            .await
            .unwrap();
        let mut meta = Metadata::new();
        meta.insert("title".into(), format!("About {name}"));
        revisions.push(store.create_revision(&item.kref, &meta).await.unwrap());
    }
    store
        .create_edge(&revisions[1].kref, &revisions[0].kref, "DERIVED_FROM", &Metadata::new())
        .await
        .unwrap();
    store.create_edge(&revisions[2].kref, &revisions[0].kref, "REFERENCED", &Metadata::new()).await.unwrap();
    let (h, token) = setup(store, |_| {}).await;
    let r = &h.router;

    let (status, _, graph) = call(Method::GET, "/api/memory/graph?sort=name").token(&token).send(r).await;
    assert_eq!(status, StatusCode::OK, "{graph}");
    let ids: Vec<&str> =
        graph["nodes"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "CognitiveMemory/People/ada.person",
            "CognitiveMemory/Facts/rust.fact",
            "CognitiveMemory/Facts/tokio.fact"
        ]
    );
    assert_eq!(graph["nodes"][0]["title"], "About ada");
    assert_eq!(graph["nodes"][0]["space"], "CognitiveMemory/People");
    assert_eq!(graph["edges"].as_array().unwrap().len(), 2, "{graph}");
    assert_eq!(graph["spaces"], json!(["CognitiveMemory/Facts", "CognitiveMemory/People"]));
    assert_eq!(
        graph["stats"],
        json!({"total_items": 3, "total_edges": 2, "kinds": {"fact": 2, "person": 1}})
    );

    // Truncation keeps the counts of everything found, and drops edges to nodes not shown.
    let (_, _, small) = call(Method::GET, "/api/memory/graph?sort=name&limit=1").token(&token).send(r).await;
    assert_eq!(
        (small["nodes"].as_array().unwrap().len(), small["stats"]["total_items"].as_u64()),
        (1, Some(3))
    );
    assert!(small["edges"].as_array().unwrap().is_empty());
    let (_, _, facts) = call(Method::GET, "/api/memory/graph?kinds=fact&space=CognitiveMemory/Facts")
        .token(&token)
        .send(r)
        .await;
    assert_eq!(facts["stats"]["kinds"], json!({"fact": 2}));
    let (_, _, found) = call(Method::GET, "/api/memory/graph?search=tokio").token(&token).send(r).await;
    assert_eq!(found["nodes"].as_array().unwrap().len(), 1);
    let (_, _, none) = call(Method::GET, "/api/memory/graph?project=Nobody").token(&token).send(r).await;
    assert_eq!(none["stats"]["total_items"], 0);
    // The project is one name exactly as given: nothing trimmed, no trailing slash, not empty.
    for bad in [
        "limit=501",
        "limit=0",
        "sort=random",
        "project=a/b",
        "project=",
        "project=Nobody%2F",
        "project=Nobody%20",
    ] {
        let got = call(Method::GET, &format!("/api/memory/graph?{bad}")).token(&token).send(r).await;
        assert_error(&got, StatusCode::BAD_REQUEST, "INVALID_QUERY");
    }
}

const WORKFLOW: &str = "name: Ship\nsteps:\n  - id: build\n  - id: test\n    depends_on: [build]\n";

#[tokio::test]
async fn workflows_are_validated_on_save_and_keep_each_revision() {
    let (h, admin) = setup(Arc::new(LocalKumiho::in_memory().unwrap()), |_| {}).await;
    let r = &h.router;
    let body = |definition: &str| json!({"name": "Ship It", "description": "release", "definition": definition, "tags": ["release"]});
    let (status, _, created) =
        call(Method::POST, "/api/workflows").token(&admin).json(body(WORKFLOW)).send(r).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let kref = created["workflow"]["kref"].as_str().unwrap().to_owned();
    assert_eq!(kref, "kref://Construct/Workflows/ship-it.workflow");
    assert_eq!(
        (created["workflow"]["steps"].as_u64(), created["workflow"]["version"].as_str()),
        (Some(2), Some("1"))
    );

    let second = "name: Ship\nsteps:\n  - id: build\n";
    let (status, _, updated) =
        call(Method::PUT, &format!("/api/workflows/{kref}")).token(&admin).json(body(second)).send(r).await;
    assert_eq!((status, updated["workflow"]["revision_number"].as_i64()), (StatusCode::OK, Some(2)));
    let (_, _, first) =
        call(Method::GET, &format!("/api/workflows/revisions/{kref}%3Fr%3D1")).token(&admin).send(r).await;
    assert_eq!(first["workflow"]["definition"], WORKFLOW, "revision 1 keeps its YAML");
    let (_, _, list) = call(Method::GET, "/api/workflows").token(&admin).send(r).await;
    assert_eq!(
        (list["total_count"].as_u64(), list["workflows"][0]["definition"].as_str()),
        (Some(1), Some(second))
    );

    // Invalid YAML: 422 with the place of the problem; nothing is created.
    let got = call(Method::POST, "/api/workflows").token(&admin).json(json!({"name": "Bad", "description": "", "definition": "name: x\nsteps:\n  - id: a\n    depends_on: [nope]\n"})).send(r).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "INVALID_WORKFLOW");
    assert_eq!(got.2["validation_errors"][0]["line"], 4);
    let got = call(Method::POST, "/api/workflows")
        .token(&admin)
        .json(json!({"name": "Worse", "description": "", "definition": "name: [x\n"}))
        .send(r)
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "INVALID_WORKFLOW");
    assert!(got.2["validation_errors"][0]["column"].is_u64());
    assert_eq!(call(Method::GET, "/api/workflows").token(&admin).send(r).await.2["total_count"], 1);
    assert_error(
        &call(Method::GET, &format!("/api/workflows/revisions/{kref}")).token(&admin).send(r).await,
        StatusCode::BAD_REQUEST,
        "INVALID_KREF",
    );

    let (status, _, hidden) = call(Method::POST, "/api/workflows/deprecate")
        .token(&admin)
        .json(json!({"kref": kref, "deprecated": true}))
        .send(r)
        .await;
    assert_eq!((status, hidden["workflow"]["deprecated"].as_bool()), (StatusCode::OK, Some(true)));
    assert_eq!(
        call(Method::DELETE, &format!("/api/workflows/{kref}")).token(&admin).send(r).await.0,
        StatusCode::NO_CONTENT
    );
    let reader = read_only_token(&h, &admin).await;
    assert_error(
        &call(Method::POST, "/api/workflows").token(&reader).json(body(WORKFLOW)).send(r).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN_SCOPE",
    );
}

#[tokio::test]
async fn saving_one_workflow_never_touches_another_workflows_schedule() {
    let (h, admin) = setup(Arc::new(LocalKumiho::in_memory().unwrap()), |_| {}).await;
    let r = &h.router;
    let cron = |name: &str, expr: &str| json!({"name": name, "description": "", "definition": format!("name: {name}\ntriggers:\n  - cron: \"{expr}\"\nsteps:\n  - id: a\n")});
    for (name, expr) in [("ab", "0 * * * *"), ("abc", "5 * * * *")] {
        let (status, _, _) =
            call(Method::POST, "/api/workflows").token(&admin).json(cron(name, expr)).send(r).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let edited = call(Method::PUT, "/api/workflows/kref://Construct/Workflows/ab.workflow")
        .token(&admin)
        .json(cron("ab", "30 * * * *"))
        .send(r)
        .await;
    assert_eq!(edited.0, StatusCode::OK, "{}", edited.2);
    assert_eq!(
        call(Method::DELETE, "/api/workflows/kref://Construct/Workflows/ab.workflow")
            .token(&admin)
            .send(r)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (_, _, list) = call(Method::GET, "/api/workflows").token(&admin).send(r).await;
    assert_eq!(list["total_count"], 1);
    assert_eq!(
        list["workflows"][0]["triggers"],
        json!([{"cron": "5 * * * *"}]),
        "editing and deleting `ab` leaves `abc`'s schedule alone (upstream's LIKE sweep removed it)"
    );
}

/// What the external operator does when it starts a run: a `workflow_run` item and a revision per persist.
async fn persist_run(store: &LocalKumiho, run_id: &str, status: &str, workflow_revision: &str) -> String {
    let _ = store.create_space("/Construct", "WorkflowRuns").await;
    let name = format!("deploy-{}", &run_id[..12]);
    let kref = format!("kref://Construct/WorkflowRuns/{name}.workflow_run");
    if store.get_item(&kref).await.is_err() {
        let meta = Metadata::from([
            ("workflow".to_owned(), "deploy".to_owned()),
            ("run_id".to_owned(), run_id.to_owned()),
        ]);
        store.create_item("/Construct/WorkflowRuns", &name, "workflow_run", &meta).await.unwrap();
    }
    let meta = Metadata::from([
        ("workflow_name".to_owned(), "deploy".to_owned()),
        ("run_id".to_owned(), run_id.to_owned()),
        ("status".to_owned(), status.to_owned()),
        ("steps_total".to_owned(), "2".to_owned()),
        ("workflow_revision_kref".to_owned(), workflow_revision.to_owned()),
        ("step_zeta".to_owned(), r#"{"status":"completed","skills":"[\"rust\"]"}"#.to_owned()),
        ("step_alpha".to_owned(), r#"{"status":"running","agent_id":"agent-1"}"#.to_owned()),
    ]);
    store.create_revision(&kref, &meta).await.unwrap();
    kref
}

#[tokio::test]
async fn runs_are_requested_for_an_operator_and_read_back_in_step_order() {
    let store = Arc::new(LocalKumiho::in_memory().unwrap());
    let (h, admin) = setup(store.clone(), |_| {}).await;
    let r = &h.router;
    let yaml = "name: deploy\nsteps:\n  - id: zeta\n  - id: alpha\n    depends_on: [zeta]\n";
    let (status, _, created) = call(Method::POST, "/api/workflows")
        .token(&admin)
        .json(json!({"name": "deploy", "description": "", "definition": yaml}))
        .send(r)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");

    // A request: 202, a pending run-request item pinned to the published definition; no body means `{}`.
    let (status, _, requested) = call(Method::POST, "/api/workflows/run/deploy")
        .token(&admin)
        .json(json!({"inputs": {"env": "prod"}}))
        .send(r)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{requested}");
    assert_eq!(
        (requested["status"].as_str(), requested["workflow"].as_str()),
        (Some("pending"), Some("deploy"))
    );
    let pending = store.revision_by_tag(requested["kref"].as_str().unwrap(), "pending").await.unwrap();
    assert_eq!(pending.metadata["inputs"], r#"{"env":"prod"}"#);
    assert_eq!(pending.metadata["workflow_revision_kref"], "kref://Construct/Workflows/deploy.workflow?r=1");
    let (status, _, bare) = call(Method::POST, "/api/workflows/run/deploy").token(&admin).send(r).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let bare = store.revision_by_tag(bare["kref"].as_str().unwrap(), "pending").await.unwrap();
    assert_eq!(bare.metadata["inputs"], "{}", "upstream stored \"null\"");
    // A JSON `null` body is no body, as an empty one is.
    let (status, _, null) = call(Method::POST, "/api/workflows/run/deploy")
        .token(&admin)
        .raw("application/json", "null")
        .send(r)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{null}");
    let null = store.revision_by_tag(null["kref"].as_str().unwrap(), "pending").await.unwrap();
    assert_eq!(null.metadata["inputs"], "{}");

    // Bad requests change nothing.
    for (body, status, code) in [
        ("{", StatusCode::BAD_REQUEST, "INVALID_JSON"),
        (r#"{"inputs": 3}"#, StatusCode::UNPROCESSABLE_ENTITY, "INVALID_FIELD"),
        (r#"{"input": {}}"#, StatusCode::UNPROCESSABLE_ENTITY, "INVALID_BODY"),
        ("[]", StatusCode::UNPROCESSABLE_ENTITY, "INVALID_BODY"),
        (" \n", StatusCode::BAD_REQUEST, "INVALID_JSON"),
    ] {
        let got = call(Method::POST, "/api/workflows/run/deploy")
            .token(&admin)
            .raw("application/json", body)
            .send(r)
            .await;
        assert_error(&got, status, code);
    }
    assert_error(
        &call(Method::POST, "/api/workflows/run/nothing").token(&admin).send(r).await,
        StatusCode::NOT_FOUND,
        "WORKFLOW_NOT_FOUND",
    );
    let requests = store
        .list_items(&construct_kumiho::model::ItemQuery {
            space_path: "/Construct/WorkflowRunRequests".into(),
            name_filter: None,
            include_deprecated: true,
            limit: None,
            offset: None,
        })
        .await
        .unwrap();
    assert_eq!(requests.len(), 3, "only the three good requests were recorded");
    let reader = read_only_token(&h, &admin).await;
    assert_error(
        &call(Method::POST, "/api/workflows/run/deploy").token(&reader).send(r).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN_SCOPE",
    );

    // The operator persists two runs; the gateway reads them back.
    let first = "11111111-aaaa-4bbb-8ccc-000000000001";
    let second = "22222222-aaaa-4bbb-8ccc-000000000002";
    let definition = "kref://Construct/Workflows/deploy.workflow?r=1";
    persist_run(&store, first, "running", definition).await;
    persist_run(&store, second, "failed", definition).await;
    let (_, _, runs) = call(Method::GET, "/api/workflows/runs?per_page=1").token(&reader).send(r).await;
    assert_eq!((runs["total_count"].as_u64(), runs["count"].as_u64()), (Some(2), Some(1)), "{runs}");
    let (_, _, runs) =
        call(Method::GET, "/api/workflows/runs?workflow=deploy&limit=20").token(&reader).send(r).await;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 2);
    let (status, _, detail) =
        call(Method::GET, &format!("/api/workflows/runs/{first}")).token(&reader).send(r).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    let run = &detail["run"];
    assert_eq!((run["run_id"].as_str(), run["status"].as_str()), (Some(first), Some("running")));
    let steps: Vec<&str> =
        run["steps"].as_array().unwrap().iter().map(|s| s["step_id"].as_str().unwrap()).collect();
    assert_eq!(steps, ["zeta", "alpha"], "the definition's order, not the hash map's");
    assert_eq!(run["steps"][0]["skills"], json!(["rust"]));

    let (_, _, dashboard) = call(Method::GET, "/api/workflows/dashboard").token(&reader).send(r).await;
    let d = &dashboard["dashboard"];
    assert_eq!(
        (d["definitions_count"].as_u64(), d["total_runs"].as_u64(), d["active_runs"].as_u64()),
        (Some(1), Some(2), Some(1)),
        "{dashboard}"
    );

    // Paths are checked before use; unknown runs are 404; only failed runs retry.
    for bad in ["a%2F..", "..", "r%C3%A9sum%C3%A9-long-enough"] {
        assert_error(
            &call(Method::GET, &format!("/api/workflows/runs/{bad}")).token(&reader).send(r).await,
            StatusCode::BAD_REQUEST,
            "INVALID_PATH",
        );
    }
    assert_error(
        &call(Method::GET, "/api/workflows/runs/ffffffff-0000").token(&reader).send(r).await,
        StatusCode::NOT_FOUND,
        "RUN_NOT_FOUND",
    );
    assert_error(
        &call(Method::GET, "/api/workflows/runs?limit=101").token(&reader).send(r).await,
        StatusCode::BAD_REQUEST,
        "INVALID_QUERY",
    );
    assert_error(
        &call(Method::POST, &format!("/api/workflows/runs/{first}/retry")).token(&admin).send(r).await,
        StatusCode::CONFLICT,
        "RUN_NOT_RETRYABLE",
    );
    let (status, _, retried) =
        call(Method::POST, &format!("/api/workflows/runs/{second}/retry")).token(&admin).send(r).await;
    assert_eq!((status, retried["run_id"].as_str()), (StatusCode::ACCEPTED, Some(second)), "{retried}");
    let retry = store.revision_by_tag(retried["kref"].as_str().unwrap(), "pending").await.unwrap();
    assert_eq!(retry.metadata["retry_of"], second);
    let (status, _, retried) = call(Method::POST, &format!("/api/workflows/runs/{second}/retry"))
        .token(&admin)
        .raw("application/json", "null")
        .send(r)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "a `null` body is no body: {retried}");
    assert_error(
        &call(Method::POST, &format!("/api/workflows/runs/{second}/retry"))
            .token(&admin)
            .raw("application/json", r#"{"inputs": {}}"#)
            .send(r)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_FIELD",
    );
    for bad in ["page=100001", "per_page=5&limit=101", "limit=0&per_page=5"] {
        assert_error(
            &call(Method::GET, &format!("/api/workflows/runs?{bad}")).token(&reader).send(r).await,
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY",
        );
    }

    // Deleting removes the run and its files.
    let files = h.gateway.data_dir().join("artifacts/runs").join(first);
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("zeta.md"), "out").unwrap();
    assert_error(
        &call(Method::DELETE, &format!("/api/workflows/runs/{first}")).token(&reader).send(r).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN_SCOPE",
    );
    assert_eq!(
        call(Method::DELETE, &format!("/api/workflows/runs/{first}")).token(&admin).send(r).await.0,
        StatusCode::NO_CONTENT
    );
    assert!(!files.exists());
    assert_error(
        &call(Method::GET, &format!("/api/workflows/runs/{first}")).token(&reader).send(r).await,
        StatusCode::NOT_FOUND,
        "RUN_NOT_FOUND",
    );
}

#[tokio::test]
async fn agent_activity_reads_only_run_logs_in_their_directory() {
    let logs = tempfile::tempdir().unwrap();
    let dir = logs.path().to_owned();
    let (h, admin) =
        setup(Arc::new(LocalKumiho::in_memory().unwrap()), |l| l.config.workflows.runlog_dir = Some(dir))
            .await;
    let r = &h.router;
    std::fs::write(
        logs.path().join("agent-1.jsonl"),
        "{\"kind\":\"start\",\"title\":\"Fix\",\"agent_type\":\"coder\"}\n{\"kind\":\"tool_call\",\"tool\":\"read\"}\n{\"kind\":\"message\",\"content\":\"done\"}\n",
    )
    .unwrap();
    std::fs::write(logs.path().parent().unwrap().join("secret.jsonl"), "{\"kind\":\"message\"}\n").ok();
    let (status, _, summary) =
        call(Method::GET, "/api/workflows/agent-activity/agent-1").token(&admin).send(r).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(
        (summary["title"].as_str(), summary["tool_call_count"].as_u64(), summary["last_message"].as_str()),
        (Some("Fix"), Some(1), Some("done"))
    );
    let (_, _, tools) = call(Method::GET, "/api/workflows/agent-activity/agent-1?view=tool_calls&limit=5")
        .token(&admin)
        .send(r)
        .await;
    assert_eq!(tools["entries"][0]["tool"], "read");
    for (uri, status, code) in [
        ("/api/workflows/agent-activity/..%2Fsecret", StatusCode::BAD_REQUEST, "INVALID_PATH"),
        ("/api/workflows/agent-activity/nobody", StatusCode::NOT_FOUND, "RUN_LOG_NOT_FOUND"),
        ("/api/workflows/agent-activity/agent-1?view=everything", StatusCode::BAD_REQUEST, "INVALID_QUERY"),
        ("/api/workflows/agent-activity/agent-1?limit=501", StatusCode::BAD_REQUEST, "INVALID_QUERY"),
    ] {
        assert_error(&call(Method::GET, uri).token(&admin).send(r).await, status, code);
    }
}

/// A Kumiho server on a loopback port holding one agent named `agent`; its URL.
async fn kumiho_server_with(agent: &str, token: &str) -> String {
    let store = seeded().await;
    store.create_item("/Construct/AgentPool", agent, "agent", &Metadata::new()).await.unwrap();
    let app = construct_kumiho::router::router(store, Some(token));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test]
async fn a_config_edit_repoints_a_remote_kumiho_without_a_restart() {
    let (first, second) = (kumiho_server_with("alpha", "t1").await, kumiho_server_with("beta", "t2").await);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.toml");
    let file = |url: &str, token: &str| {
        format!("[kumiho]\nmode = \"remote\"\napi_url = \"{url}\"\nservice_token = \"{token}\"\n")
    };
    std::fs::write(&path, file(&first, "t1")).unwrap();
    let sources = construct_core::config::ConfigSources {
        config_file: Some(path.clone()),
        data_dir: Some(dir.path().join("data")),
        ..Default::default()
    };
    let loaded = construct_core::config::load(&sources).unwrap();
    let gateway =
        construct_gateway::open_kumiho(&loaded).unwrap().install(Gateway::builder(loaded)).build().unwrap();
    let h = Harness::from_parts(gateway, dir);
    let (admin, _) = pair_first(&h).await;
    let names = |body: serde_json::Value| -> Vec<String> {
        body["agents"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_owned()).collect()
    };
    let (_, _, agents) = call(Method::GET, "/api/agents").token(&admin).send(&h.router).await;
    assert!(names(agents.clone()).contains(&"alpha".to_owned()), "{agents}");
    let (status, _, saved) = call(Method::PUT, "/api/config")
        .token(&admin)
        .raw("application/toml", file(&second, "t2"))
        .send(&h.router)
        .await;
    assert_eq!((status, saved["applied"].clone()), (StatusCode::OK, json!(["kumiho"])), "{saved}");
    let (_, _, agents) = call(Method::GET, "/api/agents").token(&admin).send(&h.router).await;
    let now = names(agents.clone());
    assert!(now.contains(&"beta".to_owned()) && !now.contains(&"alpha".to_owned()), "{agents}");
}

#[tokio::test]
async fn krefs_are_normalised_the_same_way_in_paths_and_bodies() {
    let (h, admin) = setup(Arc::new(LocalKumiho::in_memory().unwrap()), |_| {}).await;
    let r = &h.router;
    let (status, _, _) =
        call(Method::POST, "/api/skills").token(&admin).json(skill("Lint", "# lint")).send(r).await;
    assert_eq!(status, StatusCode::CREATED);
    // A deprecate body without the scheme names the same item (upstream did not normalise bodies).
    let (status, _, body) = call(Method::POST, "/api/skills/deprecate")
        .token(&admin)
        .json(json!({"kref": "CognitiveMemory/Skills/lint.skilldef", "deprecated": true}))
        .send(r)
        .await;
    assert_eq!((status, body["skill"]["deprecated"].as_bool()), (StatusCode::OK, Some(true)), "{body}");
    assert_eq!(body["skill"]["kref"], "kref://CognitiveMemory/Skills/lint.skilldef", "never kref://kref://");
    for bad in
        ["kref://kref://CognitiveMemory/Skills/lint.skilldef", "CognitiveMemory/../Skills/lint.skilldef"]
    {
        assert_error(
            &call(Method::GET, &format!("/api/skills/{bad}")).token(&admin).send(r).await,
            StatusCode::BAD_REQUEST,
            "INVALID_KREF",
        );
    }
    assert_error(
        &call(Method::POST, "/api/workflows/deprecate")
            .token(&admin)
            .json(json!({"kref": "CognitiveMemory/Skills/lint.skilldef", "deprecated": true}))
            .send(r)
            .await,
        StatusCode::BAD_REQUEST,
        "INVALID_KREF",
    );
}
