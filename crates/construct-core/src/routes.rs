//! Route groups: how a route crate hands its routes to the gateway.
//!
//! A group is a set of routes that share one access rule, one rate-limit class, one body limit and one
//! timeout. Route crates build groups; only `construct-gateway` mounts them, applying the auth layer the
//! group's [`Access`] names. Because a group records the paths it registers, the gateway can list every
//! route it serves, and a test can prove that each one refuses an unauthenticated request unless its group
//! is public.

use std::time::Duration;

use axum::Router;
use axum::routing::MethodRouter;

use crate::principal::Scope;

/// Who may call a route group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Anyone. Only `/health`, `/readyz` and the pairing exchange belong here.
    Public,
    /// A principal holding this scope (device token, or the local operator when pairing is disabled).
    Scope(Scope),
    /// Only a direct loopback peer with no forwarding headers, on a gateway with no trusted proxies.
    LoopbackAdmin,
    /// Verified by the route itself (webhook signatures and secrets), rate limited as webhooks.
    Webhook,
    /// A remote node: the configured `[nodes] auth_token` (compared in constant time), or an admin device.
    Node,
}

/// Which per-client rate limit a group counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateClass {
    /// Pairing attempts (`pair_rate_limit_per_minute`).
    Pair,
    /// Webhook deliveries (`webhook_rate_limit_per_minute`).
    Webhook,
    /// Authenticated API calls (`api_rate_limit_per_minute`).
    Api,
}

impl RateClass {
    /// The name used in logs and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            RateClass::Pair => "pair",
            RateClass::Webhook => "webhook",
            RateClass::Api => "api",
        }
    }
}

/// A set of routes with one access rule and one set of limits.
#[derive(Debug)]
pub struct RouteGroup<S = ()> {
    name: String,
    access: Access,
    rate_class: Option<RateClass>,
    idempotent: bool,
    body_bytes: Option<usize>,
    timeout: Option<Duration>,
    paths: Vec<String>,
    router: Router<S>,
}

impl<S: Clone + Send + Sync + 'static> RouteGroup<S> {
    /// An empty group. Scoped groups count against the API rate limit by default, webhook groups against
    /// the webhook limit, and both honour idempotency keys on mutating requests.
    pub fn new(name: impl Into<String>, access: Access) -> Self {
        let rate_class = match access {
            Access::Scope(_) | Access::Node => Some(RateClass::Api),
            Access::Webhook => Some(RateClass::Webhook),
            Access::Public | Access::LoopbackAdmin => None,
        };
        Self {
            name: name.into(),
            access,
            rate_class,
            idempotent: matches!(access, Access::Scope(_) | Access::Webhook),
            body_bytes: None,
            timeout: None,
            paths: Vec::new(),
            router: Router::new(),
        }
    }

    /// Adds a route, recording its path.
    pub fn route(mut self, path: &str, method_router: MethodRouter<S>) -> Self {
        self.paths.push(path.to_owned());
        self.router = self.router.route(path, method_router);
        self
    }

    /// Whether mutating requests honour `Idempotency-Key` (the response is buffered to be stored, so a
    /// group that streams responses to POSTs turns this off).
    pub fn idempotent(mut self, on: bool) -> Self {
        self.idempotent = on;
        self
    }

    /// Sets the rate-limit class (or none).
    pub fn rate_class(mut self, class: Option<RateClass>) -> Self {
        self.rate_class = class;
        self
    }

    /// Overrides the body limit (default `gateway.max_body_bytes`).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_bytes = Some(bytes);
        self
    }

    /// Overrides the time limit for the response head (default `gateway.request_timeout_secs`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Applies the handlers' state.
    pub fn with_state<S2>(self, state: S) -> RouteGroup<S2> {
        RouteGroup {
            name: self.name,
            access: self.access,
            rate_class: self.rate_class,
            idempotent: self.idempotent,
            body_bytes: self.body_bytes,
            timeout: self.timeout,
            paths: self.paths,
            router: self.router.with_state(state),
        }
    }
}

impl RouteGroup<()> {
    /// The group's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its access rule.
    pub fn access(&self) -> Access {
        self.access
    }

    /// Its rate-limit class.
    pub fn rate(&self) -> Option<RateClass> {
        self.rate_class
    }

    /// Whether it honours idempotency keys.
    pub fn is_idempotent(&self) -> bool {
        self.idempotent
    }

    /// Its body limit, if overridden.
    pub fn body_bytes(&self) -> Option<usize> {
        self.body_bytes
    }

    /// Its timeout, if overridden.
    pub fn timeout_override(&self) -> Option<Duration> {
        self.timeout
    }

    /// The paths it registers, as written (`/api/devices/{id}`).
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    /// Takes the router out, for mounting.
    pub fn into_router(self) -> Router {
        self.router
    }
}
