//! Lockout after repeated failed credentials, per client key, plus a global budget for pairing codes.
//!
//! Per key: `max_failures` failures within `window` lock the key for `lockout`. Keys are bounded the same
//! way as the rate limiters, so a flood of addresses neither exhausts memory nor frees a locked client.
//!
//! A pairing code is short, so per-address lockouts alone do not stop guessing from many addresses. The
//! [`FailureBudget`] counts failures from everyone; when it runs out, the caller invalidates the code.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use std::net::IpAddr;

use async_trait::async_trait;
use construct_core::limits::{FailureBudgetState, LockoutState, RetryAfter};

use crate::client::ClientKey;
use crate::keyed::{BoundedMap, Expiring};

#[derive(Default)]
struct Failures {
    window_start: u64,
    count: u32,
    locked_until: u64,
    /// When the entry stops carrying information: the end of its lockout or of its counting window.
    expires: u64,
}

impl Expiring for Failures {
    fn is_stale(&self, now: u64) -> bool {
        now >= self.expires
    }
}

/// Per-key failure counting and lockout.
///
/// The shared overflow entry (used only when the table is full of live entries) counts nothing and never
/// locks: it stands for many unrelated clients, and one of them must not lock out the rest. The global
/// pairing budget still bounds guessing from there.
pub struct FailureLockout {
    max_failures: u32,
    window: u64,
    lockout: u64,
    keys: BoundedMap<Failures>,
}

impl FailureLockout {
    /// `max_failures` within `window` lock a key for `lockout`; at most about `max_keys` keys are tracked.
    pub fn new(max_failures: u32, window: Duration, lockout: Duration, max_keys: usize) -> Self {
        Self {
            max_failures: max_failures.max(1),
            window: window.as_nanos() as u64,
            lockout: lockout.as_nanos() as u64,
            keys: BoundedMap::new(max_keys),
        }
    }

    fn locked(entry: &Failures, now: u64) -> Result<(), RetryAfter> {
        if entry.locked_until > now {
            Err(RetryAfter::from_duration(Duration::from_nanos(entry.locked_until - now)))
        } else {
            Ok(())
        }
    }

    /// Counts one failure in `entry`; returns the lockout when it starts one.
    fn count(&self, entry: &mut Failures, now: u64) -> Option<RetryAfter> {
        if now.saturating_sub(entry.window_start) >= self.window || entry.count == 0 {
            entry.window_start = now;
            entry.count = 0;
        }
        entry.count += 1;
        entry.expires = entry.expires.max(entry.window_start.saturating_add(self.window));
        if entry.count >= self.max_failures {
            entry.locked_until = now.saturating_add(self.lockout);
            entry.expires = entry.expires.max(entry.locked_until);
            entry.count = 0;
            return Some(RetryAfter::from_duration(Duration::from_nanos(self.lockout)));
        }
        None
    }

    /// `Err` while `key` is locked out.
    pub fn check(&self, key: ClientKey, now: Instant) -> Result<(), RetryAfter> {
        self.keys.with(key, now, |entry, now, _| Self::locked(entry, now))
    }

    /// Records a failure; returns the lockout when this failure starts one.
    pub fn record_failure(&self, key: ClientKey, now: Instant) -> Option<RetryAfter> {
        self.keys.with(key, now, |entry, now, overflow| if overflow { None } else { self.count(entry, now) })
    }

    /// Checks and counts an attempt in one step, before its outcome is known, so concurrent attempts cannot
    /// all pass the check: `Err` while locked out; `Ok(Some(_))` when this attempt starts a lockout. Call
    /// [`Self::clear`] if the attempt succeeds.
    pub fn attempt(&self, key: ClientKey, now: Instant) -> Result<Option<RetryAfter>, RetryAfter> {
        self.keys.with(key, now, |entry, now, overflow| {
            Self::locked(entry, now)?;
            Ok(if overflow { None } else { self.count(entry, now) })
        })
    }

    /// Forgets `key`'s failures (after it succeeds).
    pub fn clear(&self, key: ClientKey) {
        self.keys.remove(key);
    }

    /// Keys currently tracked.
    pub fn tracked_keys(&self) -> usize {
        self.keys.len()
    }
}

#[async_trait]
impl LockoutState for FailureLockout {
    async fn check(&self, client: IpAddr) -> Result<(), RetryAfter> {
        FailureLockout::check(self, ClientKey::from_ip(client), Instant::now())
    }

    async fn record_failure(&self, client: IpAddr) -> Option<RetryAfter> {
        FailureLockout::record_failure(self, ClientKey::from_ip(client), Instant::now())
    }

    async fn attempt(&self, client: IpAddr) -> Result<Option<RetryAfter>, RetryAfter> {
        FailureLockout::attempt(self, ClientKey::from_ip(client), Instant::now())
    }

    async fn clear(&self, client: IpAddr) {
        FailureLockout::clear(self, ClientKey::from_ip(client));
    }
}

#[async_trait]
impl FailureBudgetState for FailureBudget {
    async fn record(&self) -> bool {
        FailureBudget::record(self, Instant::now())
    }
}

/// Failures from all clients within a window, against a budget.
pub struct FailureBudget {
    budget: u32,
    window: Duration,
    state: Mutex<(Option<Instant>, u32)>,
}

impl FailureBudget {
    /// `budget` failures per `window`.
    pub fn new(budget: u32, window: Duration) -> Self {
        Self { budget: budget.max(1), window, state: Mutex::new((None, 0)) }
    }

