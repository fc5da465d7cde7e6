//! `X-Request-Id`: accepted from the client when well-formed, generated otherwise, echoed on the response.
//!
//! A client-supplied id ends up in logs, so it is accepted only when it is short and made of safe
//! characters (letters, digits, `-`, `_`, `.`, `:`); anything else is replaced by a fresh UUID rather than
//! trusted.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use http::{HeaderName, HeaderValue};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

/// The header name.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest client-supplied id accepted.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// Whether a client-supplied id is safe to keep.
pub fn is_acceptable(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// A fresh random id (a UUID v4, hyphenated).
pub fn new_request_id() -> HeaderValue {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("unknown"))
}

/// Sets `X-Request-Id` on the request (keeping an acceptable one, replacing anything else) and echoes it
/// on the response. Done by hand rather than with tower-http's pair of layers, which also store the id in
/// the request's extensions: an extra map insertion on every request that nothing here reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestIdLayer;

impl<S> Layer<S> for RequestIdLayer {
    type Service = RequestId<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestId { inner }
    }
}

/// The service [`RequestIdLayer`] produces.
#[derive(Debug, Clone, Copy)]
pub struct RequestId<S> {
    inner: S,
}

impl<S> Service<Request> for RequestId<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = RequestIdFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let mut supplied = request.headers().get_all(&REQUEST_ID_HEADER).iter();
        let id = match (supplied.next(), supplied.next()) {
            (Some(one), None) if is_acceptable(one.as_bytes()) => one.clone(),
            _ => {
                let fresh = new_request_id();
                request.headers_mut().insert(REQUEST_ID_HEADER, fresh.clone());
                fresh
            }
        };
        RequestIdFuture { inner: self.inner.call(request), id: Some(id) }
    }
}

pin_project! {
    /// Future of [`RequestId`].
    pub struct RequestIdFuture<F> {
        #[pin]
        inner: F,
        id: Option<HeaderValue>,
    }
}

impl<F, E> Future for RequestIdFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut result = std::task::ready!(this.inner.poll(cx));
        if let (Ok(response), Some(id)) = (&mut result, this.id.take()) {
            response.headers_mut().insert(REQUEST_ID_HEADER, id);
        }
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use std::convert::Infallible;
    use tower::ServiceExt;

    /// Runs the layer around a service that echoes the id it saw in a response header.
    async fn seen_and_returned(ids: &[&str]) -> (String, String) {
        let service = RequestIdLayer.layer(tower::service_fn(|request: Request| async move {
            let seen = request.headers().get(&REQUEST_ID_HEADER).cloned();
            let mut response = Response::new(Body::empty());
            if let Some(seen) = seen {
                response.headers_mut().insert("x-seen", seen);
            }
            Ok::<_, Infallible>(response)
        }));
        let mut builder = Request::get("/");
        for id in ids {
            builder = builder.header(&REQUEST_ID_HEADER, *id);
        }
        let response = service.oneshot(builder.body(Body::empty()).unwrap()).await.unwrap();
        let get = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
        (get("x-seen"), get("x-request-id"))
    }

    #[tokio::test]
    async fn the_handler_and_the_client_see_the_same_id() {
        let (seen, returned) = seen_and_returned(&["abc-1"]).await;
        assert_eq!((seen.as_str(), returned.as_str()), ("abc-1", "abc-1"));
        let (seen, returned) = seen_and_returned(&[]).await;
        assert_eq!(seen, returned);
        assert_eq!(seen.len(), 36);
    }

    #[tokio::test]
    async fn duplicates_and_overlong_ids_are_replaced() {
        let (seen, _) = seen_and_returned(&["one", "two"]).await;
        assert!(seen != "one" && seen != "two" && seen.len() == 36, "{seen}");
        let long = "a".repeat(MAX_REQUEST_ID_LEN + 1);
        let (seen, _) = seen_and_returned(&[&long]).await;
        assert_eq!(seen.len(), 36);
    }

    #[test]
    fn acceptable_ids() {
        assert!(is_acceptable(b"abc-123_x.y:z"));
        assert!(is_acceptable(&[b'a'; MAX_REQUEST_ID_LEN]));
        assert!(!is_acceptable(&[b'a'; MAX_REQUEST_ID_LEN + 1]));
        assert!(!is_acceptable(b""));
        assert!(!is_acceptable(b"evil\"id"));
        assert!(!is_acceptable(b"has space"));
    }
}
