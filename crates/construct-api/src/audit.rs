//! `GET /api/audit` and `GET /api/audit/verify` (admin).

use axum::extract::State;
use axum::routing::get;
use construct_core::audit::{AuditKind, AuditQuery};
use construct_core::extract::{Json, Query};
use construct_core::principal::Scope;
use construct_core::routes::{Access, RouteGroup};
use construct_core::{ApiError, ErrorCode};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::{ApiState, store_unavailable};

/// Entries returned when no limit is given.
pub const DEFAULT_LIMIT: usize = 100;
/// Most entries one request may ask for.
pub const MAX_LIMIT: usize = 1_000;

pub(crate) fn route_groups(state: ApiState) -> Vec<RouteGroup> {
    vec![
        RouteGroup::new("audit", Access::Scope(Scope::Admin))
            .route("/api/audit", get(list))
            .route("/api/audit/verify", get(verify))
            .with_state(state),
    ]
}

/// Query of `GET /api/audit`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// 1-1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// `pair_success`, `pair_failure`, `lockout`, `pairing_code_invalidated`, `device_revoked`,
    /// `token_rotated`, `scope_denied`, `terminal_opened`, `terminal_closed`, `config_changed` or
    /// `token_created`.
    #[param(schema_with = event_type_schema)]
    event_type: Option<String>,
    /// Only entries since this RFC 3339 time.
    #[param(format = DateTime)]
    since: Option<String>,
}

/// The event types [`AuditKind`] knows, as an enum.
fn event_type_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(AuditKind::ALL.iter().map(|kind| kind.as_str())))
        .description(Some("Only entries of this type."))
        .build()
}

fn bad_query(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::INVALID_QUERY, message)
}

/// `GET /api/audit?limit=&event_type=&since=`: newest first.
#[utoipa::path(
    get,
    path = "/api/audit",
    tag = "audit",
    operation_id = "list_audit",
    summary = "Audit log entries, newest first",
    params(ListQuery),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "Matching entries.", body = crate::openapi::schemas::AuditList),
        (status = 400, description = "`INVALID_QUERY`: `limit` outside 1-1000, an unknown `event_type`, a `since` that is not RFC 3339, or an unknown parameter.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (for this route's data, or to check the credential).", body = construct_core::openapi::ErrorBody),
    )
)]
async fn list(
    State(state): State<ApiState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(bad_query(format!("limit must be between 1 and {MAX_LIMIT}")));
    }
    let kind = match query.event_type.as_deref() {
        None => None,
        Some(name) => Some(AuditKind::parse(name).ok_or_else(|| {
            let known: Vec<&str> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
            bad_query(format!("unknown event_type {name:?}; expected one of {}", known.join(", ")))
        })?),
    };
    let since = match query.since.as_deref() {
        None => None,
        Some(raw) => Some(
            OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
                .map_err(|_| bad_query(format!("since must be an RFC 3339 time, got {raw:?}")))?,
        ),
    };
    let entries = state.audit.list(&AuditQuery { limit, kind, since }).await.map_err(store_unavailable)?;
    Ok(Json(json!({ "count": entries.len(), "entries": entries })))
}

/// `GET /api/audit/verify`: `{"valid", "entries", "first_invalid"}`.
#[utoipa::path(
    get,
    path = "/api/audit/verify",
    tag = "audit",
    operation_id = "verify_audit",
    summary = "Check the audit log's hash chain",
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "The outcome.", body = crate::openapi::schemas::AuditVerification),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (for this route's data, or to check the credential).", body = construct_core::openapi::ErrorBody),
    )
)]
async fn verify(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let verification = state.audit.verify().await.map_err(store_unavailable)?;
    Ok(Json(json!(verification)))
}
