//! The session queue: turns of one chat session run one at a time, in arrival order, whichever socket
//! sent them.
//!
//! Each session key has a FIFO lock and a count of turns holding or waiting for it. A turn that finds
//! `max_depth` turns already there is refused at once (`QueueFull`); one that waits longer than
//! `lock_timeout` gives up (`Timeout`). Every turn goes through the lock, the first one on a connection too
//! (upstream let the first message skip it). Entries of idle sessions are swept out as turns arrive, at
//! most once per sweep period, so the map stays bounded by the sessions active within `idle_ttl`
//! (upstream's eviction was never scheduled, so the map grew forever). A waiter that is dropped (its
//! socket closed) leaves the count as it found it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Turns that may hold or wait for one session's lock.
pub const MAX_DEPTH: usize = 8;
/// How long a turn waits for the lock.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an unused session entry is kept.
pub const IDLE_TTL: Duration = Duration::from_secs(600);

/// Why a turn could not have the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Busy {
    /// `pending` turns already hold or wait for it.
    #[error("queue full ({pending} pending requests)")]
    QueueFull {
        /// Turns holding or waiting.
        pending: usize,
    },
    /// Waited `lock_timeout` in vain.
    #[error("timed out waiting for the session")]
    Timeout,
}

struct Slot {
    lock: Arc<Semaphore>,
    pending: usize,
    last_used: Instant,
}

struct Slots {
    map: HashMap<String, Slot>,
    last_sweep: Instant,
}

struct Inner {
    slots: Mutex<Slots>,
    max_depth: usize,
    lock_timeout: Duration,
    idle_ttl: Duration,
}

/// See the module documentation. Cheap to clone.
#[derive(Clone)]
pub struct SessionQueue(Arc<Inner>);

impl Default for SessionQueue {
    fn default() -> Self {
        Self::new(MAX_DEPTH, LOCK_TIMEOUT, IDLE_TTL)
    }
}

/// The lock of one session, held for a turn.
pub struct TurnGuard {
    _permit: OwnedSemaphorePermit,
    _pending: Pending,
}

/// One turn counted in its session's `pending`; uncounted on drop.
struct Pending {
    queue: SessionQueue,
    key: String,
}

impl Drop for Pending {
    fn drop(&mut self) {
        let mut slots = self.queue.slots();
        if let Some(slot) = slots.map.get_mut(&self.key) {
            slot.pending = slot.pending.saturating_sub(1);
            slot.last_used = Instant::now();
        }
    }
}

impl SessionQueue {
    /// A queue with these limits.
    pub fn new(max_depth: usize, lock_timeout: Duration, idle_ttl: Duration) -> Self {
        Self(Arc::new(Inner {
            slots: Mutex::new(Slots { map: HashMap::new(), last_sweep: Instant::now() }),
            max_depth: max_depth.max(1),
            lock_timeout,
            idle_ttl,
        }))
    }

    fn slots(&self) -> MutexGuard<'_, Slots> {
        self.0.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn sweep(&self, slots: &mut Slots) -> usize {
        let ttl = self.0.idle_ttl;
        let before = slots.map.len();
        slots.map.retain(|_, slot| slot.pending > 0 || slot.last_used.elapsed() < ttl);
        slots.last_sweep = Instant::now();
        before - slots.map.len()
    }

    /// Waits for `key`'s lock, in arrival order.
    pub async fn acquire(&self, key: &str) -> Result<TurnGuard, Busy> {
        let (lock, pending) = {
            let mut slots = self.slots();
            if slots.last_sweep.elapsed() >= self.0.idle_ttl.min(Duration::from_secs(60)) {
                self.sweep(&mut slots);
            }
            let slot = slots.map.entry(key.to_owned()).or_insert_with(|| Slot {
                lock: Arc::new(Semaphore::new(1)),
                pending: 0,
                last_used: Instant::now(),
            });
            if slot.pending >= self.0.max_depth {
                return Err(Busy::QueueFull { pending: slot.pending });
            }
            slot.pending += 1;
            slot.last_used = Instant::now();
            (Arc::clone(&slot.lock), Pending { queue: self.clone(), key: key.to_owned() })
        };
        match tokio::time::timeout(self.0.lock_timeout, lock.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(TurnGuard { _permit: permit, _pending: pending }),
            // The semaphore is never closed; either way the pending count is given back by `pending`'s drop.
            Ok(Err(_)) | Err(_) => Err(Busy::Timeout),
        }
    }

    /// Turns holding or waiting for `key`'s lock.
    pub fn depth(&self, key: &str) -> usize {
        self.slots().map.get(key).map_or(0, |slot| slot.pending)
    }

    /// Session entries held (for tests and metrics).
    pub fn len(&self) -> usize {
        self.slots().map.len()
    }

    /// Whether no session entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes entries unused for `idle_ttl` with no turn holding or waiting; returns how many.
    pub fn evict_idle(&self) -> usize {
        let mut slots = self.slots();
        self.sweep(&mut slots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serializes_one_session_and_not_others() {
        let q = SessionQueue::default();
        let held = q.acquire("a").await.unwrap();
        assert_eq!(q.depth("a"), 1);
        let _other = q.acquire("b").await.unwrap();
        let waiting = tokio::spawn({
            let q = q.clone();
            async move { q.acquire("a").await.map(|_| ()) }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(q.depth("a"), 2, "holder plus waiter");
        assert!(!waiting.is_finished());
        drop(held);
        waiting.await.unwrap().unwrap();
        assert_eq!(q.depth("a"), 0);
    }

    #[tokio::test]
    async fn depth_limit_and_timeout() {
        let q = SessionQueue::new(2, Duration::from_millis(50), IDLE_TTL);
        let _held = q.acquire("a").await.unwrap();
        let waiter = tokio::spawn({
            let q = q.clone();
            async move { q.acquire("a").await.map(|_| ()) }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(q.acquire("a").await.err(), Some(Busy::QueueFull { pending: 2 }));
        assert_eq!(waiter.await.unwrap(), Err(Busy::Timeout));
        assert_eq!(q.depth("a"), 1, "the timed-out waiter is no longer counted");
    }

    #[tokio::test]
    async fn a_dropped_waiter_gives_its_place_back() {
        let q = SessionQueue::default();
        let held = q.acquire("a").await.unwrap();
        let waiter = tokio::spawn({
            let q = q.clone();
            async move { q.acquire("a").await.map(|_| ()) }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        waiter.abort();
        let _ = waiter.await;
        assert_eq!(q.depth("a"), 1);
        drop(held);
        assert_eq!(q.depth("a"), 0);
    }

    #[tokio::test]
    async fn idle_entries_are_swept_as_turns_arrive() {
        let q = SessionQueue::new(8, LOCK_TIMEOUT, Duration::from_millis(20));
        drop(q.acquire("a").await.unwrap());
        let busy = q.acquire("b").await.unwrap();
        assert_eq!(q.len(), 2);
        tokio::time::sleep(Duration::from_millis(40)).await;
        drop(q.acquire("c").await.unwrap());
        assert_eq!(q.len(), 2, "a went; b is held, c is fresh");
        drop(busy);
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(q.evict_idle(), 2);
        assert!(q.is_empty());
    }
}
