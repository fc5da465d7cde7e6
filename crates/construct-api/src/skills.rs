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
/// Longest tag, in characters.
pub const MAX_TAG: usize = 50;
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

#[utoipa::path(
    get,
    path = "/api/skills",
    tag = "skills",
    operation_id = "list_skills",
    summary = "A page of skills",
    params(ListQuery),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The page; `content` is a 200-character preview of the description.", body = crate::openapi::schemas::SkillPage),
        (status = 400, description = "`INVALID_QUERY`: `page` outside 1-100000, `per_page` outside 1-100, or a malformed parameter.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoFailures,
    )
)]
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

#[utoipa::path(
    get,
    path = "/api/skills/{kref}",
    tag = "skills",
    operation_id = "get_skill",
    summary = "A skill with its full body",
    params(
        ("kref" = crate::graph::SkillKref, Path, description = "The skill's kref, with or without `kref://`: `project/space/name.skilldef`, its slashes sent as they are or percent-encoded."),
    ),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The skill, from its published (else latest) revision, with the full `SKILL.md` body.", body = crate::openapi::schemas::SkillEnvelope),
        (status = 400, description = "`INVALID_KREF`: not a kref of this kind.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoNotFound,
        crate::openapi::KumihoFailures,
    )
)]
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
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SkillBody {
    /// The name, at most 100 characters (trimmed) with a letter or a digit; its slug is the item name.
    #[schema(min_length = 1, max_length = 100, pattern = r"^[\s\S]*[\p{L}\p{N}][\s\S]*$")]
    pub(crate) name: String,
    /// 1-2000 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 2_000,
        pattern = r"^[\s\S]*[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][\s\S]*$"
    )]
    pub(crate) description: String,
    /// The `SKILL.md` markdown, 1 byte to 256 KiB of UTF-8, not blank.
    #[schema(
        min_length = 1,
        pattern = r"^[\s\S]*[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][\s\S]*$"
    )]
    pub(crate) content: String,
    /// 1-100 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\s\S]*[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][\s\S]*$"
    )]
    pub(crate) domain: String,
    /// At most 30 tags of 1-50 characters, each with something besides whitespace and commas.
    #[serde(default)]
    #[schema(schema_with = tags_schema)]
    pub(crate) tags: Vec<String>,
}

fn tags_schema() -> utoipa::openapi::schema::Array {
    crate::graph::entries_schema(
        "At most 30 tags of 1-50 characters, each with something besides whitespace and commas.",
        30,
        MAX_TAG,
    )
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
        let tags: Vec<String> = self
            .tags
            .iter()
            .map(|t| required("tags", &t.replace(',', " "), MAX_TAG))
            .collect::<Result<_, _>>()?;
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

#[utoipa::path(
    post,
    path = "/api/skills",
    tag = "skills",
    operation_id = "create_skill",
    summary = "Create a skill",
    request_body(content = SkillBody, content_type = "application/json"),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 201, description = "Created; the body is the revision's own `SKILL.md` file.", body = crate::openapi::schemas::SkillEnvelope),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 409, description = "`CONFLICT`: a skill with the slug of `name` exists; `IDEMPOTENCY_IN_PROGRESS`: a request with the same `Idempotency-Key` is still running.", body = construct_core::openapi::ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the body is over 528 KiB.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::NotJson,
        (status = 422, description = "`INVALID_BODY`: a missing, mistyped or unknown field; `INVALID_FIELD`: an empty or oversized field (`content` up to 256 KiB), or more than 30 tags; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn create(
    State(state): State<ApiState>,
    Json(body): Json<SkillBody>,
) -> Result<Response, ApiError> {
    let (item, revision) = create_skill(&state, &body, []).await?;
    Ok((StatusCode::CREATED, Json(json!({"skill": skill_json(&item, Some(&revision), body.content)})))
        .into_response())
}

#[utoipa::path(
    put,
    path = "/api/skills/{kref}",
    tag = "skills",
    operation_id = "update_skill",
    summary = "Publish a new revision of a skill",
    params(
        ("kref" = crate::graph::SkillKref, Path, description = "The skill's kref, with or without `kref://`: `project/space/name.skilldef`, its slashes sent as they are or percent-encoded."),
    ),
    request_body(content = SkillBody, content_type = "application/json"),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "The skill with its new published revision and body.", body = crate::openapi::schemas::SkillEnvelope),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON; `INVALID_KREF`: not a kref of this kind; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoNotFound,
        construct_core::openapi::IdempotencyInProgress,
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the body is over 528 KiB.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::NotJson,
        (status = 422, description = "`INVALID_BODY`: a missing, mistyped or unknown field; `INVALID_FIELD`: an empty or oversized field (`content` up to 256 KiB), or more than 30 tags; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoFailures,
    )
)]
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

/// Body of `POST /api/skills/deprecate`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DeprecateSkillRequest)]
pub(crate) struct DeprecateSkill {
    /// The skill's kref.
    #[schema(value_type = crate::graph::SkillKref)]
    kref: String,
    /// Deprecate (true) or restore (false).
    deprecated: bool,
}

#[utoipa::path(
    post,
    path = "/api/skills/deprecate",
    tag = "skills",
    operation_id = "deprecate_skill",
    summary = "Deprecate or restore a skill",
    request_body(content = DeprecateSkill, content_type = "application/json"),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "The skill.", body = crate::openapi::schemas::SkillEnvelope),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON; `INVALID_KREF`: not a kref of this kind; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoNotFound,
        construct_core::openapi::IdempotencyInProgress,
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the body is over 528 KiB.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::NotJson,
        (status = 422, description = "`INVALID_BODY`: a missing, mistyped or unknown field; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn deprecate(
    State(state): State<ApiState>,
    Json(body): Json<DeprecateSkill>,
) -> Result<Json<Value>, ApiError> {
    let (item, revision, content) = FILES.deprecate_item(&state, &body.kref, KIND, body.deprecated).await?;
    Ok(Json(json!({"skill": skill_json(&item, revision.as_ref(), content)})))
}

#[utoipa::path(
    delete,
    path = "/api/skills/{kref}",
    tag = "skills",
    operation_id = "delete_skill",
    summary = "Delete a skill and its files",
    params(
        ("kref" = crate::graph::SkillKref, Path, description = "The skill's kref, with or without `kref://`: `project/space/name.skilldef`, its slashes sent as they are or percent-encoded."),
    ),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 204, description = "Deleted, files removed."),
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
    FILES.delete_item(&state, &kref, KIND).await?;
    Ok(StatusCode::NO_CONTENT)
}
