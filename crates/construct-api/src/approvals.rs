//! Human approvals (spec: upstream-rest §3.3): `POST /api/channel-events` (admin; upstream trusted any
//! loopback peer, so a local proxy or tunnel let anyone in), `GET /api/approvals` (read) and
//! `POST /api/workflows/runs/{run_id}/approve` (admin).
//!
//! A channel event is published on the bus as `channel_event`; a `human_approval_request` in it is kept
//! in the store (it survives restarts) and announced as `human_approval_request`. Deciding claims the
//! approval atomically, so two deciders cannot both resolve it, and announces
//! `human_approval_resolved {run_id, step_id, approved, feedback}` for the operator that runs the workflow.

use axum::extract::State;
use construct_core::approvals::{Approval, DEFAULT_TTL, Registered, request_approval};
use construct_core::extract::{Json, Path};
use construct_core::{ApiError, ErrorCode};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::graph::{INVALID_FIELD, path_id, valid_id};
use crate::{ApiState, store_unavailable};

/// 404 when no approval is waiting for the run.
pub const APPROVAL_NOT_FOUND: ErrorCode = ErrorCode::new("APPROVAL_NOT_FOUND");
/// 503 when too many approvals are waiting.
pub const TOO_MANY_APPROVALS: ErrorCode = ErrorCode::new("TOO_MANY_APPROVALS");

fn invalid(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, INVALID_FIELD, message.to_owned())
}

fn words(value: &Value, default: &[&str]) -> Vec<String> {
    let found: Vec<String> = value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .take(20)
                .collect()
        })
        .unwrap_or_default();
    if found.is_empty() { default.iter().map(|s| (*s).to_owned()).collect() } else { found }
}

#[utoipa::path(
    post,
    path = "/api/channel-events",
    tag = "approvals",
    operation_id = "channel_event",
    summary = "Publish a channel event; a human_approval_request is kept until decided",
    request_body(content = Object, content_type = "application/json", description = "Any JSON object, published as `channel_event {payload}`. With `type: human_approval_request`, `run_id` and `step_id` (`[A-Za-z0-9._-]{1,128}`) are required; `workflow_name`, `content.title`, `content.message`, `approve_keywords` and `reject_keywords` are read."),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "Published.", body = crate::openapi::schemas::ChannelEventAccepted),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::IdempotencyInProgress,
        construct_core::openapi::BodyTooLarge,
        construct_core::openapi::NotJson,
        (status = 422, description = "`INVALID_BODY`: a missing, mistyped or unknown field; `INVALID_FIELD`: not a JSON object, or an approval request without a valid `run_id` and `step_id`; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`TOO_MANY_APPROVALS`: 1000 approvals are waiting (`Retry-After: 60`); `STORE_UNAVAILABLE`: the gateway's store cannot be reached (for this route's data, or to check the credential).", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn channel_event(
    State(state): State<ApiState>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    if !body.is_object() {
        return Err(invalid("a channel event is a JSON object"));
    }
    state.publish("channel_event", json!({ "payload": body })).await;
    if body["type"] == "human_approval_request" {
        let (Some(run_id), Some(step_id)) = (body["run_id"].as_str(), body["step_id"].as_str()) else {
            return Err(invalid("an approval request needs run_id and step_id"));
        };
        if !valid_id(run_id) || !valid_id(step_id) {
            return Err(invalid("run_id and step_id are 1-128 characters of A-Z a-z 0-9 . _ -"));
        }
        let workflow =
            body["workflow_name"].as_str().unwrap_or_default().chars().take(200).collect::<String>();
        let title = body["content"]["title"]
            .as_str()
            .unwrap_or("Human approval needed")
            .chars()
            .take(200)
            .collect::<String>();
        let message =
            body["content"]["message"].as_str().unwrap_or_default().chars().take(4_000).collect::<String>();
        let now = OffsetDateTime::now_utc();
        let approval = Approval {
            run_id: run_id.to_owned(),
            step_id: step_id.to_owned(),
            workflow: workflow.clone(),
            approve_keywords: words(&body["approve_keywords"], &["approve", "yes", "lgtm"]),
            reject_keywords: words(&body["reject_keywords"], &["reject"]),
            message: message.clone(),
            created_at: now,
            expires_at: now + DEFAULT_TTL,
        };
        let registered = request_approval(&*state.approvals, &*state.events, approval, &title)
            .await
            .map_err(store_unavailable)?;
        if registered == Registered::Full {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                TOO_MANY_APPROVALS,
                "Too many approvals are waiting",
            )
            .with_retry_after(60));
        }
    }
    Ok(Json(json!({ "ok": true })))
}

#[utoipa::path(
    get,
    path = "/api/approvals",
    tag = "approvals",
    operation_id = "list_approvals",
    summary = "Approvals waiting for a decision",
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "Waiting approvals.", body = crate::openapi::schemas::ApprovalList),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (for this route's data, or to check the credential).", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn list(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let pending = state.approvals.pending(OffsetDateTime::now_utc()).await.map_err(store_unavailable)?;
    Ok(Json(json!({ "approvals": pending, "count": pending.len() })))
}

/// Body of `POST /api/workflows/runs/{run_id}/approve`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ApprovalDecision)]
pub(crate) struct Decision {
    /// Approve (true) or reject (false).
    approved: bool,
    /// Why, for the operator: at most 4000 characters.
    #[serde(default)]
    feedback: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/workflows/runs/{run_id}/approve",
    tag = "approvals",
    operation_id = "decide_approval",
    summary = "Approve or reject the step a run is waiting on",
    params(
        ("run_id" = String, Path, pattern = r"^(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}|\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,126}|\.\.[A-Za-z0-9._-]{1,126})$", description = "The run: 1-128 characters of `A-Z a-z 0-9 . _ -`, not `.` or `..`."),
    ),
    request_body(content = Decision, content_type = "application/json"),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "Decided; `human_approval_resolved` is published for the operator.", body = crate::openapi::schemas::ApprovalDecided),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON; `INVALID_PATH`: a malformed `run_id`; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`APPROVAL_NOT_FOUND`: no approval is waiting for the run (or it was decided already).", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::IdempotencyInProgress,
        construct_core::openapi::BodyTooLarge,
        construct_core::openapi::NotJson,
        (status = 422, description = "`INVALID_BODY`: a missing, mistyped or unknown field; `INVALID_FIELD`: `feedback` over 4000 characters; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (for this route's data, or to check the credential).", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn approve(
    State(state): State<ApiState>,
    Path(run_id): Path<String>,
    Json(decision): Json<Decision>,
) -> Result<Json<Value>, ApiError> {
    path_id(&run_id, "run id")?;
    let feedback = decision.feedback.as_deref().map(str::trim).unwrap_or_default();
    if feedback.chars().count() > 4_000 {
        return Err(invalid("feedback is at most 4000 characters"));
    }
    let claimed =
        state.approvals.claim(&run_id, OffsetDateTime::now_utc()).await.map_err(store_unavailable)?;
    let approval = claimed.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            APPROVAL_NOT_FOUND,
            format!("No approval is waiting for run {run_id}"),
        )
    })?;
    let event = json!({"run_id": run_id, "step_id": approval.step_id, "approved": decision.approved, "feedback": feedback});
    state.publish("human_approval_resolved", event).await;
    let message = if decision.approved { "Workflow approved" } else { "Workflow rejected" };
    Ok(Json(json!({"status": "ok", "message": message, "run_id": run_id, "approved": decision.approved})))
}
