//! Workflow definitions (spec: upstream-rest §2.4): one `workflow` item per workflow in
//! `/<harness_project>/Workflows`; each revision keeps its YAML as its own `workflow.yaml` file.
//!
//! The YAML is parsed and validated on save (upstream skimmed it line by line and let an absent operator
//! wave anything through): syntax and shape errors are 422 `INVALID_WORKFLOW` with `validation_errors`
//! carrying line and column; steps need unique ids, dependencies must name steps and must not form a
//! cycle, triggers need `on_kind` or `cron`. Lists page and make no per-item calls (the YAML of the listed
//! revisions comes from their metadata); `GET /api/workflows/revisions/{kref}` reads the revision's file.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use construct_core::extract::{Json, Path, Query};
use construct_core::{ApiError, ErrorCode};
use construct_kumiho::Kref;
use construct_kumiho::model::{Item, Metadata, Revision};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ApiState;
use crate::graph::{INVALID_KREF, ListQuery, item_kref, list_page, optional, required, slug_of};
use crate::revision_files::RevisionFiles;

/// The space workflows live in.
pub const SPACE: &str = "Workflows";
/// Their kind.
pub const KIND: &str = "workflow";
/// Largest definition, in bytes.
pub const MAX_DEFINITION: usize = 256 * 1024;
/// The body limit of the workflow routes.
pub const BODY_LIMIT: usize = MAX_DEFINITION * 2 + 16 * 1024;
/// 422 for YAML that is not a valid workflow; `validation_errors` says where.
pub const INVALID_WORKFLOW: ErrorCode = ErrorCode::new("INVALID_WORKFLOW");
/// Where each revision's YAML goes.
pub const FILES: RevisionFiles =
    RevisionFiles { dir: "workflows", artifact: "workflow.yaml", ext: "yaml", legacy_key: "definition" };

/// A trigger: another item reaching a tag, or a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = WorkflowTrigger)]
pub struct Trigger {
    /// The kind of item that triggers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub on_kind: Option<String>,
    /// The tag it must reach (default `ready`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub on_tag: Option<String>,
    /// A pattern its name must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub on_name_pattern: Option<String>,
    /// A cron schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub cron: Option<String>,
    /// The schedule's time zone.
    #[serde(default, alias = "tz", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub timezone: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Step {
    id: String,
    #[serde(default)]
    depends_on: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Definition {
    name: String,
    #[serde(default)]
    version: Option<yaml_serde::Value>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    triggers: Vec<Trigger>,
    #[serde(default, alias = "tasks")]
    steps: Vec<Step>,
}

/// One problem with a definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// What is wrong.
    pub message: String,
    /// 1-based line, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

/// What the dashboard needs from a valid definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Its `name`.
    pub name: String,
    /// Its `version`, as text.
    pub version: Option<String>,
    /// Its step count.
    pub steps: usize,
    /// Its triggers.
    pub triggers: Vec<Trigger>,
    /// Its tags.
    pub tags: Vec<String>,
}

