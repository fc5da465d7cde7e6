//! `GET /api/memory/graph` (read): a project's items and the edges between them, for the dashboard's
//! memory view (spec: upstream-rest §2.6).
//!
//! Bounded: at most 500 nodes (`limit`, default 100), items gathered from at most 5000 per call, edges
//! looked up ten at a time. Kind counts are taken over everything gathered before truncation (upstream
//! counted a partial set), and the space filter applies to searches too.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::State;
use construct_core::extract::{Json, Query};
use construct_core::{ApiError, ErrorCode};
use construct_kumiho::model::{Direction, Item, SearchQuery};
use futures_util::stream::{self, StreamExt};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ApiState;
use crate::graph::{all_items, published_or_latest};

/// Largest `limit`.
pub const MAX_LIMIT: usize = 500;
/// Most items gathered before sorting and truncating.
pub const MAX_GATHERED: usize = 5_000;

/// Query of `GET /api/memory/graph`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct GraphQuery {
    /// The project (default `[kumiho] memory_project`): one kref segment, non-empty, never `.` or `..`,
    /// with no whitespace, control character or `/ ? & # =`.
    #[serde(default)]
    #[param(schema_with = project_schema)]
    project: Option<String>,
    /// 1..=500 (default 100).
    #[serde(default)]
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
    /// A comma list of kinds to keep.
    #[serde(default)]
    kinds: Option<String>,
    /// A space path prefix (applies to searches too).
    #[serde(default)]
    space: Option<String>,
    /// `recent` (default) or `name`.
    #[serde(default)]
    #[param(schema_with = sort_schema)]
    sort: Option<String>,
    /// Full-text search instead of listing.
    #[serde(default)]
    search: Option<String>,
}

/// The orders `sort` may ask for.
const SORTS: [&str; 2] = ["recent", "name"];

fn project_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some(format!("^{}$", crate::graph::KREF_SEGMENT)))
        .description(Some(
            "The project (default `[kumiho] memory_project`): one name, never `.` or `..`, with no whitespace, \
             control character or `/ ? & # =`.",
        ))
        .build()
}

fn sort_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(SORTS))
        .description(Some("`recent` (the default) or `name`."))
        .build()
}

fn bad_query(message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::INVALID_QUERY, message.to_owned())
}

/// `kref://P/S/x.k` → `P/S/x.k`.
fn node_id(kref: &str) -> &str {
    let bare = kref.strip_prefix("kref://").unwrap_or(kref);
    bare.split('?').next().unwrap_or(bare)
}

fn space_of(kref: &str) -> String {
    let id = node_id(kref);
    id.rsplit_once('/').map_or_else(String::new, |(space, _)| space.to_owned())
}

