//! Assembling a gateway: configuration and route groups in, a router or a running server out.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Redirect};
use axum::routing::any;
use construct_agent::Agent;
use construct_api::{ApiShared, ApiState};
use construct_auth::{
    AuthContext, Authenticator, ClientResolver, GatewayRateLimiter, Guard, Idempotency, PairingService,
};
use construct_core::LoadedConfig;
use construct_core::approvals::ApprovalStore;
use construct_core::audit::AuditLog;
use construct_core::canvas::CanvasStore;
use construct_core::config::validate;
use construct_core::devices::DeviceStore;
use construct_core::events::EventBus;
use construct_core::idempotency::IdempotencyStore;
use construct_core::queue::WorkQueue;
use construct_core::readiness::ReadinessCheck;
use construct_core::routes::{Access, RouteGroup};
use construct_core::sessions::SessionStore;
use construct_core::usage::UsageStore;
use construct_kumiho::{KumihoApi, LocalKumiho};
use construct_realtime::nodes::NodeRegistry;
use construct_realtime::terminal::Terminals;
use construct_realtime::{RealtimeShared, RealtimeState, SessionQueue, WsPolicy};
use construct_store::{
    CachedDeviceStore, MemoryApprovals, MemoryAuditLog, MemoryCanvas, MemoryEventBus, MemoryIdempotency,
    MemorySessions, MemoryStore, MemoryUsage, MemoryWorkQueue,
};
use construct_webhooks::signature::SecretHash;
use construct_webhooks::{
    ChannelsState, Conversations, Replier, RetryPolicy, WebhookShared, WebhookState, WorkerSettings, Workers,
};
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::error::GatewayError;
use crate::middleware::{self, limits::RouteLimits};
use crate::readiness::{DataDirCheck, Readiness};
use crate::routes;
use crate::serve::{ServeOptions, serve};
use crate::state::{AppState, SharedState};

/// Builds a [`Gateway`]. See [`Gateway::builder`].
pub struct GatewayBuilder {
    loaded: LoadedConfig,
    groups: Vec<RouteGroup>,
    checks: Vec<Arc<dyn ReadinessCheck>>,
    devices: Arc<dyn DeviceStore>,
    idempotency: Option<Arc<dyn IdempotencyStore>>,
    audit: Arc<dyn AuditLog>,
    agent: Option<Arc<dyn Agent>>,
    events: Arc<dyn EventBus>,
    sessions: Arc<dyn SessionStore>,
    queue: Option<Arc<dyn WorkQueue>>,
    canvas: Arc<dyn CanvasStore>,
    daemon_logs: Arc<dyn EventBus>,
    kumiho: Option<Arc<dyn KumihoApi>>,
    approvals: Arc<dyn ApprovalStore>,
    usage: Arc<dyn UsageStore>,
    remote_kumiho: Option<construct_kumiho::HttpKumiho>,
    reply_retry: RetryPolicy,
    worker_grace: Duration,
    metrics: Arc<construct_core::metrics::Metrics>,
}

