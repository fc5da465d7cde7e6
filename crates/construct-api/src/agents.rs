//! Agents (spec: upstream-rest §2.1): one `agent` item per agent in `/<harness_project>/AgentPool`, its
//! fields in the `published` revision's metadata.
//!
//! `GET /api/agents` (read) pages over the whole pool (or a full-text search with `q`) and enriches only
//! the page, with batch calls. `POST` (admin) creates item, revision and `published` tag, undoing the item
//! if a later step fails; `PUT /api/agents/{*kref}` (admin) publishes a new revision (the item name never
//! changes; the display name does); `POST /api/agents/deprecate` and `DELETE /api/agents/{*kref}` (admin).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use construct_core::ApiError;
use construct_core::extract::{Json, Path, Query};
use construct_kumiho::KumihoApi;
use construct_kumiho::model::{Item, Metadata, Revision};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ApiState;
use crate::graph::{
    INVALID_FIELD, ListQuery, ensure_space, item_kref, list_page, one_published_or_latest, optional,
    required, slug_of, taken, undo_create,
};

/// The space agents live in.
pub const SPACE: &str = "AgentPool";
/// Their kind.
pub const KIND: &str = "agent";
/// The body limit of the agent writes: a body with every field at its longest (about 43 000 characters)
/// fits even when each character comes JSON-escaped as a surrogate pair (12 bytes), so a body the OpenAPI
/// document allows is judged on its fields (422 `INVALID_FIELD`), never refused for its size.
pub const BODY_LIMIT: usize = 640 * 1024;

/// An agent as the dashboard shows it.
pub fn agent_json(item: &Item, revision: Option<&Revision>) -> Value {
    let empty = Metadata::new();
    let meta = revision.map_or(&empty, |r| &r.metadata);
    let field = |key: &str| meta.get(key).cloned().unwrap_or_default();
    let display =
        meta.get("display_name").filter(|n| !n.is_empty()).cloned().unwrap_or_else(|| item.item_name.clone());
    let expertise: Vec<String> =
        field("expertise").split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    json!({
        "kref": item.kref,
        "name": display,
        "kind": item.kind,
        "deprecated": item.deprecated,
        "created_at": item.created_at,
        "identity": field("identity"),
        "soul": field("soul"),
        "expertise": expertise,
        "tone": field("tone"),
        "role": field("role"),
        "agent_type": field("agent_type"),
        "model": field("model"),
        "system_hint": field("system_hint"),
        "revision": revision.map(|r| r.number),
    })
}

fn space_path(state: &ApiState) -> String {
    format!("/{}/{SPACE}", state.config().kumiho.harness_project)
}

#[utoipa::path(
    get,
    path = "/api/agents",
    tag = "agents",
    operation_id = "list_agents",
    summary = "A page of agents",
    params(ListQuery),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The page and the count of the whole pool (or of the search hits).", body = crate::openapi::schemas::AgentPage),
        (status = 400, description = "`INVALID_QUERY`: `page` outside 1-100000, `per_page` outside 1-100, or a malformed parameter.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn list(
    State(state): State<ApiState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let config = state.config();
    let place = (config.kumiho.harness_project.as_str(), space_path(&state), KIND);
    let body = list_page(&*state.kumiho, &query, (place.0, &place.1, place.2), "agents", agent_json).await?;
    Ok(Json(body))
}

