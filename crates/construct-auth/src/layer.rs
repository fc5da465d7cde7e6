//! The auth layer: one [`Guard`] (a tower layer) per route group, configured by the group's [`Access`]
//! and [`RateClass`], plus the extractors handlers use to read what it established.
//!
//! Order for every request: resolve the client (trusted proxies), apply the group's rate limit, then its
//! access rule. Handlers never look at credentials.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use construct_core::audit::{AuditEvent, AuditKind, record};
use construct_core::limits::RateLimiter;
use construct_core::principal::{ClientCertificate, PrincipalKind};
use construct_core::principal::{Principal, Scope};
use construct_core::routes::{Access, RateClass};
use construct_core::{ApiError, ErrorCode};
use http::request::Parts;
use http::{HeaderMap, StatusCode, header};
use tower::{Layer, Service};

use crate::authenticator::{AuthError, Authenticator};
use crate::client::{ClientKey, ClientResolver};

/// 403 for a valid principal without the route group's scope.
pub const FORBIDDEN_SCOPE: ErrorCode = ErrorCode::new("FORBIDDEN_SCOPE");
/// 403 for a loopback-admin route reached any other way.
pub const LOOPBACK_ONLY: ErrorCode = ErrorCode::new("LOOPBACK_ONLY");
/// 503 when the device store cannot answer (the code every store failure shares).
pub const STORE_UNAVAILABLE: ErrorCode = ErrorCode::STORE_UNAVAILABLE;

/// What every guard shares.
pub struct AuthContext {
    /// Credentials to principals.
    pub authenticator: Authenticator,
    /// Per-client admission.
    pub limiter: Arc<dyn RateLimiter>,
    /// Client addresses behind trusted proxies.
    pub resolver: ClientResolver,
    /// Where refusals are counted.
    pub metrics: Arc<construct_core::metrics::Metrics>,
}

/// The network facts about a request's client, for handlers that need them (pairing records the address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's address (behind trusted proxies).
    pub ip: IpAddr,
    /// The key its limits are counted under.
    pub key: ClientKey,
}

/// The guard of one route group.
#[derive(Clone)]
pub struct Guard {
    access: Access,
    rate: Option<RateClass>,
    context: Arc<AuthContext>,
}

impl Guard {
    /// A guard for a group with this access rule and rate class.
    pub fn new(access: Access, rate: Option<RateClass>, context: Arc<AuthContext>) -> Self {
        Self { access, rate, context }
    }
}

impl<S> Layer<S> for Guard {
    type Service = Guarded<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Guarded { guard: self.clone(), inner }
    }
}

/// A service behind a [`Guard`]. Hand-written rather than `axum::middleware::from_fn`, which boxes the
/// inner service on every request on top of the future.
#[derive(Clone)]
pub struct Guarded<S> {
    guard: Guard,
    inner: S,
}

impl<S> Service<Request> for Guarded<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        // The clone that was made ready is the one to call; leave a fresh clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let guard = self.guard.clone();
        Box::pin(async move {
            if let Err(refusal) = admit(&guard, &mut request).await {
                guard.context.metrics.rejected(refusal_reason(&refusal), rate_class_name(guard.rate));
                return Ok(refusal);
            }
            inner.call(request).await
        })
    }
}

/// The `reason` label of a refusal, from its status: the guard refuses with 401, 403 or 429 only.
fn refusal_reason(refusal: &Response) -> &'static str {
    match refusal.status() {
        StatusCode::UNAUTHORIZED => "unauthenticated",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        _ => "other",
    }
}

fn rate_class_name(class: Option<RateClass>) -> &'static str {
    match class {
        None => "none",
        Some(class) => class.as_str(),
    }
}

