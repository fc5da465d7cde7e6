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
use construct_core::extract::Json;
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
#[utoipa::path(
    post,
    path = "/pair",
    tag = "pairing",
    operation_id = "pair_legacy",
    summary = "Pair a device with the code in X-Pairing-Code",
    params(("X-Pairing-Code" = String, Header, description = "The one-time pairing code (digits).")),
    security(()),
    responses(
        (status = 200, description = "Paired; the token is shown once (`Cache-Control: no-store`).", body = crate::openapi::schemas::LegacyPaired),
        (status = 403, description = "`INVALID_PAIRING_CODE` (wrong, expired or used code) or `PAIRING_DISABLED`.", body = construct_core::openapi::ErrorBody),
        (status = 429, description = "`RATE_LIMITED`: the pair rate limit, or the lockout after 5 wrong codes; see `Retry-After`.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached.", body = construct_core::openapi::ErrorBody),
    )
)]
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
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PairRequest)]
struct PairRequest {
    /// The one-time pairing code.
    code: String,
    /// At most 64 printable characters once trimmed (blank is unset).
    #[serde(default)]
    #[schema(schema_with = label_schema)]
    device_name: Option<String>,
    /// At most 64 printable characters once trimmed (blank is unset).
    #[serde(default)]
    #[schema(schema_with = label_schema)]
    device_type: Option<String>,
}

/// `POST /api/pair` with JSON `{code, device_name?, device_type?}`: the dashboard flow.
#[utoipa::path(
    post,
    path = "/api/pair",
    tag = "pairing",
    operation_id = "pair",
    summary = "Pair a device with a code",
    request_body = PairRequest,
    security(()),
    responses(
        (status = 200, description = "Paired; the token is shown once (`Cache-Control: no-store`).", body = crate::openapi::schemas::Paired),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON.", body = construct_core::openapi::ErrorBody),
        (status = 403, description = "`INVALID_PAIRING_CODE` (wrong, expired or used code) or `PAIRING_DISABLED`.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::BodyTooLarge,
        construct_core::openapi::NotJson,
        (status = 422, description = "`INVALID_BODY`: a missing or unknown field, or a name over 64 printable characters.", body = construct_core::openapi::ErrorBody),
        (status = 429, description = "`RATE_LIMITED`: the pair rate limit, or the lockout after 5 wrong codes; see `Retry-After`.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached.", body = construct_core::openapi::ErrorBody),
    )
)]
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

/// The schema of what [`clean_label`] accepts: null, or a string that, once trimmed, is empty (unset) or
/// at most 64 characters with no control character. Exact, so a schema-valid label is never refused.
pub(crate) fn label_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    // Trimmed whitespace around; inside, the ends are printable and not whitespace, the rest printable.
    let space = format!("[{}]*", crate::graph::WHITESPACE);
    let edge = r"[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";
    let inner = r"[^\x00-\x1F\x7F-\x9F]";
    let pattern = format!(r"^{space}(?:{edge}(?:{inner}{{0,{}}}{edge})?)?{space}$", MAX_NAME_LEN - 2);
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .pattern(Some(pattern))
        .description(Some(format!(
            "At most {MAX_NAME_LEN} printable characters once trimmed; blank or null is unset."
        )))
        .build()
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
#[utoipa::path(
    get,
    path = "/pair/code",
    tag = "pairing",
    operation_id = "initial_pairing_code",
    summary = "The initial pairing code (loopback only)",
    security(()),
    responses(
        (status = 200, description = "The code while no device is paired (`Cache-Control: no-store`).", body = crate::openapi::schemas::InitialCode),
        (status = 403, description = "`LOOPBACK_ONLY`: answered only to a direct loopback peer with a loopback `Host`, no forwarding headers and no trusted proxies.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached.", body = construct_core::openapi::ErrorBody),
    )
)]
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
#[utoipa::path(
    get,
    path = "/admin/paircode",
    tag = "pairing",
    operation_id = "current_pairing_code",
    summary = "The active pairing code (loopback only)",
    security(()),
    responses(
        (status = 200, description = "The active code, or null (`Cache-Control: no-store`).", body = crate::openapi::schemas::AdminPairCode),
        (status = 403, description = "`LOOPBACK_ONLY`: answered only to a direct loopback peer with a loopback `Host`, no forwarding headers and no trusted proxies.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached.", body = construct_core::openapi::ErrorBody),
    )
)]
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
#[utoipa::path(
    post,
    path = "/admin/paircode/new",
    tag = "pairing",
    operation_id = "new_pairing_code",
    summary = "Replace the active pairing code (loopback only)",
    security(()),
    responses(
        (status = 200, description = "The new code (`Cache-Control: no-store`).", body = crate::openapi::schemas::AdminPairCode),
        (status = 403, description = "`LOOPBACK_ONLY` (not a direct loopback request), or `PAIRING_DISABLED` (pairing is off).", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached.", body = construct_core::openapi::ErrorBody),
    )
)]
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
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = InitiatePairingRequest)]
struct InitiateRequest {
    /// The next device's scopes (default: `read`, `chat`; the first device also gets `admin`).
    #[serde(default)]
    #[schema(value_type = Option<Vec<crate::openapi::schemas::ScopeName>>)]
    scopes: Option<Scopes>,
}