impl GatewayBuilder {
    /// Records into `metrics` (default: a fresh set per gateway), so an embedder can render them itself
    /// or share one set between gateways.
    pub fn metrics(mut self, metrics: Arc<construct_core::metrics::Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Sets how long a turn in progress may run on after shutdown begins before its delivery is released
    /// for the next start (default [`WORKER_GRACE`]).
    pub fn worker_grace(mut self, grace: Duration) -> Self {
        self.worker_grace = grace;
        self
    }

    /// Sets where channel deliveries wait for the agent (default: in memory, holding
    /// `[channels_config] queue_capacity` items; `run_gateway` uses SQLite so accepted work survives a
    /// restart).
    pub fn work_queue(mut self, queue: Arc<dyn WorkQueue>) -> Self {
        self.queue = Some(queue);
        self
    }

    /// Sets where canvas frames are kept (default: in memory; `run_gateway` uses SQLite).
    pub fn canvas_store(mut self, canvas: Arc<dyn CanvasStore>) -> Self {
        self.canvas = canvas;
        self
    }

    /// Sets where `GET /api/daemon/logs` reads the gateway's log lines (see [`crate::logs::LogCapture`];
    /// default: an empty bus, as nothing captures logs unless the embedder installs the layer).
    pub fn daemon_logs(mut self, logs: Arc<dyn EventBus>) -> Self {
        self.daemon_logs = logs;
        self
    }

    /// Sets the graph memory (default: an embedded store in memory; `run_gateway` opens `kumiho.db` under
    /// the data directory, or a Kumiho server in `[kumiho] mode = "remote"`).
    pub fn kumiho(mut self, kumiho: Arc<dyn KumihoApi>) -> Self {
        self.kumiho = Some(kumiho);
        self
    }

    /// Uses a Kumiho server through `client`, which `PUT /api/config` re-points when `[kumiho] api_url` or
    /// `service_token` change, without a restart.
    pub fn remote_kumiho(mut self, client: construct_kumiho::HttpKumiho) -> Self {
        self.kumiho = Some(Arc::new(client.clone()));
        self.remote_kumiho = Some(client);
        self
    }

    /// Sets where human approvals wait (default: in memory; `run_gateway` uses SQLite).
    pub fn approval_store(mut self, approvals: Arc<dyn ApprovalStore>) -> Self {
        self.approvals = approvals;
        self
    }

    /// Sets where model usage is recorded for `GET /api/cost` (default: in memory; `run_gateway` uses
    /// SQLite).
    pub fn usage_store(mut self, usage: Arc<dyn UsageStore>) -> Self {
        self.usage = usage;
        self
    }

    /// Sets how channel replies are retried (default: 4 attempts, from 500 ms doubling).
    pub fn reply_retry(mut self, policy: RetryPolicy) -> Self {
        self.reply_retry = policy;
        self
    }

    /// Sets the agent (default: the one `[provider]` configures).
    pub fn agent(mut self, agent: Arc<dyn Agent>) -> Self {
        self.agent = Some(agent);
        self
    }

    /// Sets the event bus (default: in memory).
    pub fn event_bus(mut self, events: Arc<dyn EventBus>) -> Self {
        self.events = events;
        self
    }

    /// Sets where chat sessions and conversations are kept (default: in memory, bounded; `run_gateway`
    /// uses SQLite unless `session_persistence` is off).
    pub fn session_store(mut self, sessions: Arc<dyn SessionStore>) -> Self {
        self.sessions = sessions;
        self
    }

    /// Sets the audit log (default: in memory; `run_gateway` uses SQLite).
    pub fn audit_log(mut self, audit: Arc<dyn AuditLog>) -> Self {
        self.audit = audit;
        self
    }

    /// Sets where idempotency keys and stored responses live (default: in memory, bounded by
    /// `idempotency_max_keys`, kept `idempotency_ttl_secs`).
    pub fn idempotency_store(mut self, store: Arc<dyn IdempotencyStore>) -> Self {
        self.idempotency = Some(store);
        self
    }

    /// Mounts a route group next to the gateway's own routes.
    pub fn route_group(mut self, group: RouteGroup) -> Self {
        self.groups.push(group);
        self
    }

    /// Adds a condition `/readyz` must see satisfied.
    pub fn readiness_check(mut self, check: Arc<dyn ReadinessCheck>) -> Self {
        self.checks.push(check);
        self
    }

    /// Sets the device store. Without one, devices live in memory and are forgotten on exit, which is
    /// right for tests and wrong for a real gateway: `run_gateway` uses SQLite under the data directory.
    /// The store is always read through a [`CachedDeviceStore`], so token lookups and `/health` do not
    /// query it on every request.
    pub fn device_store<S: DeviceStore + 'static>(mut self, devices: S) -> Self {
        self.devices = Arc::new(CachedDeviceStore::new(devices));
        self
    }

