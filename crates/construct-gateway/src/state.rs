//! The state the gateway's own routes share.

use std::path::PathBuf;
use std::sync::Arc;

use construct_core::Config;
use construct_core::pairing::PairingStatus;

use crate::readiness::Readiness;

/// Shared state for the gateway's handlers. Cheap to clone: every field is an `Arc`.
///
/// Route crates do not receive this; each gets its own state struct of trait handles, built by
/// [`crate::GatewayBuilder`] from the same pieces.
#[derive(Clone)]
pub struct AppState {
    /// The effective configuration, fixed for the life of this gateway.
    pub config: Arc<Config>,
    /// The data directory (created 0700 before the gateway starts).
    pub data_dir: Arc<PathBuf>,
    /// Whether the gateway can serve right now.
    pub readiness: Arc<Readiness>,
    /// Whether any device is paired.
    pub pairing: Arc<dyn PairingStatus>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}
