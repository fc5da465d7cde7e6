//! Why the gateway could not start or keep serving.

use std::net::SocketAddr;

use construct_core::config::ConfigError;

/// A failure of the gateway's lifecycle (not of a single request: those are `ApiError`s).
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The host is not loopback and `allow_public_bind` is false.
    #[error(
        "refusing to bind {host}: it is reachable from other machines. Set [gateway] allow_public_bind = true \
         (or CONSTRUCT_ALLOW_PUBLIC_BIND=true) if that is intended, or bind 127.0.0.1"
    )]
    PublicBindRefused {
        /// The configured host.
        host: String,
    },
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The state store could not be opened.
    #[error(transparent)]
    Store(#[from] construct_store::StoreOpenError),
    /// The agent could not be built from `[provider]`.
    #[error("provider: {0}")]
    Agent(#[from] construct_agent::AgentError),
    /// `[gateway.tls]` names files that cannot be used.
    #[error("TLS: {0}")]
    Tls(#[from] construct_tls::TlsError),
    /// Another I/O failure.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