    /// Validates the configuration and assembles the router.
    ///
    /// # Panics
    /// If two route groups register the same path and method: that is a programming error of the embedder.
    pub fn build(self) -> Result<Gateway, GatewayError> {
        validate(&self.loaded.config)?;
        let mut checks =
            vec![Arc::new(DataDirCheck::new(self.loaded.data_dir.clone())) as Arc<dyn ReadinessCheck>];
        checks.extend(self.checks);
        let loaded = self.loaded.clone();
        let state = AppState::new(SharedState {
            config: self.loaded.config,
            data_dir: self.loaded.data_dir,
            readiness: Readiness::new(checks),
            devices: self.devices,
        });
        let gateway = &state.config.gateway;
        let defaults = RouteLimits {
            body_bytes: gateway.max_body_bytes,
            timeout: Duration::from_secs(gateway.request_timeout_secs),
        };

        let auth = Arc::new(AuthContext {
            authenticator: Authenticator::new(Arc::clone(&state.devices), Arc::clone(&self.audit), gateway)
                .with_node_token(state.config.nodes.auth_token.as_ref().map(|t| t.expose()))
                .with_certificates(&state.config.gateway.tls.client_auth.map),
            limiter: Arc::new(GatewayRateLimiter::from_config(gateway)),
            resolver: ClientResolver::new(gateway.trusted_proxies.clone()),
            metrics: Arc::clone(&self.metrics),
        });
        let pairing =
            Arc::new(PairingService::new(Arc::clone(&state.devices), Arc::clone(&self.audit), gateway));
        // A claim must outlive any request that could still complete it: twice the longest group timeout
        // (the webhook group waits for a whole agent turn).
        let turn = Duration::from_secs(state.config.provider.timeout_secs + 5);
        let longest = self
            .groups
            .iter()
            .filter_map(RouteGroup::timeout_override)
            .fold(defaults.timeout.max(turn), Duration::max);
        let idempotency = Idempotency::new(self.idempotency.unwrap_or_else(|| {
            Arc::new(MemoryIdempotency::new(
                Duration::from_secs(gateway.idempotency_ttl_secs),
                longest.saturating_mul(2),
                gateway.effective_idempotency_max_keys(),
            ))
        }));
        let kumiho = match self.kumiho {
            Some(kumiho) => kumiho,
            None => Arc::new(
                LocalKumiho::in_memory()
                    .map_err(|e| GatewayError::Io(std::io::Error::other(e.to_string())))?,
            ),
        };
        let api = ApiState::new(ApiShared {
            live_config: construct_api::LiveConfig::new(state.config.clone()),
            loaded,
            devices: Arc::clone(&state.devices),
            pairing: Arc::clone(&pairing),
            audit: Arc::clone(&self.audit),
            started: Instant::now(),
            events: Arc::clone(&self.events),
            kumiho: Arc::clone(&kumiho),
            data_dir: state.data_dir.clone(),
            kumiho_cache: Default::default(),
            approvals: Arc::clone(&self.approvals),
            outbound: construct_api::outbound_client(),
            usage: Arc::clone(&self.usage),
            config_write: Default::default(),
            cli_tools: Default::default(),
            remote_kumiho: self.remote_kumiho.clone(),
        });

        let agent = match self.agent {
            Some(agent) => agent,
            None => construct_agent::from_config(&state.config.provider)?,
        };
        let provider = &state.config.provider;
        let agent: Arc<dyn Agent> = Arc::new(
            construct_agent::Metered::new(
                agent,
                Arc::clone(&self.usage),
                provider.input_price_per_million,
                provider.output_price_per_million,
            )
            .with_metrics(Arc::clone(&self.metrics)),
        );
        let webhook_secret = state
            .config
            .channels_config
            .webhook
            .as_ref()
            .and_then(|w| w.secret.as_ref())
            .filter(|s| !s.is_empty())
            .map(|s| SecretHash::of(s.expose()));
        let conversations = Arc::new(Conversations {
            agent: Arc::clone(&agent),
            events: Arc::clone(&self.events),
            history: Arc::clone(&self.sessions) as Arc<dyn construct_core::history::SessionHistory>,
        });
        let turn_timeout = Duration::from_secs(state.config.provider.timeout_secs);
        let webhooks = WebhookState::new(WebhookShared {
            conversations: Arc::clone(&conversations),
            secret: webhook_secret,
            turn_timeout,
        });
        let channels_config = &state.config.channels_config;
        let queue =
            self.queue.unwrap_or_else(|| Arc::new(MemoryWorkQueue::new(channels_config.queue_capacity)));
        let wake = Arc::new(Notify::new());
        let channels = ChannelsState::new(
            channels_config,
            Arc::clone(&queue),
            Arc::clone(&conversations),
            Arc::clone(&wake),
            Arc::clone(&self.metrics),
        );
        let queue_for_metrics = Arc::clone(&queue);
        let replier = Replier::new(channels_config, self.reply_retry)
            .map_err(|e| GatewayError::Io(std::io::Error::other(e.to_string())))?;
        // Only chat channels queue work; without one there is nothing for workers to do.
        let workers = channels_config.any_chat_channel().then(|| {
            Arc::new(Workers {
                queue,
                conversations,
                replier: Arc::new(replier),
                wake,
                settings: WorkerSettings {
                    workers: channels_config.workers,
                    // A turn, plus a reply's retries, plus margin.
                    visibility: turn_timeout + Duration::from_secs(120),
                    poll: Duration::from_secs(1),
                    grace: self.worker_grace,
                },
                metrics: Arc::clone(&self.metrics),
            })
        });

        // Cancelled when the server begins to stop: open sockets close with 1001.
        let sockets_closing = CancellationToken::new();
        let session_queue = SessionQueue::default();
        let ws_policy = WsPolicy::new(gateway, sockets_closing.clone(), Arc::clone(&self.metrics));
        let nodes = Arc::new(NodeRegistry::new(state.config.nodes.max_nodes));
        let node_timeout = Duration::from_secs(state.config.nodes.invoke_timeout_secs);
        let mcp_config = &state.config.mcp;
        let mcp = construct_mcp::McpState::new(
            Arc::new(construct_mcp::tools::ToolBox {
                canvas: Arc::clone(&self.canvas),
                events: Arc::clone(&self.events),
                nodes: Arc::clone(&nodes) as Arc<dyn construct_core::nodes::NodeDirectory>,
                node_timeout,
                kumiho: Arc::clone(&kumiho),
                approvals: Arc::clone(&self.approvals),
                sessions: Arc::clone(&self.sessions),
            }),
            Arc::new(construct_mcp::sessions::McpSessions::new(
                Duration::from_secs(mcp_config.session_ttl_secs),
                mcp_config.max_sessions,
            )),
            state.data_dir.clone(),
            sockets_closing.clone(),
            ws_policy.clone(),
        );
        mcp.set_external(construct_mcp::External {
            servers: mcp_config.servers.clone(),
            allow_stdio: mcp_config.allow_stdio,
        });
        let mcp_enabled = mcp_config.enabled;
        let realtime = RealtimeState::new(RealtimeShared {
            events: Arc::clone(&self.events),
            ws: ws_policy,
            sessions: Arc::clone(&self.sessions),
            session_persistence: gateway.session_persistence,
            agent: Arc::clone(&agent),
            queue: session_queue,
            attached: Arc::default(),
            canvas: Arc::clone(&self.canvas),
            nodes,
            nodes_enabled: state.config.nodes.enabled,
            mcp: mcp_enabled.then(|| Arc::new(mcp.clone()) as Arc<dyn construct_core::mcp::McpIssuer>),
            node_timeout,
            terminals: Arc::new(Terminals::new(&state.config.terminal)),
            terminal_enabled: state.config.terminal.enabled,
            audit: Arc::clone(&self.audit),
            logs: Arc::clone(&self.daemon_logs),
        });

        let metrics_state =
            routes::metrics::MetricsState { metrics: Arc::clone(&self.metrics), queue: queue_for_metrics };
        let mut groups = vec![
            routes::route_group(state.clone()),
            routes::metrics_group(metrics_state.clone()),
            routes::openapi_group(gateway.prefix()),
        ];
        groups.extend(construct_api::route_groups(api));
        groups.extend(construct_webhooks::generic::route_groups(webhooks));
        groups.extend(construct_webhooks::channels::route_groups(channels));
        groups.extend(construct_realtime::route_groups(realtime));
        groups.extend(construct_mcp::route_groups(mcp.clone()));
        groups.push(construct_web::route_group(gateway.prefix()));
        groups.extend(self.groups);
        let mut app = Router::new();
        let mut route_table = Vec::new();
        for group in groups {
            tracing::debug!(group = %group.name(), access = ?group.access(), "mounting route group");
            let limits = RouteLimits {
                body_bytes: group.body_bytes().unwrap_or(defaults.body_bytes),
                timeout: group.timeout_override().unwrap_or(defaults.timeout),
            };
            route_table.extend(
                group.paths().iter().map(|path| MountedRoute { path: path.clone(), access: group.access() }),
            );
            let (access, rate, idempotent) = (group.access(), group.rate(), group.is_idempotent());
            let mut router = group.into_router();
            // Only where the guard establishes who is calling: keys are scoped by that, never pooled.
            if idempotent && matches!(access, Access::Scope(_) | Access::Webhook) {
                // Inside the guard: the key is scoped by the principal the guard established.
                router = router.route_layer(idempotency.clone());
            }
            // Public groups without a rate class have nothing to check: probes stay as cheap as a bare handler.
            if !(matches!(access, Access::Public) && rate.is_none()) {
                let guard = Guard::new(access, rate, Arc::clone(&auth));
                router = router.route_layer(guard);
            }
            app = app.merge(limits.apply(router));
        }
        // Unknown paths: the dashboard for a browser navigating to one of its pages, else the JSON 404.
        let prefix = gateway.prefix().to_owned();
        let app = app.fallback(move |request: Request| {
            let prefix = prefix.clone();
            async move { construct_web::fallback(&prefix, &request) }
        });
        let app = nest_under_prefix(app, gateway.prefix());
        let tls = match &state.config.gateway.tls {
            tls if tls.enabled => Some(Arc::new(construct_tls::TlsServer::new(tls)?)),
            _ => None,
        };
        let mcp = mcp_enabled.then_some(mcp);
        Ok(Gateway {
            router: middleware::stack(app, Arc::clone(&self.metrics)),
            state,
            pairing,
            route_table,
            workers,
            sockets_closing,
            tls,
            mcp,
            metrics: metrics_state,
        })
    }
}

