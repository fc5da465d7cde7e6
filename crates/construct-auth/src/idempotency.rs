//! The idempotency layer: `Idempotency-Key` (or the legacy `X-Idempotency-Key`) on mutating requests.
//!
//! Mounted inside the guard, so the principal is known. The key is scoped by principal (or, for webhook
//! routes with no principal, by client address) and by method and path; the fingerprint covers method,
//! path, query and body. See `construct_core::idempotency` for the semantics. A response is stored only
//! if it is not a 5xx, not marked `Cache-Control: no-store` (responses carrying tokens are, and a token
//! must never sit in the store), and its body is known to be at most [`MAX_STORED_BODY`]; otherwise the
//! key is released, so a retry runs again instead of replaying a failure (upstream consumed the key before
//! the work, so a retry after a 500 was told "duplicate").

use std::sync::Arc;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use construct_core::idempotency::{Begin, IdempotencyStore, MAX_IDEMPOTENCY_KEY_LEN, StoredResponse};
use construct_core::principal::Principal;
use construct_core::{ApiError, ErrorCode};
use futures_util::future::Either;
use http::{HeaderName, HeaderValue, Method, StatusCode, header};
use ring::digest::{Context, SHA256};
use tower::{Layer, Service};

use crate::layer::ClientInfo;

/// 400 for an empty, overlong or non-ASCII key.
pub const INVALID_IDEMPOTENCY_KEY: ErrorCode = ErrorCode::new("INVALID_IDEMPOTENCY_KEY");
/// 409 while the first request with the key is still running.
pub const IDEMPOTENCY_IN_PROGRESS: ErrorCode = ErrorCode::new("IDEMPOTENCY_IN_PROGRESS");
/// 422 for a key reused with a different request.
pub const IDEMPOTENCY_KEY_REUSED: ErrorCode = ErrorCode::new("IDEMPOTENCY_KEY_REUSED");

/// Largest response body kept for replay.
pub const MAX_STORED_BODY: usize = 1 << 20;

/// Marks a replayed response.
pub const REPLAYED_HEADER: HeaderName = HeaderName::from_static("idempotent-replayed");

const KEY_HEADERS: [&str; 2] = ["idempotency-key", "x-idempotency-key"];
const REPLAYED_RESPONSE_HEADERS: [HeaderName; 2] = [header::CONTENT_TYPE, header::LOCATION];

/// The layer's state.
#[derive(Clone)]
pub struct Idempotency {
    store: Arc<dyn IdempotencyStore>,
}

impl Idempotency {
    /// Idempotency over `store`.
    pub fn new(store: Arc<dyn IdempotencyStore>) -> Self {
        Self { store }
    }
}

impl<S> Layer<S> for Idempotency {
    type Service = Idempotent<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Idempotent { state: self.clone(), inner }
    }
}

/// A service honouring idempotency keys. Requests without a key (every GET, most POSTs) go straight
/// through with no allocation.
#[derive(Clone)]
pub struct Idempotent<S> {
    state: Idempotency,
    inner: S,
}

type BoxedResponse = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl<S> Service<Request> for Idempotent<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, BoxedResponse>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if !matches!(*request.method(), Method::POST | Method::PUT | Method::PATCH | Method::DELETE) {
            return Either::Left(self.inner.call(request));
        }
        let key = match request_key(request.headers()) {
            Ok(Some(key)) => key,
            Ok(None) => return Either::Left(self.inner.call(request)),
            Err(error) => return Either::Right(Box::pin(std::future::ready(Ok(error.into_response())))),
        };
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let state = self.state.clone();
        Either::Right(Box::pin(async move { Ok(keyed(state, key, request, inner).await) }))
    }
}

/// Handles a mutating request that carries `key`.
async fn keyed<S>(state: Idempotency, key: String, request: Request, mut inner: S) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let Some(scope) = scope_of(&request) else {
        return match inner.call(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
    };
    let (parts, body) = request.into_parts();
    // The route's body limit still applies: the body arrives through it.
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return ApiError::payload_too_large().into_response();
    };
    let fingerprint =
        fingerprint(&parts.method, parts.uri.path_and_query().map_or("", |pq| pq.as_str()), &bytes);
    let begun = match state.store.begin(&scope, &key, fingerprint).await {
        Ok(begun) => begun,
        Err(error) => {
            tracing::error!(%error, "idempotency store unavailable");
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::STORE_UNAVAILABLE,
                "Idempotency store unavailable",
            )
            .into_response();
        }
    };
    match begun {
        Begin::InProgress => ApiError::new(
            StatusCode::CONFLICT,
            IDEMPOTENCY_IN_PROGRESS,
            "A request with this idempotency key is still in progress",
        )
        .into_response(),
        Begin::Mismatch => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            IDEMPOTENCY_KEY_REUSED,
            "This idempotency key was used with a different request",
        )
        .into_response(),
        Begin::Replay(stored) => replay(stored),
        Begin::New(number) => {
            let mut claim = Claim { store: Arc::clone(&state.store), scope, key, number, settled: false };
            let response = match inner.call(Request::from_parts(parts, Body::from(bytes))).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            claim.settle(response).await
        }
    }
}

/// A claimed key; released in the background if the request is dropped before it settles.
struct Claim {
    store: Arc<dyn IdempotencyStore>,
    scope: String,
    key: String,
    number: u64,
    settled: bool,
}

