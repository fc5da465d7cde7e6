//! Pairing routes.
//!
//! Wire shapes follow upstream's clients. Where upstream disagreed with itself (`/pair` answered a wrong
//! code with 403, `/api/pair` with 400 in plain text) both now answer 403 `INVALID_PAIRING_CODE`, and both
//! carry the same limits: the pair rate limit, the per-client lockout and the global failure budget.

use axum::http::HeaderMap;
use axum::routing::{get, post};
use bytes::Bytes;
use construct_auth::{Client, PairError};
use construct_core::devices::{NewDevice, PairingCode};
use construct_core::extract::{Json, from_json_slice};
use construct_core::principal::{Scope, Scopes};
use construct_core::routes::{Access, RateClass, RouteGroup};
use construct_core::{ApiError, ErrorCode};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{ApiState, Secretive, secretive, store_unavailable};

/// 403 for a wrong, expired or used code.
pub const INVALID_PAIRING_CODE: ErrorCode = ErrorCode::new("INVALID_PAIRING_CODE");
/// 403 when the gateway runs without pairing.
pub const PAIRING_DISABLED: ErrorCode = ErrorCode::new("PAIRING_DISABLED");

/// Longest device name and type accepted.
const MAX_NAME_LEN: usize = 64;

pub(crate) fn route_groups(state: ApiState) -> Vec<RouteGroup> {
    vec![
        RouteGroup::new("pairing", Access::Public)
            .rate_class(Some(RateClass::Pair))
            .route("/pair", post(pair_legacy))
            .route("/api/pair", post(pair_json))
            .route("/api/auth/login", post(crate::session_auth::login))
            .with_state(state.clone()),
        RouteGroup::new("pairing-admin-local", Access::LoopbackAdmin)
            .route("/pair/code", get(initial_code))
            .route("/admin/paircode", get(current_code))
            .route("/admin/paircode/new", post(new_code))
            .with_state(state.clone()),
        RouteGroup::new("browser-session", Access::Scope(Scope::Read))
            .route("/api/auth/session", get(crate::session_auth::session))
            .route("/api/auth/logout", post(crate::session_auth::logout))
            .with_state(state.clone()),
        RouteGroup::new("pairing-admin", Access::Scope(Scope::Admin))
            .route("/api/pairing/initiate", post(initiate))
            .with_state(state),
    ]
}

pub(crate) fn pair_error(error: PairError) -> ApiError {
    match error {
        PairError::Disabled => {
            ApiError::new(StatusCode::FORBIDDEN, PAIRING_DISABLED, "Pairing is disabled for this gateway")
        }
        PairError::InvalidCode => {
            ApiError::new(StatusCode::FORBIDDEN, INVALID_PAIRING_CODE, "Invalid or expired pairing code")
        }
        PairError::LockedOut(wait) => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RATE_LIMITED,
            format!("Too many failed attempts. Try again in {}s.", wait.0),
        )
        .with_retry_after(wait.0),
        PairError::Store(store) => store_unavailable(store),
        PairError::Random => {
            tracing::error!("system random source failed while pairing");
            ApiError::internal()
        }
    }
}

/// `POST /pair` with `X-Pairing-Code`: the CLI and legacy flow.
async fn pair_legacy(
    axum::extract::State(state): axum::extract::State<ApiState>,
    Client(client): Client,
    headers: HeaderMap,
) -> Result<Secretive<Value>, ApiError> {
    let code = headers.get("x-pairing-code").and_then(|v| v.to_str().ok()).unwrap_or("");
    let device = NewDevice {
        device_type: Some("legacy-pair".into()),
        ip_address: Some(client.ip.to_string()),
        ..NewDevice::default()
    };
    let paired = state.pairing.pair(client.key, code, device).await.map_err(pair_error)?;
    announce(&state, &paired).await;
    Ok(secretive(json!({
        "paired": true,
        "persisted": true,
        "token": paired.token,
        "device_id": paired.device.id,
        "scopes": paired.device.scopes,
        "message": "Save this token — use it as Authorization: Bearer <token>",
    })))
}

/// Body of `POST /api/pair`. No `Debug`: it holds a pairing code.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PairRequest {
    code: String,
    #[serde(default)]
    device_name: Option<String>,
    #[serde(default)]
    device_type: Option<String>,
}

