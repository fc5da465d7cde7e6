//! Teams (spec: upstream-rest §2.3): one bundle per team in `/<harness_project>/Teams`, agents as members,
//! and typed edges between them.
//!
//! Fixed here: a team owns its edges. The graph is kept in the team's own published revision (`edges`),
//! and the Kumiho edges it created are recorded there too (`edge_refs`), so updating or deleting a team
//! removes exactly its own edges (upstream deleted every outgoing edge of every member, breaking other
//! teams) and the team view never loses an edge when an agent publishes a new revision. The summary
//! (`member_count`, `member_names`, `edge_count`) is read from the revision it is written to (upstream read
//! it from the item, where it never was). Bundle names are slugified; duplicate members are merged rather
//! than reported as a cycle; a failed create leaves nothing behind.

use std::collections::{BTreeSet, HashMap, VecDeque};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use construct_core::extract::{Json, Path, Query};
use construct_core::{ApiError, ErrorCode};
use construct_kumiho::model::{Item, Metadata, Revision};
use construct_kumiho::{KumihoApi, KumihoError};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ApiState;
use crate::graph::{
    INVALID_FIELD, ListQuery, MAX_ITEMS, all_items, ensure_space, item_kref, one_published_or_latest,
    optional, page_json, published_or_latest, required, slug_of, taken,
};

/// The space teams live in.
pub const SPACE: &str = "Teams";
/// The edge types a team graph may use.
pub const EDGE_TYPES: [&str; 4] = ["REPORTS_TO", "SUPPORTS", "DEPENDS_ON", "FEEDS_INTO"];
/// Largest team.
pub const MAX_MEMBERS: usize = 100;
/// 400 for a graph that breaks a rule; `validation_errors` lists why.
pub const INVALID_TEAM_GRAPH: ErrorCode = ErrorCode::new("INVALID_TEAM_GRAPH");

/// One edge of a team graph, between member item krefs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, utoipa::ToSchema)]
#[schema(as = TeamEdge)]
pub struct TeamEdge {
    /// From this member.
    #[schema(value_type = crate::graph::AgentKref)]
    pub from_kref: String,
    /// To this member.
    #[schema(value_type = crate::graph::AgentKref)]
    pub to_kref: String,
    /// One of [`EDGE_TYPES`] (a request may use any case).
    #[schema(schema_with = edge_type_schema)]
    pub edge_type: String,
}

fn edge_type_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(EDGE_TYPES))
        .description(Some("The edge type (a request may use any case)."))
        .build()
}

/// A Kumiho edge the team created, between revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct EdgeRef {
    source: String,
    target: String,
    edge_type: String,
}

/// Why a graph is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `self_edge`, `dangling_ref`, `reciprocal_depends`, `cycle`, `invalid_edge_type`, `unknown_member`.
    pub code: &'static str,
    /// For people.
    pub message: String,
}

