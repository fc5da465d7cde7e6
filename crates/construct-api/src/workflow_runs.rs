//! Workflow runs (spec: upstream-rest §2.5). Execution belongs to an external operator: this gateway
//! records run requests for it, and reads back the runs it persists.
//!
//! - `POST /api/workflows/run/{name}` (admin) records a `workflow-run-request` item in
//!   `/<harness_project>/WorkflowRunRequests` tagged `pending`, pinned to the workflow's published
//!   revision, publishes `workflow_run_requested`, and answers 202 (upstream said 200 for an enqueue, and
//!   stored `"null"` inputs for a body without them).
//! - `GET /api/workflows/runs` pages the `workflow_run` items of `/<harness_project>/WorkflowRuns`, newest
//!   first, with one batch call for the page's revisions; `GET /api/workflows/runs/{run_id}` gives a run
//!   with its steps in the definition's order (upstream's order was a hash map's).
//! - `DELETE /api/workflows/runs/{run_id}` and `POST /api/workflows/runs/{run_id}/retry` (admin).
//! - `GET /api/workflows/dashboard` counts every run, not the first five.
//! - `GET /api/workflows/agent-activity/{agent_id}` reads the operator's run log for one agent.
//!
//! Every id in a path is checked against `[A-Za-z0-9._-]{1,128}` before it is used, so none can reach a
//! file outside its directory (upstream joined them into paths unchecked).

use std::collections::{HashMap, VecDeque};
use std::io::BufRead;
use std::path::PathBuf;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use construct_core::extract::{Json, Path, Query};
use construct_core::{ApiError, ErrorCode};
use construct_kumiho::model::{Item, ItemQuery, Metadata, Revision};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::ApiState;
use crate::graph::{INVALID_FIELD, MAX_ITEMS, Page, all_items, ensure_space, path_id, published_or_latest};
use crate::workflows;

/// The space the operator persists runs in.
pub const RUNS_SPACE: &str = "WorkflowRuns";
/// The kind of a persisted run.
pub const RUN_KIND: &str = "workflow_run";
/// The space run requests go to.
pub const REQUESTS_SPACE: &str = "WorkflowRunRequests";
/// The kind of a run request.
pub const REQUEST_KIND: &str = "workflow-run-request";
/// 404 for a run id that names no run.
pub const RUN_NOT_FOUND: ErrorCode = ErrorCode::new("RUN_NOT_FOUND");
/// 404 for a workflow name that names no workflow.
pub const WORKFLOW_NOT_FOUND: ErrorCode = ErrorCode::new("WORKFLOW_NOT_FOUND");
/// 409 for retrying a run that has not failed.
pub const RUN_NOT_RETRYABLE: ErrorCode = ErrorCode::new("RUN_NOT_RETRYABLE");
/// 404 when an agent has no run log.
pub const RUN_LOG_NOT_FOUND: ErrorCode = ErrorCode::new("RUN_LOG_NOT_FOUND");
/// Largest `inputs`, as JSON.
pub const MAX_INPUTS: usize = 64 * 1024;
/// Revisions asked for per batch call.
const BATCH: usize = 500;
/// Runs the dashboard lists.
const RECENT_RUNS: usize = 5;
/// Definitions the dashboard lists (`definitions_count` is the true count).
const DASHBOARD_DEFINITIONS: usize = 100;
/// Longest run-log line read; longer ones are skipped.
const MAX_LOG_LINE: usize = 1024 * 1024;
/// The run-log views.
const VIEWS: [&str; 5] = ["summary", "tool_calls", "messages", "errors", "full"];

fn runs_space(state: &ApiState) -> String {
    format!("/{}/{RUNS_SPACE}", state.config().kumiho.harness_project)
}

fn now() -> String {
    OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default()
}

fn invalid_query(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::INVALID_QUERY, message)
}

/// The `latest` revision of each item, in batches.
async fn latest_of(state: &ApiState, krefs: &[String]) -> Result<HashMap<String, Revision>, ApiError> {
    let mut found = HashMap::new();
    for chunk in krefs.chunks(BATCH) {
        let batch = state.kumiho.batch_revisions(chunk, "latest", true).await.map_err(ApiError::from)?;
        found.extend(batch.revisions.into_iter().map(|r| (r.item_kref.clone(), r)));
    }
    Ok(found)
}

/// Every run, newest first.
async fn all_runs(state: &ApiState) -> Result<Vec<Item>, ApiError> {
    let mut runs = all_items(&*state.kumiho, &runs_space(state), Some(RUN_KIND), false, MAX_ITEMS).await?;
    runs.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.item_name.cmp(&a.item_name)));
    Ok(runs)
}

/// A run's fields: its latest revision's metadata over its item's.
fn run_meta<'a>(item: &'a Item, latest: Option<&'a Revision>) -> impl Fn(&str) -> String + 'a {
    move |key| {
        latest
            .and_then(|r| r.metadata.get(key))
            .or_else(|| item.metadata.get(key))
            .cloned()
            .unwrap_or_default()
    }
}

