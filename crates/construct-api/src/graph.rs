//! What the dashboard routes over Kumiho share: paging, ensuring spaces, batch enrichment, kref checks.
//!
//! Lists page through the whole space (upstream fetched the first 100 items and paged those, silently
//! dropping the rest) and enrich only the requested page, with two batch calls rather than one call per
//! item.

use std::collections::HashMap;

use construct_core::{ApiError, ErrorCode};
use construct_kumiho::model::{Item, ItemQuery, Revision};
use construct_kumiho::{Kref, KumihoApi, KumihoError};
use http::StatusCode;
use serde::Deserialize;

/// 400 for a kref that does not parse, or names the wrong kind of thing.
pub const INVALID_KREF: ErrorCode = ErrorCode::new("INVALID_KREF");
/// 422 for a body whose values break a rule (an empty name, a field too long).
pub const INVALID_FIELD: ErrorCode = ErrorCode::new("INVALID_FIELD");

pub use construct_core::ids::valid_id;

/// [`valid_id`], or 400 `INVALID_PATH` naming `what`.
pub fn path_id(id: &str, what: &str) -> Result<(), ApiError> {
    if valid_id(id) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::INVALID_PATH,
            format!("Invalid {what}: 1-128 characters of A-Z a-z 0-9 . _ -"),
        ))
    }
}

/// Items fetched from Kumiho per call while paging through a space.
const FETCH: u32 = 500;
/// Most items a list route gathers from one space.
pub const MAX_ITEMS: usize = 100_000;
/// Largest `per_page`.
pub const MAX_PER_PAGE: u32 = 100;

/// `?page=&per_page=&include_deprecated=&q=` of the list routes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1-based page (default 1).
    #[serde(default)]
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1..=100 (default 9, as upstream's dashboard expects).
    #[serde(default)]
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
    /// Include deprecated items.
    #[serde(default)]
    pub include_deprecated: bool,
    /// Full-text search instead of listing.
    #[serde(default)]
    pub q: Option<String>,
}

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// 1-based.
    pub page: u32,
    /// 1..=100.
    pub per_page: u32,
}

impl ListQuery {
    /// The page asked for; 400 `INVALID_QUERY` for 0 or a `per_page` over 100.
    pub fn page(&self) -> Result<Page, ApiError> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(9);
        if page == 0 || per_page == 0 || per_page > MAX_PER_PAGE {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::INVALID_QUERY,
                format!("page must be at least 1 and per_page between 1 and {MAX_PER_PAGE}"),
            ));
        }
        Ok(Page { page, per_page })
    }
}

impl Page {
    /// The slice of `all` this page covers.
    pub fn slice<T: Clone>(&self, all: &[T]) -> Vec<T> {
        let start = ((self.page - 1) as usize).saturating_mul(self.per_page as usize);
        all.iter().skip(start).take(self.per_page as usize).cloned().collect()
    }
}

/// Creates the project and the space if they do not exist yet.
pub async fn ensure_space(kumiho: &dyn KumihoApi, project: &str, space: &str) -> Result<(), ApiError> {
    match kumiho.create_project(project, None).await {
        Ok(_) => {}
        Err(error) if error.is_conflict() => {}
        Err(error) => return Err(error.into()),
    }
    match kumiho.create_space(&format!("/{project}"), space).await {
        Ok(_) => Ok(()),
        Err(error) if error.is_conflict() => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// Every item of a space (of `kind`, when given), paging through Kumiho; an absent space is an empty list.
/// Stops after `cap` items.
pub async fn all_items(
    kumiho: &dyn KumihoApi,
    space_path: &str,
    kind: Option<&str>,
    include_deprecated: bool,
    cap: usize,
) -> Result<Vec<Item>, ApiError> {
    let mut items = Vec::new();
    let mut offset = 0;
    loop {
        let query = ItemQuery {
            space_path: space_path.to_owned(),
            name_filter: None,
            include_deprecated,
            limit: Some(FETCH),
            offset: Some(offset),
        };
        let batch = match kumiho.list_items(&query).await {
            Ok(batch) => batch,
            Err(error) if error.is_not_found() => return Ok(Vec::new()),
            Err(error) => return Err(error.into()),
        };
        let done = (batch.len() as u32) < FETCH;
        items.extend(batch.into_iter().filter(|i| kind.is_none_or(|k| i.kind == k)));
        if done || items.len() >= cap {
            items.truncate(cap);
            return Ok(items);
        }
        offset += FETCH;
    }
}

/// Each item's `published` revision, else its `latest`: two batch calls, never one per item.
pub async fn published_or_latest(
    kumiho: &dyn KumihoApi,
    krefs: &[String],
) -> Result<HashMap<String, Revision>, ApiError> {
    let mut found = HashMap::new();
    if krefs.is_empty() {
        return Ok(found);
    }
    let published = kumiho.batch_revisions(krefs, "published", true).await.map_err(ApiError::from)?;
    for revision in published.revisions {
        found.insert(revision.item_kref.clone(), revision);
    }
    let missing: Vec<String> = krefs.iter().filter(|k| !found.contains_key(*k)).cloned().collect();
    if !missing.is_empty() {
        let latest = kumiho.batch_revisions(&missing, "latest", true).await.map_err(ApiError::from)?;
        for revision in latest.revisions {
            found.insert(revision.item_kref.clone(), revision);
        }
    }
    Ok(found)
}

/// One item's `published` revision, else its `latest`, else none.
pub async fn one_published_or_latest(
    kumiho: &dyn KumihoApi,
    kref: &str,
) -> Result<Option<Revision>, ApiError> {
    Ok(published_or_latest(kumiho, &[kref.to_owned()]).await?.remove(kref))
}

/// A kref from a URL path or a body, normalised, which must name an item of `kind`.
pub fn item_kref(raw: &str, kind: &str) -> Result<String, ApiError> {
    let kref =
        Kref::parse(raw).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, INVALID_KREF, e.to_string()))?;
    if kref.kind != kind {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, INVALID_KREF, format!("not a {kind}: {raw}")));
    }
    Ok(kref.item().to_string())
}

