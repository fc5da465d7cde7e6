//! The ClawHub skill registry (spec: upstream-rest §2.8): `GET /api/clawhub/search`, `/trending`,
//! `/skills/{slug}` (read) and `POST /api/clawhub/install/{slug}` (admin), proxying `[clawhub] api_url`.
//!
//! Unlike upstream: the slug is checked before it reaches a URL or a file name; the registry's answers are
//! bounded in size; a registry refusing us (401/403) is a 502, never a 401 the dashboard would take for its
//! own sign-out; `SKILL.md` is read as text (upstream parsed it as JSON and lost it); an install checks the
//! body's size and encoding, creates the skill through the same path as `POST /api/skills` (so a partial
//! install is undone and the list cache is invalidated), and a second install of a slug is a 409.

use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use construct_core::extract::{Json, Path, Query};
use construct_core::{ApiError, ErrorCode};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ApiState;
use crate::graph::path_id;
use crate::skills::{self, SkillBody};

/// 400 while `[clawhub] enabled = false`.
pub const CLAWHUB_DISABLED: ErrorCode = ErrorCode::new("CLAWHUB_DISABLED");
/// 502 when the registry cannot be reached or times out.
pub const CLAWHUB_UNREACHABLE: ErrorCode = ErrorCode::new("CLAWHUB_UNREACHABLE");
/// 502 when the registry answers with an error or something unreadable.
pub const CLAWHUB_ERROR: ErrorCode = ErrorCode::new("CLAWHUB_ERROR");
/// 404 when the registry has no such skill.
pub const CLAWHUB_NOT_FOUND: ErrorCode = ErrorCode::new("CLAWHUB_NOT_FOUND");
/// 422 when a skill's `SKILL.md` cannot be installed (empty, too large, not UTF-8).
pub const INVALID_SKILL: ErrorCode = ErrorCode::new("INVALID_SKILL");
/// Time allowed for one registry call.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// Largest registry answer read.
pub const MAX_RESPONSE: usize = 4 * 1024 * 1024;

/// `?q=&limit=` of the search.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchQuery {
    /// The search: 1-200 characters once trimmed.
    #[serde(default)]
    #[param(
        required = true,
        pattern = r"^[\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[\s\S]{0,198}[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?[\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    q: Option<String>,
    /// 1..=100 (default 20).
    #[serde(default)]
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// `?limit=` of the trending list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TrendingQuery {
    /// 1..=100 (default 20).
    #[serde(default)]
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// `limit`, 1..=100 (default 20); 400 `INVALID_QUERY` outside.
fn checked_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::INVALID_QUERY, "limit is 1 to 100"));
    }
    Ok(limit)
}

fn error(
    status: StatusCode,
    code: ErrorCode,
    message: impl Into<std::borrow::Cow<'static, str>>,
) -> ApiError {
    ApiError::new(status, code, message)
}

