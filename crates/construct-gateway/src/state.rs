//! The state the gateway's own routes share.

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
    /// Paired devices, their tokens and the pairing code.
    pub devices: Arc<dyn DeviceStore>,
    /// Whether a device is paired, as last read from the store.
    pub paired: PairedCache,
}

/// Whether a device is paired, read from the store at most once a second.
///
/// `/health` is public and polled hard by load balancers; without this, every poll would be a store query.
#[derive(Debug)]
pub struct PairedCache {
    started: Instant,
    /// Milliseconds since `started` of the last read, plus one (0 means never read).
    read_at: AtomicU64,
    paired: AtomicBool,
}

impl Default for PairedCache {
    fn default() -> Self {
        Self { started: Instant::now(), read_at: AtomicU64::new(0), paired: AtomicBool::new(false) }
    }
}

impl PairedCache {
    /// How stale the answer may be.
    pub const MAX_AGE: Duration = Duration::from_secs(1);

    /// Whether a device is paired; `false` when the store cannot say (and that is logged).
    pub async fn get(&self, devices: &dyn DeviceStore) -> bool {
        let now = self.started.elapsed().as_millis() as u64 + 1;
        let read_at = self.read_at.load(Ordering::Acquire);
        if read_at != 0 && now - read_at < Self::MAX_AGE.as_millis() as u64 {
            return self.paired.load(Ordering::Acquire);
        }
        let paired = match devices.device_count().await {
            Ok(count) => count > 0,
            Err(error) => {
                tracing::warn!(%error, "cannot read the device count");
                false
            }
        };
        self.paired.store(paired, Ordering::Release);
        self.read_at.store(now, Ordering::Release);
        paired
    }
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