/// Checks a team graph (members already normalised and de-duplicated).
pub fn validate_graph(members: &[String], edges: &[TeamEdge]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let set: BTreeSet<&str> = members.iter().map(String::as_str).collect();
    for edge in edges {
        if !EDGE_TYPES.contains(&edge.edge_type.as_str()) {
            problems.push(Problem {
                code: "invalid_edge_type",
                message: format!("unknown edge type {}", edge.edge_type),
            });
        }
        if edge.from_kref == edge.to_kref {
            problems
                .push(Problem { code: "self_edge", message: format!("{} points at itself", edge.from_kref) });
        }
        for end in [&edge.from_kref, &edge.to_kref] {
            if !set.contains(end.as_str()) {
                problems.push(Problem { code: "dangling_ref", message: format!("{end} is not a member") });
            }
        }
        if edge.edge_type == "DEPENDS_ON"
            && edges.iter().any(|o| {
                o.edge_type == "DEPENDS_ON" && o.from_kref == edge.to_kref && o.to_kref == edge.from_kref
            })
            && edge.from_kref < edge.to_kref
        {
            problems.push(Problem {
                code: "reciprocal_depends",
                message: format!("{} and {} depend on each other", edge.from_kref, edge.to_kref),
            });
        }
    }
    // Execution order: DEPENDS_ON(a, b) runs b before a; SUPPORTS and FEEDS_INTO(a, b) run a before b.
    let mut indegree: HashMap<&str, usize> = set.iter().map(|m| (*m, 0)).collect();
    let mut next: HashMap<&str, Vec<&str>> = HashMap::new();
    for edge in edges.iter().filter(|e| e.from_kref != e.to_kref) {
        let (before, after) = match edge.edge_type.as_str() {
            "DEPENDS_ON" => (edge.to_kref.as_str(), edge.from_kref.as_str()),
            "SUPPORTS" | "FEEDS_INTO" => (edge.from_kref.as_str(), edge.to_kref.as_str()),
            _ => continue,
        };
        if set.contains(before) && set.contains(after) {
            next.entry(before).or_default().push(after);
            *indegree.entry(after).or_default() += 1;
        }
    }
    let mut ready: VecDeque<&str> = indegree.iter().filter(|(_, d)| **d == 0).map(|(m, _)| *m).collect();
    let mut visited = 0;
    while let Some(member) = ready.pop_front() {
        visited += 1;
        for after in next.get(member).into_iter().flatten() {
            if let Some(d) = indegree.get_mut(after) {
                *d -= 1;
                if *d == 0 {
                    ready.push_back(after);
                }
            }
        }
    }
    if visited < set.len() {
        problems.push(Problem { code: "cycle", message: "the execution edges form a cycle".into() });
    }
    problems
}

fn space_path(state: &ApiState) -> String {
    format!("/{}/{SPACE}", state.config().kumiho.harness_project)
}

fn invalid_graph(problems: Vec<Problem>) -> ApiError {
    let detail = json!(problems);
    ApiError::new(StatusCode::BAD_REQUEST, INVALID_TEAM_GRAPH, "Team graph is invalid")
        .with_detail("validation_errors", detail)
}