/// Serves `app` under `prefix`: `{prefix}/` redirects to `{prefix}`, anything outside is a JSON 404.
fn nest_under_prefix(app: Router, prefix: &str) -> Router {
    if prefix.is_empty() {
        return app;
    }
    let target = prefix.to_owned();
    let redirect = move |request: Request| {
        let target = target.clone();
        async move {
            let location = match request.uri().query() {
                Some(query) => format!("{target}?{query}"),
                None => target,
            };
            Redirect::permanent(&location).into_response()
        }
    };
    Router::new().nest(prefix, app).route(&format!("{prefix}/"), any(redirect)).fallback(routes::not_found)
}

/// A route as mounted: its path pattern (without the prefix) and who may call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountedRoute {
    /// The path pattern, e.g. `/api/devices/{id}`.
    pub path: String,
    /// The access rule of its group.
    pub access: Access,
}

/// An assembled gateway: its state and its router.
pub struct Gateway {
    state: AppState,
    router: Router,
    pairing: Arc<PairingService>,
    route_table: Vec<MountedRoute>,
    workers: Option<Arc<Workers>>,
    sockets_closing: CancellationToken,
    tls: Option<Arc<construct_tls::TlsServer>>,
    mcp: Option<construct_mcp::McpState>,
    metrics: routes::metrics::MetricsState,
}

