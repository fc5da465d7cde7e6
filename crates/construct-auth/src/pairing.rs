//! Pairing: turning a one-time code into a device token.
//!
//! The guessing defences stack up: the pair route's own rate limit (in the route layer), a per-client
//! lockout after `max_failed_attempts` wrong codes, and a global failure budget: once
//! `global_failure_budget` wrong codes arrive from anywhere within the window, the active code is
//! invalidated, so spreading guesses over many addresses does not help either. Codes expire after
//! `code_ttl_secs` and are single use.

use std::sync::Arc;
use std::time::Duration;

use construct_core::audit::{AuditEvent, AuditKind, AuditLog, record};
use construct_core::config::{GatewayConfig, PairingConfig};
use construct_core::devices::{Device, DeviceStore, NewDevice, PairingCode, StoreError};
use construct_core::limits::{FailureBudgetState, LockoutState, RetryAfter};
use construct_core::principal::Scopes;
use ring::rand::SystemRandom;
use serde_json::json;
use time::OffsetDateTime;

use crate::client::ClientKey;
use crate::code::generate_code;
use crate::lockout::{FailureBudget, FailureLockout};
use crate::token::{RandomUnavailable, issue_token};

/// Why pairing did not produce a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PairError {
    /// `require_pairing` is off: there is nothing to pair with.
    #[error("pairing is disabled for this gateway")]
    Disabled,
    /// Too many wrong codes from this client.
    #[error("too many failed attempts; retry in {}s", .0.0)]
    LockedOut(RetryAfter),
    /// The code is wrong, expired, used, or there is none.
    #[error("invalid or expired pairing code")]
    InvalidCode,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The system random source failed.
    #[error("the system random source failed")]
    Random,
}

impl From<RandomUnavailable> for PairError {
    fn from(_: RandomUnavailable) -> Self {
        PairError::Random
    }
}

/// A successful pairing or rotation: the token (shown once) and the device it belongs to.
pub struct Paired {
    /// The bearer token.
    pub token: String,
    /// The device.
    pub device: Device,
}

impl std::fmt::Debug for Paired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paired").field("device", &self.device).finish_non_exhaustive()
    }
}

/// Issues codes and exchanges them for tokens.
pub struct PairingService {
    store: Arc<dyn DeviceStore>,
    audit: Arc<dyn AuditLog>,
    config: PairingConfig,
    require_pairing: bool,
    rng: SystemRandom,
    lockout: Arc<dyn LockoutState>,
    budget: Arc<dyn FailureBudgetState>,
}

impl PairingService {
    /// A service over `store`, recording to `audit`, configured by `[gateway]` and `[gateway.pairing]`.
    pub fn new(store: Arc<dyn DeviceStore>, audit: Arc<dyn AuditLog>, gateway: &GatewayConfig) -> Self {
        let config = gateway.pairing.clone();
        let lockout: Arc<dyn LockoutState> = Arc::new(FailureLockout::new(
            config.max_failed_attempts,
            Duration::from_secs(config.lockout_secs),
            Duration::from_secs(config.lockout_secs),
            gateway.effective_rate_limit_max_keys(),
        ));
        let budget: Arc<dyn FailureBudgetState> = Arc::new(FailureBudget::new(
            config.global_failure_budget,
            Duration::from_secs(config.global_failure_window_secs),
        ));
        Self {
            store,
            audit,
            config,
            require_pairing: gateway.require_pairing,
            rng: SystemRandom::new(),
            lockout,
            budget,
        }
    }

    /// Keeps lockouts and the global failure budget in shared state (for replicas) instead of in process.
    pub fn with_failure_state(
        mut self,
        lockout: Arc<dyn LockoutState>,
        budget: Arc<dyn FailureBudgetState>,
    ) -> Self {
        self.lockout = lockout;
        self.budget = budget;
        self
    }

    /// Whether pairing is required (and so possible).
    pub fn is_required(&self) -> bool {
        self.require_pairing
    }