/// Where a semantic problem is: the 1-based line of the `nth` (0-based) place `place` matches.
#[derive(Clone, Copy)]
enum Place<'a> {
    /// A top-level key (`name:`), at the start of its line.
    Key(&'a str),
    /// A step's `id: <value>` (after an optional `- `), the value quoted or not.
    StepId(&'a str, usize),
    /// `value` as a whole word (never inside a longer name) on a line that is not its own `id:` line.
    Word(&'a str),
}

fn line_of(yaml: &str, place: Place<'_>) -> Option<usize> {
    let unquote = |v: &str| v.trim().trim_matches(|c| c == '"' || c == '\'').to_owned();
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' || c == '/';
    let id_value = |line: &str| {
        let item = line.trim_start().trim_start_matches("- ").trim_start();
        item.strip_prefix("id:").map(unquote)
    };
    let mut lines = yaml.lines().enumerate();
    let found = match place {
        Place::Key(key) => lines.find(|(_, l)| l.starts_with(key) && l[key.len()..].starts_with(':')),
        Place::StepId(id, nth) => lines.filter(|(_, l)| id_value(l).as_deref() == Some(id)).nth(nth),
        Place::Word(word) => lines.find(|(_, l)| {
            id_value(l).is_none() && l.split(|c: char| !is_word(c)).any(|token| token == word)
        }),
    };
    found.map(|(i, _)| i + 1)
}

fn valid_step_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Parses and checks a workflow definition.
pub fn check(yaml: &str) -> Result<Checked, Vec<Problem>> {
    let definition: Definition = yaml_serde::from_str(yaml).map_err(|error| {
        let location = error.location();
        vec![Problem {
            message: error.to_string(),
            line: location.as_ref().map(|l| l.line()),
            column: location.as_ref().map(|l| l.column()),
        }]
    })?;
    let mut problems = Vec::new();
    let mut problem = |message: String, place: Option<Place<'_>>| {
        problems.push(Problem { line: place.and_then(|p| line_of(yaml, p)), column: None, message });
    };
    if definition.name.trim().is_empty() {
        problem("name must not be empty".into(), Some(Place::Key("name")));
    }
    if definition.steps.is_empty() {
        problem("a workflow needs at least one step".into(), None);
    }
    let mut ids = BTreeSet::new();
    for step in &definition.steps {
        if !valid_step_id(&step.id) {
            problem(
                format!("step id {:?} must be 1-128 characters of A-Z a-z 0-9 _ -", step.id),
                Some(Place::StepId(&step.id, 0)),
            );
        } else if !ids.insert(step.id.as_str()) {
            problem(format!("step id {} is used twice", step.id), Some(Place::StepId(&step.id, 1)));
        }
    }
    let mut graph: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for step in &definition.steps {
        for dependency in &step.depends_on {
            if !ids.contains(dependency.as_str()) {
                problem(
                    format!("step {} depends on unknown step {dependency}", step.id),
                    Some(Place::Word(dependency)),
                );
            } else {
                graph.entry(step.id.as_str()).or_default().push(dependency.as_str());
            }
        }
    }
    if has_cycle(&graph) {
        problem("step dependencies form a cycle".into(), Some(Place::Word("depends_on")));
    }
    for trigger in &definition.triggers {
        if trigger.on_kind.is_none() && trigger.cron.is_none() {
            problem("a trigger needs on_kind or cron".into(), Some(Place::Key("triggers")));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let version = definition.version.map(|v| match v {
        yaml_serde::Value::String(s) => s,
        other => yaml_serde::to_string(&other).unwrap_or_default().trim().to_owned(),
    });
    Ok(Checked {
        name: definition.name,
        version,
        steps: definition.steps.len(),
        triggers: definition.triggers,
        tags: definition.tags,
    })
}

/// The step ids of a definition in the order it lists them; empty when it does not parse.
pub fn step_order(yaml: &str) -> Vec<String> {
    yaml_serde::from_str::<Definition>(yaml)
        .map(|d| d.steps.into_iter().map(|s| s.id).collect())
        .unwrap_or_default()
}

fn has_cycle(graph: &BTreeMap<&str, Vec<&str>>) -> bool {
    fn visit<'a>(
        node: &'a str,
        graph: &BTreeMap<&'a str, Vec<&'a str>>,
        done: &mut BTreeSet<&'a str>,
        path: &mut BTreeSet<&'a str>,
    ) -> bool {
        if done.contains(node) {
            return false;
        }
        if !path.insert(node) {
            return true;
        }
        let cyclic = graph.get(node).into_iter().flatten().any(|next| visit(next, graph, done, path));
        path.remove(node);
        done.insert(node);
        cyclic
    }
    let (mut done, mut path) = (BTreeSet::new(), BTreeSet::new());
    graph.keys().any(|node| visit(node, graph, &mut done, &mut path))
}

fn invalid(problems: Vec<Problem>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, INVALID_WORKFLOW, "Workflow validation failed")
        .with_detail("validation_errors", json!(problems))
}

pub(crate) fn space_path(state: &ApiState) -> String {
    format!("/{}/{SPACE}", state.config().kumiho.harness_project)
}

pub(crate) fn workflow_json(item: &Item, revision: Option<&Revision>, definition: &str) -> Value {
    let empty = Metadata::new();
    let meta = revision.map_or(&empty, |r| &r.metadata);
    let field = |key: &str| meta.get(key).cloned().unwrap_or_default();
    let tags: Vec<String> =
        field("tags").split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect();
    let name =
        meta.get("display_name").filter(|n| !n.is_empty()).cloned().unwrap_or_else(|| item.item_name.clone());
    let mut workflow = json!({
        "kref": item.kref,
        "name": name,
        "item_name": item.item_name,
        "deprecated": item.deprecated,
        "created_at": item.created_at,
        "description": field("description"),
        "definition": definition,
        "version": revision.map(|r| r.number.to_string()).unwrap_or_default(),
        "tags": tags,
        "steps": field("steps").parse::<usize>().unwrap_or(0),
        "revision_number": revision.map_or(0, |r| r.number),
        "source": "custom",
    });
    if let Ok(triggers) = serde_json::from_str::<Vec<Trigger>>(&field("triggers"))
        && !triggers.is_empty()
    {
        workflow["triggers"] = json!(triggers);
    }
    workflow
}

#[utoipa::path(
    get,
    path = "/api/workflows",
    tag = "workflows",
    operation_id = "list_workflows",
    summary = "A page of workflow definitions",
    params(ListQuery),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The page.", body = crate::openapi::schemas::WorkflowPage),
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
    let body =
        list_page(&*state.kumiho, &query, (place.0, &place.1, place.2), "workflows", |item, revision| {
            let definition = revision.and_then(|r| r.metadata.get("definition")).map_or("", String::as_str);
            workflow_json(item, revision, definition)
        })
        .await?;
    Ok(Json(body))
}