/// A required string field: trimmed, non-empty, at most `max` characters.
pub fn required(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            INVALID_FIELD,
            format!("{field} must be 1-{max} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// An optional string field: trimmed, at most `max` characters; empty means absent.
pub fn optional(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => required(field, v, max).map(Some),
    }
}

/// An item name from a display name; 422 `INVALID_FIELD` when nothing usable is left.
pub fn slug_of(name: &str) -> Result<String, ApiError> {
    construct_kumiho::slugify(name).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            INVALID_FIELD,
            "name must contain a letter or a digit",
        )
    })
}

/// Maps a create failure: a duplicate becomes 409 naming what exists.
pub fn taken(what: &'static str, slug: &str) -> impl FnOnce(KumihoError) -> ApiError {
    let slug = slug.to_owned();
    move |error| {
        if error.is_conflict() {
            ApiError::new(StatusCode::CONFLICT, ErrorCode::CONFLICT, format!("{what} named {slug} exists"))
        } else {
            error.into()
        }
    }
}

/// The items a list route shows: full-text search hits for `q` within `project`, else every item of `kind`
/// in the space.
pub async fn find_items(
    kumiho: &dyn KumihoApi,
    query: &ListQuery,
    project: &str,
    space_path: &str,
    kind: &str,
) -> Result<Vec<Item>, ApiError> {
    match query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => {
            let search = construct_kumiho::model::SearchQuery {
                query: q.to_owned(),
                context: Some(project.to_owned()),
                kind: Some(kind.to_owned()),
                include_deprecated: query.include_deprecated,
            };
            match kumiho.search(&search).await {
                Ok(hits) => Ok(hits.into_iter().map(|h| h.item).collect()),
                Err(error) if error.is_not_found() => Ok(Vec::new()),
                Err(error) => Err(error.into()),
            }
        }
        None => all_items(kumiho, space_path, Some(kind), query.include_deprecated, MAX_ITEMS).await,
    }
}

/// A list route's answer: the page of `kind` items in `space_path` (or the search hits in `project`), each
/// shown by `show` with its published (else latest) revision, fetched in one batch; `{<key>: [...],
/// total_count, page, per_page}`.
pub async fn list_page(
    kumiho: &dyn KumihoApi,
    query: &ListQuery,
    (project, space_path, kind): (&str, &str, &str),
    key: &str,
    show: impl Fn(&Item, Option<&Revision>) -> serde_json::Value,
) -> Result<serde_json::Value, ApiError> {
    let page = query.page()?;
    let items = find_items(kumiho, query, project, space_path, kind).await?;
    let shown = page.slice(&items);
    let krefs: Vec<String> = shown.iter().map(|i| i.kref.clone()).collect();
    let revisions = published_or_latest(kumiho, &krefs).await?;
    let values = shown.iter().map(|item| show(item, revisions.get(&item.kref))).collect();
    Ok(page_json(key, values, items.len(), page))
}

/// A page of a list: `{<key>: values, total_count, page, per_page}`.
pub fn page_json(key: &str, values: Vec<serde_json::Value>, total: usize, page: Page) -> serde_json::Value {
    let mut body = serde_json::json!({"total_count": total, "page": page.page, "per_page": page.per_page});
    body[key] = serde_json::Value::Array(values);
    body
}

/// Deletes `kref` after a later step of a multi-step create failed, so no half-made item is left.
pub async fn undo_create(kumiho: &dyn KumihoApi, kref: &str, cause: KumihoError) -> ApiError {
    if let Err(error) = kumiho.delete_item(kref).await {
        tracing::warn!(%error, kref, "cannot undo a partial create");
    }
    cause.into()
}
