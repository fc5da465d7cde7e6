//! Kumiho's `/api/v1` REST contract (spec: upstream-rest §1.5) served over any [`KumihoApi`]: the embedded
//! store answers the gateway's proxy in process, and `construct-gateway kumiho serve` shares it between
//! gateways on one host. When a token is configured, every request must carry it in `X-Kumiho-Token`
//! (compared in constant time, as hashes).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use construct_core::extract::Json;
use construct_core::{ApiError, ErrorCode};
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::api::{KumihoApi, KumihoError};
use crate::model::{Direction, ItemQuery, Metadata, SearchQuery};

/// The header carrying the service token.
pub const TOKEN_HEADER: &str = "x-kumiho-token";

#[derive(Clone)]
struct Served {
    api: Arc<dyn KumihoApi>,
    token: Option<[u8; 32]>,
}

/// Tokens are compared as SHA-256 digests, so the comparison takes the same time whatever the length.
fn digest(token: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref());
    out
}

/// The router, at `/api/v1`.
pub fn router(api: Arc<dyn KumihoApi>, token: Option<&str>) -> Router {
    let served = Served { api, token: token.map(str::trim).filter(|t| !t.is_empty()).map(digest) };
    let v1 = Router::new()
        .route("/projects", get(list_projects).post(create_project))
        .route("/spaces", get(list_spaces).post(create_space))
        .route("/items", get(list_items).post(create_item))
        .route("/items/by-kref", get(get_item).delete(delete_item))
        .route("/items/deprecate", post(deprecate_item))
        .route("/items/fulltext-search", get(search))
        .route("/revisions", get(list_revisions).post(create_revision))
        .route("/revisions/tags", post(tag_revision))
        .route("/revisions/by-kref", get(revision_by_kref))
        .route("/revisions/latest", get(latest_revision))
        .route("/revisions/batch", post(batch_revisions))
        .route("/bundles", post(create_bundle))
        .route("/bundles/by-kref", get(get_bundle).delete(delete_bundle))
        .route("/bundles/members", get(bundle_members))
        .route("/bundles/members/add", post(add_member))
        .route("/bundles/members/remove", post(remove_member))
        .route("/edges", get(list_edges).post(create_edge).delete(delete_edge))
        .route("/artifacts", get(list_artifacts).post(create_artifact))
        .route("/artifacts/by-kref", get(artifact))
        .route_layer(axum::middleware::from_fn_with_state(served.clone(), authenticate))
        .with_state(served);
    Router::new().nest("/api/v1", v1)
}

async fn authenticate(
    State(served): State<Served>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if let Some(expected) = &served.token {
        let presented = request.headers().get(TOKEN_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !bool::from(expected.ct_eq(&digest(presented.trim()))) {
            return ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::UNAUTHORIZED, "invalid Kumiho token")
                .into_response();
        }
    }
    next.run(request).await
}

/// A Kumiho error as the server answers it: the status it carries, `{"error": message}`.
struct Failure(KumihoError);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self.0 {
            KumihoError::Api { status, body } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (status, axum::Json(json!({ "error": body }))).into_response()
            }
            other => {
                tracing::error!(error = %other, "embedded Kumiho failed");
                (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({ "error": "internal error" })))
                    .into_response()
            }
        }
    }
}

impl From<KumihoError> for Failure {
    fn from(error: KumihoError) -> Self {
        Failure(error)
    }
}

type Answer = Result<Response, Failure>;

fn ok(value: impl serde::Serialize) -> Answer {
    Ok(axum::Json(value).into_response())
}

fn created(value: impl serde::Serialize) -> Answer {
    Ok((StatusCode::CREATED, axum::Json(value)).into_response())
}

fn done() -> Answer {
    Ok(axum::Json(json!({ "success": true })).into_response())
}

