//! The webhook work queue in memory: the semantics of [`crate::SqliteWorkQueue`] for tests and throwaway
//! gateways (work accepted here is lost on exit, so `run_gateway` uses SQLite).

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use construct_core::devices::StoreError;
use construct_core::queue::{DEDUPE_WINDOW, Enqueued, WorkItem, WorkQueue};

struct Entry {
    item: WorkItem,
    ready: Instant,
    claimed_until: Option<Instant>,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    items: BTreeMap<u64, Entry>,
    /// Remembered (channel, provider id) keys, and the order they expire in.
    seen: HashSet<(String, String)>,
    seen_order: VecDeque<(Instant, (String, String))>,
}

/// See the module documentation.
pub struct MemoryWorkQueue {
    inner: Mutex<Inner>,
    capacity: u64,
}

impl MemoryWorkQueue {
    /// A queue holding at most `capacity` items.
    pub fn new(capacity: u64) -> Self {
        Self { inner: Mutex::new(Inner::default()), capacity: capacity.max(1) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that matters here.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl WorkQueue for MemoryWorkQueue {
    async fn enqueue(
        &self,
        channel: &str,
        provider_id: Option<&str>,
        session: &str,
        payload: serde_json::Value,
    ) -> Result<Enqueued, StoreError> {
        let now = Instant::now();
        let mut inner = self.lock();
        while inner.seen_order.front().is_some_and(|(at, _)| now.duration_since(*at) >= DEDUPE_WINDOW) {
            if let Some((_, key)) = inner.seen_order.pop_front() {
                inner.seen.remove(&key);
            }
        }
        let key = provider_id.map(|id| (channel.to_owned(), id.to_owned()));
        if key.as_ref().is_some_and(|k| inner.seen.contains(k)) {
            return Ok(Enqueued::Duplicate);
        }
        if inner.items.len() as u64 >= self.capacity {
            return Ok(Enqueued::Full);
        }
        if let Some(key) = key {
            inner.seen.insert(key.clone());
            inner.seen_order.push_back((now, key));
        }
        inner.next_id += 1;
        let id = inner.next_id;
        let item = WorkItem {
            id,
            channel: channel.to_owned(),
            provider_id: provider_id.map(str::to_owned),
            session: session.to_owned(),
            payload,
            attempts: 0,
        };
        inner.items.insert(id, Entry { item, ready: now, claimed_until: None });
        Ok(Enqueued::Accepted(id))
    }

    async fn claim(&self, visibility: Duration) -> Result<Option<WorkItem>, StoreError> {
        let now = Instant::now();
        let mut inner = self.lock();
        // Only the oldest item of each session is eligible (see the SQLite queue).
        let mut sessions = HashSet::new();
        for entry in inner.items.values_mut() {
            if !sessions.insert(entry.item.session.clone()) {
                continue;
            }
            let free = entry.claimed_until.is_none_or(|until| until <= now);
            if entry.ready <= now && free {
                entry.claimed_until = Some(now + visibility);
                let item = entry.item.clone();
                entry.item.attempts = entry.item.attempts.saturating_add(1);
                return Ok(Some(item));
            }
        }
        Ok(None)
    }

    async fn ack(&self, id: u64) -> Result<(), StoreError> {
        self.lock().items.remove(&id);
        Ok(())
    }

    async fn retry(&self, id: u64, delay: Duration) -> Result<(), StoreError> {
        if let Some(entry) = self.lock().items.get_mut(&id) {
            entry.claimed_until = None;
            entry.ready = Instant::now() + delay;
        }
        Ok(())
    }

    async fn depth(&self) -> Result<u64, StoreError> {
        Ok(self.lock().items.len() as u64)
    }
}
