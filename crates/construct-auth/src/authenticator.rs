//! From credentials to a [`Principal`].
//!
//! A token is looked up by its SHA-256 in the device store on every request, so revocation and rotation
//! take effect on the very next request, in this process or any other sharing the store. Credentials come
//! from `Authorization: Bearer <token>` (scheme case-insensitive), a WebSocket subprotocol entry
//! `bearer.<token>`, or `?token=` only when `allow_query_token` is set (query strings end up in proxy
//! logs). Wrong tokens feed a per-client lockout; a valid token is honoured even from a locked-out client,
//! so one client's failures never lock out anyone else, and a 256-bit token cannot be guessed anyway.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use construct_core::audit::{AuditEvent, AuditKind, AuditLog, record};
use construct_core::config::GatewayConfig;
use construct_core::devices::{DeviceStore, StoreError, TokenHash};
use construct_core::limits::{LockoutState, RetryAfter};
use construct_core::principal::{Principal, PrincipalKind, Scopes};
use http::HeaderMap;
use http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use time::OffsetDateTime;

use crate::client::ClientKey;
use crate::lockout::FailureLockout;
use crate::token::hash_token;

/// `last_seen` is written at most this often per device.
pub const TOUCH_INTERVAL: Duration = Duration::from_secs(60);

/// Why a request is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No credentials at all.
    #[error("missing credentials")]
    Missing,
    /// Credentials that match no device, or a device whose token expired.
    #[error("invalid or expired token")]
    Invalid,
    /// Too many wrong tokens from this client.
    #[error("too many failed attempts")]
    LockedOut(RetryAfter),
    /// The store could not answer.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Authenticates requests against the device store.
pub struct Authenticator {
    store: Arc<dyn DeviceStore>,
    audit: Arc<dyn AuditLog>,
    require_pairing: bool,
    allow_query_token: bool,
    lockout: Arc<dyn LockoutState>,
    touched: RwLock<HashMap<String, Instant>>,
    node_token: Option<TokenHash>,
    certificates: Vec<(String, Scopes, Option<String>)>,
    bootstrap: Option<(TokenHash, construct_core::config::BootstrapMode)>,
    proxy: Option<construct_core::config::AuthConfig>,
    allowed_origins: Vec<String>,
}

impl Authenticator {
    /// An authenticator for `[gateway]`: `max_failed_token_attempts` wrong tokens within 60 s lock a client
    /// out for 300 s.
    pub fn new(store: Arc<dyn DeviceStore>, audit: Arc<dyn AuditLog>, gateway: &GatewayConfig) -> Self {
        Self {
            store,
            audit,
            require_pairing: gateway.require_pairing,
            allow_query_token: gateway.allow_query_token,
            lockout: Arc::new(FailureLockout::new(
                gateway.max_failed_token_attempts,
                Duration::from_secs(60),
                Duration::from_secs(300),
                gateway.effective_rate_limit_max_keys(),
            )),
            touched: RwLock::new(HashMap::new()),
            node_token: None,
            certificates: Vec::new(),
            bootstrap: gateway
                .bootstrap_token_sha256
                .as_deref()
                .and_then(TokenHash::from_hex)
                .map(|hash| (hash, gateway.bootstrap_token_mode)),
            proxy: (gateway.auth.mode == construct_core::config::AuthMode::TrustedProxy)
                .then(|| gateway.auth.clone()),
            allowed_origins: gateway.allowed_origins.clone(),
        }
    }

    /// Origins besides the gateway's own that browsers may call it from.
    pub fn allowed_origins(&self) -> &[String] {
        &self.allowed_origins
    }

    /// Whether users named by a trusted proxy are believed, and from loopback too.
    pub fn proxy_mode(&self) -> Option<bool> {
        self.proxy.as_ref().map(|p| p.allow_loopback_proxy)
    }

    /// The user a trusted proxy names in `headers`, when it names one that is allowed and every required
    /// header is there. The caller has checked that the request came from a trusted proxy.
    pub fn authenticate_proxy_user(&self, headers: &HeaderMap) -> Option<Principal> {
        let auth = self.proxy.as_ref()?;
        let user = headers.get(auth.user_header.as_str())?.to_str().ok()?.trim();
        let printable = !user.is_empty() && user.len() <= 256 && !user.chars().any(char::is_control);
        let complete = auth.required_headers.iter().all(|name| {
            headers.get(name.as_str()).is_some_and(|v| !v.as_bytes().iter().all(u8::is_ascii_whitespace))
        });
        let allowed = auth.allow_users.is_empty() || auth.allow_users.iter().any(|u| u == user);
        if !(printable && complete && allowed) {
            tracing::info!(user, complete, allowed, "a trusted proxy named a user who is not let in");
            return None;
        }
        let scopes = auth.scopes_by_user.get(user).copied().unwrap_or(auth.default_scopes);
        Some(Principal { kind: PrincipalKind::ProxyUser { id: format!("proxy:{user}") }, scopes })
    }

