//! # construct-api
//!
//! The REST routes clients and the dashboard call, as route groups for `construct-gateway` to mount:
//! - [`pairing`]: `POST /pair`, `POST /api/pair` (public, pair rate limit), the loopback-only
//!   `GET /pair/code`, `GET /admin/paircode`, `POST /admin/paircode/new`, and `POST /api/pairing/initiate`
//!   (admin);
//! - [`devices`]: `GET /api/devices`, `DELETE /api/devices/{id}`, `POST /api/devices/{id}/token/rotate`
//!   (admin);
//! - [`status`]: `GET /api/status` (read);
//! - [`audit`]: `GET /api/audit`, `GET /api/audit/verify` (admin).
//!
//! [`ApiDoc`] (module [`openapi`]) describes every route of [`route_groups`] for the gateway's OpenAPI
//! document.
//!
//! Invariants: handlers see only traits and services (`DeviceStore`, `PairingService`), never a concrete
//! store; they never check credentials themselves (the group's guard did); this crate never opens a socket.

pub mod agents;
pub mod approvals;
pub mod artifact_body;
pub mod audit;
pub mod catalog;
pub mod clawhub;
pub mod devices;
pub mod doctor;
pub mod graph;
pub mod kumiho_proxy;
pub mod memory_graph;
pub mod openapi;
pub mod pairing;
pub mod revision_files;
pub mod session_auth;
pub mod skills;
pub mod status;
pub mod system;
pub mod teams;
pub mod workflow_runs;
pub mod workflows;

use std::sync::Arc;
use std::time::Instant;

use construct_auth::PairingService;
use construct_core::Config;
use construct_core::audit::AuditLog;
use construct_core::devices::DeviceStore;
use construct_core::routes::RouteGroup;
pub use openapi::ApiDoc;

/// What the API handlers share. Cloned for every request, so it is one `Arc` (see [`ApiShared`]).
#[derive(Clone)]
pub struct ApiState(Arc<ApiShared>);

