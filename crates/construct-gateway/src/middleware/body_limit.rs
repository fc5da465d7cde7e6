//! Request body limit.
//!
//! A declared `Content-Length` over the limit is refused with a 413 envelope before the handler runs. A
//! body whose size is not known in advance (chunked) is wrapped so that reading past the limit fails,
//! which our extractors report as 413. A body whose size is known to fit (a declared length within the
//! limit, or no body at all, as on most GETs) needs no wrapper: hyper refuses to deliver more bytes than
//! declared. The decision uses the body's size hint, so in-process bodies are handled the same way. [`super::limits`] also hands the limit to axum's
//! extractors (`DefaultBodyLimit`), replacing their 2 MiB default, so a group may raise it explicitly.
//!
//! tower-http's `RequestBodyLimitLayer` wraps every request and response body, which costs an allocation
//! per request in axum; this layer allocates only for bodies of unknown size.

use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use construct_core::ApiError;
use futures_util::future::Either;
use tower::{Layer, Service};

/// Limits request bodies to `max` bytes.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimitLayer {
    max: usize,
}

impl BodyLimitLayer {
    /// A layer admitting at most `max` bytes.
    pub fn new(max: usize) -> Self {
        Self { max }
    }
}

impl<S> Layer<S> for BodyLimitLayer {
    type Service = BodyLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BodyLimit { inner, max: self.max }
    }
}

/// The service [`BodyLimitLayer`] produces.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit<S> {
    inner: S,
    max: usize,
}

impl<S> Service<Request> for BodyLimit<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<std::future::Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        // An unparseable Content-Length never gets here: hyper rejects such a request with 400.
        let hint = http_body::Body::size_hint(request.body());
        let max = self.max as u64;
        if hint.lower() > max {
            return Either::Left(std::future::ready(Ok(ApiError::payload_too_large().into_response())));
        }
        if hint.upper().is_none_or(|upper| upper > max) {
            let body = std::mem::take(request.body_mut());
            *request.body_mut() = Body::new(http_body_util::Limited::new(body, self.max));
        }
        Either::Right(self.inner.call(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use std::convert::Infallible;
    use tower::ServiceExt;

    /// Reads the whole body and answers with its length, or 413 when reading hit the limit.
    fn reader() -> impl Service<Request, Response = Response, Error = Infallible, Future: Send> + Clone {
        BodyLimitLayer::new(10).layer(tower::service_fn(|request: Request| async move {
            Ok::<_, Infallible>(match request.into_body().collect().await {
                Ok(bytes) => bytes.to_bytes().len().to_string().into_response(),
                Err(_) => ApiError::payload_too_large().into_response(),
            })
        }))
    }

    fn chunked(parts: &'static [&'static str]) -> Body {
        Body::from_stream(futures_util::stream::iter(parts.iter().map(|p| Ok::<_, Infallible>(*p))))
    }

    #[tokio::test]
    async fn known_size_over_the_limit_is_refused_before_the_handler() {
        let called = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&called);
        let service = BodyLimitLayer::new(10).layer(tower::service_fn(move |_: Request| {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            async { Ok::<_, Infallible>(Response::new(Body::empty())) }
        }));
        let request = Request::post("/").body(Body::from("01234567890")).expect("r");
        assert_eq!(service.oneshot(request).await.expect("ok").status(), 413);
        assert!(!called.load(std::sync::atomic::Ordering::SeqCst));
        let request = Request::post("/").body(Body::from("0123456789")).expect("r");
        assert_eq!(reader().oneshot(request).await.expect("ok").status(), 200);
    }

    #[tokio::test]
    async fn chunked_bodies_are_cut_at_the_limit() {
        let request = Request::post("/").body(chunked(&["01234", "56789"])).expect("r");
        assert_eq!(reader().oneshot(request).await.expect("ok").status(), 200);
        let request = Request::post("/").body(chunked(&["01234", "56789", "x"])).expect("r");
        assert_eq!(reader().oneshot(request).await.expect("ok").status(), 413);
    }
}