impl Claim {
    async fn settle(&mut self, response: Response) -> Response {
        self.settled = true;
        // Not stored, and the key released so a retry runs again: server errors; responses marked
        // `no-store` (they carry secrets such as a new token, which must never sit in the store); and
        // bodies that are streamed or larger than we keep (passed through untouched, never cut).
        let no_store = response
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|d| d.trim().eq_ignore_ascii_case("no-store")));
        let fits = http_body::Body::size_hint(response.body())
            .upper()
            .is_some_and(|upper| upper <= MAX_STORED_BODY as u64);
        if response.status().is_server_error() || no_store || !fits {
            self.release().await;
            return response;
        }
        let (parts, body) = response.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, MAX_STORED_BODY).await else {
            // The body failed while being read: nothing valid to store or to send.
            self.release().await;
            return ApiError::internal().into_response();
        };
        let stored = StoredResponse {
            status: parts.status.as_u16(),
            headers: REPLAYED_RESPONSE_HEADERS
                .iter()
                .filter_map(|name| {
                    parts.headers.get(name).map(|v| (name.as_str().to_owned(), v.as_bytes().to_vec()))
                })
                .collect(),
            body: bytes.to_vec(),
        };
        if let Err(error) = self.store.complete(&self.scope, &self.key, self.number, stored).await {
            tracing::warn!(%error, "cannot store idempotent response");
        }
        Response::from_parts(parts, Body::from(bytes))
    }

    async fn release(&self) {
        if let Err(error) = self.store.abandon(&self.scope, &self.key, self.number).await {
            tracing::warn!(%error, "cannot release idempotency key");
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let (store, scope, key, number) = (
            Arc::clone(&self.store),
            std::mem::take(&mut self.scope),
            std::mem::take(&mut self.key),
            self.number,
        );
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = store.abandon(&scope, &key, number).await;
            });
        }
    }
}

fn replay(stored: StoredResponse) -> Response {
    let mut response = Response::new(Body::from(stored.body));
    *response.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    for (name, value) in stored.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_bytes(&value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response.headers_mut().insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}

/// The key, if any: the standard header first, then the legacy one.
fn request_key(headers: &http::HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = KEY_HEADERS.iter().find_map(|name| headers.get(*name)) else { return Ok(None) };
    let invalid =
        |message: &'static str| ApiError::new(StatusCode::BAD_REQUEST, INVALID_IDEMPOTENCY_KEY, message);
    let key = value.to_str().map_err(|_| invalid("Idempotency key must be visible ASCII"))?.trim();
    if key.is_empty() {
        return Err(invalid("Idempotency key must not be empty"));
    }
    if key.len() > MAX_IDEMPOTENCY_KEY_LEN {
        return Err(invalid("Idempotency key must be at most 255 bytes"));
    }
    Ok(Some(key.to_owned()))
}

/// Principal (or, on webhook routes, client address) plus method and path: two callers never share a key
/// space. `None` when the request carries neither, in which case keys are not honoured at all rather than
/// pooled.
fn scope_of(request: &Request) -> Option<String> {
    let who = match request.extensions().get::<Principal>() {
        Some(principal) => format!("principal:{}", principal.id()),
        None => format!("client:{}", request.extensions().get::<ClientInfo>()?.key),
    };
    Some(format!("{who} {} {}", request.method(), request.uri().path()))
}

fn fingerprint(method: &Method, path_and_query: &str, body: &[u8]) -> [u8; 32] {
    let mut context = Context::new(&SHA256);
    for part in [method.as_str().as_bytes(), path_and_query.as_bytes()] {
        context.update(&(part.len() as u64).to_be_bytes());
        context.update(part);
    }
    context.update(body);
    let mut out = [0u8; 32];
    out.copy_from_slice(context.finish().as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn key_rules() {
        let mut h = http::HeaderMap::new();
        assert_eq!(request_key(&h).unwrap(), None);
        h.insert("x-idempotency-key", HeaderValue::from_static("legacy"));
        assert_eq!(request_key(&h).unwrap().as_deref(), Some("legacy"));
        h.insert("idempotency-key", HeaderValue::from_static("standard"));
        assert_eq!(request_key(&h).unwrap().as_deref(), Some("standard"));
        h.insert("idempotency-key", HeaderValue::from_str(&"k".repeat(255)).unwrap());
        assert!(request_key(&h).is_ok());
        h.insert("idempotency-key", HeaderValue::from_str(&"k".repeat(256)).unwrap());
        assert_eq!(request_key(&h).unwrap_err().code(), INVALID_IDEMPOTENCY_KEY);
        h.insert("idempotency-key", HeaderValue::from_static("   "));
        assert_eq!(request_key(&h).unwrap_err().status(), StatusCode::BAD_REQUEST);
    }

    proptest! {
        /// Different requests never share a fingerprint by construction (length-prefixed fields), and the
        /// same request always does.
        #[test]
        fn fingerprints_separate_fields(path in "[a-z/]{0,12}", body in prop::collection::vec(any::<u8>(), 0..32), cut in 0usize..12) {
            prop_assert_eq!(fingerprint(&Method::POST, &path, &body), fingerprint(&Method::POST, &path, &body));
            prop_assert_ne!(fingerprint(&Method::POST, &path, &body), fingerprint(&Method::PUT, &path, &body));
            // Moving bytes between path and body changes the fingerprint.
            let cut = cut.min(path.len());
            let (head, tail) = path.split_at(cut);
            let mut moved = tail.as_bytes().to_vec();
            moved.extend_from_slice(&body);
            if !tail.is_empty() {
                prop_assert_ne!(fingerprint(&Method::POST, &path, &body), fingerprint(&Method::POST, head, &moved));
            }
        }
    }
}
