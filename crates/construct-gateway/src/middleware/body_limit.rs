//! Request body limit.
//!
//! A declared `Content-Length` over the limit is refused with a 413 envelope before the handler runs. A
//! body without a declared length (chunked) is wrapped so that reading past the limit fails, which our
//! extractors report as 413. A body with a declared length within the limit needs no wrapper: hyper
//! refuses to deliver more bytes than declared. [`super::limits`] also hands the limit to axum's
//! extractors (`DefaultBodyLimit`), replacing their 2 MiB default, so a group may raise it explicitly.
//!
//! tower-http's `RequestBodyLimitLayer` wraps every request and response body, which costs an allocation
//! per request in axum; this layer allocates only for chunked uploads.

use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use construct_core::ApiError;
use futures_util::future::Either;
use http::header;
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
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        match declared {
            Some(len) if len > self.max as u64 => {
                return Either::Left(std::future::ready(Ok(ApiError::payload_too_large().into_response())));
            }
            Some(_) => {}
            None => {
                let body = std::mem::take(request.body_mut());
                *request.body_mut() = Body::new(http_body_util::Limited::new(body, self.max));
            }
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
    async fn declared_length_over_the_limit_is_refused_up_front() {
        let request = Request::post("/")
            .header(header::CONTENT_LENGTH, "11")
            .body(Body::from("01234567890"))
            .expect("r");
        assert_eq!(reader().oneshot(request).await.expect("ok").status(), 413);
        let request = Request::post("/")
            .header(header::CONTENT_LENGTH, "10")
            .body(Body::from("0123456789"))
            .expect("r");
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