fn list_of(meta: &Metadata, key: &str) -> Vec<String> {
    meta.get(key)
        .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn team_edges(revision: Option<&Revision>) -> Vec<TeamEdge> {
    revision
        .and_then(|r| r.metadata.get("edges"))
        .and_then(|e| serde_json::from_str(e).ok())
        .unwrap_or_default()
}

fn edge_refs(revision: Option<&Revision>) -> Vec<EdgeRef> {
    revision
        .and_then(|r| r.metadata.get("edge_refs"))
        .and_then(|e| serde_json::from_str(e).ok())
        .unwrap_or_default()
}

fn summary_json(item: &Item, revision: Option<&Revision>) -> Value {
    let empty = Metadata::new();
    let meta = revision.map_or(&empty, |r| &r.metadata);
    let count = |key: &str| meta.get(key).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    json!({
        "kref": item.kref,
        "name": meta.get("name").cloned().unwrap_or_else(|| item.item_name.clone()),
        "description": meta.get("description").or_else(|| item.metadata.get("description")).cloned().unwrap_or_default(),
        "deprecated": item.deprecated,
        "created_at": item.created_at,
        "member_count": count("member_count"),
        "member_names": list_of(meta, "member_names"),
        "edge_count": count("edge_count"),
    })
}

/// The full team: members with their agents' published (else latest) fields, and the team's edges.
async fn team_json(state: &ApiState, item: &Item) -> Result<Value, ApiError> {
    let kumiho = &*state.kumiho;
    let revision = one_published_or_latest(kumiho, &item.kref).await?;
    let members: Vec<String> =
        kumiho.bundle_members(&item.kref).await?.members.into_iter().map(|m| m.item_kref).collect();
    let revisions = published_or_latest(kumiho, &members).await?;
    let members: Vec<Value> = members
        .iter()
        .map(|kref| {
            let meta = revisions.get(kref).map(|r| r.metadata.clone()).unwrap_or_default();
            let name = construct_kumiho::Kref::parse(kref).map(|k| k.item_name).unwrap_or_default();
            json!({
                "kref": kref,
                "name": name,
                "display_name": meta.get("display_name").cloned().unwrap_or_default(),
                "role": meta.get("role").cloned().unwrap_or_default(),
                "agent_type": meta.get("agent_type").cloned().unwrap_or_default(),
                "identity": meta.get("identity").cloned().unwrap_or_default(),
                "expertise": list_of(&meta, "expertise"),
            })
        })
        .collect();
    let mut team = summary_json(item, revision.as_ref());
    team["members"] = json!(members);
    team["edges"] = json!(team_edges(revision.as_ref()));
    Ok(team)
}

#[utoipa::path(
    get,
    path = "/api/teams",
    tag = "teams",
    operation_id = "list_teams",
    summary = "A page of teams",
    params(ListQuery),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The page (`q` is not used here).", body = crate::openapi::schemas::TeamPage),
        (status = 400, description = "`INVALID_QUERY`: `page` outside 1-100000, `per_page` outside 1-100, or a malformed parameter.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn list(
    State(state): State<ApiState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let page = query.page()?;
    let kumiho = &*state.kumiho;
    let items =
        all_items(kumiho, &space_path(&state), Some("bundle"), query.include_deprecated, MAX_ITEMS).await?;
    let shown = page.slice(&items);
    let krefs: Vec<String> = shown.iter().map(|i| i.kref.clone()).collect();
    let revisions = published_or_latest(kumiho, &krefs).await?;
    let teams: Vec<Value> = shown.iter().map(|i| summary_json(i, revisions.get(&i.kref))).collect();
    Ok(Json(page_json("teams", teams, items.len(), page)))
}

#[utoipa::path(
    get,
    path = "/api/teams/{kref}",
    tag = "teams",
    operation_id = "get_team",
    summary = "A team with its members and edges",
    params(
        ("kref" = crate::graph::TeamKref, Path, description = "The team's (bundle's) kref, with or without `kref://`: `project/space/name.bundle`, its slashes sent as they are or percent-encoded."),
    ),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The team.", body = crate::openapi::schemas::TeamEnvelope),
        (status = 400, description = "`INVALID_KREF`: not a bundle kref.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoNotFound,
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn get(
    State(state): State<ApiState>,
    Path(kref): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let kref = item_kref(&kref, "bundle")?;
    let item = state.kumiho.get_bundle(&kref).await?;
    Ok(Json(json!({"team": team_json(&state, &item).await?})))
}

/// Body of `POST /api/teams` and `PUT /api/teams/{kref}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TeamBody {
    /// 1-100 characters (trimmed) with a letter or a digit; its slug is the bundle name.
    #[schema(min_length = 1, max_length = 100, pattern = r"^[\s\S]*[\p{L}\p{N}][\s\S]*$")]
    name: String,
    /// At most 2000 characters (blank is unset).
    #[serde(default)]
    #[schema(max_length = 2_000)]
    description: Option<String>,
    /// Agent krefs, at most 100 (duplicates are merged).
    #[serde(default)]
    #[schema(value_type = Vec<crate::graph::AgentKref>, max_items = 100)]
    members: Vec<String>,
    /// Edges between members (`REPORTS_TO`, `SUPPORTS`, `DEPENDS_ON`, `FEEDS_INTO`, any case), at most 400.
    #[serde(default)]
    #[schema(max_items = 400)]
    edges: Vec<TeamEdge>,
}

/// A checked team: normalised, de-duplicated members and edges, each member resolved to a revision.
struct Plan {
    name: String,
    description: String,
    members: Vec<String>,
    edges: Vec<TeamEdge>,
    revisions: HashMap<String, Revision>,
}

async fn plan(state: &ApiState, body: &TeamBody) -> Result<Plan, ApiError> {
    let name = required("name", &body.name, 100)?;
    let description = optional("description", body.description.as_deref(), 2_000)?.unwrap_or_default();
    if body.members.len() > MAX_MEMBERS || body.edges.len() > MAX_MEMBERS * 4 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            INVALID_FIELD,
            format!("at most {MAX_MEMBERS} members"),
        ));
    }
    let mut members: Vec<String> = Vec::new();
    for raw in &body.members {
        let kref = item_kref(raw, "agent")?;
        if !members.contains(&kref) {
            members.push(kref);
        }
    }
    let mut edges: Vec<TeamEdge> = Vec::new();
    for edge in &body.edges {
        let normalised = TeamEdge {
            from_kref: item_kref(&edge.from_kref, "agent")?,
            to_kref: item_kref(&edge.to_kref, "agent")?,
            edge_type: edge.edge_type.trim().to_ascii_uppercase(),
        };
        if !edges.contains(&normalised) {
            edges.push(normalised);
        }
    }
    let mut problems = validate_graph(&members, &edges);
    let revisions = published_or_latest(&*state.kumiho, &members).await?;
    for member in members.iter().filter(|m| !revisions.contains_key(*m)) {
        problems
            .push(Problem { code: "unknown_member", message: format!("{member} is not a published agent") });
    }
    if !problems.is_empty() {
        return Err(invalid_graph(problems));
    }
    Ok(Plan { name, description, members, edges, revisions })
}

