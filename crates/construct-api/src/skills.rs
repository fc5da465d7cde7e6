//! Skills (spec: upstream-rest §2.2): one `skilldef` item per skill in `/<memory_project>/Skills`; the
//! revision holds description, domain and tags, and the markdown body is a `SKILL.md` artifact.
//!
//! Unlike upstream, every revision keeps its own body: it is written to
//! `<data dir>/artifacts/skills/<slug>/<revision>.md` (upstream pointed every revision at one mutable file,
//! so history was lost), deleting a skill removes its files, and bodies are read back only from inside the
//! artifact roots (a poisoned artifact location cannot make the gateway read other files).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use construct_core::ApiError;
use construct_core::extract::{Json, Path, Query};
use construct_kumiho::model::{Item, Metadata, Revision};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ApiState;
use crate::agents::Deprecate;
use crate::graph::{
    INVALID_FIELD, ListQuery, item_kref, list_page, one_published_or_latest, optional, required, slug_of,
};
use crate::revision_files::RevisionFiles;

/// Where each revision's body goes.
pub const FILES: RevisionFiles =
    RevisionFiles { dir: "skills", artifact: ARTIFACT, ext: "md", legacy_key: "content" };

/// The space skills live in.
pub const SPACE: &str = "Skills";
/// Their kind.
pub const KIND: &str = "skilldef";
/// The artifact holding a revision's body.
pub const ARTIFACT: &str = "SKILL.md";
/// Largest skill body, in bytes.
pub const MAX_CONTENT: usize = 256 * 1024;
/// The body limit of the skill routes (the content limit plus JSON escaping).
pub const BODY_LIMIT: usize = MAX_CONTENT * 2 + 16 * 1024;
const PREVIEW_CHARS: usize = 200;

fn space_path(state: &ApiState) -> String {
    format!("/{}/{SPACE}", state.config().kumiho.memory_project)
}

fn preview(content: &str) -> String {
    if content.chars().count() <= PREVIEW_CHARS {
        return content.to_owned();
    }
    format!("{}...", content.chars().take(PREVIEW_CHARS).collect::<String>())
}

fn skill_json(item: &Item, revision: Option<&Revision>, content: String) -> Value {
    let empty = Metadata::new();
    let meta = revision.map_or(&empty, |r| &r.metadata);
    let field = |key: &str| meta.get(key).cloned().unwrap_or_default();
    let tags: Vec<String> =
        field("tags").split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect();
    json!({
        "kref": item.kref,
        "name": item.item_name,
        "item_name": item.item_name,
        "deprecated": item.deprecated,
        "created_at": item.created_at,
        "description": field("description"),
        "content": content,
        "domain": field("domain"),
        "tags": tags,
        "revision_number": revision.map_or(0, |r| r.number),
    })
}

pub(crate) async fn list(
    State(state): State<ApiState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let config = state.config();
    let place = (config.kumiho.memory_project.as_str(), space_path(&state), KIND);
    let body = list_page(&*state.kumiho, &query, (place.0, &place.1, place.2), "skills", |item, revision| {
        let description = revision.and_then(|r| r.metadata.get("description")).cloned().unwrap_or_default();
        skill_json(item, revision, preview(&description))
    })
    .await?;
    Ok(Json(body))
}

pub(crate) async fn get(
    State(state): State<ApiState>,
    Path(kref): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let kref = item_kref(&kref, KIND)?;
    let item = state.kumiho.get_item(&kref).await?;
    let revision = one_published_or_latest(&*state.kumiho, &item.kref).await?;
    let content = match &revision {
        Some(revision) => FILES.read(&state, revision).await?,
        None => String::new(),
    };
    Ok(Json(json!({"skill": skill_json(&item, revision.as_ref(), content)})))
}

/// Body of `POST /api/skills` and `PUT /api/skills/{kref}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SkillBody {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) content: String,
    pub(crate) domain: String,
    #[serde(default)]
    pub(crate) tags: Vec<String>,
}

impl SkillBody {
    fn metadata(&self) -> Result<Metadata, ApiError> {
        let mut meta = Metadata::new();
        meta.insert("description".into(), required("description", &self.description, 2_000)?);
        meta.insert("domain".into(), required("domain", &self.domain, 100)?);
        meta.insert("created_by".into(), "construct-dashboard".into());
        if self.tags.len() > 30 {
            return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, INVALID_FIELD, "at most 30 tags"));
        }
        let tags: Vec<String> =
            self.tags.iter().map(|t| required("tags", &t.replace(',', " "), 50)).collect::<Result<_, _>>()?;
        if !tags.is_empty() {
            meta.insert("tags".into(), tags.join(","));
        }
        if self.content.trim().is_empty() || self.content.len() > MAX_CONTENT {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                INVALID_FIELD,
                format!("content must be 1 byte to {MAX_CONTENT} bytes"),
            ));
        }
        optional("name", Some(&self.name), 100)?;
        Ok(meta)
    }
}

/// Creates a skill from `body`, with `extra` revision metadata (ClawHub installs record their origin).
pub(crate) async fn create_skill<'a>(
    state: &ApiState,
    body: &SkillBody,
    extra: impl IntoIterator<Item = (&'a str, String)>,
) -> Result<(Item, Revision), ApiError> {
    let mut metadata = body.metadata()?;
    metadata.extend(extra.into_iter().map(|(k, v)| (k.to_owned(), v)));
    let slug = slug_of(&body.name)?;
    let config = state.config();
    let place = (config.kumiho.memory_project.as_str(), SPACE, KIND, "A skill");
    FILES.create(state, place, &slug, &metadata, &body.content).await
}

pub(crate) async fn create(
    State(state): State<ApiState>,
    Json(body): Json<SkillBody>,
) -> Result<Response, ApiError> {
    let (item, revision) = create_skill(&state, &body, []).await?;
    Ok((StatusCode::CREATED, Json(json!({"skill": skill_json(&item, Some(&revision), body.content)})))
        .into_response())
}

pub(crate) async fn update(
    State(state): State<ApiState>,
    Path(kref): Path<String>,
    Json(body): Json<SkillBody>,
) -> Result<Json<Value>, ApiError> {
    // The kref is judged before the body, as before: a bad path is a 400 whatever the body.
    let kref = item_kref(&kref, KIND)?;
    let metadata = body.metadata()?;
    let (item, revision) = FILES.update_item(&state, &kref, KIND, &metadata, &body.content).await?;
    Ok(Json(json!({"skill": skill_json(&item, Some(&revision), body.content)})))
}

pub(crate) async fn deprecate(
    State(state): State<ApiState>,
    Json(body): Json<Deprecate>,
) -> Result<Json<Value>, ApiError> {
    let (item, revision, content) = FILES.deprecate_item(&state, &body.kref, KIND, body.deprecated).await?;
    Ok(Json(json!({"skill": skill_json(&item, revision.as_ref(), content)})))
}

pub(crate) async fn delete(
    State(state): State<ApiState>,
    Path(kref): Path<String>,
) -> Result<StatusCode, ApiError> {
    FILES.delete_item(&state, &kref, KIND).await?;
    Ok(StatusCode::NO_CONTENT)
}
