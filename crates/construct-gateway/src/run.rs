//! `run_gateway`: the whole lifecycle in one call, and the shutdown signal it waits for.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use construct_core::LoadedConfig;
use construct_core::config::KumihoMode;
use construct_core::config::ensure_data_dir;
use construct_core::events::EventBus;
use construct_core::sessions::SessionStore;
use construct_kumiho::{HttpKumiho, LocalKumiho};
use construct_store::{MemorySessions, SqliteIdempotency, SqliteStore, SqliteWorkQueue};
use std::time::Duration;

use crate::builder::{Gateway, GatewayBuilder};
use crate::error::GatewayError;

/// What a caller may want to tell the operator once the gateway listens (the binary prints a banner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listening {
    /// The bound address, with the real port when 0 was asked for.
    pub addr: SocketAddr,
    /// The path prefix, or "".
    pub prefix: String,
    /// The data directory.
    pub data_dir: PathBuf,
    /// Whether pairing is required.
    pub require_pairing: bool,
    /// Whether a device is paired already.
    pub paired: bool,
    /// The one-time pairing code, when pairing is required and no device is paired yet.
    pub pairing_code: Option<String>,
    /// `https` or `http`.
    pub scheme: &'static str,
    /// The TLS posture: `off`, `tls`, `mtls-required` or `mtls-optional`.
    pub tls: &'static str,
    /// Where `GET /metrics` is served without credentials (`[gateway] metrics_listen`), bound.
    pub metrics: Option<SocketAddr>,
}

/// Runs the HTTP gateway: creates the data directory, opens the SQLite store in it (devices, audit log,
/// idempotency keys, the channels' work queue, chat sessions), builds the gateway,
/// binds (refusing a public bind unless allowed), serves until SIGINT or SIGTERM, then drains in-flight
/// requests and returns.
pub async fn run_gateway(loaded: LoadedConfig) -> Result<(), GatewayError> {
    run_gateway_with(loaded, |_| {}).await
}

/// [`run_gateway`], calling `on_listening` once the socket is bound and before the first request is served.
pub async fn run_gateway_with(
    loaded: LoadedConfig,
    on_listening: impl FnOnce(&Listening) + Send,
) -> Result<(), GatewayError> {
    run_gateway_logged(loaded, None, on_listening).await
}

