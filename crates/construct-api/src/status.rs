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
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GatewayStatus)]
struct Status<'a> {
    /// The gateway's version.
    #[schema(value_type = String)]
    version: &'static str,
    /// Seconds since it started.
    uptime_secs: u64,
    /// Where it listens.
    bind: Bind<'a>,
    /// Pairing state.
    pairing: Pairing,
    /// TLS posture.
    tls: Tls,
    /// The store backend (`sqlite`, `memory`, …).
    #[schema(value_type = String)]
    store: &'static str,
    /// The configured limits.
    limits: Limits,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = StatusTls)]
struct Tls {
    /// Whether TLS is on.
    enabled: bool,
    /// `off`, `tls`, `mtls-required` or `mtls-optional`.
    #[schema(value_type = String, pattern = "^(off|tls|mtls-required|mtls-optional)$")]
    posture: &'static str,
    /// Whether client certificates are asked for.
    client_auth: bool,
    /// Pinned client certificates.
    pinned_certs: usize,
    /// Client certificates mapped to principals.
    mapped_certs: usize,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = StatusBind)]
struct Bind<'a> {
    /// The bind address.
    #[schema(value_type = String)]
    host: &'a str,
    /// The port.
    port: u16,
    /// `[gateway] path_prefix`, or empty.
    #[schema(value_type = String)]
    path_prefix: &'a str,
    /// Whether the bind is beyond loopback.
    public: bool,
    /// `http://…` or `https://…`, with the prefix: where clients reach the gateway on this bind.
    url: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = StatusPairing)]
struct Pairing {
    /// Whether pairing is required.
    required: bool,
    /// Whether any device is paired.
    paired: bool,
    /// Paired devices.
    device_count: u64,
    /// How long a pairing code lives.
    code_ttl_secs: u64,
}

/// The configured limits.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = StatusLimits)]
struct Limits {
    max_body_bytes: usize,
    request_timeout_secs: u64,
    max_connections: usize,
    pair_rate_limit_per_minute: u32,
    webhook_rate_limit_per_minute: u32,
    api_rate_limit_per_minute: u32,
    trusted_proxies: usize,
}

#[utoipa::path(
    get,
    path = "/api/status",
    tag = "status",
    operation_id = "status",
    summary = "What the gateway is and how it is configured, without secrets",
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The gateway's status.", body = Status),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (for this route's data, or to check the credential).", body = construct_core::openapi::ErrorBody),
    )
)]
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
