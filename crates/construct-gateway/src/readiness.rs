//! Readiness: the checks behind `/readyz`, and the draining flag set when shutdown begins.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use construct_core::config::probe_writable;
use construct_core::readiness::{CheckFuture, ReadinessCheck};

/// The registered checks and whether the gateway is draining.
#[derive(Default)]
pub struct Readiness {
    checks: Vec<Arc<dyn ReadinessCheck>>,
    draining: AtomicBool,
}

/// The outcome of one check, as `/readyz` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    /// The check's name.
    pub name: String,
    /// `None` when it passed; the reason otherwise (logged, never sent).
    pub failure: Option<String>,
}

impl Readiness {
    /// Readiness made of these checks.
    pub fn new(checks: Vec<Arc<dyn ReadinessCheck>>) -> Self {
        Self { checks, draining: AtomicBool::new(false) }
    }

    /// Marks the gateway as shutting down: from now on it is not ready, so balancers stop sending traffic.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Whether [`Self::start_draining`] was called.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Runs every check concurrently.
    pub async fn run(&self) -> Vec<CheckOutcome> {
        let runs = self.checks.iter().map(|check| async move {
            CheckOutcome { name: check.name().to_owned(), failure: check.check().await.err() }
        });
        futures_util::future::join_all(runs).await
    }
}

/// The data directory exists, is a directory and is writable.
#[derive(Debug, Clone)]
pub struct DataDirCheck {
    dir: PathBuf,
}

impl DataDirCheck {
    /// A check of `dir`.
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }
}

impl ReadinessCheck for DataDirCheck {
    fn name(&self) -> &str {
        "data_dir"
    }

    fn check(&self) -> CheckFuture<'_> {
        let dir = self.dir.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                probe_writable(&dir).map_err(|e| format!("{}: {e}", dir.display()))
            })
            .await
            .map_err(|e| format!("probe task failed: {e}"))?
        })
    }
}
