//! `GET /health` (liveness) and `GET /readyz` (readiness).
//!
//! `/health` is public, so it says only what a client needs before pairing: that the gateway is up, its
//! version, whether pairing is required and whether a device is paired. Upstream also returned the pid and
//! raw component error strings; those help an attacker more than a client and are not sent.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use construct_core::extract::Json;
use construct_core::{ApiError, ErrorCode};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Map, Value, json};

use crate::state::AppState;

/// `GET /health`: `{"status":"ok","version","require_pairing","paired"}`. Always 200 while the process
/// can answer; `paired` comes from the cached device count (current for changes made through this
/// gateway, within a second for other processes) and is false when the store cannot be read (logged).
#[utoipa::path(
    get,
    path = "/health",
    tag = "probes",
    security(()),
    responses((status = 200, description = "The gateway is up.", body = crate::openapi::HealthBody))
)]
pub(crate) async fn health(State(state): State<AppState>) -> Response {
    let paired = match state.devices.device_count().await {
        Ok(count) => count > 0,
        Err(error) => {
            tracing::warn!(%error, "cannot read the device count");
            false
        }
    };
    no_store(Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        require_pairing: state.config.gateway.require_pairing,
        paired,
    }))
}

/// The body of `/health`.
#[derive(serde::Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    require_pairing: bool,
    paired: bool,
}

/// `GET /readyz`: 200 `{"status":"ready","checks":{..}}` when every check passes, otherwise 503 with the
/// error envelope plus the same `checks` map. Failure reasons go to the log only.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "probes",
    security(()),
    responses(
        (status = 200, description = "Every check passes.", body = crate::openapi::ReadyBody),
        (status = 503, description = "`NOT_READY`: a check failed or the gateway is draining; the envelope \
            also carries `status: not_ready` and `checks`.", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    let mut checks = Map::new();
    let mut ready = true;
    if state.readiness.is_draining() {
        checks.insert("shutdown".into(), Value::from("draining"));
        ready = false;
    }
    for outcome in state.readiness.run().await {
        let verdict = match outcome.failure {
            None => "ok",
            Some(reason) => {
                tracing::warn!(check = %outcome.name, %reason, "readiness check failed");
                ready = false;
                "failed"
            }
        };
        checks.insert(outcome.name, Value::from(verdict));
    }
    if ready {
        return no_store(Json(json!({"status": "ready", "checks": checks})));
    }
    let error = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::NOT_READY, "Gateway is not ready");
    let mut body = json!({"status": "not_ready", "checks": checks});
    if let (Value::Object(map), Ok(Value::Object(envelope))) =
        (&mut body, serde_json::to_value(error.envelope()))
    {
        map.extend(envelope);
    }
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The fallback for every path nothing is served at: a JSON 404, never the dashboard's HTML.
pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found()
}

fn no_store(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
