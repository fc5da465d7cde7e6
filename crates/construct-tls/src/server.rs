//! The configuration in force, and its reload.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use construct_core::config::TlsConfig;
use construct_core::principal::ClientCertificate;
use rustls::ServerConfig;

use crate::{TlsError, client_certificate, server_config};

/// What a file looked like when last read: modification time and length (`None`: unreadable).
type Stamp = Option<(SystemTime, u64)>;

/// TLS for one listener: the configuration in force and the files it came from.
pub struct TlsServer {
    settings: TlsConfig,
    current: RwLock<Arc<ServerConfig>>,
    stamps: Mutex<Vec<Stamp>>,
}

impl std::fmt::Debug for TlsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsServer").field("files", &self.files()).finish_non_exhaustive()
    }
}

fn stamp(path: &PathBuf) -> Stamp {
    std::fs::metadata(path).ok().and_then(|m| Some((m.modified().ok()?, m.len())))
}

impl TlsServer {
    /// Reads the files `settings` names; fails (naming the file) when any is unusable.
    pub fn new(settings: &TlsConfig) -> Result<Self, TlsError> {
        let server = Self {
            settings: settings.clone(),
            current: RwLock::new(Arc::new(server_config(settings)?)),
            stamps: Mutex::new(Vec::new()),
        };
        *server.stamps.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = server.stamp_files();
        Ok(server)
    }

    /// The files the configuration is read from.
    pub fn files(&self) -> Vec<PathBuf> {
        let auth = &self.settings.client_auth;
        [
            self.settings.cert_path.clone(),
            self.settings.key_path.clone(),
            auth.ca_cert_path.clone().filter(|_| auth.enabled),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn stamp_files(&self) -> Vec<Stamp> {
        self.files().iter().map(stamp).collect()
    }

    /// An acceptor for the next connection, with the configuration in force now.
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(Arc::clone(
            &self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner),
        ))
    }

    /// How long a client has to finish the handshake.
    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_secs(self.settings.handshake_timeout_secs)
    }

    /// Whether clients are asked for certificates.
    pub fn client_auth(&self) -> bool {
        self.settings.client_auth.enabled
    }

    /// Reads the files again. On success new connections use the new configuration (open ones keep
    /// theirs); on failure the configuration in force stays and the error says why.
    pub fn reload(&self) -> Result<(), TlsError> {
        let stamps = self.stamp_files();
        let result = server_config(&self.settings);
        // Remember what was read even when it failed, so a broken file is reported once, not every poll.
        *self.stamps.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = stamps;
        let config = result?;
        *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(config);
        Ok(())
    }

    /// Reloads when a file changed since it was last read; `None` when none did.
    pub fn reload_if_changed(&self) -> Option<Result<(), TlsError>> {
        let changed =
            *self.stamps.lock().unwrap_or_else(std::sync::PoisonError::into_inner) != self.stamp_files();
        changed.then(|| self.reload())
    }

    /// Checks the files every `every` and reloads when they change, logging the outcome, until `stop`.
    pub async fn watch(self: Arc<Self>, every: Duration, stop: impl std::future::Future<Output = ()>) {
        let mut stop = std::pin::pin!(stop);
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = &mut stop => return,
                _ = ticks.tick() => {}
            }
            let server = Arc::clone(&self);
            let outcome =
                tokio::task::spawn_blocking(move || server.reload_if_changed()).await.ok().flatten();
            log_reload(outcome, "the certificate files changed");
        }
    }
}

/// Logs what a reload did: `why` says what prompted it.
pub fn log_reload(outcome: Option<Result<(), TlsError>>, why: &str) {
    match outcome {
        Some(Ok(())) => tracing::info!(why, "TLS certificates reloaded"),
        Some(Err(error)) => {
            tracing::error!(%error, why, "TLS reload failed; the previous certificates stay in use")
        }
        None => {}
    }
}

/// The verified client certificate of an established connection, if it presented one.
pub fn peer_certificate(connection: &rustls::ServerConnection) -> Option<ClientCertificate> {
    connection.peer_certificates().and_then(|chain| chain.first()).map(|leaf| client_certificate(leaf))
}