#[utoipa::path(
    get,
    path = "/api/workflows/revisions/{kref}",
    tag = "workflows",
    operation_id = "get_workflow_revision",
    summary = "One revision of a workflow, with its YAML",
    params(
        ("kref" = crate::graph::WorkflowRevisionKref, Path, description = "A workflow revision's kref, with or without `kref://`: `project/space/name.workflow?r=N`, its slashes sent as they are or percent-encoded and its `?` percent-encoded (`%3F`)."),
    ),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The workflow at that revision.", body = crate::openapi::schemas::WorkflowEnvelope),
        (status = 400, description = "`INVALID_KREF`: not a workflow revision kref.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoNotFound,
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn revision(
    State(state): State<ApiState>,
    Path(kref): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let parsed = Kref::parse(&kref)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, INVALID_KREF, e.to_string()))?;
    if parsed.kind != KIND || parsed.revision.is_none() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            INVALID_KREF,
            "expected a workflow revision kref (…?r=N)",
        ));
    }
    let kumiho = &*state.kumiho;
    let item = kumiho.get_item(&parsed.item().to_string()).await?;
    let revision = kumiho.revision_by_kref(&parsed.to_string()).await?;
    let definition = FILES.read(&state, &revision).await?;
    Ok(Json(json!({"workflow": workflow_json(&item, Some(&revision), &definition)})))
}

/// Body of `POST /api/workflows` and `PUT /api/workflows/{kref}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkflowBody {
    /// The display name, 1-100 characters (trimmed) with a letter or a digit; its slug is the item name.
    #[schema(min_length = 1, max_length = 100, pattern = r"^[\s\S]*[\p{L}\p{N}][\s\S]*$")]
    name: String,
    /// At most 2000 characters (may be empty).
    #[schema(max_length = 2_000)]
    description: String,
    /// The workflow YAML, at most 256 KiB.
    definition: String,
    /// Accepted for upstream clients and ignored: the revision number is the version.
    #[serde(default, rename = "version")]
    _version: Option<String>,
    /// Tags, merged with the definition's own.
    #[serde(default)]
    tags: Vec<String>,
}