    /// Accepts the TLS client certificates `[[gateway.tls.client_auth.map]]` lists as credentials.
    pub fn with_certificates(mut self, map: &[construct_core::config::CertMapping]) -> Self {
        self.certificates = map
            .iter()
            .filter_map(|m| {
                let fingerprint = construct_core::config::normalize_fingerprint(&m.fingerprint)?;
                Some((fingerprint, m.scopes, m.name.clone()))
            })
            .collect();
        self
    }

    /// The principal a mapped client certificate stands for, or `None` when it is not mapped. The
    /// certificate was verified by the TLS handshake (CA, validity, pins) before it got here.
    pub fn authenticate_certificate(
        &self,
        certificate: &construct_core::principal::ClientCertificate,
    ) -> Option<Principal> {
        let (fingerprint, scopes, name) =
            self.certificates.iter().find(|(f, _, _)| certificate.matches(f))?;
        let id = format!("cert:{}", &fingerprint[..16]);
        Some(Principal { kind: PrincipalKind::Certificate { id, name: name.clone() }, scopes: *scopes })
    }

    /// Accepts `token` (kept only as its SHA-256) from remote nodes, as `[nodes] auth_token` configures.
    pub fn with_node_token(mut self, token: Option<&str>) -> Self {
        self.node_token = token.map(str::trim).filter(|t| !t.is_empty()).map(hash_token);
        self
    }

    /// Authenticates a remote node: the configured node token (compared in constant time, as hashes), or
    /// else whatever [`Authenticator::authenticate`] accepts (the guard then requires the admin scope).
    pub async fn authenticate_node(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
        client: ClientKey,
        client_ip: IpAddr,
    ) -> Result<Principal, AuthError> {
        if let (Some(expected), Some(token)) =
            (&self.node_token, bearer_token(headers, query.filter(|_| self.allow_query_token)))
            && bool::from(subtle::ConstantTimeEq::ct_eq(&expected.0[..], &hash_token(token).0[..]))
        {
            return Ok(Principal { kind: PrincipalKind::Machine { name: "node" }, scopes: Scopes::NONE });
        }
        self.authenticate(headers, query, client, client_ip).await
    }

    /// Keeps the wrong-token lockout in shared state (for replicas) instead of in process.
    pub fn with_lockout(mut self, lockout: Arc<dyn LockoutState>) -> Self {
        self.lockout = lockout;
        self
    }

    /// Where this authenticator records security events (the guard records scope denials there too).
    pub fn audit_log(&self) -> &Arc<dyn AuditLog> {
        &self.audit
    }

    /// Whether device tokens are required (`require_pairing`).
    pub fn requires_pairing(&self) -> bool {
        self.require_pairing
    }