/// `RunSummary`.
fn summary(item: &Item, latest: Option<&Revision>) -> Value {
    let field = run_meta(item, latest);
    let run_id = Some(field("run_id")).filter(|r| !r.is_empty()).unwrap_or_else(|| item.item_name.clone());
    let workflow =
        Some(field("workflow_name")).filter(|w| !w.is_empty()).unwrap_or_else(|| field("workflow"));
    let mut run = json!({
        "kref": item.kref,
        "run_id": run_id,
        "workflow_name": workflow,
        "status": field("status"),
        "started_at": field("started_at"),
        "completed_at": field("completed_at"),
        "steps_completed": field("steps_completed"),
        "steps_total": field("steps_total"),
        "error": field("error"),
    });
    for key in ["workflow_item_kref", "workflow_revision_kref"] {
        let value = field(key);
        if !value.is_empty() {
            run[key] = Value::String(value);
        }
    }
    run
}

/// A JSON value the operator may have written as an embedded string.
fn embedded(value: &Value) -> Option<Value> {
    match value {
        Value::String(text) => serde_json::from_str(text).ok(),
        Value::Null => None,
        other => Some(other.clone()),
    }
}

/// The status in a truncated step value, found by string search.
fn truncated_status(raw: &str) -> Option<String> {
    let rest = &raw[raw.find("\"status\"")? + "\"status\"".len()..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_owned())
}

/// One `Step` from its metadata value, or none when it is not readable.
fn step(step_id: &str, raw: &str) -> Option<Value> {
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(raw) else {
        return truncated_status(raw).map(|status| json!({"step_id": step_id, "status": status}));
    };
    let mut step = Map::new();
    step.insert("step_id".into(), json!(step_id));
    let status = fields.get("status").and_then(Value::as_str).filter(|s| !s.is_empty()).unwrap_or("unknown");
    step.insert("status".into(), json!(status));
    for key in ["agent_id", "agent_type", "role", "template_name", "output_preview", "artifact_path"] {
        if let Some(value) = fields.get(key).and_then(Value::as_str).filter(|v| !v.is_empty()) {
            step.insert(key.into(), json!(value));
        }
    }
    // The operator writes `skills` and `transcript` as JSON strings; upstream expected arrays and lost them.
    for key in ["skills", "transcript"] {
        if let Some(list) =
            fields.get(key).and_then(embedded).filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
        {
            step.insert(key.into(), list);
        }
    }
    if let Some(Value::Object(data)) = fields.get("output_data").and_then(embedded) {
        let kept: Map<String, Value> =
            ["awaiting_approval", "approval_message", "approve_keywords", "reject_keywords"]
                .into_iter()
                .filter_map(|k| data.get(k).map(|v| (k.to_owned(), v.clone())))
                .collect();
        if !kept.is_empty() {
            step.insert("output_data".into(), Value::Object(kept));
        }
    }
    Some(Value::Object(step))
}