/// Applies the guard to `request`: `Err` carries the refusal to send instead of calling the route.
pub async fn admit(guard: &Guard, request: &mut Request) -> Result<(), Response> {
    // Without ConnectInfo (an in-process call) the peer is unknown, which is never loopback.
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |info| info.0);
    let context = &guard.context;
    let ip = context.resolver.client_ip(peer, request.headers());
    let key = ClientKey::from_ip(ip);
    request.extensions_mut().insert(ClientInfo { ip, key });

    let admitted = match guard.rate {
        None => Ok(()),
        Some(class) => match context.limiter.check_now(class, ip) {
            Some(decision) => decision,
            None => context.limiter.check(class, ip).await,
        },
    };
    if let Err(wait) = admitted {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RATE_LIMITED,
            "Too many requests. Please retry later.",
        )
        .with_retry_after(wait.0)
        .into_response());
    }

    match guard.access {
        Access::Public | Access::Webhook => {}
        Access::LoopbackAdmin => {
            if !context.resolver.is_direct_loopback(peer, request.headers())
                || !local_host_and_origin(request.headers())
            {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    LOOPBACK_ONLY,
                    "Admin endpoints are restricted to localhost",
                )
                .into_response());
            }
        }
        Access::Scope(_) | Access::Node => {
            let node = guard.access == Access::Node;
            let (method, path) = (request.method().as_str().to_owned(), request.uri().path().to_owned());
            let query = request.uri().query().map(str::to_owned);
            let certificate = request.extensions().get::<ClientCertificate>();
            let principal =
                authenticated(guard, request.headers(), query.as_deref(), certificate, (peer, key, ip), node)
                    .await?;
            let required = match guard.access {
                Access::Scope(scope) => Some(scope),
                // A node presenting the node token needs no scope; a device needs admin.
                _ if matches!(principal.kind, PrincipalKind::Machine { .. }) => None,
                _ => Some(Scope::Admin),
            };
            if let Some(scope) = required.filter(|scope| !principal.has(*scope)) {
                return Err(deny_scope(context, &principal, key, scope, (&method, &path)).await);
            }
            request.extensions_mut().insert(principal);
        }
    }
    Ok(())
}

/// Who is calling a scoped or node route. Without pairing, the only caller is the operator at this
/// machine: anything that did not come straight from loopback with a loopback Host (DNS rebinding) and
/// same-origin Origin (CSRF) is not.
///
/// A TLS client certificate mapped in `[[gateway.tls.client_auth.map]]` authenticates a request that carries
/// no bearer token; a token, when present, decides.
async fn authenticated(
    guard: &Guard,
    headers: &HeaderMap,
    query: Option<&str>,
    certificate: Option<&ClientCertificate>,
    (peer, key, ip): (SocketAddr, ClientKey, std::net::IpAddr),
    node: bool,
) -> Result<Principal, Response> {
    let context = &guard.context;
    let local = context.resolver.is_direct_loopback(peer, headers) && local_host_and_origin(headers);
    if !context.authenticator.requires_pairing() && !local {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            LOOPBACK_ONLY,
            "Pairing is disabled, so only direct local requests are accepted",
        )
        .into_response());
    }
    let authenticator = &context.authenticator;
    let tokenless = crate::authenticator::bearer_token(headers, query).is_none();
    if authenticator.requires_pairing()
        && tokenless
        && let Some(principal) = certificate.and_then(|c| authenticator.authenticate_certificate(c))
    {
        return Ok(principal);
    }
    // An identity-aware proxy's user header counts only when the TCP peer is that proxy: from anyone else
    // it is a forgery, and ignored.
    if let Some(allow_loopback) = authenticator.proxy_mode()
        && tokenless
        && context.resolver.is_trusted_peer(peer)
        && (allow_loopback || !crate::client::normalize(peer.ip()).is_loopback())
    {
        return authenticator
            .authenticate_proxy_user(headers)
            .ok_or_else(|| auth_error_response(&AuthError::Invalid));
    }
    let result = if node {
        authenticator.authenticate_node(headers, query, key, ip).await
    } else {
        authenticator.authenticate(headers, query, key, ip).await
    };
    let principal = result.map_err(|error| auth_error_response(&error))?;
    // A browser's cookie rides along on requests other sites make it send: a cookie-authenticated request
    // from a foreign Origin is refused (SameSite=Strict already keeps the cookie off most of them).
    if crate::authenticator::uses_session_cookie(headers, query)
        && !crate::ws::origin_allowed(headers, authenticator.allowed_origins())
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            crate::ws::ORIGIN_NOT_ALLOWED,
            "This origin may not use the dashboard's session",
        )
        .into_response());
    }
    Ok(principal)
}

