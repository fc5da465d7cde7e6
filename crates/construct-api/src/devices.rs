//! Device management (admin): list, revoke, rotate.
//!
//! Upstream's revoke deleted a row but left the token working, and its rotate minted a pairing code
//! without touching the token. Here both act on the token itself, at once.

use axum::extract::State;
use axum::routing::{delete, get, post};
use construct_auth::{Caller, PairError};
use construct_core::audit::{AuditEvent, AuditKind, record};
use construct_core::devices::Device;
use construct_core::extract::{Json, Path};
use construct_core::principal::Scope;
use construct_core::routes::{Access, RouteGroup};
use construct_core::{ApiError, ErrorCode};
use http::StatusCode;
use serde_json::{Value, json};

use crate::{ApiState, Secretive, secretive, store_unavailable};

/// 404 for an unknown device id.
pub const DEVICE_NOT_FOUND: ErrorCode = ErrorCode::new("DEVICE_NOT_FOUND");

pub(crate) fn route_groups(state: ApiState) -> Vec<RouteGroup> {
    vec![
        RouteGroup::new("devices", Access::Scope(Scope::Admin))
            .route("/api/devices", get(list))
            .route("/api/devices/{id}", delete(revoke))
            .route("/api/devices/{id}/token/rotate", post(rotate))
            .with_state(state),
    ]
}

fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, DEVICE_NOT_FOUND, "Device not found")
}

/// `GET /api/devices`: `{"devices": [...], "count": n}`.
#[utoipa::path(
    get,
    path = "/api/devices",
    tag = "devices",
    operation_id = "list_devices",
    summary = "List paired devices",
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "Every paired device (never a token).", body = crate::openapi::schemas::DeviceList),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (for this route's data, or to check the credential).", body = construct_core::openapi::ErrorBody),
    )
)]
async fn list(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let devices: Vec<Device> = state.devices.list_devices().await.map_err(store_unavailable)?;
    Ok(Json(json!({ "count": devices.len(), "devices": devices })))
}

/// `DELETE /api/devices/{id}`: the device's token fails on its next request.
#[utoipa::path(
    delete,
    path = "/api/devices/{id}",
    tag = "devices",
    operation_id = "revoke_device",
    summary = "Revoke a device; its token fails on its next request",
    params(
        ("id" = String, Path, description = "The device id."),
    ),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "Revoked.", body = crate::openapi::schemas::DeviceRevoked),
        (status = 400, description = "`INVALID_PATH`: a malformed path parameter; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`DEVICE_NOT_FOUND`: no device has this id.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::IdempotencyInProgress,
        construct_core::openapi::IdempotencyKeyReused,
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (for this route's data, or to check the credential).", body = construct_core::openapi::ErrorBody),
    )
)]
async fn revoke(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if !state.devices.revoke_device(&id).await.map_err(store_unavailable)? {
        return Err(not_found());
    }
    tracing::info!(device_id = %id, "device revoked");
    let event = AuditEvent::new(AuditKind::DeviceRevoked).actor(caller.id()).detail(json!({"device_id": id}));
    record(&*state.audit, event).await;
    state.publish("device_revoked", json!({"device_id": id})).await;
    Ok(Json(json!({ "message": "Device revoked", "device_id": id })))
}

/// `POST /api/devices/{id}/token/rotate`: a new token; the old one stops working at once.
#[utoipa::path(
    post,
    path = "/api/devices/{id}/token/rotate",
    tag = "devices",
    operation_id = "rotate_device_token",
    summary = "Give a device a new token; the old one stops working at once",
    params(
        ("id" = String, Path, description = "The device id."),
    ),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "The new token, shown once (`Cache-Control: no-store`).", body = crate::openapi::schemas::TokenRotated),
        (status = 400, description = "`INVALID_PATH`: a malformed path parameter; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`DEVICE_NOT_FOUND`: no device has this id.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::IdempotencyInProgress,
        construct_core::openapi::IdempotencyKeyReused,
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (for this route's data, or to check the credential).", body = construct_core::openapi::ErrorBody),
    )
)]
async fn rotate(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Secretive<Value>, ApiError> {
    let rotated = state.pairing.rotate(&id).await.map_err(|e| match e {
        PairError::Store(store) => store_unavailable(store),
        _ => ApiError::internal(),
    })?;
    let paired = rotated.ok_or_else(not_found)?;
    tracing::info!(device_id = %id, "device token rotated");
    let event = AuditEvent::new(AuditKind::TokenRotated).actor(caller.id()).detail(json!({"device_id": id}));
    record(&*state.audit, event).await;
    Ok(secretive(json!({
        "device_id": paired.device.id,
        "token": paired.token,
        "message": "Token rotated; the old token no longer works",
    })))
}
