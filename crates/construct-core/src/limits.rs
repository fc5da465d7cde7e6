//! Rate limiting as the rest of the gateway sees it: a class, a client, a verdict.
//!
//! The in-memory GCRA limiter lives in `construct-auth`; a Redis one can implement the same trait so that
//! replicas share their counts.

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;

use crate::routes::RateClass;

/// How long a refused client should wait, in whole seconds (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RetryAfter(pub u64);

impl RetryAfter {
    /// Rounds `wait` up to whole seconds, never below 1.
    pub fn from_duration(wait: Duration) -> Self {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Self(secs.max(1))
    }
}

/// Per-client admission for a class of requests.
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Admits the request, or says how long the client must wait.
    async fn check(&self, class: RateClass, client: IpAddr) -> Result<(), RetryAfter>;

    /// The same decision without waiting, when the implementation can make it in memory; `None` means
    /// "call `check`". Lets the per-request path skip the boxed future of an async call.
    fn check_now(&self, class: RateClass, client: IpAddr) -> Option<Result<(), RetryAfter>> {
        let _ = (class, client);
        None
    }
}

/// Failed credentials per client, and the lockout they lead to. Shared by replicas through a shared
/// backend, so that a client cannot spread its guesses over several gateways.
#[async_trait]
pub trait LockoutState: Send + Sync {
    /// `Err` while `client` is locked out.
    async fn check(&self, client: IpAddr) -> Result<(), RetryAfter>;

    /// Records a failure; returns the lockout when this failure starts one.
    async fn record_failure(&self, client: IpAddr) -> Option<RetryAfter>;

    /// Checks and counts an attempt in one atomic step, before its outcome is known: `Err` while locked
    /// out, `Ok(Some(_))` when this attempt starts a lockout. Call `clear` if the attempt succeeds.
    async fn attempt(&self, client: IpAddr) -> Result<Option<RetryAfter>, RetryAfter>;

    /// Forgets `client`'s failures.
    async fn clear(&self, client: IpAddr);
}

/// Failures from all clients together within a window, against a budget.
#[async_trait]
pub trait FailureBudgetState: Send + Sync {
    /// Records a failure; `true` exactly when it exhausts the budget (which then starts over).
    async fn record(&self) -> bool;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(RetryAfter::from_duration(Duration::ZERO), RetryAfter(1));
        assert_eq!(RetryAfter::from_duration(Duration::from_millis(1)), RetryAfter(1));
        assert_eq!(RetryAfter::from_duration(Duration::from_secs(6)), RetryAfter(6));
        assert_eq!(RetryAfter::from_duration(Duration::from_millis(6_001)), RetryAfter(7));
    }
}