/// Records a scope denial in the audit log and builds the 403.
async fn deny_scope(
    context: &AuthContext,
    principal: &Principal,
    client: ClientKey,
    scope: Scope,
    (method, path): (&str, &str),
) -> Response {
    let detail = serde_json::json!({"scope": scope.as_str(), "method": method, "path": path});
    let event = AuditEvent::new(AuditKind::ScopeDenied).actor(principal.id()).client(client).detail(detail);
    record(&**context.authenticator.audit_log(), event).await;
    forbidden_scope(scope)
}

/// Loopback admin routes also require a loopback `Host` (defeats DNS rebinding: a rebound name arrives
/// with the attacker's host name) and, when an `Origin` is present, that it is the same loopback origin
/// (defeats cross-site requests from a page the operator has open).
fn local_host_and_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else { return false };
    if !is_loopback_authority(host) {
        return false;
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .is_some_and(|rest| rest.eq_ignore_ascii_case(host)),
    }
}

fn is_loopback_authority(authority: &str) -> bool {
    let host = match authority.rsplit_once(':') {
        Some((host, port))
            if !host.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && !authority.ends_with(']') =>
        {
            host
        }
        _ => authority,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| crate::client::normalize(ip).is_loopback())
}

/// The response for a failed authentication.
pub fn auth_error_response(error: &AuthError) -> Response {
    match error {
        AuthError::Missing => ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::UNAUTHORIZED,
            "Unauthorized: pair first via POST /pair, then send Authorization: Bearer <token>",
        )
        .into_response(),
        AuthError::Invalid => {
            ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::UNAUTHORIZED, "Invalid or expired token")
                .into_response()
        }
        AuthError::LockedOut(wait) => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RATE_LIMITED,
            format!("Too many failed authentication attempts. Try again in {}s.", wait.0),
        )
        .with_retry_after(wait.0)
        .into_response(),
        AuthError::Store(store) => {
            tracing::error!(error = %store, "device store unavailable during authentication");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                STORE_UNAVAILABLE,
                "Temporarily unable to authenticate",
            )
            .into_response()
        }
    }
}

fn forbidden_scope(scope: Scope) -> Response {
    ApiError::new(StatusCode::FORBIDDEN, FORBIDDEN_SCOPE, format!("This token lacks the `{scope}` scope"))
        .into_response()
}

/// The authenticated principal, for handlers of scoped route groups.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // Missing means the route was mounted outside a scoped group: a wiring bug, never the client's.
        parts.extensions.get::<Principal>().cloned().map(Caller).ok_or_else(ApiError::internal)
    }
}

/// The client's network facts, for handlers behind any guard.
#[derive(Debug, Clone, Copy)]
pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<ClientInfo>().copied().map(Client).ok_or_else(ApiError::internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_authorities() {
        for good in ["localhost", "localhost:42617", "127.0.0.1:8080", "[::1]:80", "[::1]", "127.9.9.9"] {
            assert!(is_loopback_authority(good), "{good}");
        }
        for bad in [
            "evil.example",
            "evil.example:42617",
            "10.0.0.1:80",
            "localhost.evil.example",
            "[2001:db8::1]:80",
        ] {
            assert!(!is_loopback_authority(bad), "{bad}");
        }
    }

    #[test]
    fn host_and_origin_rules() {
        let mut h = HeaderMap::new();
        assert!(!local_host_and_origin(&h), "no Host");
        h.insert(header::HOST, "127.0.0.1:42617".parse().unwrap());
        assert!(local_host_and_origin(&h));
        h.insert(header::ORIGIN, "http://127.0.0.1:42617".parse().unwrap());
        assert!(local_host_and_origin(&h));
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!local_host_and_origin(&h), "cross-site");
        h.remove(header::ORIGIN);
        h.insert(header::HOST, "rebound.evil.example:42617".parse().unwrap());
        assert!(!local_host_and_origin(&h), "DNS rebinding");
    }
}