/// The steps in a run's metadata, in `order` (the definition's step ids), then by id.
fn steps(meta: &Metadata, order: &[String]) -> Vec<Value> {
    // The operator truncates keys to 50 characters, so positions are matched on the truncated key.
    let position =
        |key: &str| order.iter().position(|id| format!("step_{id}").chars().take(50).eq(key.chars()));
    let mut found: Vec<(usize, &str, Value)> = meta
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "step_count" | "steps_completed" | "steps_total"))
        .filter_map(|(key, raw)| {
            let id = key.strip_prefix("step_")?;
            Some((position(key).unwrap_or(usize::MAX), id, step(id, raw)?))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    found.into_iter().map(|(_, _, step)| step).collect()
}

/// The run `run_id` names: one name-filtered list call (the operator names runs `<workflow>-<run_id[:12]>`).
async fn find_run(state: &ApiState, run_id: &str) -> Result<Item, ApiError> {
    path_id(run_id, "run id")?;
    let prefix: String = run_id.chars().take(12).collect::<String>().to_lowercase();
    let query = ItemQuery {
        space_path: runs_space(state),
        name_filter: Some(prefix.clone()),
        include_deprecated: true,
        limit: Some(BATCH as u32),
        offset: None,
    };
    let not_found =
        || ApiError::new(StatusCode::NOT_FOUND, RUN_NOT_FOUND, format!("Run '{run_id}' not found"));
    let items = match state.kumiho.list_items(&query).await {
        Ok(items) => items,
        Err(error) if error.is_not_found() => return Err(not_found()),
        Err(error) => return Err(error.into()),
    };
    let mut candidates = items.into_iter().filter(|i| i.kind == RUN_KIND);
    let mut by_name = None;
    for item in candidates.by_ref() {
        match item.metadata.get("run_id") {
            Some(id) if id == run_id => return Ok(item),
            None if by_name.is_none() && item.item_name.to_lowercase().contains(&prefix) => {
                by_name = Some(item)
            }
            _ => {}
        }
    }
    by_name.ok_or_else(not_found)
}

/// `?page=&per_page=&limit=&workflow=` of the runs list; `limit` is upstream's name for `per_page`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RunsQuery {
    /// 1-based page, 1..=100000 (default 1).
    #[serde(default)]
    #[param(minimum = 1, maximum = 100_000)]
    page: Option<u32>,
    /// Runs per page, 1..=100 (default 20).
    #[serde(default)]
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<u32>,
    /// An alias of `per_page`.
    #[serde(default)]
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// Only runs of this workflow.
    #[serde(default)]
    workflow: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/workflows/runs",
    tag = "workflow-runs",
    operation_id = "list_workflow_runs",
    summary = "A page of workflow runs, newest first",
    params(RunsQuery),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The page.", body = crate::openapi::schemas::RunPage),
        (status = 400, description = "`INVALID_QUERY`: `page` outside 1-100000, `per_page` (or `limit`) outside 1-100, or a malformed parameter.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn list(
    State(state): State<ApiState>,
    Query(query): Query<RunsQuery>,
) -> Result<Json<Value>, ApiError> {
    // `per_page` wins over its alias, but an out-of-range `limit` is refused even then.
    if let Some(limit) = query.limit {
        Page::checked(1, limit, "per_page (limit)")?;
    }
    let Page { page, per_page } = Page::checked(
        query.page.unwrap_or(1),
        query.per_page.or(query.limit).unwrap_or(20),
        "per_page (limit)",
    )?;
    let mut runs = all_runs(&state).await?;
    if let Some(workflow) = query.workflow.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        runs.retain(|item| {
            item.metadata
                .get("workflow_name")
                .or_else(|| item.metadata.get("workflow"))
                .is_some_and(|w| w == workflow)
        });
    }
    let total = runs.len();
    let shown: Vec<&Item> = runs
        .iter()
        .skip(((page - 1) as usize).saturating_mul(per_page as usize))
        .take(per_page as usize)
        .collect();
    let krefs: Vec<String> = shown.iter().map(|i| i.kref.clone()).collect();
    let latest = latest_of(&state, &krefs).await?;
    let summaries: Vec<Value> = shown.iter().map(|item| summary(item, latest.get(&item.kref))).collect();
    Ok(Json(json!({
        "count": summaries.len(),
        "runs": summaries,
        "total_count": total,
        "page": page,
        "per_page": per_page,
    })))
}