    /// The principal behind a request's credentials.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
        client: ClientKey,
        client_ip: IpAddr,
    ) -> Result<Principal, AuthError> {
        if !self.require_pairing {
            // Only allowed on a loopback bind without proxies (config validation), and the guard admits only
            // direct local requests: the caller is the local operator.
            return Ok(Principal { kind: PrincipalKind::LocalOperator, scopes: Scopes::FIRST_DEVICE });
        }
        let token =
            bearer_token(headers, query.filter(|_| self.allow_query_token)).ok_or(AuthError::Missing)?;
        let hash = hash_token(token);
        if let Some(principal) = self.bootstrap(&hash).await? {
            return Ok(principal);
        }
        let device = self.store.device_by_token(&hash).await?;
        let now = OffsetDateTime::now_utc();
        match device {
            Some(device) if !device.is_expired(now) => {
                self.touch(&device.id, now, client_ip);
                Ok(Principal {
                    kind: PrincipalKind::Device { device_id: device.id, name: device.name },
                    scopes: device.scopes,
                })
            }
            _ => {
                self.lockout.check(client.ip()).await.map_err(AuthError::LockedOut)?;
                if let Some(wait) = self.lockout.record_failure(client.ip()).await {
                    tracing::warn!(%client, lockout_secs = wait.0, "client locked out after wrong tokens");
                    let detail = serde_json::json!({"reason": "bearer", "lockout_secs": wait.0});
                    record(&*self.audit, AuditEvent::new(AuditKind::Lockout).client(client).detail(detail))
                        .await;
                }
                Err(AuthError::Invalid)
            }
        }
    }

    /// The bootstrap principal, when `hash` is the bootstrap token's and its mode still allows it.
    async fn bootstrap(&self, hash: &TokenHash) -> Result<Option<Principal>, AuthError> {
        let Some((expected, mode)) = &self.bootstrap else { return Ok(None) };
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected.0[..], &hash.0[..])) {
            return Ok(None);
        }
        let open = match mode {
            construct_core::config::BootstrapMode::Always => true,
            construct_core::config::BootstrapMode::UntilFirstPair => self.store.device_count().await? == 0,
        };
        Ok(open.then_some(Principal {
            kind: PrincipalKind::Machine { name: "bootstrap" },
            scopes: Scopes::FIRST_DEVICE,
        }))
    }

    /// Records `last_seen` in the background, at most once per [`TOUCH_INTERVAL`] per device.
    fn touch(&self, device_id: &str, now: OffsetDateTime, ip: IpAddr) {
        let at = Instant::now();
        let recent = |touched: &HashMap<String, Instant>| {
            touched.get(device_id).is_some_and(|last| at.duration_since(*last) < TOUCH_INTERVAL)
        };
        // The common case, touched within the minute, takes only a read lock.
        if self.touched.read().map(|t| recent(&t)).unwrap_or(false) {
            return;
        }
        let due = {
            let mut touched = match self.touched.write() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            if recent(&touched) {
                false
            } else {
                touched.insert(device_id.to_owned(), at);
                true
            }
        };
        if due && let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let store = Arc::clone(&self.store);
            let id = device_id.to_owned();
            runtime.spawn(async move {
                if let Err(error) = store.touch_device(&id, now, Some(&ip.to_string())).await {
                    tracing::warn!(%error, device_id = %id, "cannot record last_seen");
                }
            });
        }
    }
}

/// The bearer token of a request: `Authorization: Bearer`, else (on a WebSocket upgrade only) a
/// `bearer.<token>` subprotocol, else `token` from `query` (pass `None` unless query tokens are allowed).
pub fn bearer_token<'a>(headers: &'a HeaderMap, query: Option<&'a str>) -> Option<&'a str> {
    let from_header = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|value| {
        let (scheme, token) = value.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
    });
    let is_websocket = headers
        .get(http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let from_protocol = || {
        if !is_websocket {
            return None;
        }
        headers
            .get_all(SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .find_map(|entry| entry.trim().strip_prefix("bearer.").filter(|t| !t.is_empty()))
    };
    let from_query =
        || query?.split('&').find_map(|pair| pair.strip_prefix("token=")).filter(|t| !t.is_empty());
    from_header.or_else(from_protocol).or_else(from_query).or_else(|| session_cookie(headers))
}

/// The cookie the dashboard's browser session travels in (HttpOnly, SameSite=Strict).
pub const SESSION_COOKIE: &str = "construct_session";

/// The session cookie's token, if the request carries one.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Whether the credential of a request is its session cookie (no header, subprotocol or query token).
pub fn uses_session_cookie(headers: &HeaderMap, query: Option<&str>) -> bool {
    let explicit = bearer_token(&HeaderMap::new(), query).is_some()
        || headers.contains_key(AUTHORIZATION)
        || headers
            .get_all(SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("bearer."));
    !explicit && session_cookie(headers).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::headers;

    #[test]
    fn bearer_sources_in_order() {
        assert_eq!(bearer_token(&headers(&[("authorization", "Bearer abc")]), None), Some("abc"));
        assert_eq!(bearer_token(&headers(&[("authorization", "bearer  abc ")]), None), Some("abc"));
        assert_eq!(bearer_token(&headers(&[("authorization", "BEARER abc")]), None), Some("abc"));
        assert_eq!(bearer_token(&headers(&[("authorization", "Basic abc")]), None), None);
        assert_eq!(bearer_token(&headers(&[("authorization", "Bearer ")]), None), None);
        let ws = headers(&[("sec-websocket-protocol", "construct.v1, bearer.tok"), ("upgrade", "websocket")]);
        assert_eq!(bearer_token(&ws, None), Some("tok"));
        let not_ws = headers(&[("sec-websocket-protocol", "bearer.tok")]);
        assert_eq!(bearer_token(&not_ws, None), None, "the subprotocol is a credential only on upgrades");
        assert_eq!(bearer_token(&HeaderMap::new(), Some("a=1&token=q")), Some("q"));
        assert_eq!(bearer_token(&HeaderMap::new(), None), None);
        let both = headers(&[
            ("authorization", "Bearer h"),
            ("sec-websocket-protocol", "bearer.p"),
            ("upgrade", "websocket"),
        ]);
        assert_eq!(bearer_token(&both, Some("token=q")), Some("h"));
    }
}