impl WorkflowBody {
    /// The revision metadata, the definition validated.
    fn metadata(&self) -> Result<Metadata, ApiError> {
        let name = required("name", &self.name, 100)?;
        let description = optional("description", Some(&self.description), 2_000)?.unwrap_or_default();
        if self.definition.len() > MAX_DEFINITION {
            return Err(invalid(vec![Problem {
                message: format!("at most {MAX_DEFINITION} bytes"),
                line: None,
                column: None,
            }]));
        }
        let checked = check(&self.definition).map_err(invalid)?;
        let mut tags: Vec<String> = self
            .tags
            .iter()
            .chain(&checked.tags)
            .map(|t| t.trim().replace(',', " "))
            .filter(|t| !t.is_empty())
            .collect();
        tags.sort();
        tags.dedup();
        let mut meta = Metadata::from([
            ("display_name".to_owned(), name.clone()),
            ("description".to_owned(), description.clone()),
            ("definition".to_owned(), self.definition.clone()),
            ("created_by".to_owned(), "construct-dashboard".to_owned()),
            ("steps".to_owned(), checked.steps.to_string()),
            ("_search_text".to_owned(), format!("{name} {description}")),
        ]);
        if !tags.is_empty() {
            meta.insert("tags".into(), tags.join(","));
        }
        if !checked.triggers.is_empty() {
            meta.insert("triggers".into(), serde_json::to_string(&checked.triggers).unwrap_or_default());
        }
        Ok(meta)
    }
}

#[utoipa::path(
    post,
    path = "/api/workflows",
    tag = "workflows",
    operation_id = "create_workflow",
    summary = "Create a workflow",
    request_body(content = WorkflowBody, content_type = "application/json"),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 201, description = "Created with its first published revision.", body = crate::openapi::schemas::WorkflowEnvelope),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 409, description = "`CONFLICT`: a workflow with the slug of `name` exists; `IDEMPOTENCY_IN_PROGRESS`: a request with the same `Idempotency-Key` is still running.", body = construct_core::openapi::ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the body is over 528 KiB.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::NotJson,
        (status = 422, description = "`INVALID_BODY`: a missing, mistyped or unknown field; `INVALID_WORKFLOW`: the YAML is not a valid workflow (`validation_errors` lists `{message, line?, column?}`); `INVALID_FIELD`: an empty or overlong name or description, or a slug-less name; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn create(
    State(state): State<ApiState>,
    Json(body): Json<WorkflowBody>,
) -> Result<Response, ApiError> {
    let metadata = body.metadata()?;
    let slug = slug_of(&body.name)?;
    let config = state.config();
    let place = (config.kumiho.harness_project.as_str(), SPACE, KIND, "A workflow");
    let (item, revision) = FILES.create(&state, place, &slug, &metadata, &body.definition).await?;
    state.publish("workflow_saved", json!({"kref": item.kref, "revision": revision.number})).await;
    let body = json!({"workflow": workflow_json(&item, Some(&revision), &body.definition)});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[utoipa::path(
    put,
    path = "/api/workflows/{kref}",
    tag = "workflows",
    operation_id = "update_workflow",
    summary = "Publish a new revision of a workflow",
    params(
        ("kref" = crate::graph::WorkflowKref, Path, description = "The workflow's kref, with or without `kref://`: `project/space/name.workflow`, its slashes sent as they are or percent-encoded."),
    ),
    request_body(content = WorkflowBody, content_type = "application/json"),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "The workflow with its new published revision.", body = crate::openapi::schemas::WorkflowEnvelope),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON; `INVALID_KREF`: not a workflow kref; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoNotFound,
        construct_core::openapi::IdempotencyInProgress,
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the body is over 528 KiB.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::NotJson,
        (status = 422, description = "`INVALID_BODY`: a missing, mistyped or unknown field; `INVALID_WORKFLOW`: the YAML is not a valid workflow (`validation_errors` lists `{message, line?, column?}`); `INVALID_FIELD`: an empty or overlong name or description, or a slug-less name; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn update(
    State(state): State<ApiState>,
    Path(kref): Path<String>,
    Json(body): Json<WorkflowBody>,
) -> Result<Json<Value>, ApiError> {
    // The kref is judged before the body, as before: a bad path is a 400 whatever the body.
    let kref = item_kref(&kref, KIND)?;
    let metadata = body.metadata()?;
    let (item, revision) = FILES.update_item(&state, &kref, KIND, &metadata, &body.definition).await?;
    state.publish("workflow_saved", json!({"kref": item.kref, "revision": revision.number})).await;
    Ok(Json(json!({"workflow": workflow_json(&item, Some(&revision), &body.definition)})))
}

/// Body of `POST /api/workflows/deprecate`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DeprecateWorkflowRequest)]
pub(crate) struct DeprecateWorkflow {
    /// The workflow's kref.
    #[schema(value_type = crate::graph::WorkflowKref)]
    kref: String,
    /// Deprecate (true) or restore (false).
    deprecated: bool,
}

#[utoipa::path(
    post,
    path = "/api/workflows/deprecate",
    tag = "workflows",
    operation_id = "deprecate_workflow",
    summary = "Deprecate or restore a workflow",
    request_body(content = DeprecateWorkflow, content_type = "application/json"),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "The workflow.", body = crate::openapi::schemas::WorkflowEnvelope),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON; `INVALID_KREF`: not a workflow kref; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
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
    Json(body): Json<DeprecateWorkflow>,
) -> Result<Json<Value>, ApiError> {
    let (item, revision, definition) =
        FILES.deprecate_item(&state, &body.kref, KIND, body.deprecated).await?;
    Ok(Json(json!({"workflow": workflow_json(&item, revision.as_ref(), &definition)})))
}