/// Body of `POST /api/agents` and `PUT /api/agents/{kref}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgentBody {
    /// The display name, 1-100 characters (trimmed) with a letter or a digit; its slug is the item name.
    #[schema(min_length = 1, max_length = 100, pattern = r"^[\s\S]*[\p{L}\p{N}][\s\S]*$")]
    name: String,
    /// Who the agent is, 1-16384 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 16_384,
        pattern = r"^[\s\S]*[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][\s\S]*$"
    )]
    identity: String,
    /// How it behaves, 1-16384 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 16_384,
        pattern = r"^[\s\S]*[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][\s\S]*$"
    )]
    soul: String,
    /// At most 50 entries of 1-100 characters, each with something besides whitespace and commas.
    #[serde(default)]
    #[schema(schema_with = expertise_schema)]
    expertise: Vec<String>,
    /// At most 200 characters (blank is unset).
    #[serde(default)]
    #[schema(max_length = 200)]
    tone: Option<String>,
    /// At most 200 characters (blank is unset).
    #[serde(default)]
    #[schema(max_length = 200)]
    role: Option<String>,
    /// At most 100 characters (blank is unset).
    #[serde(default)]
    #[schema(max_length = 100)]
    agent_type: Option<String>,
    /// At most 200 characters (blank is unset).
    #[serde(default)]
    #[schema(max_length = 200)]
    model: Option<String>,
    /// At most 4096 characters (blank is unset).
    #[serde(default)]
    #[schema(max_length = 4_096)]
    system_hint: Option<String>,
}

fn expertise_schema() -> utoipa::openapi::schema::Array {
    crate::graph::entries_schema(
        "What the agent knows: at most 50 entries of 1-100 characters, each with something besides whitespace \
         and commas.",
        50,
        100,
    )
}

impl AgentBody {
    /// The revision metadata, every field checked.
    fn metadata(&self) -> Result<Metadata, ApiError> {
        let mut meta = Metadata::new();
        meta.insert("display_name".into(), required("name", &self.name, 100)?);
        meta.insert("identity".into(), required("identity", &self.identity, 16_384)?);
        meta.insert("soul".into(), required("soul", &self.soul, 16_384)?);
        if self.expertise.len() > 50 {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                INVALID_FIELD,
                "at most 50 expertise entries",
            ));
        }
        let expertise: Vec<String> = self
            .expertise
            .iter()
            .map(|e| required("expertise", &e.replace(',', " "), 100))
            .collect::<Result<_, _>>()?;
        if !expertise.is_empty() {
            meta.insert("expertise".into(), expertise.join(","));
        }
        for (key, value, max) in [
            ("tone", &self.tone, 200),
            ("role", &self.role, 200),
            ("agent_type", &self.agent_type, 100),
            ("model", &self.model, 200),
            ("system_hint", &self.system_hint, 4_096),
        ] {
            if let Some(value) = optional(key, value.as_deref(), max)? {
                meta.insert(key.into(), value);
            }
        }
        Ok(meta)
    }
}

/// Creates a revision with `metadata` and publishes it.
async fn publish(
    kumiho: &dyn KumihoApi,
    kref: &str,
    metadata: &Metadata,
) -> Result<Revision, construct_kumiho::KumihoError> {
    let revision = kumiho.create_revision(kref, metadata).await?;
    kumiho.tag_revision(&revision.kref, "published").await?;
    kumiho.revision_by_kref(&revision.kref).await
}

#[utoipa::path(
    post,
    path = "/api/agents",
    tag = "agents",
    operation_id = "create_agent",
    summary = "Create an agent",
    request_body(content = AgentBody, content_type = "application/json"),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 201, description = "Created with its first published revision.", body = crate::openapi::schemas::AgentEnvelope),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 409, description = "`CONFLICT`: an agent with the slug of `name` exists; `IDEMPOTENCY_IN_PROGRESS`: a request with the same `Idempotency-Key` is still running.", body = construct_core::openapi::ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the body is over 640 KiB.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::NotJson,
        (status = 422, description = "`INVALID_BODY`: a missing, mistyped or unknown field; `INVALID_FIELD`: an empty slug, an empty or overlong field, or more than 50 expertise entries; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn create(
    State(state): State<ApiState>,
    Json(body): Json<AgentBody>,
) -> Result<Response, ApiError> {
    let metadata = body.metadata()?;
    let slug = slug_of(&body.name)?;
    let kumiho = &*state.kumiho;
    ensure_space(kumiho, &state.config().kumiho.harness_project, SPACE).await?;
    let item = kumiho
        .create_item(&space_path(&state), &slug, KIND, &Metadata::new())
        .await
        .map_err(taken("An agent", &slug))?;
    let revision = match publish(kumiho, &item.kref, &metadata).await {
        Ok(revision) => revision,
        Err(error) => return Err(undo_create(kumiho, &item.kref, error).await),
    };
    state.kumiho_cache.invalidate();
    Ok((StatusCode::CREATED, Json(json!({"agent": agent_json(&item, Some(&revision))}))).into_response())
}

