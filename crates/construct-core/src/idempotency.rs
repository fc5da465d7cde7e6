//! Idempotency keys with Stripe's semantics, as the rest of the gateway sees them.
//!
//! A client that may retry a mutating request sends `Idempotency-Key`. The first request with a key runs;
//! its response (unless a 5xx) is stored with a fingerprint of the request and replayed, byte for byte,
//! to every retry with the same key and the same request. A retry while the first is still running gets
//! 409; the same key on a different request gets 422. Keys are scoped by principal and route, so two
//! clients can never see each other's responses.
//!
//! The trait lets a shared backend (Redis) replace the in-process one for replicas.

use async_trait::async_trait;

use crate::devices::StoreError;

/// Longest accepted key, in bytes.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// A response kept for replay. Its `Debug` omits the body.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers worth replaying (content type and the like), as name/value pairs.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The exact body bytes.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for StoredResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredResponse")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// What a request with a key should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// First time: run it, then `complete` or `abandon` with this claim number. A claim that expired and
    /// was taken over by a retry no longer matches, so a late finisher cannot overwrite the retry's entry.
    New(u64),
    /// The first request with this key has not finished.
    InProgress,
    /// Done before with the same request: send this.
    Replay(StoredResponse),
    /// The key was used for a different request.
    Mismatch,
}

/// Where keys, fingerprints and stored responses live.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` within `scope` for a request with `fingerprint`, or reports what happened to it.
    async fn begin(&self, scope: &str, key: &str, fingerprint: [u8; 32]) -> Result<Begin, StoreError>;

    /// Stores the response of the key claimed as `claim` for replay (nothing if the claim is no longer held).
    async fn complete(
        &self,
        scope: &str,
        key: &str,
        claim: u64,
        response: StoredResponse,
    ) -> Result<(), StoreError>;

    /// Releases the key claimed as `claim` without storing anything (the request failed; a retry may run
    /// again). Nothing happens if the claim is no longer held.
    async fn abandon(&self, scope: &str, key: &str, claim: u64) -> Result<(), StoreError>;
}