#[utoipa::path(
    get,
    path = "/api/workflows/runs/{run_id}",
    tag = "workflow-runs",
    operation_id = "get_workflow_run",
    summary = "A run with its steps",
    params(
        ("run_id" = String, Path, pattern = r"^(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}|\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,126}|\.\.[A-Za-z0-9._-]{1,126})$", description = "The run id: 1-128 characters of `A-Z a-z 0-9 . _ -`, not `.` or `..`."),
    ),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The run; steps in the pinned definition's order, else by id.", body = crate::openapi::schemas::RunEnvelope),
        (status = 400, description = "`INVALID_PATH`: a malformed `run_id`.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`RUN_NOT_FOUND`: no run has this id.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn get(
    State(state): State<ApiState>,
    Path(run_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let item = find_run(&state, &run_id).await?;
    let latest = state.kumiho.latest_revision(&item.kref).await.ok();
    let mut run = summary(&item, latest.as_ref());
    let meta = latest.as_ref().map_or(&item.metadata, |r| &r.metadata);
    // The definition the run was started from gives the step order; without it, steps sort by id.
    let order = match meta.get("workflow_revision_kref") {
        Some(kref) => match state.kumiho.revision_by_kref(kref).await {
            Ok(revision) => {
                workflows::step_order(revision.metadata.get("definition").map_or("", String::as_str))
            }
            Err(error) => {
                tracing::debug!(%error, "the run's workflow revision is gone; steps sort by id");
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    run["steps"] = Value::Array(steps(meta, &order));
    Ok(Json(json!({"run": run})))
}

/// Where a run's files live under an artifact root.
fn run_dirs(state: &ApiState, run_id: &str) -> Vec<PathBuf> {
    crate::revision_files::artifact_roots(state)
        .into_iter()
        .map(|root| root.join("runs").join(run_id))
        .collect()
}

#[utoipa::path(
    delete,
    path = "/api/workflows/runs/{run_id}",
    tag = "workflow-runs",
    operation_id = "delete_workflow_run",
    summary = "Delete a run and its files",
    params(
        ("run_id" = String, Path, pattern = r"^(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}|\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,126}|\.\.[A-Za-z0-9._-]{1,126})$", description = "The run id: 1-128 characters of `A-Z a-z 0-9 . _ -`, not `.` or `..`."),
    ),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 204, description = "Deleted; `workflow_run_deleted` is published."),
        (status = 400, description = "`INVALID_PATH`: a malformed `run_id`; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`RUN_NOT_FOUND`: no run has this id.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::IdempotencyInProgress,
        construct_core::openapi::IdempotencyKeyReused,
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn delete(
    State(state): State<ApiState>,
    Path(run_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let item = find_run(&state, &run_id).await?;
    state.kumiho.delete_item(&item.kref).await?;
    for dir in run_dirs(&state, &run_id) {
        match tokio::fs::remove_dir_all(&dir).await {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => tracing::warn!(%error, dir = %dir.display(), "cannot remove a run's files"),
        }
    }
    state.kumiho_cache.invalidate();
    state.publish("workflow_run_deleted", json!({"run_id": run_id, "kref": item.kref})).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of `POST /api/workflows/run/{name}`, optional.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RunRequest)]
struct RunBody {
    /// The run's inputs: a JSON object of at most 64 KiB (`{}` when absent).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    inputs: Option<Value>,
    /// The working directory for the operator, at most 4096 bytes of UTF-8, no NUL.
    #[serde(default)]
    #[schema(max_length = 4_096, pattern = r"^[^\x00]*$")]
    cwd: Option<String>,
}

impl RunBody {
    /// The body, or the defaults for an empty body or JSON `null` (both mean "no body").
    fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let body: Self = crate::optional_object_body(bytes)?;
        if body.inputs.as_ref().is_some_and(|i| !i.is_object() && !i.is_null()) {
            return Err(invalid_field("inputs must be a JSON object"));
        }
        check_cwd(body.cwd.as_deref())?;
        Ok(body)
    }

    /// The inputs as stored: `{}` when absent (upstream stored `"null"`).
    fn inputs(&self) -> Result<String, ApiError> {
        let inputs = self.inputs.clone().filter(|i| !i.is_null()).unwrap_or_else(|| json!({})).to_string();
        if inputs.len() > MAX_INPUTS {
            return Err(invalid_field(&format!("inputs are at most {MAX_INPUTS} bytes of JSON")));
        }
        Ok(inputs)
    }
}

/// Body of `POST /api/workflows/runs/{run_id}/retry`, optional: a retry keeps the run's inputs, so only
/// `cwd` may be set.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RetryRequest)]
struct RetryBody {
    /// Absent or `null`: a retry keeps the run's inputs.
    #[serde(default)]
    #[schema(schema_with = no_inputs_schema)]
    inputs: Option<Value>,
    /// The working directory for the operator, at most 4096 bytes of UTF-8, no NUL.
    #[serde(default)]
    #[schema(max_length = 4_096, pattern = r"^[^\x00]*$")]
    cwd: Option<String>,
}

impl RetryBody {
    /// The body, or the defaults for an empty body or JSON `null` (both mean "no body").
    fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let body: Self = crate::optional_object_body(bytes)?;
        if body.inputs.as_ref().is_some_and(|i| !i.is_null()) {
            return Err(invalid_field("a retry keeps the run's inputs"));
        }
        check_cwd(body.cwd.as_deref())?;
        Ok(body)
    }
}

fn no_inputs_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Null)
        .description(Some("Absent or `null`: a retry keeps the run's inputs."))
        .build()
}

/// 422 `INVALID_FIELD` for a `cwd` over 4096 bytes or holding NUL.
fn check_cwd(cwd: Option<&str>) -> Result<(), ApiError> {
    if cwd.is_some_and(|c| c.len() > 4096 || c.contains('\0')) {
        return Err(invalid_field("cwd must be a path of at most 4096 bytes"));
    }
    Ok(())
}

fn invalid_field(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, INVALID_FIELD, message.to_owned())
}