/// Creates the team's Kumiho edges; returns what it created (so they can be removed exactly).
async fn create_edges(kumiho: &dyn KumihoApi, team: &str, plan: &Plan) -> Result<Vec<EdgeRef>, KumihoError> {
    let mut created = Vec::new();
    for edge in &plan.edges {
        let (Some(from), Some(to)) = (plan.revisions.get(&edge.from_kref), plan.revisions.get(&edge.to_kref))
        else {
            continue;
        };
        let meta = Metadata::from([("team".to_owned(), team.to_owned())]);
        match kumiho.create_edge(&from.kref, &to.kref, &edge.edge_type, &meta).await {
            Ok(_) => created.push(EdgeRef {
                source: from.kref.clone(),
                target: to.kref.clone(),
                edge_type: edge.edge_type.clone(),
            }),
            // Another team drew the same edge between the same revisions: share it, do not own it.
            Err(error) if error.is_conflict() => {}
            Err(error) => {
                remove_edges(kumiho, &created).await;
                return Err(error);
            }
        }
    }
    Ok(created)
}

async fn remove_edges(kumiho: &dyn KumihoApi, edges: &[EdgeRef]) {
    for edge in edges {
        match kumiho.delete_edge(&edge.source, &edge.target, &edge.edge_type).await {
            Ok(()) => {}
            Err(error) if error.is_not_found() => {}
            Err(error) => tracing::warn!(%error, "cannot remove a team edge"),
        }
    }
}

/// Writes the team's summary revision (its graph, the edges it owns, the counts) and publishes it.
async fn publish_summary(
    kumiho: &dyn KumihoApi,
    team: &str,
    plan: &Plan,
    owned: &[EdgeRef],
) -> Result<Revision, KumihoError> {
    let names: Vec<String> = plan
        .members
        .iter()
        .filter_map(|k| construct_kumiho::Kref::parse(k).ok().map(|k| k.item_name))
        .collect();
    let meta = Metadata::from([
        ("name".to_owned(), plan.name.clone()),
        ("description".to_owned(), plan.description.clone()),
        ("member_count".to_owned(), plan.members.len().to_string()),
        ("member_names".to_owned(), names.join(",")),
        ("edge_count".to_owned(), plan.edges.len().to_string()),
        ("edges".to_owned(), serde_json::to_string(&plan.edges).unwrap_or_default()),
        ("edge_refs".to_owned(), serde_json::to_string(owned).unwrap_or_default()),
    ]);
    let revision = kumiho.create_revision(team, &meta).await?;
    kumiho.tag_revision(&revision.kref, "published").await?;
    Ok(revision)
}