/// `POST /api/pair` with JSON `{code, device_name?, device_type?}`: the dashboard flow.
async fn pair_json(
    axum::extract::State(state): axum::extract::State<ApiState>,
    Client(client): Client,
    Json(body): Json<PairRequest>,
) -> Result<Secretive<Value>, ApiError> {
    let name = clean_label("device_name", body.device_name)?;
    let device_type = clean_label("device_type", body.device_type)?;
    let device =
        NewDevice { name, device_type, ip_address: Some(client.ip.to_string()), ..NewDevice::default() };
    let paired = state.pairing.pair(client.key, &body.code, device).await.map_err(pair_error)?;
    announce(&state, &paired).await;
    Ok(secretive(json!({
        "token": paired.token,
        "device_id": paired.device.id,
        "scopes": paired.device.scopes,
        "message": "Pairing successful",
    })))
}

/// Tells live clients a device paired (never its token).
pub(crate) async fn announce(state: &ApiState, paired: &construct_auth::Paired) {
    let device = &paired.device;
    let event = json!({"device_id": device.id, "name": device.name, "device_type": device.device_type, "scopes": device.scopes});
    state.publish("device_paired", event).await;
}

/// Trims a client-supplied label and refuses one that is too long or holds control characters.
pub(crate) fn clean_label(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else { return Ok(None) };
    if value.chars().count() > MAX_NAME_LEN || value.chars().any(char::is_control) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::INVALID_BODY,
            format!("{field} must be at most {MAX_NAME_LEN} printable characters"),
        ));
    }
    Ok(Some(value))
}

/// `GET /pair/code` (loopback only): the initial code, shown only while no device is paired.
async fn initial_code(
    axum::extract::State(state): axum::extract::State<ApiState>,
) -> Result<Secretive<Value>, ApiError> {
    let paired = state.devices.device_count().await.map_err(store_unavailable)? > 0;
    let code = if paired { None } else { state.pairing.active_code().await.map_err(store_unavailable)? };
    Ok(secretive(json!({
        "success": true,
        "pairing_required": state.pairing.is_required(),
        "pairing_code": code.map(|c| c.code),
    })))
}

/// `GET /admin/paircode` (loopback only): the active code, if any.
async fn current_code(
    axum::extract::State(state): axum::extract::State<ApiState>,
) -> Result<Secretive<Value>, ApiError> {
    let required = state.pairing.is_required();
    let code = state.pairing.active_code().await.map_err(store_unavailable)?;
    let message = match (required, &code) {
        (false, _) => "Pairing is disabled for this gateway",
        (true, Some(_)) => "Use this one-time code to pair",
        (true, None) => "Pairing is active but no code is available (already paired or code expired)",
    };
    Ok(secretive(json!({
        "success": true,
        "pairing_required": required,
        "pairing_code": code.as_ref().map(|c| c.code.clone()),
        "expires_at": code.as_ref().map(expires_at),
        "message": message,
    })))
}

/// `POST /admin/paircode/new` (loopback only): a fresh code replacing the active one.
async fn new_code(
    axum::extract::State(state): axum::extract::State<ApiState>,
) -> Result<Secretive<Value>, ApiError> {
    let code = state.pairing.mint_code(None).await.map_err(pair_error)?;
    Ok(secretive(json!({
        "success": true,
        "pairing_required": true,
        "pairing_code": code.code,
        "expires_at": expires_at(&code),
        "message": "New pairing code generated — use this one-time code to pair",
    })))
}

/// Optional body of `POST /api/pairing/initiate`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct InitiateRequest {
    #[serde(default)]
    scopes: Option<Scopes>,
}

/// Response of code-minting routes. No `Debug`: it holds a pairing code.
#[derive(Serialize)]
struct Minted {
    pairing_code: String,
    expires_at: String,
    scopes: Option<Scopes>,
    message: &'static str,
}

/// `POST /api/pairing/initiate` (admin): mints a code, optionally fixing the new device's scopes.
/// The body may be empty or `{"scopes": ["read", "chat", ...]}`.
async fn initiate(
    axum::extract::State(state): axum::extract::State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Secretive<Minted>, ApiError> {
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        InitiateRequest::default()
    } else {
        let is_json = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UNSUPPORTED_MEDIA_TYPE,
                "Expected Content-Type: application/json",
            ));
        }
        from_json_slice(&body)?
    };
    let code = state.pairing.mint_code(request.scopes).await.map_err(pair_error)?;
    Ok(secretive(Minted {
        expires_at: expires_at(&code),
        pairing_code: code.code,
        scopes: code.scopes,
        message: "New pairing code generated",
    }))
}

fn expires_at(code: &PairingCode) -> String {
    code.expires_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