/// Records a run request tagged `pending` for the operator to pick up.
async fn request_run(state: &ApiState, run_id: &str, mut metadata: Metadata) -> Result<Item, ApiError> {
    let kumiho = &*state.kumiho;
    let project = &state.config().kumiho.harness_project;
    ensure_space(kumiho, project, REQUESTS_SPACE).await?;
    let prefix: String = run_id.chars().take(12).collect();
    let name = match metadata.get("retry_of") {
        Some(_) => format!("retry-{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
        None => format!("run-{prefix}"),
    };
    metadata.insert("requested_at".into(), now());
    let item =
        kumiho.create_item(&format!("/{project}/{REQUESTS_SPACE}"), &name, REQUEST_KIND, &metadata).await?;
    let tagged = async {
        let revision = kumiho.create_revision(&item.kref, &metadata).await?;
        kumiho.tag_revision(&revision.kref, "pending").await
    };
    if let Err(error) = tagged.await {
        return Err(crate::graph::undo_create(kumiho, &item.kref, error).await);
    }
    state.kumiho_cache.invalidate();
    Ok(item)
}

#[utoipa::path(
    post,
    path = "/api/workflows/run/{name}",
    tag = "workflow-runs",
    operation_id = "run_workflow",
    summary = "Request a run of a workflow from the operator",
    params(
        ("name" = String, Path, pattern = r"^[\s\S]*[\p{L}\p{N}][\s\S]*$", description = "The workflow's name, slugified to its item name, so it holds a letter or a digit."),
    ),
    request_body(content = Option<RunBody>, content_type = "application/json", description = "Optional; an empty body or `null` is no inputs and no `cwd`."),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 202, description = "The run request is recorded, tagged `pending`, for the operator.", body = crate::openapi::schemas::RunRequested),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON; `INVALID_PATH`: a name with no letter or digit; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`WORKFLOW_NOT_FOUND`: no such workflow, or it is deprecated.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::IdempotencyInProgress,
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the body is over 528 KiB.", body = construct_core::openapi::ErrorBody),
        (status = 422, description = "`INVALID_BODY`: a mistyped or unknown field, or a body that is neither an object nor `null`; `INVALID_FIELD`: `inputs` not an object or over 64 KiB, or `cwd` over 4096 bytes or holding NUL; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn run(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = RunBody::parse(&body)?;
    let inputs = body.inputs()?;
    let slug = construct_kumiho::slugify(&name).ok_or_else(|| {
        ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::INVALID_PATH, "Invalid workflow name")
    })?;
    let workflow_kref = format!("kref:/{}/{}.{}", workflows::space_path(&state), slug, workflows::KIND);
    let not_found =
        || ApiError::new(StatusCode::NOT_FOUND, WORKFLOW_NOT_FOUND, format!("Workflow '{name}' not found"));
    let workflow = match state.kumiho.get_item(&workflow_kref).await {
        Ok(item) if !item.deprecated => item,
        Ok(_) => return Err(not_found()),
        Err(error) if error.is_not_found() => return Err(not_found()),
        Err(error) => return Err(error.into()),
    };
    let revision = published_or_latest(&*state.kumiho, std::slice::from_ref(&workflow.kref))
        .await?
        .remove(&workflow.kref)
        .ok_or_else(not_found)?;
    let run_id = uuid::Uuid::new_v4().to_string();
    let metadata = Metadata::from([
        ("workflow_name".to_owned(), workflow.item_name.clone()),
        ("run_id".to_owned(), run_id.clone()),
        ("inputs".to_owned(), inputs),
        ("cwd".to_owned(), body.cwd.clone().unwrap_or_default()),
        ("trigger_source".to_owned(), "api".to_owned()),
        ("workflow_item_kref".to_owned(), workflow.kref.clone()),
        ("workflow_revision_kref".to_owned(), revision.kref.clone()),
    ]);
    let request = request_run(&state, &run_id, metadata).await?;
    state
        .publish(
            "workflow_run_requested",
            json!({"run_id": run_id, "workflow": workflow.item_name, "kref": request.kref}),
        )
        .await;
    let answer =
        json!({"run_id": run_id, "workflow": workflow.item_name, "status": "pending", "kref": request.kref});
    Ok((StatusCode::ACCEPTED, Json(answer)).into_response())
}

#[utoipa::path(
    post,
    path = "/api/workflows/runs/{run_id}/retry",
    tag = "workflow-runs",
    operation_id = "retry_workflow_run",
    summary = "Request a retry of a failed or cancelled run",
    params(
        ("run_id" = String, Path, pattern = r"^(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}|\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,126}|\.\.[A-Za-z0-9._-]{1,126})$", description = "The run id: 1-128 characters of `A-Z a-z 0-9 . _ -`, not `.` or `..`."),
    ),
    request_body(content = Option<RetryBody>, content_type = "application/json", description = "Optional (an empty body or `null` is no `cwd`); only `cwd` may be set (a retry keeps the run's inputs)."),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 202, description = "The retry request is recorded for the operator.", body = crate::openapi::schemas::RetryRequested),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON; `INVALID_PATH`: a malformed `run_id`; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`RUN_NOT_FOUND`: no run has this id.", body = construct_core::openapi::ErrorBody),
        (status = 409, description = "`RUN_NOT_RETRYABLE`: the run neither failed nor was cancelled; `IDEMPOTENCY_IN_PROGRESS`: a request with the same `Idempotency-Key` is still running.", body = construct_core::openapi::ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the body is over 528 KiB.", body = construct_core::openapi::ErrorBody),
        (status = 422, description = "`INVALID_BODY`: a mistyped or unknown field, or a body that is neither an object nor `null`; `INVALID_FIELD`: `inputs` given, or `cwd` over 4096 bytes or holding NUL; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn retry(
    State(state): State<ApiState>,
    Path(run_id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = RetryBody::parse(&body)?;
    let item = find_run(&state, &run_id).await?;
    let latest = state.kumiho.latest_revision(&item.kref).await.ok();
    let field = run_meta(&item, latest.as_ref());
    let status = field("status");
    if !matches!(status.as_str(), "failed" | "cancelled") {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            RUN_NOT_RETRYABLE,
            format!("Only failed or cancelled runs are retried; this one is {status:?}"),
        ));
    }
    let mut metadata = Metadata::from([
        ("run_id".to_owned(), run_id.clone()),
        ("retry_of".to_owned(), run_id.clone()),
        ("cwd".to_owned(), body.cwd.clone().unwrap_or_default()),
        ("trigger_source".to_owned(), "api".to_owned()),
    ]);
    for key in ["workflow_name", "workflow_item_kref", "workflow_revision_kref"] {
        metadata.insert(key.to_owned(), field(key));
    }
    let request = request_run(&state, &run_id, metadata).await?;
    state
        .publish("workflow_retry", json!({"run_id": run_id, "timestamp": now(), "kref": request.kref}))
        .await;
    let answer = json!({"run_id": run_id, "status": "pending", "retry": true, "kref": request.kref});
    Ok((StatusCode::ACCEPTED, Json(answer)).into_response())
}

