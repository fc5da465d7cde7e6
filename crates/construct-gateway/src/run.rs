//! `run_gateway`: the whole lifecycle in one call.

use construct_core::LoadedConfig;
use construct_core::config::ensure_data_dir;

use crate::builder::Gateway;
use crate::error::GatewayError;

/// Runs the HTTP gateway: creates the data directory, builds the gateway, binds (refusing a public bind
/// unless allowed), serves until SIGINT or SIGTERM, then drains in-flight requests and returns.
pub async fn run_gateway(loaded: LoadedConfig) -> Result<(), GatewayError> {
    ensure_data_dir(&loaded.data_dir)?;
    let gateway = Gateway::builder(loaded).build()?;
    let listener = gateway.bind().await?;
    tracing::info!(addr = %listener.local_addr()?, "listening");
    gateway.serve(listener, shutdown_signal()).await
}

/// Completes on SIGINT (Ctrl+C) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl+C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("received SIGINT"),
        () = terminate => tracing::info!("received SIGTERM"),
    }
}