    /// At startup: when pairing is required and no device is paired, make sure a code is active and return
    /// it (for the banner). Otherwise `None`.
    pub async fn ensure_initial_code(&self) -> Result<Option<PairingCode>, PairError> {
        if !self.require_pairing || self.store.device_count().await? > 0 {
            return Ok(None);
        }
        match self.store.pairing_code(OffsetDateTime::now_utc()).await? {
            Some(code) => Ok(Some(code)),
            None => self.mint_code(None).await.map(Some),
        }
    }

    /// Makes a new code active (replacing any other); the device that redeems it gets `scopes`, or the
    /// default rule when `None`.
    pub async fn mint_code(&self, scopes: Option<Scopes>) -> Result<PairingCode, PairError> {
        if !self.require_pairing {
            return Err(PairError::Disabled);
        }
        let code = PairingCode {
            code: generate_code(&self.rng, self.config.code_length)?,
            // Validation caps the TTL at 30 days, so this cannot overflow.
            expires_at: OffsetDateTime::now_utc() + Duration::from_secs(self.config.code_ttl_secs),
            scopes,
        };
        self.store.set_pairing_code(&code).await?;
        Ok(code)
    }

    /// The active, unexpired code.
    pub async fn active_code(&self) -> Result<Option<PairingCode>, StoreError> {
        if !self.require_pairing {
            return Ok(None);
        }
        self.store.pairing_code(OffsetDateTime::now_utc()).await
    }

    /// Exchanges `candidate` from `client` for a token. The device is committed to the store before this
    /// returns, so a token handed to a client always survives a crash.
    pub async fn pair(
        &self,
        client: ClientKey,
        candidate: &str,
        device: NewDevice,
    ) -> Result<Paired, PairError> {
        if !self.require_pairing {
            return Err(PairError::Disabled);
        }
        // Counted before the outcome is known, so a burst of parallel guesses cannot all pass the check.
        let lockout_started = self.lockout.attempt(client.ip()).await.map_err(PairError::LockedOut)?;
        let issued = issue_token(&self.rng)?;
        let device = NewDevice { expires_at: self.token_expiry(), ..device };
        let redeemed = self
            .store
            .redeem_pairing_code(candidate.trim(), OffsetDateTime::now_utc(), device, &issued.hash)
            .await?;
        match redeemed {
            Some(device) => {
                self.lockout.clear(client.ip()).await;
                tracing::info!(device_id = %device.id, %client, scopes = %device.scopes.to_list(), "device paired");
                let detail = json!({"device_type": device.device_type, "scopes": device.scopes});
                let event =
                    AuditEvent::new(AuditKind::PairSuccess).actor(&device.id).client(client).detail(detail);
                record(&*self.audit, event).await;
                Ok(Paired { token: issued.token, device })
            }
            None => {
                record(&*self.audit, AuditEvent::new(AuditKind::PairFailure).client(client)).await;
                if let Some(wait) = lockout_started {
                    tracing::warn!(%client, lockout_secs = wait.0, "client locked out after wrong pairing codes");
                    let detail = json!({"reason": "pairing", "lockout_secs": wait.0});
                    record(&*self.audit, AuditEvent::new(AuditKind::Lockout).client(client).detail(detail))
                        .await;
                }
                if self.budget.record().await {
                    tracing::warn!(
                        "global pairing failure budget exhausted; invalidating the active pairing code"
                    );
                    self.store.clear_pairing_code().await?;
                    record(&*self.audit, AuditEvent::new(AuditKind::PairingCodeInvalidated)).await;
                }
                Err(PairError::InvalidCode)
            }
        }
    }

    /// Gives device `id` a new token; the old one stops working at once. `None` when no such device.
    pub async fn rotate(&self, id: &str) -> Result<Option<Paired>, PairError> {
        let issued = issue_token(&self.rng)?;
        Ok(self
            .store
            .rotate_token(id, &issued.hash)
            .await?
            .map(|device| Paired { token: issued.token, device }))
    }

