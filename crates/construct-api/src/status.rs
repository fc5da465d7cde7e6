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
    tls: Tls,
    store: &'static str,
    limits: Limits,
}

#[derive(Serialize)]
struct Tls {
    enabled: bool,
    /// `off`, `tls`, `mtls-required` or `mtls-optional`.
    posture: &'static str,
    client_auth: bool,
    pinned_certs: usize,
    mapped_certs: usize,
}

#[derive(Serialize)]
struct Bind<'a> {
    host: &'a str,
    port: u16,
    path_prefix: &'a str,
    public: bool,
    /// `http://…` or `https://…`, with the prefix: where clients reach the gateway on this bind.
    url: String,
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
    let config = state.config();
    let g = &config.gateway;
    let device_count = state.devices.device_count().await.map_err(store_unavailable)?;
    let body = Status {
        version: env!("CARGO_PKG_VERSION"),
        uptime_secs: state.started.elapsed().as_secs(),
        bind: Bind {
            host: &g.host,
            port: g.port,
            path_prefix: g.prefix(),
            public: g.is_public_bind(),
            url: format!("{}://{}{}", g.tls.scheme(), host_for_url(&g.host, g.port), g.prefix()),
        },
        tls: Tls {
            enabled: g.tls.enabled,
            posture: g.tls.posture(),
            client_auth: g.tls.client_auth.enabled,
            pinned_certs: g.tls.client_auth.pinned_certs.len(),
            mapped_certs: g.tls.client_auth.map.len(),
        },
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

/// `host:port` as a URL authority (IPv6 in brackets).
fn host_for_url(host: &str, port: u16) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}