    /// Records a failure; `true` exactly when it exhausts the budget (which then starts over).
    pub fn record(&self, now: Instant) -> bool {
        let mut state = match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (start, count) = &mut *state;
        if start.is_none_or(|s| now.saturating_duration_since(s) >= self.window) {
            *start = Some(now);
            *count = 0;
        }
        *count += 1;
        if *count >= self.budget {
            *start = None;
            *count = 0;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> ClientKey {
        ClientKey::from_ip(IpAddr::from([10, 0, 0, n]))
    }

    #[test]
    fn locks_after_max_failures_and_unlocks_after_lockout() {
        let lockout = FailureLockout::new(5, Duration::from_secs(300), Duration::from_secs(300), 100);
        let t0 = Instant::now();
        for i in 0..4 {
            assert_eq!(lockout.record_failure(key(1), t0), None, "failure {i}");
            assert!(lockout.check(key(1), t0).is_ok());
        }
        assert_eq!(lockout.record_failure(key(1), t0), Some(RetryAfter(300)));
        assert_eq!(lockout.check(key(1), t0 + Duration::from_secs(1)), Err(RetryAfter(299)));
        assert!(lockout.check(key(2), t0).is_ok(), "per client");
        assert!(lockout.check(key(1), t0 + Duration::from_secs(300)).is_ok());
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let lockout = FailureLockout::new(3, Duration::from_secs(60), Duration::from_secs(300), 100);
        let t0 = Instant::now();
        lockout.record_failure(key(1), t0);
        lockout.record_failure(key(1), t0);
        assert_eq!(lockout.record_failure(key(1), t0 + Duration::from_secs(61)), None);
        assert!(lockout.check(key(1), t0 + Duration::from_secs(61)).is_ok());
    }

    #[test]
    fn success_clears_failures() {
        let lockout = FailureLockout::new(3, Duration::from_secs(60), Duration::from_secs(300), 100);
        let t0 = Instant::now();
        lockout.record_failure(key(1), t0);
        lockout.record_failure(key(1), t0);
        lockout.clear(key(1));
        assert_eq!(lockout.record_failure(key(1), t0), None);
    }

    #[test]
    fn a_key_flood_does_not_unlock_a_locked_client() {
        let lockout = FailureLockout::new(1, Duration::from_secs(60), Duration::from_secs(300), 16);
        let t0 = Instant::now();
        assert!(lockout.record_failure(key(1), t0).is_some());
        for n in 0..20_000u32 {
            let k = ClientKey::from_ip(IpAddr::from((0x0b00_0000 + n).to_be_bytes()));
            let _ = lockout.record_failure(k, t0 + Duration::from_millis(u64::from(n)));
        }
        assert!(lockout.check(key(1), t0 + Duration::from_secs(30)).is_err());
    }

    #[test]
    fn partial_failures_expire_so_the_table_never_fills_for_good() {
        let lockout = FailureLockout::new(5, Duration::from_secs(60), Duration::from_secs(300), 16);
        let t0 = Instant::now();
        for n in 0..5_000u32 {
            let k = ClientKey::from_ip(IpAddr::from((0x0b00_0000 + n).to_be_bytes()));
            let _ = lockout.record_failure(k, t0);
        }
        // A minute later, those one-failure entries carry nothing: a new client gets its own entry and
        // its own count, and is not locked by strangers' failures.
        let later = t0 + Duration::from_secs(61);
        for _ in 0..4 {
            assert_eq!(lockout.record_failure(key(9), later), None);
        }
        assert!(lockout.check(key(9), later).is_ok());
        assert!(lockout.record_failure(key(9), later).is_some(), "its own fifth failure locks it");
    }

    #[test]
    fn the_overflow_entry_never_locks_anyone() {
        let lockout = FailureLockout::new(2, Duration::from_secs(60), Duration::from_secs(300), 16);
        let t0 = Instant::now();
        // Fill the table with locked clients.
        for n in 0..200u32 {
            let k = ClientKey::from_ip(IpAddr::from((0x0c00_0000 + n).to_be_bytes()));
            let _ = lockout.record_failure(k, t0);
            let _ = lockout.record_failure(k, t0);
        }
        // Whoever lands in the overflow entry can fail repeatedly without locking out the others there.
        for n in 0..100u32 {
            let k = ClientKey::from_ip(IpAddr::from((0x0d00_0000 + n).to_be_bytes()));
            if lockout.check(k, t0).is_err() {
                panic!("client {n} was locked by someone else's failures");
            }
            let _ = lockout.record_failure(k, t0);
        }
    }

    #[test]
    fn attempts_are_counted_before_their_outcome() {
        let lockout = FailureLockout::new(3, Duration::from_secs(60), Duration::from_secs(300), 100);
        let t0 = Instant::now();
        assert_eq!(lockout.attempt(key(1), t0), Ok(None));
        assert_eq!(lockout.attempt(key(1), t0), Ok(None));
        assert_eq!(lockout.attempt(key(1), t0), Ok(Some(RetryAfter(300))));
        assert!(lockout.attempt(key(1), t0).is_err(), "a burst cannot outrun the count");
        lockout.clear(key(1));
        assert_eq!(lockout.attempt(key(1), t0), Ok(None));
    }

    #[test]
    fn budget_trips_once_per_exhaustion() {
        let budget = FailureBudget::new(3, Duration::from_secs(600));
        let t0 = Instant::now();
        assert!(!budget.record(t0));
        assert!(!budget.record(t0));
        assert!(budget.record(t0));
        assert!(!budget.record(t0), "starts over");
        // Failures spread beyond the window never trip it.
        let budget = FailureBudget::new(2, Duration::from_secs(10));
        assert!(!budget.record(t0));
        assert!(!budget.record(t0 + Duration::from_secs(11)));
    }
}
