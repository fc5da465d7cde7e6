//! Paired devices, their token hashes, and the one-time pairing code: the state the auth layer reads on
//! every request.
//!
//! The trait is written for more than one process: every method is async and fallible, and the operations
//! that must be atomic (redeeming a code, rotating a token) are single calls, so SQLite does them in one
//! transaction and a Redis implementation can do them in one script.

use std::fmt;

use async_trait::async_trait;
use serde::Serialize;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::principal::Scopes;

/// SHA-256 of a device token. The token itself is never stored.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    /// Lowercase hex, as stored.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex characters.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(Self(out))
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Even a hash is not worth printing whole.
        write!(f, "TokenHash({}…)", &self.to_hex()[..8])
    }
}

/// A paired device, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    /// Stable id (a UUID).
    pub id: String,
    /// Name given when pairing.
    pub name: Option<String>,
    /// Kind given when pairing (`"browser"`, `"cli"`, `"legacy-pair"`, ...).
    pub device_type: Option<String>,
    /// What the device may do.
    pub scopes: Scopes,
    /// When it paired.
    #[serde(with = "time::serde::rfc3339")]
    pub paired_at: OffsetDateTime,
    /// When its token was last used (kept to within a minute).
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_seen: Option<OffsetDateTime>,
    /// The client address it last used.
    pub ip_address: Option<String>,
    /// When its token stops working, if ever.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

impl Device {
    /// Whether the device's token has expired at `now`.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// What a device asks for when it pairs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewDevice {
    /// Its name.
    pub name: Option<String>,
    /// Its kind.
    pub device_type: Option<String>,
    /// The client address it paired from.
    pub ip_address: Option<String>,
    /// When its token should expire.
    pub expires_at: Option<OffsetDateTime>,
}

impl NewDevice {
    /// The device this request becomes when it redeems `code` at `now`, as device `id` among
    /// `existing_devices` others. Every store builds new devices here, so the scope rule lives in one place.
    pub fn into_device(
        self,
        id: String,
        code: &PairingCode,
        existing_devices: u64,
        now: OffsetDateTime,
    ) -> Device {
        Device {
            id,
            name: self.name,
            device_type: self.device_type,
            scopes: scopes_for_new_device(code, existing_devices),
            paired_at: now,
            last_seen: Some(now),
            ip_address: self.ip_address,
            expires_at: self.expires_at,
        }
    }
}

/// The active one-time pairing code.
#[derive(Clone, PartialEq, Eq)]
pub struct PairingCode {
    /// The digits.
    pub code: String,
    /// When it stops being accepted.
    pub expires_at: OffsetDateTime,
    /// Scopes the device that redeems it gets; `None` means the default rule (first device: read, chat,
    /// admin; later devices: read, chat).
    pub scopes: Option<Scopes>,
}

impl PairingCode {
    /// Compares `candidate` with the code in constant time (no early exit on the first differing digit).
    pub fn matches(&self, candidate: &str) -> bool {
        let a = self.code.as_bytes();
        let b = candidate.trim().as_bytes();
        // Length is not secret (codes have a configured length); content is.
        a.len() == b.len() && bool::from(a.ct_eq(b))
    }
}

impl fmt::Debug for PairingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PairingCode")
            .field("code", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// A store failure. The message is for logs, never for clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The backend could not be reached or refused the operation.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Stored data does not parse.
    #[error("store data is corrupt: {0}")]
    Corrupt(String),
}

/// Devices, token hashes and the pairing code.
#[async_trait]
pub trait DeviceStore: Send + Sync {
    /// A short name for logs and `/api/status` (`"sqlite"`, `"memory"`).
    fn backend(&self) -> &'static str;

    /// A number that changes whenever a device or token changes (pairing, revocation, rotation), in this
    /// process or, within about a second, in another one sharing the store. Caches compare it to know when
    /// to drop what they hold. `last_seen` updates do not change it.
    fn revision(&self) -> u64;

    /// How many devices are paired.
    async fn device_count(&self) -> Result<u64, StoreError>;

    /// Every device, oldest first.
    async fn list_devices(&self) -> Result<Vec<Device>, StoreError>;

    /// The device holding the token with this hash.
    async fn device_by_token(&self, hash: &TokenHash) -> Result<Option<Device>, StoreError>;

    /// Removes the device and its token at once. `false` when no such device exists.
    async fn revoke_device(&self, id: &str) -> Result<bool, StoreError>;

    /// Replaces the device's token hash atomically: the old token stops working. `None` when no such device.
    async fn rotate_token(&self, id: &str, new_hash: &TokenHash) -> Result<Option<Device>, StoreError>;

    /// Records that the device was seen at `at` from `ip`.
    async fn touch_device(&self, id: &str, at: OffsetDateTime, ip: Option<&str>) -> Result<(), StoreError>;

    /// Makes `code` the active pairing code, replacing any other.
    async fn set_pairing_code(&self, code: &PairingCode) -> Result<(), StoreError>;

    /// The active pairing code, if one exists and has not expired at `now`.
    async fn pairing_code(&self, now: OffsetDateTime) -> Result<Option<PairingCode>, StoreError>;

    /// Invalidates the active pairing code.
    async fn clear_pairing_code(&self) -> Result<(), StoreError>;

    /// Adds `device` holding the token with hash `hash`, without a pairing code: the operator who can write
    /// the store issues it (`construct-gateway token create`).
    async fn create_device(&self, device: &Device, hash: &TokenHash) -> Result<(), StoreError>;

    /// In one atomic step: if `candidate` matches the active, unexpired code, consume the code and insert
    /// `device` holding the token with hash `hash`. `Ok(None)` when the code does not match.
    async fn redeem_pairing_code(
        &self,
        candidate: &str,
        now: OffsetDateTime,
        device: NewDevice,
        hash: &TokenHash,
    ) -> Result<Option<Device>, StoreError>;
}

/// The scopes a newly paired device gets: those the code carries, else the default rule.
pub fn scopes_for_new_device(code: &PairingCode, existing_devices: u64) -> Scopes {
    code.scopes.unwrap_or(if existing_devices == 0 { Scopes::FIRST_DEVICE } else { Scopes::DEFAULT_DEVICE })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hash_hex_round_trip() {
        let hash = TokenHash([0xab; 32]);
        assert_eq!(TokenHash::from_hex(&hash.to_hex()), Some(hash));
        assert_eq!(TokenHash::from_hex("zz"), None);
        assert_eq!(TokenHash::from_hex(&"g".repeat(64)), None);
        assert!(!format!("{hash:?}").contains(&hash.to_hex()));
    }

    #[test]
    fn code_matching() {
        let code =
            PairingCode { code: "012345".into(), expires_at: OffsetDateTime::UNIX_EPOCH, scopes: None };
        assert!(code.matches("012345"));
        assert!(code.matches(" 012345 "));
        assert!(!code.matches("012346"));
        assert!(!code.matches("01234"));
        assert!(!code.matches(""));
        assert!(!format!("{code:?}").contains("012345"));
    }
}
