//! Readiness: can the gateway serve requests right now?
//!
//! Components that the gateway cannot serve without (the data directory, later the state store, Kumiho)
//! register a [`ReadinessCheck`]. `/readyz` runs them all; any failure makes it answer 503, which tells a
//! load balancer to send traffic elsewhere. Liveness (`/health`) deliberately does not run them.

use std::future::Future;
use std::pin::Pin;

/// The future a readiness check returns: `Ok(())` when ready, otherwise a short reason for the log.
pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// One condition the gateway needs in order to serve.
pub trait ReadinessCheck: Send + Sync {
    /// A stable, lowercase name reported by `/readyz` (for example `data_dir`).
    fn name(&self) -> &str;

    /// Checks the condition. Must be cheap and bounded: `/readyz` is polled every few seconds.
    fn check(&self) -> CheckFuture<'_>;
}
