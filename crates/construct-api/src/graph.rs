//! What the dashboard routes over Kumiho share: paging, ensuring spaces, batch enrichment, kref checks, and
//! the OpenAPI shapes (patterns) of the krefs and text fields those checks accept, kept next to them.
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
/// Largest `page`: no list holds more than [`MAX_ITEMS`] items, so a later page is always empty.
pub const MAX_PAGE: u32 = 100_000;

/// `?page=&per_page=&include_deprecated=&q=` of the list routes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1-based page, 1..=100000 (default 1).
    #[serde(default)]
    #[param(minimum = 1, maximum = 100_000)]
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
    /// The page asked for; 400 `INVALID_QUERY` for a `page` outside 1..=[`MAX_PAGE`] or a `per_page`
    /// outside 1..=[`MAX_PER_PAGE`].
    pub fn page(&self) -> Result<Page, ApiError> {
        Page::checked(self.page.unwrap_or(1), self.per_page.unwrap_or(9), "per_page")
    }
}

impl Page {
    /// `page` and `per_page` (named `per_page_name` in the error) checked against their ranges; 400
    /// `INVALID_QUERY` outside them.
    pub fn checked(page: u32, per_page: u32, per_page_name: &str) -> Result<Self, ApiError> {
        if !(1..=MAX_PAGE).contains(&page) || !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::INVALID_QUERY,
                format!(
                    "page must be between 1 and {MAX_PAGE} and {per_page_name} between 1 and {MAX_PER_PAGE}"
                ),
            ));
        }
        Ok(Self { page, per_page })
    }

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

/// The characters `char::is_whitespace` (so `str::trim`) takes for whitespace, as the inside of a regex
/// character class. Patterns spell them out instead of using `\s`: ECMA-262's `\s`, which JSON Schema
/// validators apply, leaves out U+0085 and adds U+FEFF, so it would disagree with the server.
pub const WHITESPACE: &str = r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

/// One kref segment as [`Kref::parse`] takes it (ECMA-262 and Rust regex syntax alike): no whitespace
/// (the [`WHITESPACE`] set), control character or `/ ? & # =`, and never `.` or `..` (three dots or more
/// are a name). Written without lookarounds, so fuzzers can generate from it.
pub const KREF_SEGMENT: &str = r"(?:\.*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000/?&#=.][^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000/?&#=]*|\.{3,})";

/// The pattern of what [`item_kref`] accepts for `kind`: `project(/space)+/name.kind`, `kref://` optional.
/// (It also takes a trailing `?r=…&t=…` it then drops; the pattern leaves that out.)
pub fn item_kref_pattern(kind: &str) -> String {
    format!("^(?:kref://)?{KREF_SEGMENT}/(?:{KREF_SEGMENT}/)+{KREF_SEGMENT}\\.{kind}$")
}

/// The pattern of a revision kref of `kind`: an item kref with `?r=N` (N from 1).
pub fn revision_kref_pattern(kind: &str) -> String {
    let item = item_kref_pattern(kind);
    format!("{}\\?r=[1-9][0-9]{{0,8}}$", item.trim_end_matches('$'))
}

fn kref_schema(
    kind: &str,
    what: &str,
    example: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(item_kref_pattern(kind)))
        .description(Some(format!(
            "{what}: `project/space/name.{kind}` (one or more spaces), with or without `kref://`. Each segment \
             is non-empty, never `.` or `..`, and holds no whitespace, control character or `/ ? & # =`."
        )))
        .examples([serde_json::Value::from(example)])
        .into()
}

/// Declares a kref type the OpenAPI document describes with [`kref_schema`].
macro_rules! kref_types {
    ($($(#[$doc:meta])* $name:ident => ($kind:literal, $what:literal, $example:literal);)*) => {$(
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                kref_schema($kind, $what, $example)
            }
        }

        impl utoipa::ToSchema for $name {}
    )*};
}

kref_types! {
    /// The item kref of an agent (kind `agent`), as the OpenAPI document describes it.
    AgentKref => ("agent", "An agent's kref", "kref://Construct/AgentPool/reviewer.agent");
    /// The item kref of a skill (kind `skilldef`), as the OpenAPI document describes it.
    SkillKref => ("skilldef", "A skill's kref", "kref://CognitiveMemory/Skills/code-review.skilldef");
    /// The kref of a team's bundle (kind `bundle`), as the OpenAPI document describes it.
    TeamKref => ("bundle", "A team's (bundle's) kref", "kref://Construct/Teams/release-crew.bundle");
    /// The item kref of a workflow (kind `workflow`), as the OpenAPI document describes it.
    WorkflowKref => ("workflow", "A workflow's kref", "kref://Construct/Workflows/ship-it.workflow");
}

/// The kref of one revision of a workflow (`…/name.workflow?r=N`), as the OpenAPI document describes it.
pub struct WorkflowRevisionKref;

