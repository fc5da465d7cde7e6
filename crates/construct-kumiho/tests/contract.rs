//! One contract for every `KumihoApi`: run against the embedded store directly, and against `HttpKumiho`
//! talking to the embedded store's REST router on a loopback port.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use std::sync::Arc;

use construct_core::ApiError;
use construct_kumiho::model::{Direction, ItemQuery, Metadata, SearchQuery};
use construct_kumiho::{HttpKumiho, KumihoApi, KumihoError, LocalKumiho, router};
use http::StatusCode;

fn meta(pairs: &[(&str, &str)]) -> Metadata {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn status(error: KumihoError) -> u16 {
    match error {
        KumihoError::Api { status, .. } => status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

async fn contract(api: &dyn KumihoApi) {
    // Projects and spaces: 409 on duplicates, 404 without a parent.
    let project = api.create_project("Construct", Some("agents")).await.unwrap();
    assert_eq!(project.name, "Construct");
    assert_eq!(status(api.create_project("Construct", None).await.unwrap_err()), 409);
    assert_eq!(api.list_projects().await.unwrap().len(), 1);
    let space = api.create_space("/Construct", "AgentPool").await.unwrap();
    assert_eq!(
        (space.path.as_str(), space.parent_path.as_deref()),
        ("/Construct/AgentPool", Some("/Construct"))
    );
    assert_eq!(status(api.create_space("/Construct", "AgentPool").await.unwrap_err()), 409);
    assert_eq!(status(api.create_space("/Nope", "x").await.unwrap_err()), 404);
    api.create_space("/Construct/AgentPool", "Archive").await.unwrap();
    api.create_space("/Construct", "Teams").await.unwrap();
    let flat: Vec<String> =
        api.list_spaces("/Construct", false).await.unwrap().into_iter().map(|s| s.path).collect();
    assert_eq!(flat, ["/Construct/AgentPool", "/Construct/Teams"]);
    assert_eq!(api.list_spaces("/Construct", true).await.unwrap().len(), 3);

    // Items: 409 on (space, name, kind), metadata kept, listing with filters.
    let reviewer = api
        .create_item("/Construct/AgentPool", "reviewer", "agent", &meta(&[("role", "code review")]))
        .await
        .unwrap();
    assert_eq!(reviewer.kref, "kref://Construct/AgentPool/reviewer.agent");
    assert_eq!(
        (reviewer.name.as_str(), reviewer.metadata["role"].as_str()),
        ("reviewer.agent", "code review")
    );
    assert_eq!(
        status(
            api.create_item("/Construct/AgentPool", "reviewer", "agent", &Metadata::new()).await.unwrap_err()
        ),
        409
    );
    api.create_item("/Construct/AgentPool", "reviewer", "skill", &Metadata::new()).await.unwrap();
    let writer = api
        .create_item("/Construct/AgentPool", "writer", "agent", &meta(&[("role", "technical writing")]))
        .await
        .unwrap();
    assert_eq!(
        status(api.create_item("/Construct/Missing", "x", "agent", &Metadata::new()).await.unwrap_err()),
        404
    );
    assert_eq!(
        status(
            api.create_item("/Construct/AgentPool", "bad name", "agent", &Metadata::new()).await.unwrap_err()
        ),
        400
    );
    let all = |filter: Option<&str>, deprecated: bool| ItemQuery {
        space_path: "/Construct/AgentPool".into(),
        name_filter: filter.map(str::to_owned),
        include_deprecated: deprecated,
        limit: None,
        offset: None,
    };
    assert_eq!(api.list_items(&all(None, false)).await.unwrap().len(), 3);
    assert_eq!(api.list_items(&all(Some("writ"), false)).await.unwrap().len(), 1);
    let page = ItemQuery { limit: Some(1), offset: Some(1), ..all(None, false) };
    assert_eq!(api.list_items(&page).await.unwrap()[0].kind, "skill", "ordered by name, then kind");

    // Revisions: sequential numbers, `latest`, tags that move.
    assert_eq!(status(api.latest_revision(&reviewer.kref).await.unwrap_err()), 404, "no revision yet");
    let r1 = api.create_revision(&reviewer.kref, &meta(&[("prompt", "v1")])).await.unwrap();
    let r2 = api.create_revision(&reviewer.kref, &meta(&[("prompt", "v2")])).await.unwrap();
    assert_eq!((r1.number, r2.number), (1, 2));
    assert_eq!(r2.kref, "kref://Construct/AgentPool/reviewer.agent?r=2");
    assert!(r2.latest && r2.tags.contains(&"latest".to_owned()));
    api.tag_revision(&r1.kref, "published").await.unwrap();
    assert_eq!(api.revision_by_tag(&reviewer.kref, "published").await.unwrap().number, 1);
    api.tag_revision(&r2.kref, "published").await.unwrap();
    let published = api.revision_by_tag(&reviewer.kref, "published").await.unwrap();
    assert_eq!(published.number, 2, "the tag moved");
    assert!(!api.revision_by_kref(&r1.kref).await.unwrap().tags.contains(&"published".to_owned()));
    assert_eq!(
        api.revision_by_kref(&r1.kref).await.unwrap().metadata["prompt"],
        "v1",
        "each revision keeps its content"
    );
    assert_eq!(status(api.revision_by_tag(&reviewer.kref, "ready").await.unwrap_err()), 404);
    assert_eq!(api.latest_revision(&reviewer.kref).await.unwrap().number, 2);
    assert_eq!(api.list_revisions(&reviewer.kref).await.unwrap().len(), 2);
    assert_eq!(status(api.tag_revision(&r1.kref, "latest").await.unwrap_err()), 400, "latest is implicit");
    assert_eq!(
        status(api.revision_by_kref("kref://Construct/AgentPool/reviewer.agent?r=9").await.unwrap_err()),
        404
    );

    // Batch lookups with and without allow_partial.
    let krefs =
        vec![reviewer.kref.clone(), writer.kref.clone(), "kref://Construct/AgentPool/ghost.agent".to_owned()];
    let batch = api.batch_revisions(&krefs, "published", true).await.unwrap();
    assert_eq!((batch.requested_count, batch.found_count), (3, 1));
    assert_eq!(batch.not_found, [writer.kref.clone(), "kref://Construct/AgentPool/ghost.agent".to_owned()]);
    assert_eq!(status(api.batch_revisions(&krefs, "published", false).await.unwrap_err()), 404);

    // Artifacts.
    let artifact =
        api.create_artifact(&r2.kref, "notes", "file:///tmp/notes.md", &Metadata::new()).await.unwrap();
    assert_eq!(artifact.kref, format!("{}&a=notes", r2.kref));
    assert_eq!(
        status(api.create_artifact(&r2.kref, "notes", "/x", &Metadata::new()).await.unwrap_err()),
        409
    );
    assert_eq!(api.list_artifacts(&r2.kref).await.unwrap().len(), 1);
    assert_eq!(api.artifact(&r2.kref, "notes").await.unwrap().location, "file:///tmp/notes.md");
    assert_eq!(status(api.artifact(&r2.kref, "missing").await.unwrap_err()), 404);

    // Edges by direction and type.
    let w1 = api.create_revision(&writer.kref, &Metadata::new()).await.unwrap();
    let edge = api.create_edge(&w1.kref, &r2.kref, "REPORTS_TO", &meta(&[("team", "docs")])).await.unwrap();
    assert_eq!((edge.source_kref.as_str(), edge.target_kref.as_str()), (w1.kref.as_str(), r2.kref.as_str()));
    api.create_edge(&r2.kref, &w1.kref, "SUPPORTS", &Metadata::new()).await.unwrap();
    assert_eq!(
        status(api.create_edge(&w1.kref, &r2.kref, "REPORTS_TO", &Metadata::new()).await.unwrap_err()),
        409
    );
    assert_eq!(api.list_edges(&r2.kref, None, Direction::Both).await.unwrap().len(), 2);
    assert_eq!(api.list_edges(&r2.kref, None, Direction::Incoming).await.unwrap()[0].edge_type, "REPORTS_TO");
    assert_eq!(api.list_edges(&r2.kref, None, Direction::Outgoing).await.unwrap()[0].edge_type, "SUPPORTS");
    assert_eq!(api.list_edges(&r2.kref, Some("DEPENDS_ON"), Direction::Both).await.unwrap().len(), 0);
    api.delete_edge(&r2.kref, &w1.kref, "SUPPORTS").await.unwrap();
    assert_eq!(status(api.delete_edge(&r2.kref, &w1.kref, "SUPPORTS").await.unwrap_err()), 404);

    // Bundles: every membership change is a revision.
    let team =
        api.create_bundle("/Construct/Teams", "docs-team", &meta(&[("description", "docs")])).await.unwrap();
    assert_eq!(
        (team.kind.as_str(), team.kref.as_str()),
        ("bundle", "kref://Construct/Teams/docs-team.bundle")
    );
    api.add_bundle_member(&team.kref, &reviewer.kref, &Metadata::new()).await.unwrap();
    api.add_bundle_member(&team.kref, &writer.kref, &Metadata::new()).await.unwrap();
    assert_eq!(
        status(api.add_bundle_member(&team.kref, &writer.kref, &Metadata::new()).await.unwrap_err()),
        409
    );
    let members = api.bundle_members(&team.kref).await.unwrap();
    assert_eq!(members.total_count, Some(2));
    assert_eq!(members.members[1].added_in_revision, Some(2));
    api.remove_bundle_member(&team.kref, &reviewer.kref).await.unwrap();
    assert_eq!(api.bundle_members(&team.kref).await.unwrap().members.len(), 1);
    assert_eq!(api.list_revisions(&team.kref).await.unwrap().len(), 3);
    assert_eq!(api.get_bundle(&team.kref).await.unwrap().kref, team.kref);
    assert_eq!(status(api.get_bundle(&reviewer.kref).await.unwrap_err()), 404, "not a bundle");

    // Full-text search over names, kinds and metadata; scoped by project and kind.
    let hits =
        api.search(&SearchQuery { query: "technical".into(), ..SearchQuery::default() }).await.unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].item.kref, writer.kref);
    let by_name = api
        .search(&SearchQuery { query: "review".into(), kind: Some("agent".into()), ..SearchQuery::default() })
        .await
        .unwrap();
    assert_eq!(by_name.iter().map(|h| h.item.kref.as_str()).collect::<Vec<_>>(), [reviewer.kref.as_str()]);
    let scoped =
        SearchQuery { query: "review".into(), context: Some("Elsewhere".into()), ..SearchQuery::default() };
    assert!(api.search(&scoped).await.unwrap().is_empty());
    assert!(
        api.search(&SearchQuery { query: "\" OR * NEAR(".into(), ..SearchQuery::default() }).await.is_ok(),
        "no query syntax leaks through"
    );

    // Deprecation hides from lists and search, not from reads; force delete takes everything with it.
    let hidden = api.deprecate_item(&writer.kref, true).await.unwrap();
    assert!(hidden.deprecated);
    assert_eq!(api.list_items(&all(None, false)).await.unwrap().len(), 2);
    assert_eq!(api.list_items(&all(None, true)).await.unwrap().len(), 3);
    assert!(
        api.search(&SearchQuery { query: "technical".into(), ..SearchQuery::default() })
            .await
            .unwrap()
            .is_empty()
    );
    assert!(api.get_item(&writer.kref).await.unwrap().deprecated);
    assert!(!api.deprecate_item(&writer.kref, false).await.unwrap().deprecated);
    api.delete_item(&writer.kref).await.unwrap();
    assert_eq!(status(api.get_item(&writer.kref).await.unwrap_err()), 404);
    assert!(api.list_edges(&r2.kref, None, Direction::Both).await.unwrap().is_empty(), "its edges went too");
    assert!(api.bundle_members(&team.kref).await.unwrap().members.is_empty(), "and its memberships");
    api.delete_bundle(&team.kref).await.unwrap();
    assert_eq!(status(api.get_bundle(&team.kref).await.unwrap_err()), 404);

    // Krefs are normalised: the scheme is optional; a malformed one is a 400.
    assert_eq!(api.get_item("Construct/AgentPool/reviewer.agent").await.unwrap().kref, reviewer.kref);
    assert_eq!(status(api.get_item("kref://Construct/../x.agent").await.unwrap_err()), 400);
}

#[tokio::test]
async fn the_embedded_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    contract(&LocalKumiho::open_in(dir.path()).unwrap()).await;
}