/// One GET to the registry: the status and at most [`MAX_RESPONSE`] bytes of body.
async fn fetch(
    state: &ApiState,
    path: &str,
    query: &[(&str, String)],
) -> Result<(StatusCode, Vec<u8>), ApiError> {
    let config = &state.config().clawhub;
    if !config.enabled {
        return Err(error(StatusCode::BAD_REQUEST, CLAWHUB_DISABLED, "ClawHub integration disabled"));
    }
    let mut url = url::Url::parse(config.api_url.trim_end_matches('/'))
        .map_err(|_| error(StatusCode::BAD_GATEWAY, CLAWHUB_ERROR, "ClawHub URL is invalid"))?;
    url.path_segments_mut()
        .map_err(|()| error(StatusCode::BAD_GATEWAY, CLAWHUB_ERROR, "ClawHub URL is invalid"))?
        .pop_if_empty()
        .extend(path.split('/'));
    url.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
    let mut request = state.outbound.get(url).timeout(TIMEOUT);
    if let Some(token) = config.api_token.as_ref().filter(|t| !t.is_empty()) {
        request = request.bearer_auth(token.expose());
    }
    let unreachable = |e: reqwest::Error| {
        tracing::warn!(error = %e.without_url(), "ClawHub unreachable");
        error(StatusCode::BAD_GATEWAY, CLAWHUB_UNREACHABLE, "ClawHub unreachable")
    };
    let mut response = request.send().await.map_err(unreachable)?;
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        if body.len() + chunk.len() > MAX_RESPONSE {
            return Err(error(StatusCode::BAD_GATEWAY, CLAWHUB_ERROR, "ClawHub answer too large"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body))
}

/// The registry's JSON answer at `path`; its errors mapped to ours.
async fn fetch_json(state: &ApiState, path: &str, query: &[(&str, String)]) -> Result<Value, ApiError> {
    let (status, body) = fetch(state, path, query).await?;
    if status == StatusCode::NOT_FOUND {
        return Err(error(StatusCode::NOT_FOUND, CLAWHUB_NOT_FOUND, "ClawHub has no such skill"));
    }
    if !status.is_success() {
        let detail: String = String::from_utf8_lossy(&body).chars().take(500).collect();
        return Err(error(StatusCode::BAD_GATEWAY, CLAWHUB_ERROR, format!("ClawHub answered {status}"))
            .with_detail("upstream_status", json!(status.as_u16()))
            .with_detail("upstream_error", json!(detail)));
    }
    serde_json::from_slice(&body).map_err(|e| {
        error(StatusCode::BAD_GATEWAY, CLAWHUB_ERROR, format!("ClawHub answer is not JSON: {e}"))
    })
}

/// A skill's `SKILL.md`, as text: a raw body, or a JSON string holding it. `None` when the registry has none.
async fn fetch_skill_md(state: &ApiState, slug: &str) -> Result<Option<String>, ApiError> {
    let query = [("path", "SKILL.md".to_owned()), ("tag", "latest".to_owned())];
    let (status, body) = fetch(state, &format!("api/v1/skills/{slug}/file"), &query).await?;
    if status == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !status.is_success() {
        return Err(error(StatusCode::BAD_GATEWAY, CLAWHUB_ERROR, "Could not fetch SKILL.md from ClawHub")
            .with_detail("upstream_status", json!(status.as_u16())));
    }
    let text = String::from_utf8(body)
        .map_err(|_| error(StatusCode::UNPROCESSABLE_ENTITY, INVALID_SKILL, "SKILL.md is not UTF-8 text"))?;
    Ok(Some(match serde_json::from_str::<Value>(&text) {
        Ok(Value::String(inner)) => inner,
        _ => text,
    }))
}

fn checked_slug(slug: &str) -> Result<(), ApiError> {
    path_id(slug, "skill slug")
}

#[utoipa::path(
    get,
    path = "/api/clawhub/search",
    tag = "clawhub",
    operation_id = "clawhub_search",
    summary = "Search the ClawHub registry",
    params(SearchQuery),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The registry's `GET /api/v1/search` answer, as is.", body = serde_json::Value),
        (status = 400, description = "`CLAWHUB_DISABLED`: `[clawhub] enabled = false`; `INVALID_QUERY`: `q` missing or not 1-200 characters once trimmed, or `limit` outside 1-100.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`CLAWHUB_NOT_FOUND`: the registry answered 404.", body = construct_core::openapi::ErrorBody),
        (status = 502, description = "`CLAWHUB_UNREACHABLE`: a connect failure or the 15 s timeout; `CLAWHUB_ERROR`: any other registry error (401/403 included) with `upstream_status`, or an answer over 4 MiB or not JSON.", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn search(
    State(state): State<ApiState>,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = checked_limit(query.limit)?;
    let q = query.q.as_deref().map(str::trim).unwrap_or_default();
    if q.is_empty() || q.chars().count() > 200 {
        return Err(error(StatusCode::BAD_REQUEST, ErrorCode::INVALID_QUERY, "q is 1 to 200 characters"));
    }
    Ok(Json(fetch_json(&state, "api/v1/search", &[("q", q.to_owned()), ("limit", limit.to_string())]).await?))
}

#[utoipa::path(
    get,
    path = "/api/clawhub/trending",
    tag = "clawhub",
    operation_id = "clawhub_trending",
    summary = "Trending skills on ClawHub",
    params(TrendingQuery),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The registry's `GET /api/v1/skills?sort=trending` answer, as is.", body = serde_json::Value),
        (status = 400, description = "`CLAWHUB_DISABLED`: `[clawhub] enabled = false`; `INVALID_QUERY`: `limit` outside 1-100.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`CLAWHUB_NOT_FOUND`: the registry answered 404.", body = construct_core::openapi::ErrorBody),
        (status = 502, description = "`CLAWHUB_UNREACHABLE`: a connect failure or the 15 s timeout; `CLAWHUB_ERROR`: any other registry error (401/403 included) with `upstream_status`, or an answer over 4 MiB or not JSON.", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn trending(
    State(state): State<ApiState>,
    Query(query): Query<TrendingQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = checked_limit(query.limit)?;
    let query = [
        ("sort", "trending".to_owned()),
        ("limit", limit.to_string()),
        ("nonSuspiciousOnly", "true".to_owned()),
    ];
    Ok(Json(fetch_json(&state, "api/v1/skills", &query).await?))
}

#[utoipa::path(
    get,
    path = "/api/clawhub/skills/{slug}",
    tag = "clawhub",
    operation_id = "clawhub_skill",
    summary = "A ClawHub skill with its SKILL.md",
    params(
        ("slug" = String, Path, pattern = r"^(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}|\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,126}|\.\.[A-Za-z0-9._-]{1,126})$", description = "The registry slug: `[A-Za-z0-9._-]{1,128}`, not `.` or `..`."),
    ),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The registry's detail JSON plus `skill_md`: the `SKILL.md` text, or null when it has none (a non-object detail comes as `{skill, skill_md}`).", body = serde_json::Value),
        (status = 400, description = "`CLAWHUB_DISABLED`: `[clawhub] enabled = false`; `INVALID_PATH`: a malformed slug.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`CLAWHUB_NOT_FOUND`: the registry has no such skill.", body = construct_core::openapi::ErrorBody),
        (status = 502, description = "`CLAWHUB_UNREACHABLE`: a connect failure or the 15 s timeout; `CLAWHUB_ERROR`: any other registry error (401/403 included) with `upstream_status`, or an answer over 4 MiB or not JSON.", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn skill(
    State(state): State<ApiState>,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    checked_slug(&slug)?;
    let detail_path = format!("api/v1/skills/{slug}");
    let (detail, file) = tokio::join!(fetch_json(&state, &detail_path, &[]), fetch_skill_md(&state, &slug));
    let mut detail = detail?;
    let skill_md = match file {
        Ok(text) => text.map(Value::String).unwrap_or(Value::Null),
        Err(error) => {
            tracing::debug!(?error, "SKILL.md unavailable");
            Value::Null
        }
    };
    if let Value::Object(fields) = &mut detail {
        fields.insert("skill_md".into(), skill_md);
        Ok(Json(detail))
    } else {
        Ok(Json(json!({"skill": detail, "skill_md": skill_md})))
    }
}

#[utoipa::path(
    post,
    path = "/api/clawhub/install/{slug}",
    tag = "clawhub",
    operation_id = "clawhub_install",
    summary = "Install a ClawHub skill as a local skill",
    params(
        ("slug" = String, Path, max_length = 100, pattern = r"^[A-Za-z0-9._-]*[A-Za-z0-9][A-Za-z0-9._-]*$", description = "The registry slug: 1-100 characters of `A-Z a-z 0-9 . _ -` with a letter or a digit, since it becomes the skill's name."),
    ),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 201, description = "Installed as a `skilldef` item named after the slug.", body = crate::openapi::schemas::ClawHubInstalled),
        (status = 400, description = "`CLAWHUB_DISABLED`: `[clawhub] enabled = false`; `INVALID_PATH`: a malformed slug; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`CLAWHUB_NOT_FOUND`: the registry has no such skill.", body = construct_core::openapi::ErrorBody),
        (status = 409, description = "`CONFLICT`: the skill is installed already; `IDEMPOTENCY_IN_PROGRESS`: a request with the same `Idempotency-Key` is still running.", body = construct_core::openapi::ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the body is over 528 KiB.", body = construct_core::openapi::ErrorBody),
        (status = 422, description = "`INVALID_SKILL`: `SKILL.md` is empty, over 256 KiB or not UTF-8; `INVALID_FIELD`: a slug over 100 characters or with no letter or digit (it is the skill's name); `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        (status = 502, description = "`KUMIHO_BAD_GATEWAY`: Kumiho refused the gateway's credentials or answered badly; `CLAWHUB_UNREACHABLE`: a connect failure or the 15 s timeout; `CLAWHUB_ERROR`: any other registry error (401/403 included) with `upstream_status`, or an answer over 4 MiB or not JSON.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`KUMIHO_UNAVAILABLE`: Kumiho cannot be reached; `STORE_UNAVAILABLE`: the gateway's store cannot be reached to check the credential.", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn install(
    State(state): State<ApiState>,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    checked_slug(&slug)?;
    let detail_path = format!("api/v1/skills/{slug}");
    let (detail, file) = tokio::join!(fetch_json(&state, &detail_path, &[]), fetch_skill_md(&state, &slug));
    let detail = detail?;
    let Some(content) = file? else {
        return Err(error(StatusCode::BAD_GATEWAY, CLAWHUB_ERROR, "Could not fetch SKILL.md from ClawHub"));
    };
    if content.trim().is_empty() || content.len() > skills::MAX_CONTENT {
        return Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            INVALID_SKILL,
            format!("SKILL.md must be 1 to {} bytes", skills::MAX_CONTENT),
        ));
    }
    let text = |key: &str| detail.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let name: String = text("displayName").or(text("name")).unwrap_or(&slug).chars().take(100).collect();
    let description: String =
        text("description").unwrap_or("Installed from ClawHub").chars().take(2_000).collect();
    let version = text("version")
        .or_else(|| detail.pointer("/latestVersion/version").and_then(Value::as_str))
        .unwrap_or("1.0.0")
        .chars()
        .take(50)
        .collect::<String>();
    // The slug is a tag too when it fits one; `clawhub_slug` keeps it whole either way.
    let mut tags = vec!["clawhub".to_owned()];
    if slug.chars().count() <= skills::MAX_TAG {
        tags.push(slug.clone());
    }
    let body = SkillBody {
        name: slug.clone(),
        description: description.clone(),
        content,
        domain: "Other".to_owned(),
        tags,
    };
    let extra = [
        ("display_name", name.clone()),
        ("clawhub_slug", slug.clone()),
        ("clawhub_version", version),
        ("source", "clawhub".to_owned()),
        ("created_by", "clawhub".to_owned()),
    ];
    let (item, _) = skills::create_skill(&state, &body, extra).await?;
    state.publish("skill_installed", json!({"kref": item.kref, "slug": slug, "source": "clawhub"})).await;
    let answer =
        json!({"installed": true, "slug": slug, "name": name, "kref": item.kref, "description": description});
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}
