//! The in-memory store: the trait's semantics with no persistence.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use construct_core::devices::{Device, DeviceStore, NewDevice, PairingCode, StoreError, TokenHash};
use time::OffsetDateTime;

/// Everything in one mutex: operations are short and must be atomic with respect to each other.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    revision: AtomicU64,
}

#[derive(Default)]
struct State {
    devices: Vec<(TokenHash, Device)>,
    code: Option<PairingCode>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn changed(&self) {
        self.revision.fetch_add(1, Ordering::AcqRel);
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> Result<T, StoreError> {
        let mut state =
            self.state.lock().map_err(|_| StoreError::Unavailable("memory store poisoned".into()))?;
        Ok(f(&mut state))
    }
}

#[async_trait]
impl DeviceStore for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn revision(&self) -> u64 {
        self.revision.load(Ordering::Acquire)
    }

    async fn device_count(&self) -> Result<u64, StoreError> {
        self.with(|s| s.devices.len() as u64)
    }

    async fn list_devices(&self) -> Result<Vec<Device>, StoreError> {
        self.with(|s| s.devices.iter().map(|(_, d)| d.clone()).collect())
    }

    async fn device_by_token(&self, hash: &TokenHash) -> Result<Option<Device>, StoreError> {
        self.with(|s| s.devices.iter().find(|(h, _)| h == hash).map(|(_, d)| d.clone()))
    }

    async fn revoke_device(&self, id: &str) -> Result<bool, StoreError> {
        let revoked = self.with(|s| {
            let before = s.devices.len();
            s.devices.retain(|(_, d)| d.id != id);
            s.devices.len() != before
        });
        if revoked == Ok(true) {
            self.changed();
        }
        revoked
    }

    async fn rotate_token(&self, id: &str, new_hash: &TokenHash) -> Result<Option<Device>, StoreError> {
        let rotated = self.with(|s| {
            s.devices.iter_mut().find(|(_, d)| d.id == id).map(|(hash, device)| {
                *hash = *new_hash;
                device.clone()
            })
        });
        if matches!(rotated, Ok(Some(_))) {
            self.changed();
        }
        rotated
    }

    async fn touch_device(&self, id: &str, at: OffsetDateTime, ip: Option<&str>) -> Result<(), StoreError> {
        self.with(|s| {
            if let Some((_, device)) = s.devices.iter_mut().find(|(_, d)| d.id == id) {
                device.last_seen = Some(at);
                if let Some(ip) = ip {
                    device.ip_address = Some(ip.to_owned());
                }
            }
        })
    }

    async fn set_pairing_code(&self, code: &PairingCode) -> Result<(), StoreError> {
        self.with(|s| s.code = Some(code.clone()))
    }

    async fn pairing_code(&self, now: OffsetDateTime) -> Result<Option<PairingCode>, StoreError> {
        self.with(|s| s.code.clone().filter(|c| c.expires_at > now))
    }

    async fn clear_pairing_code(&self) -> Result<(), StoreError> {
        self.with(|s| s.code = None)
    }

    async fn create_device(&self, device: &Device, hash: &TokenHash) -> Result<(), StoreError> {
        self.with(|s| s.devices.push((*hash, device.clone())))?;
        self.changed();
        Ok(())
    }

    async fn redeem_pairing_code(
        &self,
        candidate: &str,
        now: OffsetDateTime,
        device: NewDevice,
        hash: &TokenHash,
    ) -> Result<Option<Device>, StoreError> {
        let redeemed = self.with(|s| {
            let code = s.code.as_ref().filter(|c| c.expires_at > now && c.matches(candidate))?.clone();
            s.code = None;
            let paired =
                device.into_device(uuid::Uuid::new_v4().to_string(), &code, s.devices.len() as u64, now);
            s.devices.push((*hash, paired.clone()));
            Some(paired)
        });
        if matches!(redeemed, Ok(Some(_))) {
            self.changed();
        }
        redeemed
    }
}
