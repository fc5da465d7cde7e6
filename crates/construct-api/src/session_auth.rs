//! The dashboard's browser session: `POST /api/auth/login` pairs the browser with a code and sets an
//! HttpOnly, SameSite=Strict session cookie (Secure under TLS) instead of handing a token to scripts
//! (upstream kept it in localStorage, where any injected script could read it); `GET /api/auth/session`
//! says who is signed in; `POST /api/auth/logout` revokes the browser's device and clears the cookie.
//! The cookie holds a device token, so revoking the device in the devices list signs that browser out.
//! Requests authenticated by the cookie are refused from foreign origins (construct-auth's guard).

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use construct_auth::authenticator::SESSION_COOKIE;
use construct_auth::{Caller, Client};
use construct_core::ApiError;
use construct_core::audit::{AuditEvent, AuditKind, record};
use construct_core::devices::NewDevice;
use construct_core::extract::{Json, from_json_slice};
use construct_core::principal::PrincipalKind;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Deserialize;
use serde_json::json;

use crate::ApiState;

/// How long the session cookie lives when its device has no expiry.
pub const SESSION_DAYS: i64 = 30;

/// Body of `POST /api/auth/login`. No `Debug`: it holds a pairing code.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LoginRequest)]
struct Login {
    /// The one-time pairing code.
    code: String,
    /// The browser's device name: at most 64 printable characters once trimmed.
    #[serde(default)]
    #[schema(schema_with = crate::pairing::label_schema)]
    name: Option<String>,
}

fn cookie(state: &ApiState, value: &str, max_age: i64) -> HeaderValue {
    let config = state.config();
    let path = match config.gateway.prefix() {
        "" => "/",
        prefix => prefix,
    };
    let secure = if config.gateway.tls.enabled { "; Secure" } else { "" };
    let text = format!(
        "{SESSION_COOKIE}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("construct_session=; Max-Age=0"))
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `POST /api/auth/login` (public; the pair rate limit) `{code, name?}`.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "session",
    operation_id = "login",
    summary = "Sign the dashboard in with a pairing code (sets the session cookie)",
    request_body(content = Login, content_type = "application/json"),
    security(()),
    responses(
        (status = 200, description = "Signed in; the token is only in the cookie (`Cache-Control: no-store`).", body = crate::openapi::schemas::LoggedIn, headers(("Set-Cookie" = String, description = "`construct_session=<token>; Path=<prefix or />; Max-Age=<30 days or the device's expiry>; HttpOnly; SameSite=Strict`, plus `Secure` under TLS."))),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON.", body = construct_core::openapi::ErrorBody),
        (status = 403, description = "`ORIGIN_NOT_ALLOWED`: a foreign `Origin` (login CSRF); `INVALID_PAIRING_CODE`: a wrong, expired or used code; `PAIRING_DISABLED`.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::BodyTooLarge,
        (status = 422, description = "`INVALID_BODY`: a missing or unknown field, or a name over 64 printable characters.", body = construct_core::openapi::ErrorBody),
        (status = 429, description = "`RATE_LIMITED`: the pair rate limit, or the lockout after 5 wrong codes; see `Retry-After`.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached.", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn login(
    State(state): State<ApiState>,
    Client(client): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    // Signing a browser in from another site's page would plant that site's session (login CSRF).
    if !construct_auth::ws::origin_allowed(&headers, &state.config().gateway.allowed_origins) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            construct_auth::ws::ORIGIN_NOT_ALLOWED,
            "This origin may not sign in here",
        ));
    }
    let body: Login = from_json_slice(&body)?;
    let name = crate::pairing::clean_label("name", body.name)?;
    let device = NewDevice {
        name,
        device_type: Some("browser".into()),
        ip_address: Some(client.ip.to_string()),
        ..NewDevice::default()
    };
    let paired =
        state.pairing.pair(client.key, &body.code, device).await.map_err(crate::pairing::pair_error)?;
    crate::pairing::announce(&state, &paired).await;
    let max_age = paired
        .device
        .expires_at
        .map(|at| (at - time::OffsetDateTime::now_utc()).whole_seconds().max(0))
        .unwrap_or(SESSION_DAYS * 86_400);
    let answer = json!({"paired": true, "device_id": paired.device.id, "scopes": paired.device.scopes});
    let mut response = no_store(Json(answer).into_response());
    response.headers_mut().insert(header::SET_COOKIE, cookie(&state, &paired.token, max_age));
    Ok(response)
}

/// `GET /api/auth/session` (read): who the session is.
#[utoipa::path(
    get,
    path = "/api/auth/session",
    tag = "session",
    operation_id = "session",
    summary = "Who the caller is",
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The signed-in principal.", body = crate::openapi::schemas::SessionInfo),
    )
)]
pub(crate) async fn session(Caller(caller): Caller) -> Json<serde_json::Value> {
    // `kind` tells the dashboard whether signing out means anything: only a device can be revoked; the
    // local operator (pairing off, loopback only), a proxy user or a certificate is signed in again by
    // the very next request.
    let (kind, name) = match &caller.kind {
        PrincipalKind::Device { name, .. } => ("device", name.as_deref()),
        PrincipalKind::LocalOperator => ("local_operator", None),
        PrincipalKind::Machine { name } => ("machine", Some(*name)),
        PrincipalKind::ProxyUser { .. } => ("proxy_user", None),
        PrincipalKind::Certificate { name, .. } => ("certificate", name.as_deref()),
    };
    Json(json!({
        "authenticated": true,
        "principal": caller.id(),
        "name": name,
        "kind": kind,
        "scopes": caller.scopes,
    }))
}

/// `POST /api/auth/logout` (read): revokes the browser's device (when the caller is a device) and clears
/// the cookie.
#[utoipa::path(
    post,
    path = "/api/auth/logout",
    tag = "session",
    operation_id = "logout",
    summary = "Sign out: revoke the browser's device and clear the cookie",
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "Signed out (`Cache-Control: no-store`).", body = crate::openapi::schemas::LoggedOut, headers(("Set-Cookie" = String, description = "`construct_session=; Max-Age=0`: clears the cookie."))),
        (status = 400, description = "`INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::IdempotencyInProgress,
        construct_core::openapi::IdempotencyKeyReused,
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (for this route's data, or to check the credential).", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn logout(
    State(state): State<ApiState>,
    Caller(caller): Caller,
) -> Result<Response, ApiError> {
    let mut revoked = false;
    if let PrincipalKind::Device { device_id, .. } = &caller.kind {
        revoked = state.devices.revoke_device(device_id).await.map_err(crate::store_unavailable)?;
        if revoked {
            let event = AuditEvent::new(AuditKind::DeviceRevoked)
                .actor(caller.id())
                .detail(json!({"device_id": device_id, "reason": "logout"}));
            record(&*state.audit, event).await;
            state.publish("device_revoked", json!({"device_id": device_id})).await;
        }
    }
    let mut response = no_store(Json(json!({"signed_out": true, "revoked": revoked})).into_response());
    response.headers_mut().insert(header::SET_COOKIE, cookie(&state, "", 0));
    Ok(response)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_cookie_name_is_the_one_the_guard_reads() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            http::HeaderValue::from_static("theme=dark; construct_session=abc"),
        );
        assert_eq!(construct_auth::authenticator::session_cookie(&headers), Some("abc"));
    }
}