    fn token_expiry(&self) -> Option<OffsetDateTime> {
        (self.config.token_ttl_days > 0)
            .then(|| OffsetDateTime::now_utc() + time::Duration::days(i64::from(self.config.token_ttl_days)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use construct_store::MemoryStore;
    use std::net::IpAddr;

    fn service(configure: impl FnOnce(&mut GatewayConfig)) -> (PairingService, Arc<MemoryStore>) {
        let store = Arc::new(MemoryStore::new());
        let mut config = GatewayConfig::default();
        configure(&mut config);
        (PairingService::new(store.clone(), Arc::new(construct_store::MemoryAuditLog::new()), &config), store)
    }

    fn client(n: u32) -> ClientKey {
        ClientKey::from_ip(IpAddr::from(n.to_be_bytes()))
    }

    #[tokio::test]
    async fn initial_code_then_pair_once() {
        let (pairing, store) = service(|_| {});
        let code = pairing.ensure_initial_code().await.unwrap().unwrap();
        assert_eq!(code.code.len(), 6);
        assert_eq!(pairing.ensure_initial_code().await.unwrap().map(|c| c.code), Some(code.code.clone()));
        let paired = pairing.pair(client(1), &code.code, NewDevice::default()).await.unwrap();
        assert!(paired.token.starts_with("cgw_"));
        assert_eq!(paired.device.scopes, Scopes::FIRST_DEVICE);
        assert_eq!(store.device_count().await.unwrap(), 1);
        assert_eq!(pairing.ensure_initial_code().await.unwrap(), None, "no code once paired");
        assert_eq!(
            pairing.pair(client(1), &code.code, NewDevice::default()).await.unwrap_err(),
            PairError::InvalidCode
        );
    }

    #[tokio::test]
    async fn per_client_lockout_after_five_failures_even_for_the_right_code() {
        let (pairing, _) = service(|_| {});
        let code = pairing.mint_code(None).await.unwrap();
        for _ in 0..5 {
            assert_eq!(
                pairing.pair(client(1), "000000x", NewDevice::default()).await.unwrap_err(),
                PairError::InvalidCode
            );
        }
        assert!(matches!(
            pairing.pair(client(1), &code.code, NewDevice::default()).await,
            Err(PairError::LockedOut(RetryAfter(300)))
        ));
        // Another client is unaffected and can still pair with the code.
        assert!(pairing.pair(client(2), &code.code, NewDevice::default()).await.is_ok());
    }

    #[tokio::test]
    async fn distributed_guessing_exhausts_the_global_budget_and_kills_the_code() {
        let (pairing, store) = service(|g| g.pairing.global_failure_budget = 20);
        let code = pairing.mint_code(None).await.unwrap();
        // 20 wrong guesses from 20 addresses: no single address gets near its own lockout.
        for n in 0..20 {
            let wrong = if code.code == "999999" { "111111" } else { "999999" };
            assert_eq!(
                pairing.pair(client(n), wrong, NewDevice::default()).await.unwrap_err(),
                PairError::InvalidCode
            );
        }
        assert_eq!(store.pairing_code(OffsetDateTime::now_utc()).await.unwrap(), None);
        assert_eq!(
            pairing.pair(client(99), &code.code, NewDevice::default()).await.unwrap_err(),
            PairError::InvalidCode,
            "the right code no longer works"
        );
    }

    #[tokio::test]
    async fn disabled_pairing_refuses_everything() {
        let (pairing, _) = service(|g| g.require_pairing = false);
        assert_eq!(pairing.ensure_initial_code().await.unwrap(), None);
        assert_eq!(pairing.mint_code(None).await.unwrap_err(), PairError::Disabled);
        assert_eq!(
            pairing.pair(client(1), "123456", NewDevice::default()).await.unwrap_err(),
            PairError::Disabled
        );
    }

    #[tokio::test]
    async fn rotation_and_expiry() {
        let (pairing, store) = service(|g| g.pairing.token_ttl_days = 30);
        let code = pairing.mint_code(None).await.unwrap();
        let first = pairing.pair(client(1), &code.code, NewDevice::default()).await.unwrap();
        assert!(first.device.expires_at.is_some());
        let rotated = pairing.rotate(&first.device.id).await.unwrap().unwrap();
        assert_ne!(rotated.token, first.token);
        let old = crate::token::hash_token(&first.token);
        assert_eq!(store.device_by_token(&old).await.unwrap(), None);
        assert!(pairing.rotate("missing").await.unwrap().is_none());
    }
}