/// [`run_gateway_with`], serving `GET /api/daemon/logs` from `logs` (the bus a
/// [`crate::logs::LogCapture`] layer installed in the process's subscriber feeds).
pub async fn run_gateway_logged(
    loaded: LoadedConfig,
    logs: Option<Arc<dyn EventBus>>,
    on_listening: impl FnOnce(&Listening) + Send,
) -> Result<(), GatewayError> {
    // Listen for signals first: a SIGTERM that arrives while we start must stop us cleanly, not kill us.
    let shutdown = ShutdownSignal::install()?;
    // SIGHUP reloads the TLS certificates; caught from the start so an early one cannot kill us.
    #[cfg(unix)]
    let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    ensure_data_dir(&loaded.data_dir)?;
    let store = SqliteStore::open_in(&loaded.data_dir)?;
    let metrics = Arc::new(construct_core::metrics::Metrics::new());
    store.record_metrics(Arc::clone(&metrics));
    // Another process (the CLI) may change devices while we run; notice within a second.
    store.watch_external_changes(Duration::from_secs(1));
    let g = &loaded.config.gateway;
    let idempotency = SqliteIdempotency::new(
        store.clone(),
        Duration::from_secs(g.idempotency_ttl_secs),
        // Twice the longest group timeout: the webhook group waits for a whole agent turn.
        Duration::from_secs(
            g.request_timeout_secs.max(loaded.config.provider.timeout_secs + 5).saturating_mul(2),
        ),
        g.effective_idempotency_max_keys(),
    );
    let queue = SqliteWorkQueue::new(store.clone(), loaded.config.channels_config.queue_capacity);
    let sessions: Arc<dyn SessionStore> =
        if g.session_persistence { Arc::new(store.clone()) } else { Arc::new(MemorySessions::default()) };
    if g.session_ttl_hours > 0 {
        let cutoff = time::OffsetDateTime::now_utc() - time::Duration::hours(i64::from(g.session_ttl_hours));
        match sessions.prune(cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, "pruned idle chat sessions"),
            Err(error) => tracing::warn!(%error, "cannot prune idle chat sessions"),
        }
    }
    let kumiho = open_kumiho(&loaded)?;
    let mut builder = kumiho.install(Gateway::builder(loaded));
    if let Some(logs) = logs {
        builder = builder.daemon_logs(logs);
    }
    let gateway = builder
        .metrics(metrics)
        .work_queue(Arc::new(queue))
        .session_store(sessions)
        .canvas_store(Arc::new(store.clone()))
        .approval_store(Arc::new(store.clone()))
        .usage_store(Arc::new(store.clone()))
        .audit_log(Arc::new(store.clone()))
        .idempotency_store(Arc::new(idempotency))
        .device_store(store)
        .build()?;
    let listener = gateway.bind().await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    let state = gateway.state();
    let metrics_listener = match state.config.gateway.metrics_listen {
        Some(metrics_addr) => Some(tokio::net::TcpListener::bind(metrics_addr).await?),
        None => None,
    };
    let listening = Listening {
        addr,
        prefix: state.config.gateway.prefix().to_owned(),
        data_dir: state.data_dir.clone(),
        require_pairing: state.config.gateway.require_pairing,
        paired: state.devices.device_count().await.map(|n| n > 0).unwrap_or(false),
        pairing_code: gateway.pairing().ensure_initial_code().await.ok().flatten().map(|c| c.code),
        scheme: state.config.gateway.tls.scheme(),
        tls: state.config.gateway.tls.posture(),
        metrics: metrics_listener.as_ref().and_then(|l| l.local_addr().ok()),
    };
    #[cfg(unix)]
    if let (Some(tls), Some(mut hangup)) = (gateway.tls().cloned(), hangup) {
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                let server = Arc::clone(&tls);
                let outcome = tokio::task::spawn_blocking(move || server.reload()).await.ok();
                construct_tls::log_reload(outcome, "SIGHUP");
            }
        });
    }
    // The metrics listener lives as long as the gateway serves; it holds no state worth draining.
    let metrics_server = match metrics_listener {
        Some(metrics_listener) => {
            let router = gateway.metrics_router();
            Some(tokio::spawn(async move {
                if let Err(error) = axum::serve(metrics_listener, router).await {
                    tracing::warn!(%error, "the metrics listener stopped");
                }
            }))
        }
        None => None,
    };
    on_listening(&listening);
    let served = gateway.serve(listener, shutdown.recv()).await;
    if let Some(task) = metrics_server {
        task.abort();
    }
    served
}

/// The graph memory `[kumiho]` asks for: the embedded store under the data directory, or a server.
pub fn open_kumiho(loaded: &LoadedConfig) -> Result<OpenedKumiho, GatewayError> {
    let k = &loaded.config.kumiho;
    let opened = match k.mode {
        KumihoMode::Local => LocalKumiho::open_in(&loaded.data_dir).map(|l| OpenedKumiho::Local(Arc::new(l))),
        KumihoMode::Remote => {
            let token = k.service_token.as_ref().map(|t| t.expose().to_owned()).unwrap_or_default();
            HttpKumiho::new(&k.api_url, &token).map(OpenedKumiho::Remote)
        }
    };
    opened.map_err(|e| GatewayError::Io(std::io::Error::other(format!("cannot open Kumiho: {e}"))))
}

/// The Kumiho [`open_kumiho`] opened.
pub enum OpenedKumiho {
    /// The embedded store.
    Local(Arc<LocalKumiho>),
    /// A client of a Kumiho server, which `PUT /api/config` can point elsewhere while the gateway runs.
    Remote(HttpKumiho),
}

impl OpenedKumiho {
    /// The store or client, as the trait.
    pub fn api(&self) -> Arc<dyn construct_kumiho::KumihoApi> {
        match self {
            OpenedKumiho::Local(local) => Arc::clone(local) as Arc<dyn construct_kumiho::KumihoApi>,
            OpenedKumiho::Remote(remote) => Arc::new(remote.clone()),
        }
    }

    /// Hands it to `builder`.
    pub fn install(self, builder: GatewayBuilder) -> GatewayBuilder {
        match self {
            OpenedKumiho::Local(local) => builder.kumiho(local),
            OpenedKumiho::Remote(remote) => builder.remote_kumiho(remote),
        }
    }
}

/// SIGINT (Ctrl+C) and, on Unix, SIGTERM, registered when installed.
pub struct ShutdownSignal {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    /// Registers the handlers now, so a signal delivered from here on is caught.
    pub fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Completes when a signal arrives.
    pub async fn recv(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => tracing::info!("received SIGINT"),
            _ = self.terminate.recv() => tracing::info!("received SIGTERM"),
        }
        #[cfg(not(unix))]
        {
            let _ = &mut self;
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}
