//! Per-client rate limits with GCRA (the generic cell rate algorithm).
//!
//! GCRA keeps one number per client, the theoretical arrival time (TAT) of its next request, and admits a
//! request when the TAT is not further in the future than the burst allows. It is exact (no window
//! boundaries to game), O(1), and its state is a single `u64`, so a million clients cost tens of megabytes.
//! Storage is a [`BoundedMap`]: at most `rate_limit_max_keys` clients per class, and a flood of new
//! addresses can never reset a client that is being limited (see `keyed.rs`).
//!
//! Upstream used a sliding log per key and evicted the least recently seen key when full, which let a
//! key flood reset its victims' counters.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use construct_core::config::GatewayConfig;
use construct_core::limits::{RateLimiter, RetryAfter};
use construct_core::routes::RateClass;

use crate::client::ClientKey;
use crate::keyed::{BoundedMap, Expiring};

/// GCRA parameters: `burst` requests at once, refilled at one per `emission`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gcra {
    emission_nanos: u64,
    tolerance_nanos: u64,
}

impl Gcra {
    /// `limit` requests per `period`, with a burst of `limit`. `None` when `limit` is 0 (disabled).
    pub fn new(limit: u32, period: Duration) -> Option<Self> {
        if limit == 0 {
            return None;
        }
        let emission_nanos = (period.as_nanos() / u128::from(limit)).max(1) as u64;
        Some(Self { emission_nanos, tolerance_nanos: emission_nanos * u64::from(limit - 1) })
    }

    /// Decides a request at `now` (nanoseconds since the limiter's epoch) against the stored `tat`.
    /// `Err` carries the nanoseconds until the request would be admitted.
    pub fn check(&self, tat: &mut u64, now: u64) -> Result<(), u64> {
        let tat_now = (*tat).max(now);
        let admit_at = tat_now.saturating_sub(self.tolerance_nanos);
        if now < admit_at {
            return Err(admit_at - now);
        }
        *tat = tat_now + self.emission_nanos;
        Ok(())
    }
}

/// One class's state per client: the TAT, as nanoseconds since the map's epoch.
#[derive(Default)]
struct Tat(u64);

impl Expiring for Tat {
    fn is_stale(&self, now: u64) -> bool {
        // A TAT in the past means the client's allowance is full again: dropping it loses nothing.
        self.0 <= now
    }
}

/// One rate-limited class.
pub struct KeyedLimiter {
    gcra: Gcra,
    keys: BoundedMap<Tat>,
}

impl KeyedLimiter {
    /// A limiter of `limit` per `period` tracking at most about `max_keys` clients; `None` when disabled.
    pub fn new(limit: u32, period: Duration, max_keys: usize) -> Option<Self> {
        Some(Self { gcra: Gcra::new(limit, period)?, keys: BoundedMap::new(max_keys) })
    }

    /// Admits or refuses a request from `key` at `now`; a refusal says how long to wait.
    pub fn check_at(&self, key: ClientKey, now: Instant) -> Result<(), Duration> {
        self.keys.with(key, now, |tat, now, _| self.gcra.check(&mut tat.0, now).map_err(Duration::from_nanos))
    }

    /// Clients currently tracked.
    pub fn tracked_keys(&self) -> usize {
        self.keys.len()
    }
}

/// The gateway's limiters: pairing attempts, webhook deliveries, authenticated API calls.
pub struct GatewayRateLimiter {
    pair: Option<KeyedLimiter>,
    webhook: Option<KeyedLimiter>,
    api: Option<KeyedLimiter>,
}

impl GatewayRateLimiter {
    /// Limiters per the `[gateway]` settings (per minute; 0 disables a class).
    pub fn from_config(config: &GatewayConfig) -> Self {
        let max = config.effective_rate_limit_max_keys();
        let minute = Duration::from_secs(60);
        Self {
            pair: KeyedLimiter::new(config.pair_rate_limit_per_minute, minute, max),
            webhook: KeyedLimiter::new(config.webhook_rate_limit_per_minute, minute, max),
            api: KeyedLimiter::new(config.api_rate_limit_per_minute, minute, max),
        }
    }

    fn class(&self, class: RateClass) -> Option<&KeyedLimiter> {
        match class {
            RateClass::Pair => self.pair.as_ref(),
            RateClass::Webhook => self.webhook.as_ref(),
            RateClass::Api => self.api.as_ref(),
        }
    }

    /// Checks synchronously (the in-memory limiter never waits).
    pub fn check_key(&self, class: RateClass, key: ClientKey) -> Result<(), RetryAfter> {
        let Some(limiter) = self.class(class) else { return Ok(()) };
        limiter.check_at(key, Instant::now()).map_err(RetryAfter::from_duration)
    }
}

#[async_trait]
impl RateLimiter for GatewayRateLimiter {
    async fn check(&self, class: RateClass, client: IpAddr) -> Result<(), RetryAfter> {
        self.check_key(class, ClientKey::from_ip(client))
    }