#[utoipa::path(
    get,
    path = "/api/workflows/dashboard",
    tag = "workflow-runs",
    operation_id = "workflow_dashboard",
    summary = "Counts and recent runs for the workflow overview",
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The overview.", body = crate::openapi::schemas::DashboardEnvelope),
        crate::openapi::KumihoFailures,
    )
)]
pub(crate) async fn dashboard(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let kumiho = &*state.kumiho;
    let project = &state.config().kumiho.harness_project;
    let definitions =
        all_items(kumiho, &workflows::space_path(&state), Some(workflows::KIND), false, MAX_ITEMS).await?;
    let shown: Vec<&Item> = definitions.iter().take(DASHBOARD_DEFINITIONS).collect();
    let krefs: Vec<String> = shown.iter().map(|i| i.kref.clone()).collect();
    let revisions = published_or_latest(kumiho, &krefs).await?;
    let listed: Vec<Value> = shown
        .iter()
        .map(|item| {
            let revision = revisions.get(&item.kref);
            let definition = revision.and_then(|r| r.metadata.get("definition")).map_or("", String::as_str);
            workflows::workflow_json(item, revision, definition)
        })
        .collect();
    let runs = all_runs(&state).await?;
    let krefs: Vec<String> = runs.iter().map(|i| i.kref.clone()).collect();
    let latest = latest_of(&state, &krefs).await?;
    let status = |item: &Item| run_meta(item, latest.get(&item.kref))("status");
    let active = runs.iter().filter(|item| matches!(status(item).as_str(), "running" | "paused")).count();
    let recent: Vec<Value> =
        runs.iter().take(RECENT_RUNS).map(|item| summary(item, latest.get(&item.kref))).collect();
    tracing::debug!(project = %project, definitions = definitions.len(), runs = runs.len(), "workflow dashboard");
    Ok(Json(json!({"dashboard": {
        "definitions_count": definitions.len(),
        "definitions": listed,
        "active_runs": active,
        "recent_runs": recent,
        "total_runs": runs.len(),
    }})))
}

/// `?view=&limit=` of the agent activity route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ActivityQuery {
    /// `summary` (default), `tool_calls`, `messages`, `errors` or `full`.
    #[serde(default)]
    #[param(schema_with = view_schema)]
    view: Option<String>,
    /// Entries in a list view, 1..=500 (default 100).
    #[serde(default)]
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
}

fn view_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(VIEWS))
        .description(Some("What to show: `summary` (the default) or a list of `tool_calls`, `messages`, `errors` or every entry (`full`)."))
        .build()
}

/// The directory holding the operator's per-agent run logs.
pub fn runlog_dir(state: &ApiState) -> PathBuf {
    state.config().workflows.runlog_dir.clone().unwrap_or_else(|| state.data_dir.join("runlogs"))
}

#[utoipa::path(
    get,
    path = "/api/workflows/agent-activity/{agent_id}",
    tag = "workflow-runs",
    operation_id = "agent_activity",
    summary = "An agent's run log, summarised or listed",
    params(
        ActivityQuery,
        ("agent_id" = String, Path, pattern = r"^(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}|\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,126}|\.\.[A-Za-z0-9._-]{1,126})$", description = "The agent id: 1-128 characters of `A-Z a-z 0-9 . _ -`, not `.` or `..`."),
    ),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "`view=summary` (the default): the summary; any other view: its entries.", body = crate::openapi::schemas::AgentActivity),
        (status = 400, description = "`INVALID_PATH`: a malformed `agent_id`; `INVALID_QUERY`: an unknown `view`, or `limit` outside 1-500.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`RUN_LOG_NOT_FOUND`: the agent has no run log.", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn agent_activity(
    State(state): State<ApiState>,
    Path(agent_id): Path<String>,
    Query(query): Query<ActivityQuery>,
) -> Result<Json<Value>, ApiError> {
    path_id(&agent_id, "agent id")?;
    let view = query.view.as_deref().unwrap_or("summary");
    if !VIEWS.contains(&view) {
        return Err(invalid_query(format!("view must be one of {}", VIEWS.join(", "))));
    }
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(invalid_query("limit must be between 1 and 500".into()));
    }
    let path = runlog_dir(&state).join(format!("{agent_id}.jsonl"));
    let view = view.to_owned();
    let read = tokio::task::spawn_blocking(move || Activity::read(&path, &view, limit)).await;
    match read {
        Ok(Ok(activity)) => Ok(Json(activity.into_json(&agent_id))),
        Ok(Err(error)) if error.kind() == std::io::ErrorKind::NotFound => {
            Err(ApiError::new(StatusCode::NOT_FOUND, RUN_LOG_NOT_FOUND, "No run log found for this agent"))
        }
        Ok(Err(error)) => {
            tracing::warn!(%error, "cannot read a run log");
            Err(ApiError::internal())
        }
        Err(error) => {
            tracing::error!(%error, "run log reader failed");
            Err(ApiError::internal())
        }
    }
}

