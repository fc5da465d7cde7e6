//! `GET /api/status` (read): what the gateway is and how it is configured, without secrets.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use construct_core::ApiError;
use construct_core::extract::Json;
use construct_core::principal::Scope;
use construct_core::routes::{Access, RouteGroup};
use serde::Serialize;

use crate::{ApiState, store_unavailable};

pub(crate) fn route_groups(state: ApiState) -> Vec<RouteGroup> {
    vec![
        RouteGroup::new("status", Access::Scope(Scope::Read))
            .route("/api/status", get(status))
            .with_state(state),
    ]
}

/// The body of `GET /api/status`. Typed rather than built as a JSON value: it is polled, and a struct
/// serialises without building an intermediate map.
#[derive(Serialize)]
struct Status<'a> {
    version: &'static str,
    uptime_secs: u64,
    bind: Bind<'a>,
    pairing: Pairing,
    store: &'static str,
    limits: Limits,
}

#[derive(Serialize)]
struct Bind<'a> {
    host: &'a str,
    port: u16,
    path_prefix: &'a str,
    public: bool,
}

#[derive(Serialize)]
struct Pairing {
    required: bool,
    paired: bool,
    device_count: u64,
    code_ttl_secs: u64,
}

#[derive(Serialize)]
struct Limits {
    max_body_bytes: usize,
    request_timeout_secs: u64,
    max_connections: usize,
    pair_rate_limit_per_minute: u32,
    webhook_rate_limit_per_minute: u32,
    api_rate_limit_per_minute: u32,
    trusted_proxies: usize,
}

async fn status(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let g = &state.config().gateway;
    let device_count = state.devices.device_count().await.map_err(store_unavailable)?;
    let body = Status {
        version: env!("CARGO_PKG_VERSION"),
        uptime_secs: state.started.elapsed().as_secs(),
        bind: Bind { host: &g.host, port: g.port, path_prefix: g.prefix(), public: g.is_public_bind() },
        pairing: Pairing {
            required: g.require_pairing,
            paired: device_count > 0,
            device_count,
            code_ttl_secs: g.pairing.code_ttl_secs,
        },
        store: state.devices.backend(),
        limits: Limits {
            max_body_bytes: g.max_body_bytes,
            request_timeout_secs: g.request_timeout_secs,
            max_connections: g.max_connections,
            pair_rate_limit_per_minute: g.pair_rate_limit_per_minute,
            webhook_rate_limit_per_minute: g.webhook_rate_limit_per_minute,
            api_rate_limit_per_minute: g.api_rate_limit_per_minute,
            trusted_proxies: g.trusted_proxies.len(),
        },
    };
    Ok(Json(body).into_response())
}