#[utoipa::path(
    post,
    path = "/api/teams",
    tag = "teams",
    operation_id = "create_team",
    summary = "Create a team",
    request_body(content = TeamBody, content_type = "application/json"),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 201, description = "Created.", body = crate::openapi::schemas::TeamEnvelope),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON; `INVALID_KREF`: a member or edge end that is not an agent kref; `INVALID_TEAM_GRAPH`: the graph breaks a rule; `validation_errors` lists `{code, message}` (`self_edge`, `dangling_ref`, `reciprocal_depends`, `cycle`, `invalid_edge_type`, `unknown_member`); `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 409, description = "`CONFLICT`: a team with the slug of `name` exists; `IDEMPOTENCY_IN_PROGRESS`: a request with the same `Idempotency-Key` is still running.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::BodyTooLarge,
        construct_core::openapi::NotJson,
        (status = 422, description = "`INVALID_BODY`: a missing, mistyped or unknown field; `INVALID_FIELD`: an empty or overlong name or description, or more than 100 members; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn create(
    State(state): State<ApiState>,
    Json(body): Json<TeamBody>,
) -> Result<Response, ApiError> {
    let plan = plan(&state, &body).await?;
    let slug = slug_of(&plan.name)?;
    let kumiho = &*state.kumiho;
    ensure_space(kumiho, &state.config().kumiho.harness_project, SPACE).await?;
    let meta = Metadata::from([("description".to_owned(), plan.description.clone())]);
    let item =
        kumiho.create_bundle(&space_path(&state), &slug, &meta).await.map_err(taken("A team", &slug))?;
    let built = async {
        for member in &plan.members {
            kumiho.add_bundle_member(&item.kref, member, &Metadata::new()).await?;
        }
        let owned = create_edges(kumiho, &item.kref, &plan).await?;
        if let Err(error) = publish_summary(kumiho, &item.kref, &plan, &owned).await {
            remove_edges(kumiho, &owned).await;
            return Err(error);
        }
        Ok(())
    };
    if let Err(error) = built.await {
        // Nothing half-made stays behind (the bundle takes its memberships with it).
        if let Err(undo) = kumiho.delete_bundle(&item.kref).await {
            tracing::warn!(error = %undo, "cannot undo a partial team");
        }
        return Err(error.into());
    }
    state.kumiho_cache.invalidate();
    Ok((StatusCode::CREATED, Json(json!({"team": team_json(&state, &item).await?}))).into_response())
}

#[utoipa::path(
    put,
    path = "/api/teams/{kref}",
    tag = "teams",
    operation_id = "update_team",
    summary = "Replace a team's members and edges",
    params(
        ("kref" = crate::graph::TeamKref, Path, description = "The team's (bundle's) kref, with or without `kref://`: `project/space/name.bundle`, its slashes sent as they are or percent-encoded."),
    ),
    request_body(content = TeamBody, content_type = "application/json"),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "The team; only its own edges were replaced.", body = crate::openapi::schemas::TeamEnvelope),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON; `INVALID_KREF`: not a bundle kref, or a member or edge end that is not an agent kref; `INVALID_TEAM_GRAPH`: the graph breaks a rule; `validation_errors` lists `{code, message}` (`self_edge`, `dangling_ref`, `reciprocal_depends`, `cycle`, `invalid_edge_type`, `unknown_member`); `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoNotFound,
        construct_core::openapi::IdempotencyInProgress,
        construct_core::openapi::BodyTooLarge,
        construct_core::openapi::NotJson,
        (status = 422, description = "`INVALID_BODY`: a missing, mistyped or unknown field; `INVALID_FIELD`: an empty or overlong name or description, or more than 100 members; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn update(
    State(state): State<ApiState>,
    Path(kref): Path<String>,
    Json(body): Json<TeamBody>,
) -> Result<Json<Value>, ApiError> {
    let kref = item_kref(&kref, "bundle")?;
    let kumiho = &*state.kumiho;
    let item = kumiho.get_bundle(&kref).await?;
    let plan = plan(&state, &body).await?;
    let previous = one_published_or_latest(kumiho, &item.kref).await?;
    let current: Vec<String> =
        kumiho.bundle_members(&item.kref).await?.members.into_iter().map(|m| m.item_kref).collect();
    for member in plan.members.iter().filter(|m| !current.contains(m)) {
        kumiho.add_bundle_member(&item.kref, member, &Metadata::new()).await?;
    }
    for member in current.iter().filter(|m| !plan.members.contains(m)) {
        kumiho.remove_bundle_member(&item.kref, member).await?;
    }
    // Only this team's own edges are replaced; other teams sharing these agents keep theirs.
    remove_edges(kumiho, &edge_refs(previous.as_ref())).await;
    let owned = create_edges(kumiho, &item.kref, &plan).await?;
    publish_summary(kumiho, &item.kref, &plan, &owned).await?;
    state.kumiho_cache.invalidate();
    Ok(Json(json!({"team": team_json(&state, &item).await?})))
}

#[utoipa::path(
    delete,
    path = "/api/teams/{kref}",
    tag = "teams",
    operation_id = "delete_team",
    summary = "Delete a team and the edges it owns",
    params(
        ("kref" = crate::graph::TeamKref, Path, description = "The team's (bundle's) kref, with or without `kref://`: `project/space/name.bundle`, its slashes sent as they are or percent-encoded."),
    ),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "`INVALID_KREF`: not a bundle kref; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoNotFound,
        construct_core::openapi::IdempotencyInProgress,
        construct_core::openapi::IdempotencyKeyReused,
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn delete(
    State(state): State<ApiState>,
    Path(kref): Path<String>,
) -> Result<StatusCode, ApiError> {
    let kref = item_kref(&kref, "bundle")?;
    let kumiho = &*state.kumiho;
    let item = kumiho.get_bundle(&kref).await?;
    let summary = one_published_or_latest(kumiho, &item.kref).await?;
    remove_edges(kumiho, &edge_refs(summary.as_ref())).await;
    kumiho.delete_bundle(&item.kref).await?;
    state.kumiho_cache.invalidate();
    Ok(StatusCode::NO_CONTENT)
}

