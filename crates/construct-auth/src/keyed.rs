//! A bounded, sharded map from client key to a small piece of limiter state.
//!
//! The bound is what stops a flood of new addresses from exhausting memory. The eviction rule is what stops
//! that flood from *helping* an attacker: only entries that carry no information (a fully replenished rate
//! limit, an expired lockout) are ever dropped. When a shard is full of live entries, further new keys share
//! that shard's single overflow entry: they are limited together instead of not at all, and no limited
//! client is ever reset to a fresh state.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::client::ClientKey;

const SHARDS: usize = 16;
/// How often a full shard may scan for stale entries; between scans, new keys go to the overflow entry.
const PRUNE_INTERVAL: Duration = Duration::from_secs(1);

/// State that can say whether dropping it would lose anything. Times are nanoseconds since the map's
/// epoch, which keeps entries to a few bytes.
pub(crate) trait Expiring: Default {
    /// `true` when the entry is indistinguishable from a fresh one at `now`.
    fn is_stale(&self, now: u64) -> bool;
}

struct Shard<V> {
    map: HashMap<ClientKey, V>,
    overflow: V,
    next_prune: Option<Instant>,
}

/// See the module documentation.
pub(crate) struct BoundedMap<V> {
    shards: Box<[Mutex<Shard<V>>]>,
    per_shard: usize,
    hasher: RandomState,
    epoch: Instant,
}

impl<V: Expiring> BoundedMap<V> {
    /// A map holding at most about `max_keys` keys (at least one per shard).
    pub(crate) fn new(max_keys: usize) -> Self {
        let per_shard = max_keys.div_ceil(SHARDS).max(1);
        let shards = (0..SHARDS)
            .map(|_| Mutex::new(Shard { map: HashMap::new(), overflow: V::default(), next_prune: None }))
            .collect();
        Self { shards, per_shard, hasher: RandomState::new(), epoch: Instant::now() }
    }

    /// Runs `f` on the entry for `key`, creating it (or using the overflow entry) as described above.
    /// `f` also receives `now` as nanoseconds since the map's epoch, and whether the entry is the shared
    /// overflow entry (which callers may treat more leniently: it stands for many clients).
    pub(crate) fn with<R>(&self, key: ClientKey, now: Instant, f: impl FnOnce(&mut V, u64, bool) -> R) -> R {
        let now_nanos = now.saturating_duration_since(self.epoch).as_nanos() as u64;
        let index = (self.hasher.hash_one(key) as usize) % self.shards.len();
        let mut shard = match self.shards[index].lock() {
            Ok(guard) => guard,
            // A panic while holding the lock left at worst one stale entry; keep limiting.
            Err(poisoned) => poisoned.into_inner(),
        };
        let shard = &mut *shard;
        if let Some(entry) = shard.map.get_mut(&key) {
            return f(entry, now_nanos, false);
        }
        if shard.map.len() >= self.per_shard && shard.next_prune.is_none_or(|at| now >= at) {
            shard.map.retain(|_, v| !v.is_stale(now_nanos));
            shard.next_prune = Some(now + PRUNE_INTERVAL);
        }
        if shard.map.len() < self.per_shard {
            return f(shard.map.entry(key).or_default(), now_nanos, false);
        }
        f(&mut shard.overflow, now_nanos, true)
    }

    /// Removes `key`'s entry.
    pub(crate) fn remove(&self, key: ClientKey) {
        let index = (self.hasher.hash_one(key) as usize) % self.shards.len();
        if let Ok(mut shard) = self.shards[index].lock() {
            shard.map.remove(&key);
        }
    }

    /// How many keys are tracked (not counting overflow entries).
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().map(|s| s.map.len()).unwrap_or(0)).sum()
    }
}