impl ApiState {
    /// State made of these parts.
    pub fn new(shared: ApiShared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for ApiState {
    type Target = ApiShared;

    fn deref(&self) -> &ApiShared {
        &self.0
    }
}

/// The effective configuration, replaceable while the gateway runs (`PUT /api/config`). Handlers take one
/// snapshot with [`ApiShared::config`] and use it for the whole request.
pub struct LiveConfig(std::sync::RwLock<Arc<Config>>);

impl LiveConfig {
    /// Starts with `config`.
    pub fn new(config: Config) -> Self {
        Self(std::sync::RwLock::new(Arc::new(config)))
    }

    /// The configuration now.
    pub fn get(&self) -> Arc<Config> {
        Arc::clone(&self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Replaces it; requests already running keep the snapshot they took.
    pub fn set(&self, config: Config) {
        *self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(config);
    }
}

/// The parts of [`ApiState`].
pub struct ApiShared {
    /// The effective configuration; read it with [`ApiShared::config`].
    pub live_config: LiveConfig,
    /// Where it came from (its sources and file), so `PUT /api/config` checks an edit the way the next
    /// start will load it.
    pub loaded: construct_core::LoadedConfig,
    /// Devices and tokens.
    pub devices: Arc<dyn DeviceStore>,
    /// Codes and the code-for-token exchange.
    pub pairing: Arc<PairingService>,
    /// The hash-chained security log.
    pub audit: Arc<dyn AuditLog>,
    /// When the gateway started (for uptime).
    pub started: Instant,
    /// Where `device_paired` and `device_revoked` go.
    pub events: Arc<dyn construct_core::events::EventBus>,
    /// The graph memory.
    pub kumiho: Arc<dyn construct_kumiho::KumihoApi>,
    /// The data directory (the default artifact root lives under it).
    pub data_dir: std::path::PathBuf,
    /// Recent Kumiho list answers of the proxy.
    pub kumiho_cache: kumiho_proxy::KumihoCache,
    /// Human approvals workflow runs wait for.
    pub approvals: Arc<dyn construct_core::approvals::ApprovalStore>,
    /// Held while `PUT /api/config` checks and writes, so two edits never interleave.
    pub config_write: tokio::sync::Mutex<()>,
    /// The Kumiho client when it is a remote one, re-pointed by `PUT /api/config`.
    pub remote_kumiho: Option<construct_kumiho::HttpKumiho>,
    /// The last discovery of command-line tools.
    pub cli_tools: catalog::CliCache,
    /// Model usage per turn, for `GET /api/cost`.
    pub usage: Arc<dyn construct_core::usage::UsageStore>,
    /// The HTTP client for calls out (ClawHub); each call sets its own timeout.
    pub outbound: reqwest::Client,
}

/// The client [`ApiShared::outbound`] should be: rustls, a 5 s connect timeout, no redirects to follow
/// blindly across hosts.
pub fn outbound_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::limited(3))
        .user_agent(concat!("construct-gateway/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

impl ApiShared {
    /// A snapshot of the configuration.
    pub fn config(&self) -> Arc<Config> {
        self.live_config.get()
    }

    /// Publishes an event; a bus failure is logged, never fatal.
    pub async fn publish(&self, kind: &str, payload: serde_json::Value) {
        if let Err(error) = self.events.publish(kind, payload).await {
            tracing::warn!(%error, kind, "cannot publish event");
        }
    }
}

/// Every route group of this crate, state applied.
pub fn route_groups(state: ApiState) -> Vec<RouteGroup> {
    use axum::routing::{get, post, put};
    use construct_core::principal::Scope;
    use construct_core::routes::Access;
    let mut groups = pairing::route_groups(state.clone());
    groups.extend(devices::route_groups(state.clone()));
    groups.extend(status::route_groups(state.clone()));
    groups.extend(audit::route_groups(state.clone()));
    groups.push(
        RouteGroup::new("graph-read", Access::Scope(Scope::Read))
            .route("/api/kumiho/{*path}", get(kumiho_proxy::proxy))
            .route("/api/artifact-body", get(artifact_body::artifact_body))
            .route("/api/agents", get(agents::list))
            .route("/api/skills", get(skills::list))
            .route("/api/skills/{*kref}", get(skills::get))
            .route("/api/teams", get(teams::list))
            .route("/api/memory/graph", get(memory_graph::graph))
            .route("/api/channels", get(system::channels))
            .route("/api/health", get(system::health))
            .route("/api/cost", get(system::cost))
            .route("/api/tools", get(catalog::tools))
            .route("/api/integrations", get(catalog::integrations))
            .route("/api/integrations/settings", get(catalog::integration_settings))
            .route("/api/cli-tools", get(catalog::cli_tools))
            .route("/api/approvals", get(approvals::list))
            .route("/api/workflows", get(workflows::list))
            .route("/api/workflows/revisions/{*kref}", get(workflows::revision))
            .route("/api/workflows/runs", get(workflow_runs::list))
            .route("/api/workflows/runs/{run_id}", get(workflow_runs::get))
            .route("/api/workflows/dashboard", get(workflow_runs::dashboard))
            .route("/api/workflows/agent-activity/{agent_id}", get(workflow_runs::agent_activity))
            .route("/api/teams/{*kref}", get(teams::get))
            .route("/api/clawhub/search", get(clawhub::search))
            .route("/api/clawhub/trending", get(clawhub::trending))
            .route("/api/clawhub/skills/{slug}", get(clawhub::skill))
            .with_state(state.clone()),
    );
    groups.push(
        RouteGroup::new("agents-admin", Access::Scope(Scope::Admin))
            .body_limit(agents::BODY_LIMIT)
            .route("/api/agents", post(agents::create))
            .route("/api/agents/deprecate", post(agents::deprecate))
            .route("/api/agents/{*kref}", put(agents::update).delete(agents::delete))
            .with_state(state.clone()),
    );
    groups.push(
        RouteGroup::new("graph-admin", Access::Scope(Scope::Admin))
            .route("/api/config", get(system::config))
            .route("/api/doctor", get(doctor::doctor).post(doctor::doctor))
            .route("/api/channel-events", post(approvals::channel_event))
            .route("/api/workflows/runs/{run_id}/approve", post(approvals::approve))
            .route("/api/teams", post(teams::create))
            .route("/api/teams/deprecate", post(teams::deprecate))
            .route("/api/teams/{*kref}", put(teams::update).delete(teams::delete))
            .with_state(state.clone()),
    );
    groups.push(
        RouteGroup::new("config-admin", Access::Scope(Scope::Admin))
            .body_limit(system::CONFIG_BODY_LIMIT)
            .route("/api/config", put(system::put_config))
            .with_state(state.clone()),
    );
    groups.push(
        RouteGroup::new("workflows-admin", Access::Scope(Scope::Admin))
            .body_limit(workflows::BODY_LIMIT)
            .route("/api/workflows", post(workflows::create))
            .route("/api/workflows/deprecate", post(workflows::deprecate))
            .route("/api/workflows/run/{name}", post(workflow_runs::run))
            .route("/api/workflows/runs/{run_id}", axum::routing::delete(workflow_runs::delete))
            .route("/api/workflows/runs/{run_id}/retry", post(workflow_runs::retry))
            .route("/api/workflows/{*kref}", put(workflows::update).delete(workflows::delete))
            .with_state(state.clone()),
    );
    // Skill bodies are up to 256 KiB: this group's own body limit fits them (upstream's could not).
    groups.push(
        RouteGroup::new("skills-admin", Access::Scope(Scope::Admin))
            .body_limit(skills::BODY_LIMIT)
            .route("/api/skills", post(skills::create))
            .route("/api/skills/deprecate", post(skills::deprecate))
            .route("/api/clawhub/install/{slug}", post(clawhub::install))
            .route("/api/skills/{*kref}", put(skills::update).delete(skills::delete))
            .with_state(state),
    );
    groups
}

/// A response that carries a token or a pairing code: `Cache-Control: no-store`, so no cache keeps it and
/// the idempotency layer never stores it for replay.
pub(crate) type Secretive<T> = ([(http::HeaderName, &'static str); 1], construct_core::extract::Json<T>);

/// Wraps `body` as a [`Secretive`] response.
pub(crate) fn secretive<T>(body: T) -> Secretive<T> {
    ([(http::header::CACHE_CONTROL, "no-store")], construct_core::extract::Json(body))
}

/// An optional JSON object body: no bytes at all and `null` both mean "no body" (`T::default()`).
/// Whitespace alone is not JSON (400 `INVALID_JSON`); anything but an object or `null` is 422
/// `INVALID_BODY` (serde alone would read `[]` as a struct).
pub(crate) fn optional_object_body<T>(bytes: &[u8]) -> Result<T, construct_core::ApiError>
where
    T: serde::de::DeserializeOwned + Default,
{
    if bytes.is_empty() {
        return Ok(T::default());
    }
    match construct_core::extract::from_json_slice::<serde_json::Value>(bytes)? {
        serde_json::Value::Null => Ok(T::default()),
        object @ serde_json::Value::Object(_) => serde_json::from_value(object).map_err(|e| {
            construct_core::ApiError::new(
                http::StatusCode::UNPROCESSABLE_ENTITY,
                construct_core::ErrorCode::INVALID_BODY,
                format!("Unexpected JSON: {e}"),
            )
        }),
        _ => Err(construct_core::ApiError::new(
            http::StatusCode::UNPROCESSABLE_ENTITY,
            construct_core::ErrorCode::INVALID_BODY,
            "The body must be a JSON object, or empty",
        )),
    }
}

/// Maps a store failure to a 503 envelope, logging the cause.
pub(crate) fn store_unavailable(error: impl std::fmt::Display) -> construct_core::ApiError {
    tracing::error!(%error, "store unavailable");
    construct_core::ApiError::new(
        http::StatusCode::SERVICE_UNAVAILABLE,
        construct_auth::layer::STORE_UNAVAILABLE,
        "The gateway's store is unavailable",
    )
}