/// Response of code-minting routes. No `Debug`: it holds a pairing code.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MintedPairingCode)]
struct Minted {
    /// The one-time code.
    pairing_code: String,
    /// When it expires (RFC 3339).
    expires_at: String,
    /// The scopes the next device gets, or null for the default.
    #[schema(value_type = Option<Vec<crate::openapi::schemas::ScopeName>>)]
    scopes: Option<Scopes>,
    /// `New pairing code generated`.
    #[schema(value_type = String)]
    message: &'static str,
}

/// `POST /api/pairing/initiate` (admin): mints a code, optionally fixing the new device's scopes.
/// The body may be empty, `null` or `{"scopes": ["read", "chat", ...]}`.
#[utoipa::path(
    post,
    path = "/api/pairing/initiate",
    tag = "pairing",
    operation_id = "initiate_pairing",
    summary = "Mint a pairing code, optionally fixing the next device's scopes",
    request_body(content = Option<InitiateRequest>, content_type = "application/json", description = "Optional; an empty body or `null` mints a code with the default scopes."),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "The new code (`Cache-Control: no-store`).", body = Minted),
        (status = 400, description = "`INVALID_JSON` (the body is not JSON) or `INVALID_IDEMPOTENCY_KEY`.", body = construct_core::openapi::ErrorBody),
        (status = 403, description = "`FORBIDDEN_SCOPE` (the credential lacks `admin`), `ORIGIN_NOT_ALLOWED` (a session cookie from a foreign origin), or `PAIRING_DISABLED`.", body = construct_core::openapi::ErrorBody),
        (status = 409, description = "`IDEMPOTENCY_IN_PROGRESS`: the same `Idempotency-Key` is still running.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::BodyTooLarge,
        (status = 415, description = "`UNSUPPORTED_MEDIA_TYPE`: a non-empty body without `Content-Type: application/json`.", body = construct_core::openapi::ErrorBody),
        (status = 422, description = "`INVALID_BODY` (an unknown field or scope, or a body that is neither an object nor `null`) or `IDEMPOTENCY_KEY_REUSED`.", body = construct_core::openapi::ErrorBody),
        (status = 429, description = "`RATE_LIMITED`: the API rate limit or the bad-token lockout; see `Retry-After`.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached.", body = construct_core::openapi::ErrorBody),
    )
)]
async fn initiate(
    axum::extract::State(state): axum::extract::State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Secretive<Minted>, ApiError> {
    let request = if body.is_empty() {
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
        // JSON `null` is no body, as an empty one is.
        crate::optional_object_body(&body)?
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
