//! What the rest of the gateway may ask about pairing without knowing how devices are stored.

use std::future::Future;
use std::pin::Pin;

/// The future [`PairingStatus::is_paired`] returns.
pub type PairedFuture<'a> = Pin<Box<dyn Future<Output = Result<bool, String>> + Send + 'a>>;

/// Whether at least one device is paired with this gateway. `/health` reports it; the startup banner
/// uses it to decide whether to show a pairing code. Implemented by the device store.
pub trait PairingStatus: Send + Sync {
    /// `Ok(true)` when a device holds a valid token; `Err` with a reason when the store cannot answer.
    fn is_paired(&self) -> PairedFuture<'_>;
}

/// The status of a gateway with no device store attached: nothing can have paired with it.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDevices;

impl PairingStatus for NoDevices {
    fn is_paired(&self) -> PairedFuture<'_> {
        Box::pin(async { Ok(false) })
    }
}