#[utoipa::path(
    get,
    path = "/api/memory/graph",
    tag = "memory",
    operation_id = "memory_graph",
    summary = "A project's items and the edges between them",
    params(GraphQuery),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The graph; an unknown project is an empty graph.", body = crate::openapi::schemas::MemoryGraph),
        (status = 400, description = "`INVALID_QUERY`: a bad `limit`, `sort` or `project`.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn graph(
    State(state): State<ApiState>,
    Query(query): Query<GraphQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(bad_query("limit must be between 1 and 500"));
    }
    let project = query.project.unwrap_or_else(|| state.config().kumiho.memory_project.clone());
    // Exactly one segment as given: no slash, and nothing the parser would trim away.
    if construct_kumiho::kref::space_path(&format!("/{project}")) != Ok(vec![project.clone()]) {
        return Err(bad_query("project must be a single name"));
    }
    let by_name = match query.sort.as_deref() {
        None | Some("recent") => false,
        Some("name") => true,
        Some(_) => return Err(bad_query("sort must be recent or name")),
    };
    let kinds: Option<BTreeSet<String>> = query
        .kinds
        .as_deref()
        .map(|k| k.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .filter(|k: &BTreeSet<String>| !k.is_empty());
    let space_filter =
        query.space.as_deref().map(|s| s.trim().trim_matches('/').to_owned()).filter(|s| !s.is_empty());
    let kumiho = &*state.kumiho;
    let empty = || {
        Json(
            json!({"nodes": [], "edges": [], "spaces": [], "stats": {"total_items": 0, "total_edges": 0, "kinds": {}}}),
        )
    };

    let root = format!("/{project}");
    let spaces = match kumiho.list_spaces(&root, true).await {
        Ok(spaces) => spaces,
        Err(error) if error.is_not_found() => return Ok(empty()),
        Err(error) => return Err(error.into()),
    };
    let space_paths: Vec<String> = spaces.iter().map(|s| s.path.trim_start_matches('/').to_owned()).collect();
    let in_space =
        |item: &Item| space_filter.as_ref().is_none_or(|f| space_of(&item.kref).starts_with(f.as_str()));

    let mut gathered: Vec<Item> = Vec::new();
    match query.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(search) => {
            let search = SearchQuery {
                query: search.to_owned(),
                context: Some(project.clone()),
                ..SearchQuery::default()
            };
            gathered.extend(
                kumiho.search(&search).await?.into_iter().map(|hit| hit.item).filter(|i| in_space(i)),
            );
        }
        None => {
            for space in spaces.iter().filter(|s| {
                space_filter.as_ref().is_none_or(|f| s.path.trim_start_matches('/').starts_with(f.as_str()))
            }) {
                let room = MAX_GATHERED - gathered.len();
                gathered.extend(all_items(kumiho, &space.path, None, false, room).await?);
                if gathered.len() >= MAX_GATHERED {
                    gathered.truncate(MAX_GATHERED);
                    break;
                }
            }
        }
    }
    if let Some(kinds) = &kinds {
        gathered.retain(|i| kinds.contains(&i.kind));
    }
    let mut kind_counts: BTreeMap<String, u64> = BTreeMap::new();
    for item in &gathered {
        *kind_counts.entry(item.kind.clone()).or_default() += 1;
    }
    let total_items = gathered.len();
    if by_name {
        gathered.sort_by(|a, b| a.item_name.cmp(&b.item_name).then_with(|| a.kref.cmp(&b.kref)));
    } else {
        gathered.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.kref.cmp(&b.kref)));
    }
    gathered.truncate(limit);

    let krefs: Vec<String> = gathered.iter().map(|i| i.kref.clone()).collect();
    let revisions = published_or_latest(kumiho, &krefs).await?;
    let ids: BTreeSet<&str> = gathered.iter().map(|i| node_id(&i.kref)).collect();
    let nodes: Vec<Value> = gathered
        .iter()
        .map(|item| {
            let revision = revisions.get(&item.kref);
            let mut node = json!({
                "id": node_id(&item.kref),
                "name": item.item_name,
                "kind": item.kind,
                "space": space_of(&item.kref),
                "created_at": item.created_at,
            });
            if let Some(revision) = revision {
                node["revision_kref"] = json!(revision.kref);
                for key in ["title", "summary"] {
                    if let Some(value) = revision.metadata.get(key) {
                        node[key] = json!(value);
                    }
                }
            }
            node
        })
        .collect();

    // Edges of each node's revision, ten lookups at a time; only edges between shown nodes, no self edges,
    // each once.
    let lookups: Vec<String> = revisions.values().map(|r| r.kref.clone()).collect();
    let found: Vec<_> = stream::iter(lookups)
        .map(|kref| async move { kumiho.list_edges(&kref, None, Direction::Both).await })
        .buffer_unordered(10)
        .collect()
        .await;
    let mut seen = BTreeSet::new();
    let mut edges = Vec::new();
    for edge in found.into_iter().filter_map(Result::ok).flatten() {
        let (source, target) = (node_id(&edge.source_kref).to_owned(), node_id(&edge.target_kref).to_owned());
        if source == target || !ids.contains(source.as_str()) || !ids.contains(target.as_str()) {
            continue;
        }
        if seen.insert((source.clone(), target.clone(), edge.edge_type.clone())) {
            let mut value = json!({"source": source, "target": target, "edge_type": edge.edge_type});
            if let Some(metadata) = edge.metadata.filter(|m| !m.is_empty()) {
                value["metadata"] = json!(metadata);
            }
            edges.push(value);
        }
    }
    let stats = json!({"total_items": total_items, "total_edges": edges.len(), "kinds": kind_counts});
    Ok(Json(json!({"nodes": nodes, "edges": edges, "spaces": space_paths, "stats": stats})))
}