async fn serve(token: Option<&str>) -> String {
    let local: Arc<dyn KumihoApi> = Arc::new(LocalKumiho::in_memory().unwrap());
    let app = router::router(local, token);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test]
async fn the_http_client_keeps_the_contract_against_the_embedded_router() {
    let url = serve(Some("service-token")).await;
    contract(&HttpKumiho::new(&format!("{url}/"), "service-token").unwrap()).await;
}

#[tokio::test]
async fn tokens_are_required_and_errors_map_to_gateway_statuses() {
    let url = serve(Some("service-token")).await;
    let wrong = HttpKumiho::new(&url, "nope").unwrap();
    let refused = wrong.list_projects().await.unwrap_err();
    assert_eq!(refused, KumihoError::Api { status: 401, body: "invalid Kumiho token".into() });
    // Kumiho refusing the gateway's credentials must not look like the browser's own 401.
    assert_eq!(ApiError::from(refused).status(), StatusCode::BAD_GATEWAY);
    assert_eq!(ApiError::from(KumihoError::not_found("x")).status(), StatusCode::NOT_FOUND);
    assert_eq!(ApiError::from(KumihoError::Decode("x".into())).status(), StatusCode::BAD_GATEWAY);

    // The endpoint changes while running (upstream froze it at first use).
    wrong.set_endpoint(&url, "service-token");
    assert!(wrong.list_projects().await.unwrap().is_empty());
    // Nothing listening: unreachable → 503.
    let port = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let gone = HttpKumiho::new(&format!("http://127.0.0.1:{port}"), "t").unwrap();
    let error = gone.list_projects().await.unwrap_err();
    assert!(matches!(error, KumihoError::Unreachable(_)), "{error:?}");
    assert_eq!(ApiError::from(error).status(), StatusCode::SERVICE_UNAVAILABLE);
}
