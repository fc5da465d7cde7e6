//! The in-process idempotency store: bounded and TTL'd.
//!
//! Entries live `ttl`; a claim that is never completed (a crashed or cancelled request) expires after
//! `claim_ttl`, so a key cannot stay "in progress" forever. At capacity, expired entries go first, then
//! the oldest completed ones; fresh claims are never evicted, so a flood of new keys cannot make a
//! running request's retry execute twice.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use construct_core::devices::StoreError;
use construct_core::idempotency::{Begin, IdempotencyStore, StoredResponse};

enum State {
    Claimed(Instant, u64),
    Done(StoredResponse),
}

struct Entry {
    fingerprint: [u8; 32],
    created: Instant,
    state: State,
}

#[derive(Default)]
struct Table {
    entries: HashMap<(String, String), Entry>,
    // Insertion order, for eviction; may hold keys already removed.
    order: VecDeque<(String, String)>,
}

/// See the module documentation.
pub struct MemoryIdempotency {
    ttl: Duration,
    claim_ttl: Duration,
    max_keys: usize,
    table: Mutex<Table>,
    claims: std::sync::atomic::AtomicU64,
}

impl MemoryIdempotency {
    /// A store keeping responses for `ttl`, claims for `claim_ttl`, at most `max_keys` keys.
    pub fn new(ttl: Duration, claim_ttl: Duration, max_keys: usize) -> Self {
        Self {
            ttl,
            claim_ttl,
            max_keys: max_keys.max(1),
            table: Mutex::new(Table::default()),
            claims: std::sync::atomic::AtomicU64::new(1),
        }
    }

    fn expired(&self, entry: &Entry, now: Instant) -> bool {
        match entry.state {
            State::Claimed(at, _) => now.duration_since(at) >= self.claim_ttl,
            State::Done(_) => now.duration_since(entry.created) >= self.ttl,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Table) -> T) -> Result<T, StoreError> {
        let mut table =
            self.table.lock().map_err(|_| StoreError::Unavailable("idempotency table poisoned".into()))?;
        Ok(f(&mut table))
    }

    /// Makes room for one more key, or reports that every entry is a fresh claim.
    fn make_room(&self, table: &mut Table, now: Instant) -> bool {
        if table.entries.len() < self.max_keys {
            return true;
        }
        table.entries.retain(|_, e| !self.expired(e, now));
        let Table { entries, order } = table;
        order.retain(|k| entries.contains_key(k));
        while entries.len() >= self.max_keys {
            let Some(position) =
                order.iter().position(|k| matches!(entries.get(k).map(|e| &e.state), Some(State::Done(_))))
            else {
                return false;
            };
            if let Some(key) = order.remove(position) {
                entries.remove(&key);
            }
        }
        true
    }
}

#[async_trait]
impl IdempotencyStore for MemoryIdempotency {
    async fn begin(&self, scope: &str, key: &str, fingerprint: [u8; 32]) -> Result<Begin, StoreError> {
        let now = Instant::now();
        let id = (scope.to_owned(), key.to_owned());
        self.with(|table| {
            if let Some(entry) = table.entries.get(&id) {
                if !self.expired(entry, now) {
                    return Ok(if entry.fingerprint != fingerprint {
                        Begin::Mismatch
                    } else {
                        match &entry.state {
                            State::Claimed(..) => Begin::InProgress,
                            State::Done(response) => Begin::Replay(response.clone()),
                        }
                    });
                }
                table.entries.remove(&id);
            }
            if !self.make_room(table, now) {
                return Err(StoreError::Unavailable(
                    "idempotency store is full of requests in progress".into(),
                ));
            }
            let claim = self.claims.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            table.order.push_back(id.clone());
            table.entries.insert(id, Entry { fingerprint, created: now, state: State::Claimed(now, claim) });
            Ok(Begin::New(claim))
        })?
    }

    async fn complete(
        &self,
        scope: &str,
        key: &str,
        claim: u64,
        response: StoredResponse,
    ) -> Result<(), StoreError> {
        let id = (scope.to_owned(), key.to_owned());
        self.with(|table| {
            if let Some(entry) = table.entries.get_mut(&id)
                && matches!(entry.state, State::Claimed(_, held) if held == claim)
            {
                entry.created = Instant::now();
                entry.state = State::Done(response);
            }
        })
    }

    async fn abandon(&self, scope: &str, key: &str, claim: u64) -> Result<(), StoreError> {
        let id = (scope.to_owned(), key.to_owned());
        self.with(|table| {
            if matches!(table.entries.get(&id).map(|e| &e.state), Some(State::Claimed(_, held)) if *held == claim) {
                table.entries.remove(&id);
            }
        })
    }
}