impl utoipa::PartialSchema for WorkflowRevisionKref {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(revision_kref_pattern("workflow")))
            .description(Some(
                "A workflow revision's kref: `project/space/name.workflow?r=N` (one or more spaces, N from 1), \
                 with or without `kref://`; segments as in a `WorkflowKref`.",
            ))
            .examples([serde_json::Value::from("kref://Construct/Workflows/ship-it.workflow?r=1")])
            .into()
    }
}

impl utoipa::ToSchema for WorkflowRevisionKref {}

/// The pattern of a [`required`] field: at least one character that is not [`WHITESPACE`] (the server
/// trims). Attributes spell it out, since they take literals only.
pub const NON_BLANK: &str =
    r"^[\s\S]*[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][\s\S]*$";
/// The pattern of a display name whose slug is an item name ([`slug_of`]): it holds a letter or a digit.
pub const SLUGGABLE: &str = r"^[\s\S]*[\p{L}\p{N}][\s\S]*$";

/// The schema of a list of at most `max_items` [`required`] entries of at most `max` characters, where a
/// comma counts as a space (entries are stored comma-joined); `description` describes the list.
pub fn entries_schema(description: &str, max_items: usize, max: usize) -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    let entry = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(format!(r"^[\s\S]*[^{WHITESPACE},][\s\S]*$")));
    ArrayBuilder::new().items(entry).max_items(Some(max_items)).description(Some(description)).build()
}

/// A required string field: at most `max` characters as sent (the documented `maxLength`, whitespace
/// included), not blank; trimmed.
pub fn required(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || value.chars().count() > max {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            INVALID_FIELD,
            format!("{field} must be 1-{max} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// An optional string field: at most `max` characters as sent; trimmed, and blank means absent.
pub fn optional(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if v.chars().count() > max => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            INVALID_FIELD,
            format!("{field} must be at most {max} characters"),
        )),
        Some(v) if !v.trim().is_empty() => Ok(Some(v.trim().to_owned())),
        _ => Ok(None),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_checked_against_both_ranges() {
        assert_eq!(Page::checked(1, 1, "per_page").unwrap(), Page { page: 1, per_page: 1 });
        assert_eq!(Page::checked(MAX_PAGE, MAX_PER_PAGE, "per_page").unwrap().page, MAX_PAGE);
        for (page, per_page) in [(0, 9), (MAX_PAGE + 1, 9), (u32::MAX, 9), (1, 0), (1, MAX_PER_PAGE + 1)] {
            let error = Page::checked(page, per_page, "per_page").unwrap_err();
            assert_eq!((error.status(), error.code()), (StatusCode::BAD_REQUEST, ErrorCode::INVALID_QUERY));
        }
        let query =
            ListQuery { page: Some(2_147_483_648), per_page: None, include_deprecated: false, q: None };
        assert!(query.page().is_err(), "a page past any list is refused, not answered empty");
    }

    #[test]
    fn text_fields_count_what_was_sent_and_trim_what_is_kept() {
        assert_eq!(required("name", "  Ada ", 6).unwrap(), "Ada");
        assert_eq!(required("name", "  Ada ", 5).unwrap_err().code(), INVALID_FIELD, "the spaces count");
        assert_eq!(required("name", " \t\n", 10).unwrap_err().code(), INVALID_FIELD, "blank");
        assert_eq!(optional("tone", Some(" warm "), 6).unwrap().as_deref(), Some("warm"));
        assert_eq!(optional("tone", Some("   "), 3).unwrap(), None, "blank is unset");
        assert_eq!(optional("tone", None, 3).unwrap(), None);
        assert_eq!(
            optional("tone", Some("    "), 3).unwrap_err().code(),
            INVALID_FIELD,
            "too long, even blank"
        );
        assert_eq!(optional("tone", Some(" warm "), 5).unwrap_err().code(), INVALID_FIELD);
    }

    #[test]
    fn non_blank_is_spelled_with_the_server_s_whitespace() {
        assert_eq!(NON_BLANK, format!(r"^[\s\S]*[^{WHITESPACE}][\s\S]*$"));
        assert!(
            KREF_SEGMENT.contains(r"\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000")
        );
        // Every character the class names is whitespace to Rust, and every other one below U+3001 is not.
        let named = |c: char| {
            matches!(c, '\t' | '\n' | '\x0B' | '\x0C' | '\r' | ' ' | '\u{85}' | '\u{A0}' | '\u{1680}')
                || ('\u{2000}'..='\u{200A}').contains(&c)
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}')
        };
        assert!((0..=0x3001).filter_map(char::from_u32).all(|c| named(c) == c.is_whitespace()));
    }

    #[test]
    fn kref_patterns_name_their_kind_and_are_anchored() {
        let agent = item_kref_pattern("agent");
        assert!(agent.starts_with("^(?:kref://)?") && agent.ends_with("\\.agent$"), "{agent}");
        let revision = revision_kref_pattern("workflow");
        assert!(revision.ends_with("\\.workflow\\?r=[1-9][0-9]{0,8}$"), "{revision}");
        assert!(!agent.contains("(?=") && !agent.contains("(?!"), "no lookarounds");
    }
}