/// Body of `POST /api/teams/deprecate`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DeprecateTeamRequest)]
pub(crate) struct DeprecateTeam {
    /// The team's (bundle's) kref.
    #[schema(value_type = crate::graph::TeamKref)]
    kref: String,
    /// Deprecate (true) or restore (false).
    deprecated: bool,
}

#[utoipa::path(
    post,
    path = "/api/teams/deprecate",
    tag = "teams",
    operation_id = "deprecate_team",
    summary = "Deprecate or restore a team",
    request_body(content = DeprecateTeam, content_type = "application/json"),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "Done.", body = crate::openapi::schemas::SuccessAnswer),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON; `INVALID_KREF`: not a bundle kref; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoNotFound,
        construct_core::openapi::IdempotencyInProgress,
        construct_core::openapi::BodyTooLarge,
        construct_core::openapi::NotJson,
        (status = 422, description = "`INVALID_BODY`: a missing, mistyped or unknown field; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn deprecate(
    State(state): State<ApiState>,
    Json(body): Json<DeprecateTeam>,
) -> Result<Json<Value>, ApiError> {
    let kref = item_kref(&body.kref, "bundle")?;
    state.kumiho.get_bundle(&kref).await?;
    state.kumiho.deprecate_item(&kref, body.deprecated).await?;
    state.kumiho_cache.invalidate();
    Ok(Json(json!({"success": true})))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(from: &str, to: &str, kind: &str) -> TeamEdge {
        TeamEdge { from_kref: from.into(), to_kref: to.into(), edge_type: kind.into() }
    }

    fn codes(members: &[&str], edges: &[TeamEdge]) -> Vec<&'static str> {
        let members: Vec<String> = members.iter().map(|m| (*m).to_owned()).collect();
        validate_graph(&members, edges).into_iter().map(|p| p.code).collect()
    }

    #[test]
    fn graph_rules() {
        assert!(
            codes(
                &["a", "b", "c"],
                &[edge("a", "b", "SUPPORTS"), edge("b", "c", "FEEDS_INTO"), edge("c", "a", "REPORTS_TO")]
            )
            .is_empty()
        );
        assert_eq!(codes(&["a"], &[edge("a", "a", "SUPPORTS")]), ["self_edge"]);
        assert_eq!(codes(&["a"], &[edge("a", "z", "REPORTS_TO")]), ["dangling_ref"]);
        assert_eq!(codes(&["a", "b"], &[edge("a", "b", "LIKES")]), ["invalid_edge_type"]);
        let reciprocal = codes(&["a", "b"], &[edge("a", "b", "DEPENDS_ON"), edge("b", "a", "DEPENDS_ON")]);
        assert_eq!(reciprocal, ["reciprocal_depends", "cycle"]);
        assert_eq!(
            codes(
                &["a", "b", "c"],
                &[edge("a", "b", "SUPPORTS"), edge("b", "c", "SUPPORTS"), edge("c", "a", "FEEDS_INTO")]
            ),
            ["cycle"]
        );
        // DEPENDS_ON(a, b) runs b first: with SUPPORTS(b, a) it is consistent, not a cycle.
        assert!(codes(&["a", "b"], &[edge("a", "b", "DEPENDS_ON"), edge("b", "a", "SUPPORTS")]).is_empty());
    }
}
