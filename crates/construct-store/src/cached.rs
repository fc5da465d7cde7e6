//! A read-through cache in front of any `DeviceStore`, for the lookups made on every request.
//!
//! Every authenticated request resolves its token, and `/api/status` counts devices; against SQLite each
//! is a trip to the blocking pool. This cache answers those two from memory while the store's
//! [`DeviceStore::revision`] is unchanged. Any pairing, revocation or rotation changes the revision, after
//! its write commits, so the next lookup goes back to the store: a revoked token fails on its very next
//! request. Entries are tagged with the revision read *before* the store was asked, so a lookup racing a
//! revocation can never keep the old answer under the new revision.
//!
//! Only hits are cached (a flood of wrong tokens cannot fill it), and the cache is bounded.

use std::collections::HashMap;
use std::sync::{RwLock, RwLockWriteGuard};

use async_trait::async_trait;
use construct_core::devices::{Device, DeviceStore, NewDevice, PairingCode, StoreError, TokenHash};
use time::OffsetDateTime;

/// Most token lookups kept; past this the cache starts over.
const MAX_ENTRIES: usize = 4_096;

#[derive(Default)]
struct Entries {
    revision: u64,
    tokens: HashMap<TokenHash, Device>,
    count: Option<u64>,
}

/// See the module documentation.
pub struct CachedDeviceStore<S> {
    inner: S,
    // A read-write lock: hits, the common case, only read and never wait for each other.
    entries: RwLock<Entries>,
}

impl<S: DeviceStore> CachedDeviceStore<S> {
    /// A cache in front of `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner, entries: RwLock::new(Entries::default()) }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Reads the entries if they are from `revision`.
    fn read<T>(&self, revision: u64, f: impl FnOnce(&Entries) -> Option<T>) -> Option<T> {
        let entries = match self.entries.read() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if entries.revision == revision { f(&entries) } else { None }
    }

    /// The entries for writing, emptied first if the store changed since they were filled.
    fn current(&self, revision: u64) -> RwLockWriteGuard<'_, Entries> {
        let mut entries = match self.entries.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Only ever move forward: a slow lookup that read an older revision must not roll the cache back.
        if revision > entries.revision {
            *entries = Entries { revision, ..Entries::default() };
        }
        entries
    }
}

#[async_trait]
impl<S: DeviceStore> DeviceStore for CachedDeviceStore<S> {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn revision(&self) -> u64 {
        self.inner.revision()
    }

    async fn device_count(&self) -> Result<u64, StoreError> {
        let revision = self.inner.revision();
        if let Some(count) = self.read(revision, |e| e.count) {
            return Ok(count);
        }
        let count = self.inner.device_count().await?;
        let mut entries = self.current(revision);
        if entries.revision == revision {
            entries.count = Some(count);
        }
        Ok(count)
    }

    async fn list_devices(&self) -> Result<Vec<Device>, StoreError> {
        self.inner.list_devices().await
    }

    async fn device_by_token(&self, hash: &TokenHash) -> Result<Option<Device>, StoreError> {
        let revision = self.inner.revision();
        if let Some(device) = self.read(revision, |e| e.tokens.get(hash).cloned()) {
            return Ok(Some(device));
        }
        let found = self.inner.device_by_token(hash).await?;
        if let Some(device) = &found {
            let mut entries = self.current(revision);
            if entries.revision == revision {
                if entries.tokens.len() >= MAX_ENTRIES {
                    entries.tokens.clear();
                }
                entries.tokens.insert(*hash, device.clone());
            }
        }
        Ok(found)
    }

    async fn revoke_device(&self, id: &str) -> Result<bool, StoreError> {
        self.inner.revoke_device(id).await
    }

    async fn rotate_token(&self, id: &str, new_hash: &TokenHash) -> Result<Option<Device>, StoreError> {
        self.inner.rotate_token(id, new_hash).await
    }

    async fn touch_device(&self, id: &str, at: OffsetDateTime, ip: Option<&str>) -> Result<(), StoreError> {
        self.inner.touch_device(id, at, ip).await?;
        // Keep cached copies in step, as the store's own lookups would be.
        let mut entries = self.current(self.inner.revision());
        for device in entries.tokens.values_mut().filter(|d| d.id == id) {
            device.last_seen = Some(at);
            if let Some(ip) = ip {
                device.ip_address = Some(ip.to_owned());
            }
        }
        Ok(())
    }

    async fn set_pairing_code(&self, code: &PairingCode) -> Result<(), StoreError> {
        self.inner.set_pairing_code(code).await
    }

    async fn pairing_code(&self, now: OffsetDateTime) -> Result<Option<PairingCode>, StoreError> {
        self.inner.pairing_code(now).await
    }

    async fn clear_pairing_code(&self) -> Result<(), StoreError> {
        self.inner.clear_pairing_code().await
    }

    async fn create_device(&self, device: &Device, hash: &TokenHash) -> Result<(), StoreError> {
        self.inner.create_device(device, hash).await
    }

    async fn redeem_pairing_code(
        &self,
        candidate: &str,
        now: OffsetDateTime,
        device: NewDevice,
        hash: &TokenHash,
    ) -> Result<Option<Device>, StoreError> {
        self.inner.redeem_pairing_code(candidate, now, device, hash).await
    }
}