    fn check_now(&self, class: RateClass, client: IpAddr) -> Option<Result<(), RetryAfter>> {
        Some(self.check_key(class, ClientKey::from_ip(client)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(n: u32) -> ClientKey {
        ClientKey::from_ip(IpAddr::from(n.to_be_bytes()))
    }

    #[test]
    fn burst_then_refill() {
        let limiter = KeyedLimiter::new(10, Duration::from_secs(60), 100).unwrap();
        let t0 = Instant::now();
        for i in 0..10 {
            assert!(limiter.check_at(key(1), t0).is_ok(), "request {i}");
        }
        let wait = limiter.check_at(key(1), t0).unwrap_err();
        assert_eq!(wait, Duration::from_secs(6));
        assert!(limiter.check_at(key(2), t0).is_ok(), "other clients are unaffected");
        assert!(limiter.check_at(key(1), t0 + Duration::from_secs(6)).is_ok());
        assert!(limiter.check_at(key(1), t0 + Duration::from_secs(6)).is_err());
    }

    #[test]
    fn zero_disables() {
        assert!(KeyedLimiter::new(0, Duration::from_secs(60), 10).is_none());
        let config = GatewayConfig { pair_rate_limit_per_minute: 0, ..Default::default() };
        let limiter = GatewayRateLimiter::from_config(&config);
        for _ in 0..1000 {
            assert!(limiter.check_key(RateClass::Pair, key(1)).is_ok());
        }
    }

    #[test]
    fn classes_are_independent() {
        let config = GatewayConfig {
            pair_rate_limit_per_minute: 2,
            webhook_rate_limit_per_minute: 3,
            ..Default::default()
        };
        let limiter = GatewayRateLimiter::from_config(&config);
        assert!(limiter.check_key(RateClass::Pair, key(1)).is_ok());
        assert!(limiter.check_key(RateClass::Pair, key(1)).is_ok());
        assert!(limiter.check_key(RateClass::Pair, key(1)).is_err());
        for _ in 0..3 {
            assert!(limiter.check_key(RateClass::Webhook, key(1)).is_ok());
        }
    }

    #[test]
    fn a_key_flood_never_resets_a_limited_client() {
        // Room for 16 keys (one per shard); the victim exhausts its allowance, then 10 000 new keys arrive.
        let limiter = KeyedLimiter::new(3, Duration::from_secs(60), 16).unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            limiter.check_at(key(7), t0).unwrap();
        }
        for n in 1_000..11_000 {
            let _ = limiter.check_at(key(n), t0 + Duration::from_millis(u64::from(n - 1_000) / 10));
        }
        assert!(limiter.tracked_keys() <= 16, "bounded: {}", limiter.tracked_keys());
        assert!(limiter.check_at(key(7), t0 + Duration::from_secs(1)).is_err(), "victim still limited");
        // Once its allowance has refilled, it is admitted again.
        assert!(limiter.check_at(key(7), t0 + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn stale_entries_make_room_for_new_clients() {
        let limiter = KeyedLimiter::new(5, Duration::from_secs(60), 16).unwrap();
        let t0 = Instant::now();
        for n in 0..1_000 {
            let _ = limiter.check_at(key(n), t0);
        }
        // A minute later every earlier client has refilled; new clients get their own full allowance.
        let later = t0 + Duration::from_secs(61);
        for _ in 0..5 {
            assert!(limiter.check_at(key(50_000), later).is_ok());
        }
        assert!(limiter.check_at(key(50_000), later).is_err());
    }

    proptest! {
        /// In any run of requests, GCRA admits at most burst + elapsed/emission of them.
        #[test]
        fn admitted_never_exceeds_burst_plus_rate(limit in 1u32..50, gaps in prop::collection::vec(0u64..3_000, 1..300)) {
            let gcra = Gcra::new(limit, Duration::from_secs(60)).unwrap();
            let emission = 60_000_000_000 / u64::from(limit);
            let (mut tat, mut now, mut admitted) = (0u64, 0u64, 0u64);
            for gap_ms in gaps {
                now += gap_ms * 1_000_000;
                if gcra.check(&mut tat, now).is_ok() {
                    admitted += 1;
                }
                prop_assert!(admitted <= u64::from(limit) + now / emission, "admitted {} by {}", admitted, now);
            }
        }

        /// A refusal's wait is exact: waiting that long is enough, and a nanosecond less is not.
        #[test]
        fn retry_after_is_exact(limit in 1u32..20, burst_used in 1u32..40) {
            let gcra = Gcra::new(limit, Duration::from_secs(60)).unwrap();
            let mut tat = 0u64;
            let mut refused = None;
            for _ in 0..burst_used {
                if let Err(wait) = gcra.check(&mut tat, 0) {
                    refused = Some(wait);
                    break;
                }
            }
            if let Some(wait) = refused {
                let mut early = tat;
                prop_assert!(gcra.check(&mut early, wait - 1).is_err());
                prop_assert!(gcra.check(&mut tat, wait).is_ok());
            }
        }
    }
}