#[utoipa::path(
    put,
    path = "/api/agents/{kref}",
    tag = "agents",
    operation_id = "update_agent",
    summary = "Publish a new revision of an agent",
    params(
        ("kref" = crate::graph::AgentKref, Path, description = "The agent's kref, with or without `kref://`: `project/space/name.agent`, its slashes sent as they are or percent-encoded."),
    ),
    request_body(content = AgentBody, content_type = "application/json"),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "The agent with its new published revision (the item name never changes).", body = crate::openapi::schemas::AgentEnvelope),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON; `INVALID_KREF`: not a kref of this kind; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoNotFound,
        construct_core::openapi::IdempotencyInProgress,
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the body is over 640 KiB.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::NotJson,
        (status = 422, description = "`INVALID_BODY`: a missing, mistyped or unknown field; `INVALID_FIELD`: an empty or overlong field, or more than 50 expertise entries; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn update(
    State(state): State<ApiState>,
    Path(kref): Path<String>,
    Json(body): Json<AgentBody>,
) -> Result<Json<Value>, ApiError> {
    let kref = item_kref(&kref, KIND)?;
    let metadata = body.metadata()?;
    let kumiho = &*state.kumiho;
    let item = kumiho.get_item(&kref).await?;
    let revision = publish(kumiho, &item.kref, &metadata).await?;
    state.kumiho_cache.invalidate();
    Ok(Json(json!({"agent": agent_json(&item, Some(&revision))})))
}

/// Body of `POST /api/agents/deprecate`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DeprecateAgentRequest)]
pub(crate) struct DeprecateAgent {
    /// The agent's kref.
    #[schema(value_type = crate::graph::AgentKref)]
    kref: String,
    /// Deprecate (true) or restore (false).
    deprecated: bool,
}

#[utoipa::path(
    post,
    path = "/api/agents/deprecate",
    tag = "agents",
    operation_id = "deprecate_agent",
    summary = "Deprecate or restore an agent",
    request_body(content = DeprecateAgent, content_type = "application/json"),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "The agent.", body = crate::openapi::schemas::AgentEnvelope),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON; `INVALID_KREF`: not a kref of this kind; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoNotFound,
        construct_core::openapi::IdempotencyInProgress,
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the body is over 640 KiB.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::NotJson,
        (status = 422, description = "`INVALID_BODY`: a missing, mistyped or unknown field; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn deprecate(
    State(state): State<ApiState>,
    Json(body): Json<DeprecateAgent>,
) -> Result<Json<Value>, ApiError> {
    let kref = item_kref(&body.kref, KIND)?;
    let kumiho = &*state.kumiho;
    let item = kumiho.deprecate_item(&kref, body.deprecated).await?;
    let revision = one_published_or_latest(kumiho, &item.kref).await?;
    state.kumiho_cache.invalidate();
    Ok(Json(json!({"agent": agent_json(&item, revision.as_ref())})))
}

#[utoipa::path(
    delete,
    path = "/api/agents/{kref}",
    tag = "agents",
    operation_id = "delete_agent",
    summary = "Delete an agent",
    params(
        ("kref" = crate::graph::AgentKref, Path, description = "The agent's kref, with or without `kref://`: `project/space/name.agent`, its slashes sent as they are or percent-encoded."),
    ),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "`INVALID_KREF`: not a kref of this kind; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
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
    let kref = item_kref(&kref, KIND)?;
    state.kumiho.delete_item(&kref).await?;
    state.kumiho_cache.invalidate();
    Ok(StatusCode::NO_CONTENT)
}