/// One pass over a run log, keeping only what the view shows (the log can be large).
#[derive(Debug, Default)]
struct Activity {
    view: String,
    limit: usize,
    total: usize,
    entries: VecDeque<Value>,
    title: Value,
    agent_type: Value,
    tool_calls: usize,
    errors: usize,
    last_message: Option<String>,
    recent_tools: VecDeque<Value>,
    input_tokens: u64,
    output_tokens: u64,
    cost_usd: f64,
}

impl Activity {
    fn read(path: &std::path::Path, view: &str, limit: usize) -> std::io::Result<Self> {
        let mut reader = std::io::BufReader::new(std::fs::File::open(path)?);
        let mut activity = Self { view: view.to_owned(), limit, ..Self::default() };
        let mut line = Vec::new();
        loop {
            line.clear();
            let read =
                std::io::Read::take(&mut reader, MAX_LOG_LINE as u64 + 1).read_until(b'\n', &mut line)?;
            if read == 0 {
                break;
            }
            if line.len() > MAX_LOG_LINE {
                reader.skip_until(b'\n')?;
                continue;
            }
            if let Ok(entry @ Value::Object(_)) = serde_json::from_slice::<Value>(&line) {
                activity.add(entry);
            }
        }
        Ok(activity)
    }

    fn keep(entries: &mut VecDeque<Value>, entry: Value, limit: usize) {
        if entries.len() == limit {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    fn add(&mut self, entry: Value) {
        if self.total == 0 {
            self.title = entry.get("title").cloned().unwrap_or(Value::Null);
            self.agent_type = entry.get("agent_type").cloned().unwrap_or(Value::Null);
        }
        self.total += 1;
        let kind = entry.get("kind").and_then(Value::as_str).unwrap_or_default().to_owned();
        let is_tool = kind == "tool_call";
        let is_message = matches!(kind.as_str(), "message" | "user_message");
        let is_error = matches!(kind.as_str(), "error" | "turn_failed")
            || entry.get("status").and_then(Value::as_str) == Some("failed");
        self.tool_calls += usize::from(is_tool);
        self.errors += usize::from(is_error);
        if kind == "message" {
            let text = entry.get("content").or_else(|| entry.get("text")).and_then(Value::as_str);
            self.last_message = text.map(|t| t.chars().take(5000).collect());
        }
        if kind == "turn_completed" {
            let usage = &entry["usage"];
            self.input_tokens += usage["inputTokens"].as_u64().unwrap_or(0);
            self.output_tokens += usage["outputTokens"].as_u64().unwrap_or(0);
            self.cost_usd +=
                usage["totalCostUsd"].as_f64().filter(|c| c.is_finite() && *c >= 0.0).unwrap_or(0.0);
        }
        if is_tool {
            Self::keep(&mut self.recent_tools, entry.clone(), 20);
        }
        let shown = match self.view.as_str() {
            "tool_calls" => is_tool,
            "messages" => is_message,
            "errors" => is_error,
            "full" => true,
            _ => false,
        };
        if shown {
            Self::keep(&mut self.entries, entry, self.limit);
        }
    }

    fn into_json(self, agent_id: &str) -> Value {
        if self.view == "summary" {
            return json!({
                "agent_id": agent_id,
                "view": "summary",
                "title": self.title,
                "agent_type": self.agent_type,
                "total_events": self.total,
                "tool_call_count": self.tool_calls,
                "error_count": self.errors,
                "last_message": self.last_message,
                "recent_tools": Vec::from(self.recent_tools),
                "usage": {
                    "input_tokens": self.input_tokens,
                    "output_tokens": self.output_tokens,
                    "total_cost_usd": self.cost_usd,
                },
            });
        }
        let total = self.entries.len();
        let entries: Vec<Value> = self.entries.into_iter().rev().collect();
        json!({"agent_id": agent_id, "view": self.view, "total": total, "entries": entries})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_bodies_may_set_only_cwd() {
        for fine in [&b""[..], b"null", br#"{"inputs": null}"#, br#"{"cwd": "/srv"}"#] {
            assert!(RetryBody::parse(fine).is_ok(), "{:?}", String::from_utf8_lossy(fine));
        }
        for (bad, code) in [
            (&br#"{"inputs": {}}"#[..], INVALID_FIELD),
            (br#"{"inputs": 3}"#, INVALID_FIELD),
            (br#"{"cwd": "a\u0000b"}"#, INVALID_FIELD),
            (br#"{"input": {}}"#, ErrorCode::INVALID_BODY),
            (b"[]", ErrorCode::INVALID_BODY),
        ] {
            assert_eq!(RetryBody::parse(bad).unwrap_err().code(), code, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn run_bodies_may_be_empty_or_null() {
        for empty in [&b""[..], b"null", b" null\n"] {
            let body = RunBody::parse(empty).unwrap();
            assert!(body.inputs.is_none() && body.cwd.is_none(), "{:?}", String::from_utf8_lossy(empty));
        }
        let body = RunBody::parse(br#"{"inputs": {"a": 1}, "cwd": "/srv"}"#).unwrap();
        assert_eq!((body.inputs, body.cwd.as_deref()), (Some(json!({"a": 1})), Some("/srv")));
        for (bad, code) in [
            (&b"nul"[..], ErrorCode::INVALID_JSON),
            (b" \t\n", ErrorCode::INVALID_JSON),
            (b"[]", ErrorCode::INVALID_BODY),
            (b"[null]", ErrorCode::INVALID_BODY),
            (b"\"\"", ErrorCode::INVALID_BODY),
            (b"{\"inputs\": 3}", INVALID_FIELD),
            (b"{\"cwd\": \"a\\u0000b\"}", INVALID_FIELD),
        ] {
            assert_eq!(RunBody::parse(bad).unwrap_err().code(), code, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn steps_come_in_definition_order_and_survive_operator_quirks() {
        let meta = Metadata::from([
            ("step_count".to_owned(), "3".to_owned()),
            ("steps_completed".to_owned(), "1".to_owned()),
            ("step_zeta".to_owned(), r#"{"status":"completed","skills":"[\"rust\"]"}"#.to_owned()),
            (
                "step_alpha".to_owned(),
                r#"{"status":"running","transcript":"[{\"speaker\":\"a\",\"content\":\"hi\",\"round\":1}]"}"#
                    .to_owned(),
            ),
            (
                "step_mid".to_owned(),
                r#"{"status":"paused","output_data":"{\"awaiting_approval\":true,\"secret\":1}","#.to_owned(),
            ),
            ("step_junk".to_owned(), "not json".to_owned()),
        ]);
        let order = vec!["zeta".to_owned(), "mid".to_owned(), "alpha".to_owned()];
        let steps = steps(&meta, &order);
        let ids: Vec<&str> = steps.iter().map(|s| s["step_id"].as_str().unwrap_or_default()).collect();
        assert_eq!(ids, ["zeta", "mid", "alpha"], "definition order; unreadable values dropped");
        assert_eq!(steps[0]["skills"], json!(["rust"]), "skills written as a JSON string are kept");
        assert_eq!(
            steps[1],
            json!({"step_id": "mid", "status": "paused"}),
            "a truncated value keeps its status"
        );
        assert_eq!(steps[2]["transcript"][0]["speaker"], "a");
        let unordered = super::steps(&meta, &[]);
        let ids: Vec<&str> = unordered.iter().map(|s| s["step_id"].as_str().unwrap_or_default()).collect();
        assert_eq!(ids, ["alpha", "mid", "zeta"], "without a definition, by id");
    }

    #[test]
    fn output_data_keeps_only_the_approval_fields() {
        let step = step(
            "s",
            r#"{"status":"paused","output_data":{"awaiting_approval":true,"approval_message":"ok?","other":"x"}}"#,
        );
        assert_eq!(
            step.unwrap()["output_data"],
            json!({"awaiting_approval": true, "approval_message": "ok?"})
        );
    }

    #[test]
    fn run_log_views_are_bounded_and_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        let mut log = String::from("{\"kind\":\"start\",\"title\":\"T\",\"agent_type\":\"coder\"}\n");
        for i in 0..30 {
            log.push_str(&format!("{{\"kind\":\"tool_call\",\"n\":{i}}}\n"));
        }
        log.push_str("garbage\n");
        log.push_str(&format!("{{\"kind\":\"message\",\"content\":\"{}\"}}\n", "é".repeat(6000)));
        log.push_str("{\"kind\":\"turn_completed\",\"usage\":{\"inputTokens\":5,\"outputTokens\":7,\"totalCostUsd\":0.5}}\n");
        log.push_str(&format!("{{\"kind\":\"x\",\"pad\":\"{}\"}}\n", "x".repeat(MAX_LOG_LINE)));
        log.push_str("{\"kind\":\"error\"}");
        std::fs::write(&path, log).unwrap();
        let tools = Activity::read(&path, "tool_calls", 3).unwrap().into_json("a");
        assert_eq!(tools["total"], 3);
        assert_eq!(tools["entries"][0]["n"], 29, "newest first");
        let summary = Activity::read(&path, "summary", 100).unwrap().into_json("a");
        assert_eq!(
            (summary["title"].clone(), summary["total_events"].clone(), summary["tool_call_count"].clone()),
            (json!("T"), json!(34), json!(30)),
            "the over-long line and the garbage are skipped"
        );
        assert_eq!(summary["error_count"], 1);
        assert_eq!(summary["recent_tools"].as_array().unwrap().len(), 20);
        assert_eq!(summary["last_message"].as_str().unwrap().chars().count(), 5000, "cut on a character");
        assert_eq!(summary["usage"], json!({"input_tokens": 5, "output_tokens": 7, "total_cost_usd": 0.5}));
    }
}