/// How long a turn in progress may run on after shutdown begins, before it is released for the next start.
pub const WORKER_GRACE: Duration = Duration::from_secs(10);

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").field("state", &self.state).finish_non_exhaustive()
    }
}

impl Gateway {
    /// Starts building a gateway from a loaded configuration.
    pub fn builder(loaded: LoadedConfig) -> GatewayBuilder {
        GatewayBuilder {
            loaded,
            groups: Vec::new(),
            checks: Vec::new(),
            devices: Arc::new(CachedDeviceStore::new(MemoryStore::new())),
            idempotency: None,
            audit: Arc::new(MemoryAuditLog::new()),
            agent: None,
            events: Arc::new(MemoryEventBus::default()),
            sessions: Arc::new(MemorySessions::default()),
            queue: None,
            canvas: Arc::new(MemoryCanvas::default()),
            daemon_logs: Arc::new(MemoryEventBus::new(crate::logs::LOG_RING, 4_096)),
            kumiho: None,
            approvals: Arc::new(MemoryApprovals::default()),
            usage: Arc::new(MemoryUsage::default()),
            remote_kumiho: None,
            reply_retry: RetryPolicy::default(),
            worker_grace: WORKER_GRACE,
            metrics: Arc::default(),
        }
    }

    /// Starts the channel workers (when a chat channel is configured), which run until `shutdown` is
    /// cancelled. [`Gateway::serve`] does this itself; in-process embedders and tests that only use
    /// [`Gateway::router`] call it.
    pub fn spawn_workers(&self, shutdown: CancellationToken) -> Option<construct_webhooks::WorkerPool> {
        self.workers.as_ref().map(|workers| workers.spawn(shutdown))
    }

    /// The shared state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The pairing service (the binary shows the initial code in its banner).
    pub fn pairing(&self) -> &Arc<PairingService> {
        &self.pairing
    }

    /// This gateway's metrics (what `GET /metrics` renders).
    pub fn metrics(&self) -> &Arc<construct_core::metrics::Metrics> {
        &self.metrics.metrics
    }