#[utoipa::path(
    delete,
    path = "/api/workflows/{kref}",
    tag = "workflows",
    operation_id = "delete_workflow",
    summary = "Delete a workflow and its files",
    params(
        ("kref" = crate::graph::WorkflowKref, Path, description = "The workflow's kref, with or without `kref://`: `project/space/name.workflow`, its slashes sent as they are or percent-encoded."),
    ),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 204, description = "Deleted, files removed."),
        (status = 400, description = "`INVALID_KREF`: not a workflow kref; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
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

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "name: Ship\nversion: 1.2\ntags: [release]\ntriggers:\n  - on_kind: build\n    on_tag: ready\nsteps:\n  - id: build\n  - id: test\n    depends_on: [build]\n";

    #[test]
    fn valid_definitions() {
        let checked = check(GOOD).unwrap();
        assert_eq!(
            (checked.name.as_str(), checked.steps, checked.version.as_deref()),
            ("Ship", 2, Some("1.2"))
        );
        assert_eq!(checked.triggers[0].on_kind.as_deref(), Some("build"));
        assert_eq!(check("name: T\ntasks:\n  - id: a\n").unwrap().steps, 1, "tasks is an alias");
    }

    #[test]
    fn problems_carry_their_place() {
        let broken = check("name: x\nsteps:\n  - id: a\n    depends_on: [b\n").unwrap_err();
        assert!(broken[0].line.is_some() && broken[0].column.is_some(), "{broken:?}");
        let missing = check("steps:\n  - id: a\n").unwrap_err();
        assert!(missing[0].message.contains("name"), "{missing:?}");
        let wrong_type = check("name: x\nsteps: 5\n").unwrap_err();
        assert_eq!(wrong_type[0].line, Some(2), "{wrong_type:?}");
        let semantic = check("name: x\nsteps:\n  - id: a\n    depends_on: [ghost]\n  - id: a\n").unwrap_err();
        let messages: Vec<&str> = semantic.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(messages, ["step id a is used twice", "step a depends on unknown step ghost"]);
        assert_eq!(semantic[0].line, Some(5), "the second use, not a letter inside `name: x`");
        assert_eq!(semantic[1].line, Some(4));
        let words =
            check("name: alpha\nsteps:\n  - id: al\n    depends_on: [\"a\"]\n  - id: \"al\"\n").unwrap_err();
        assert_eq!((words[0].line, words[1].line), (Some(5), Some(4)), "{words:?}");
        let empty = check("description: name is below\nname: \"\"\nsteps:\n  - id: a\n").unwrap_err();
        assert_eq!(empty[0].line, Some(2), "the key, not a mention of it");
        let cycle =
            check("name: x\nsteps:\n  - id: a\n    depends_on: [b]\n  - id: b\n    depends_on: [a]\n")
                .unwrap_err();
        assert_eq!(cycle[0].message, "step dependencies form a cycle");
        assert!(check("name: x\nsteps: []\n").is_err());
        assert!(check("name: x\ntriggers:\n  - on_tag: ready\nsteps:\n  - id: a\n").is_err());
        assert!(check("name: x\nsteps:\n  - id: ../a\n").is_err());
    }
}
