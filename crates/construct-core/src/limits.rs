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