    /// `GET /metrics` alone and without credentials, for the `[gateway] metrics_listen` listener (which
    /// validation keeps on loopback).
    pub fn metrics_router(&self) -> Router {
        Router::new()
            .route("/metrics", axum::routing::get(routes::metrics::metrics))
            .fallback(routes::not_found)
            .with_state(self.metrics.clone())
    }

    /// Every mounted route and its access rule: the data the public allowlist test walks.
    pub fn route_table(&self) -> &[MountedRoute] {
        &self.route_table
    }

    /// The complete router with every layer, for in-process tests (`tower::ServiceExt::oneshot`).
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The address the configuration asks for.
    pub fn bind_addr(&self) -> Result<SocketAddr, GatewayError> {
        let gateway = &self.state.config.gateway;
        let ip = gateway.bind_ip().ok_or_else(|| {
            GatewayError::Config(construct_core::config::ConfigError::Invalid {
                key: "gateway.host".into(),
                reason: format!("{:?} is not an IP address or `localhost`", gateway.host),
                origin: None,
            })
        })?;
        Ok(SocketAddr::new(ip, gateway.port))
    }

    /// Opens the listening socket, refusing a non-loopback address unless `allow_public_bind` is set.
    pub async fn bind(&self) -> Result<TcpListener, GatewayError> {
        let gateway = &self.state.config.gateway;
        if gateway.is_public_bind() && !gateway.allow_public_bind {
            return Err(GatewayError::PublicBindRefused { host: gateway.host.clone() });
        }
        let addr = self.bind_addr()?;
        TcpListener::bind(addr).await.map_err(|source| GatewayError::Bind { addr, source })
    }

    /// Serves on `listener` until `shutdown` completes, then drains in-flight requests.
    pub async fn serve<F>(self, listener: TcpListener, shutdown: F) -> Result<(), GatewayError>
    where
        F: std::future::Future<Output = ()> + Send,
    {
        let gateway = &self.state.config.gateway;
        let options = ServeOptions {
            header_read_timeout: Duration::from_secs(gateway.request_timeout_secs),
            max_connections: gateway.max_connections,
            tls: self.tls.clone(),
            ..ServeOptions::default()
        };
        let state = self.state.clone();
        let stop_workers = CancellationToken::new();
        let sockets_closing = self.sockets_closing.clone();
        let grace = self.workers.as_ref().map_or(Duration::ZERO, |w| w.settings.grace);
        let pool = self.spawn_workers(stop_workers.clone());
        // The MCP server lives as long as the gateway serves; failing to start it is not fatal.
        let mcp = match &self.mcp {
            Some(mcp) => match mcp.start(stop_workers.clone()).await {
                Ok(running) => Some(running),
                Err(error) => {
                    tracing::warn!(%error, "cannot start the MCP server; /api/mcp answers 503");
                    None
                }
            },
            None => None,
        };
        let shutdown = async move {
            shutdown.await;
            state.readiness.start_draining();
            // Workers stop claiming now; a turn in progress gets WORKER_GRACE, then is released.
            stop_workers.cancel();
            sockets_closing.cancel();
        };
        let served = serve(listener, self.router, options, shutdown).await.map_err(GatewayError::Io);
        if let (Some(state), Some(running)) = (&self.mcp, mcp) {
            state.stopped();
            running.stop().await;
        }
        if let Some(pool) = pool {
            // The grace, plus time for a reply that is being sent to finish its retries.
            pool.join(grace + Duration::from_secs(20)).await;
        }
        served
    }

    /// Starts the MCP server now (for in-process embedders and tests that use [`Gateway::router`];
    /// [`Gateway::serve`] starts it itself). `None` when `[mcp] enabled = false`.
    pub async fn start_mcp(
        &self,
        shutdown: CancellationToken,
    ) -> Option<std::io::Result<construct_mcp::server::RunningMcp>> {
        match &self.mcp {
            Some(mcp) => Some(mcp.start(shutdown).await),
            None => None,
        }
    }

    /// TLS, when `[gateway.tls]` enables it: [`construct_tls::TlsServer::reload`] re-reads the certificate
    /// files (the binary calls it on SIGHUP; changes to the files are picked up on their own too).
    pub fn tls(&self) -> Option<&Arc<construct_tls::TlsServer>> {
        self.tls.as_ref()
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.state.data_dir.clone()
    }
}
