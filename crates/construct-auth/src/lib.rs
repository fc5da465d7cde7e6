//! # construct-auth
//!
//! Everything that decides whether a request may proceed, short of the route itself:
//! - [`token`]: device tokens (256 random bits, kept only as SHA-256);
//! - [`code`]: one-time pairing codes without modulo bias;
//! - [`client`]: the client's address behind trusted proxies, and the direct-loopback test;
//! - [`limiter`]: per-client GCRA rate limits ([`GatewayRateLimiter`]);
//! - [`lockout`]: lockout after repeated failed credentials, and the global pairing-failure budget;
//! - [`pairing`]: the code-for-token exchange ([`PairingService`]);
//! - [`authenticator`]: credentials to principals ([`Authenticator`]);
//! - [`layer`]: the per-route-group guard and the `Caller` / `Client` extractors;
//! - [`idempotency`]: `Idempotency-Key` handling over an `IdempotencyStore`.
//!
//! Invariants: no handler code and no routes; state is reached through `construct-core` traits, never a
//! concrete store; secrets are compared in constant time and never logged.

pub mod authenticator;
pub mod client;
pub mod code;
pub mod idempotency;
mod keyed;
pub mod layer;
pub mod limiter;
pub mod lockout;
pub mod pairing;
pub mod token;
pub mod ws;

pub use authenticator::{AuthError, Authenticator};
pub use client::{ClientKey, ClientResolver};
pub use idempotency::Idempotency;
pub use layer::{AuthContext, Caller, Client, ClientInfo, Guard};
pub use limiter::GatewayRateLimiter;
pub use lockout::{FailureBudget, FailureLockout};
pub use pairing::{PairError, Paired, PairingService};

#[cfg(test)]
mod test_support {
    use http::{HeaderMap, HeaderValue};

    /// A header map from static pairs, repeated names appended.
    pub(crate) fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }
}
