//! # construct-core
//!
//! The bottom layer of Construct Gateway. Every other crate depends on it; it depends on none of them.
//!
//! It owns what the whole gateway has to agree on:
//! - [`constants`]: the limits and defaults named by the original gateway module (`MAX_BODY_SIZE`,
//!   `REQUEST_TIMEOUT_SECS`, ...);
//! - [`config`]: the configuration model, loaded with figment from defaults, a TOML file and the
//!   environment, validated so that a bad value fails startup naming its key;
//! - [`error`]: the one JSON error envelope `{"error": "...", "code": "SNAKE_CASE"}` that every error
//!   response uses, and [`extract`], extractors whose rejections speak that envelope;
//! - [`audit`]: the hash-chained `AuditLog` trait and its events;
//! - [`events`]: the `EventBus` trait: ids, replay after an id, lag notices;
//! - [`history`] and [`sessions`]: conversations, and the chat sessions that hold them;
//! - [`queue`]: the durable, deduplicating `WorkQueue` behind the channel webhooks;
//! - [`principal`]: scopes and the authenticated caller of a request;
//! - [`devices`]: the `DeviceStore` trait (devices, token hashes, the pairing code) that backends implement;
//! - [`idempotency`]: the `IdempotencyStore` trait and its Stripe-style semantics;
//! - [`routes`]: route groups, the unit in which route crates hand routes to the gateway;
//! - [`secret`]: secrets that never print;
//! - [`readiness`]: the trait components implement so `/readyz` can tell whether the gateway can serve.
//!
//! Invariants: no sockets, no global mutable state, no knowledge of any concrete store or route.

pub mod approvals;
pub mod audit;
pub mod canvas;
pub mod config;
pub mod constants;
pub mod devices;
pub mod error;
pub mod events;
pub mod extract;
pub mod fsutil;
pub mod history;
pub mod idempotency;
pub mod ids;
pub mod limits;
pub mod mcp;
pub mod metrics;
pub mod nodes;
pub mod openapi;
pub mod principal;
pub mod queue;
pub mod readiness;
pub mod routes;
pub mod secret;
pub mod sessions;
pub mod usage;

pub use config::{Config, GatewayConfig, LoadedConfig};
pub use constants::*;
pub use error::{ApiError, ErrorCode};