#[derive(Deserialize)]
struct NewProject {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

async fn create_project(State(s): State<Served>, Json(b): Json<NewProject>) -> Answer {
    created(s.api.create_project(&b.name, b.description.as_deref()).await?)
}

async fn list_projects(State(s): State<Served>) -> Answer {
    ok(s.api.list_projects().await?)
}

#[derive(Deserialize)]
struct NewSpace {
    parent_path: String,
    name: String,
}

async fn create_space(State(s): State<Served>, Json(b): Json<NewSpace>) -> Answer {
    created(s.api.create_space(&b.parent_path, &b.name).await?)
}

#[derive(Deserialize)]
struct SpacesQuery {
    parent_path: String,
    #[serde(default)]
    recursive: bool,
}

async fn list_spaces(State(s): State<Served>, Query(q): Query<SpacesQuery>) -> Answer {
    ok(s.api.list_spaces(&q.parent_path, q.recursive).await?)
}

#[derive(Deserialize)]
struct ItemsQuery {
    space_path: String,
    #[serde(default)]
    name_filter: Option<String>,
    #[serde(default)]
    include_deprecated: bool,
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    offset: Option<u32>,
}

async fn list_items(State(s): State<Served>, Query(q): Query<ItemsQuery>) -> Answer {
    let query = ItemQuery {
        space_path: q.space_path,
        name_filter: q.name_filter.filter(|f| !f.is_empty()),
        include_deprecated: q.include_deprecated,
        limit: q.limit,
        offset: q.offset,
    };
    ok(s.api.list_items(&query).await?)
}

#[derive(Deserialize)]
struct NewItem {
    space_path: String,
    item_name: String,
    kind: String,
    #[serde(default)]
    metadata: Metadata,
}

async fn create_item(State(s): State<Served>, Json(b): Json<NewItem>) -> Answer {
    created(s.api.create_item(&b.space_path, &b.item_name, &b.kind, &b.metadata).await?)
}

#[derive(Deserialize)]
struct KrefQuery {
    kref: String,
    #[serde(default)]
    t: Option<String>,
    #[serde(default)]
    deprecated: Option<bool>,
}

async fn get_item(State(s): State<Served>, Query(q): Query<KrefQuery>) -> Answer {
    ok(s.api.get_item(&q.kref).await?)
}

async fn delete_item(State(s): State<Served>, Query(q): Query<KrefQuery>) -> Answer {
    s.api.delete_item(&q.kref).await?;
    done()
}

async fn deprecate_item(State(s): State<Served>, Query(q): Query<KrefQuery>) -> Answer {
    ok(s.api.deprecate_item(&q.kref, q.deprecated.unwrap_or(true)).await?)
}

#[derive(Deserialize)]
struct SearchParams {
    query: String,
    #[serde(default)]
    context: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    include_deprecated: bool,
}

async fn search(State(s): State<Served>, Query(q): Query<SearchParams>) -> Answer {
    let query = SearchQuery {
        query: q.query,
        context: q.context,
        kind: q.kind,
        include_deprecated: q.include_deprecated,
    };
    ok(s.api.search(&query).await?)
}

#[derive(Deserialize)]
struct NewRevision {
    item_kref: String,
    #[serde(default)]
    metadata: Metadata,
}

async fn create_revision(State(s): State<Served>, Json(b): Json<NewRevision>) -> Answer {
    created(s.api.create_revision(&b.item_kref, &b.metadata).await?)
}

#[derive(Deserialize)]
struct ItemKref {
    item_kref: String,
}

async fn list_revisions(State(s): State<Served>, Query(q): Query<ItemKref>) -> Answer {
    ok(s.api.list_revisions(&q.item_kref).await?)
}

#[derive(Deserialize)]
struct Tag {
    tag: String,
}

async fn tag_revision(State(s): State<Served>, Query(q): Query<KrefQuery>, Json(b): Json<Tag>) -> Answer {
    s.api.tag_revision(&q.kref, &b.tag).await?;
    done()
}

async fn revision_by_kref(State(s): State<Served>, Query(q): Query<KrefQuery>) -> Answer {
    match q.t.filter(|t| !t.is_empty()) {
        Some(tag) => ok(s.api.revision_by_tag(&q.kref, &tag).await?),
        None => ok(s.api.revision_by_kref(&q.kref).await?),
    }
}

async fn latest_revision(State(s): State<Served>, Query(q): Query<ItemKref>) -> Answer {
    ok(s.api.latest_revision(&q.item_kref).await?)
}

#[derive(Deserialize)]
struct Batch {
    item_krefs: Vec<String>,
    #[serde(default = "latest")]
    tag: String,
    #[serde(default)]
    allow_partial: bool,
}

fn latest() -> String {
    "latest".to_owned()
}

async fn batch_revisions(State(s): State<Served>, Json(b): Json<Batch>) -> Answer {
    ok(s.api.batch_revisions(&b.item_krefs, &b.tag, b.allow_partial).await?)
}

#[derive(Deserialize)]
struct NewBundle {
    space_path: String,
    bundle_name: String,
    #[serde(default)]
    metadata: Metadata,
}

async fn create_bundle(State(s): State<Served>, Json(b): Json<NewBundle>) -> Answer {
    created(s.api.create_bundle(&b.space_path, &b.bundle_name, &b.metadata).await?)
}

async fn get_bundle(State(s): State<Served>, Query(q): Query<KrefQuery>) -> Answer {
    ok(s.api.get_bundle(&q.kref).await?)
}

async fn delete_bundle(State(s): State<Served>, Query(q): Query<KrefQuery>) -> Answer {
    s.api.delete_bundle(&q.kref).await?;
    done()
}

#[derive(Deserialize)]
struct Member {
    bundle_kref: String,
    item_kref: String,
    #[serde(default)]
    metadata: Metadata,
}

async fn add_member(State(s): State<Served>, Json(b): Json<Member>) -> Answer {
    s.api.add_bundle_member(&b.bundle_kref, &b.item_kref, &b.metadata).await?;
    done()
}

async fn remove_member(State(s): State<Served>, Json(b): Json<Member>) -> Answer {
    s.api.remove_bundle_member(&b.bundle_kref, &b.item_kref).await?;
    done()
}

#[derive(Deserialize)]
struct BundleKref {
    bundle_kref: String,
}

async fn bundle_members(State(s): State<Served>, Query(q): Query<BundleKref>) -> Answer {
    ok(s.api.bundle_members(&q.bundle_kref).await?)
}

#[derive(Deserialize)]
struct NewEdge {
    source_revision_kref: String,
    target_revision_kref: String,
    edge_type: String,
    #[serde(default)]
    metadata: Metadata,
}

async fn create_edge(State(s): State<Served>, Json(b): Json<NewEdge>) -> Answer {
    created(
        s.api
            .create_edge(&b.source_revision_kref, &b.target_revision_kref, &b.edge_type, &b.metadata)
            .await?,
    )
}

#[derive(Deserialize)]
struct EdgesQuery {
    kref: String,
    #[serde(default)]
    edge_type: Option<String>,
    #[serde(default)]
    direction: Option<String>,
}

async fn list_edges(State(s): State<Served>, Query(q): Query<EdgesQuery>) -> Answer {
    let direction = match q.direction.as_deref().filter(|d| !d.is_empty()) {
        None => Direction::Both,
        Some(raw) => {
            Direction::parse(raw).ok_or_else(|| KumihoError::invalid(format!("invalid direction {raw:?}")))?
        }
    };
    ok(s.api.list_edges(&q.kref, q.edge_type.as_deref(), direction).await?)
}

#[derive(Deserialize)]
struct EdgeKey {
    source_kref: String,
    target_kref: String,
    edge_type: String,
}

async fn delete_edge(State(s): State<Served>, Query(q): Query<EdgeKey>) -> Answer {
    s.api.delete_edge(&q.source_kref, &q.target_kref, &q.edge_type).await?;
    done()
}

#[derive(Deserialize)]
struct NewArtifact {
    revision_kref: String,
    name: String,
    location: String,
    #[serde(default)]
    metadata: Metadata,
}

async fn create_artifact(State(s): State<Served>, Json(b): Json<NewArtifact>) -> Answer {
    created(s.api.create_artifact(&b.revision_kref, &b.name, &b.location, &b.metadata).await?)
}

#[derive(Deserialize)]
struct RevisionKref {
    revision_kref: String,
    #[serde(default)]
    name: Option<String>,
}

async fn list_artifacts(State(s): State<Served>, Query(q): Query<RevisionKref>) -> Answer {
    ok(s.api.list_artifacts(&q.revision_kref).await?)
}

async fn artifact(State(s): State<Served>, Query(q): Query<RevisionKref>) -> Answer {
    let name = q.name.ok_or_else(|| KumihoError::invalid("name is required"))?;
    ok(s.api.artifact(&q.revision_kref, &name).await?)
}
