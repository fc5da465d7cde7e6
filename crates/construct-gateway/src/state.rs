//! The state the gateway's own routes share.

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;

use construct_core::Config;
use construct_core::devices::DeviceStore;

use crate::readiness::Readiness;

/// Shared state for the gateway's handlers.
///
/// One `Arc` around everything: axum clones the state for every request, and a single reference count
/// is cheaper than one per field (each is an atomic shared by all worker threads).
///
/// Route crates do not receive this; each gets its own state struct of trait handles, built by
/// [`crate::GatewayBuilder`] from the same pieces.
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

/// What [`AppState`] points to.
pub struct SharedState {
    /// The effective configuration, fixed for the life of this gateway.
    pub config: Config,
    /// The data directory (created 0700 before the gateway starts).
    pub data_dir: PathBuf,
    /// Whether the gateway can serve right now.
    pub readiness: Readiness,
    /// Paired devices, their tokens and the pairing code (read through a cache; see the builder).
    pub devices: Arc<dyn DeviceStore>,
}

impl AppState {
    /// State made of these parts.
    pub fn new(shared: SharedState) -> Self {
        Self(Arc::new(shared))
    }
}

impl Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}
