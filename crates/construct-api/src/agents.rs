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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgentBody {
    name: String,
    identity: String,
    soul: String,
    #[serde(default)]
    expertise: Vec<String>,
    #[serde(default)]
    tone: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    agent_type: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    system_hint: Option<String>,
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

/// Body of the deprecate routes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Deprecate {
    pub(crate) kref: String,
    pub(crate) deprecated: bool,
}

pub(crate) async fn deprecate(
    State(state): State<ApiState>,
    Json(body): Json<Deprecate>,
) -> Result<Json<Value>, ApiError> {
    let kref = item_kref(&body.kref, KIND)?;
    let kumiho = &*state.kumiho;
    let item = kumiho.deprecate_item(&kref, body.deprecated).await?;
    let revision = one_published_or_latest(kumiho, &item.kref).await?;
    state.kumiho_cache.invalidate();
    Ok(Json(json!({"agent": agent_json(&item, revision.as_ref())})))
}

pub(crate) async fn delete(
    State(state): State<ApiState>,
    Path(kref): Path<String>,
) -> Result<StatusCode, ApiError> {
    let kref = item_kref(&kref, KIND)?;
    state.kumiho.delete_item(&kref).await?;
    state.kumiho_cache.invalidate();
    Ok(StatusCode::NO_CONTENT)
}
