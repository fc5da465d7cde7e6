//! # construct-auth
//!
//! Everything that decides whether a request may proceed, short of the route itself:
//! - [`token`]: device tokens (256 random bits, kept only as SHA-256);
//! - [`code`]: one-time pairing codes without modulo bias;
//! - [`client`]: the client's address behind trusted proxies, and the direct-loopback test;
//! - [`limiter`]: per-client GCRA rate limits ([`GatewayRateLimiter`]);
//! - [`lockout`]: lockout after repeated failed credentials, and the global pairing-failure budget.
//!
//! Invariants: no handler code and no routes; state is reached through `construct-core` traits, never a
//! concrete store; secrets are compared in constant time and never logged.

pub mod client;
pub mod code;
mod keyed;
pub mod limiter;
pub mod lockout;
pub mod token;

pub use client::{ClientKey, ClientResolver};
pub use limiter::GatewayRateLimiter;
pub use lockout::{FailureBudget, FailureLockout};
