//! # construct-gateway
//!
//! The composition library. It is the only crate that knows every route crate; it assembles them into one
//! axum `Router`, wraps that in the middleware stack, and serves it over hyper with the timeouts and the
//! graceful shutdown a public-facing server needs.
//!
//! - [`Gateway`] and its [`GatewayBuilder`]: configuration in, a router (for in-process tests) or a running
//!   server out. Embedders add their own [`RouteGroup`]s with their own limits.
//! - [`AppState`]: the handles every core route shares.
//! - [`middleware`]: request ids, tracing, the error envelope, panics, per-group body and time limits.
//! - [`serve`]: the accept loop (header-read timeout against slow-loris, upgrades, graceful drain).
//! - [`run_gateway`]: the whole lifecycle for callers that want one function.
//!
//! Invariants: no global state (everything hangs off the builder); no handler here touches a concrete
//! store; every response that is an error is a JSON envelope.

mod builder;
mod error;
pub mod logs;
pub mod middleware;
pub mod openapi;
mod readiness;
mod routes;
mod run;
pub mod serve;
mod state;

pub use builder::{Gateway, GatewayBuilder, MountedRoute};
pub use construct_core::routes::{Access, RateClass, RouteGroup};
pub use error::GatewayError;
pub use readiness::{DataDirCheck, Readiness};
pub use run::{
    Listening, OpenedKumiho, ShutdownSignal, open_kumiho, run_gateway, run_gateway_logged, run_gateway_with,
};
pub use state::{AppState, SharedState};
