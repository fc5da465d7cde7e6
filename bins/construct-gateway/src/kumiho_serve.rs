//! `construct-gateway kumiho serve`: the embedded Kumiho's REST API on its own, for gateways to share.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use construct_core::LoadedConfig;
use construct_core::config::ensure_data_dir;
use construct_gateway::ShutdownSignal;
use construct_kumiho::{KumihoApi, LocalKumiho, router};

/// Serves until SIGINT or SIGTERM.
pub fn run(loaded: &LoadedConfig, token: Option<String>) -> anyhow::Result<()> {
    let gateway = &loaded.config.gateway;
    let ip = gateway.bind_ip().context("gateway.host is not an IP address or localhost")?;
    if gateway.is_public_bind() && !gateway.allow_public_bind {
        bail!("refusing to serve Kumiho on the public address {ip} without [gateway] allow_public_bind");
    }
    let token = token
        .or_else(|| loaded.config.kumiho.service_token.as_ref().map(|t| t.expose().to_owned()))
        .filter(|t| !t.trim().is_empty());
    if token.is_none() && gateway.is_public_bind() {
        bail!("a public Kumiho needs a token (--token or [kumiho] service_token)");
    }
    ensure_data_dir(&loaded.data_dir)?;
    let store: Arc<dyn KumihoApi> = Arc::new(LocalKumiho::open_in(&loaded.data_dir)?);
    let app = router::router(store, token.as_deref());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let shutdown = ShutdownSignal::install()?;
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(ip, gateway.port)).await?;
        let addr = listener.local_addr()?;
        println!("Kumiho listening: http://{addr}");
        tracing::info!(%addr, data_dir = %loaded.data_dir.display(), "Kumiho store serving");
        axum::serve(listener, app).with_graceful_shutdown(shutdown.recv()).await?;
        anyhow::Ok(())
    })
}
