//! A panicking handler becomes a 500 envelope, and the panic message goes to the log, not the client.
//!
//! tower-http's `CatchPanicLayer` does the same but re-boxes every response body, an allocation on every
//! request; this layer keeps axum's `Body` as it is.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::response::{IntoResponse, Response};
use construct_core::ApiError;
use futures_util::FutureExt;
use futures_util::future::CatchUnwind;
use pin_project_lite::pin_project;
use tower::{Layer, Service};

/// Catches panics in the wrapped service, in `call` and while its future is polled.
#[derive(Debug, Clone, Copy, Default)]
pub struct CatchPanicLayer;

impl<S> Layer<S> for CatchPanicLayer {
    type Service = CatchPanic<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CatchPanic { inner }
    }
}

/// The service [`CatchPanicLayer`] produces.
#[derive(Debug, Clone, Copy)]
pub struct CatchPanic<S> {
    inner: S,
}

impl<S, R> Service<R> for CatchPanic<S>
where
    S: Service<R, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = CatchPanicFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(request))) {
            Ok(future) => CatchPanicFuture::Running { future: AssertUnwindSafe(future).catch_unwind() },
            Err(payload) => CatchPanicFuture::Panicked { response: Some(panic_response(payload)) },
        }
    }
}

pin_project! {
    /// Future of [`CatchPanic`].
    #[project = CatchPanicProj]
    #[allow(missing_docs)] // pin-project-lite cannot carry docs on enum fields.
    pub enum CatchPanicFuture<F> {
        /// The inner future, guarded.
        Running { #[pin] future: CatchUnwind<AssertUnwindSafe<F>> },
        /// `call` itself panicked; the 500 response is taken when polled.
        Panicked { response: Option<Response> },
    }
}

impl<F, E> Future for CatchPanicFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            CatchPanicProj::Running { future } => match future.poll(cx) {
                Poll::Ready(Ok(result)) => Poll::Ready(result),
                Poll::Ready(Err(payload)) => Poll::Ready(Ok(panic_response(payload))),
                Poll::Pending => Poll::Pending,
            },
            CatchPanicProj::Panicked { response } => {
                Poll::Ready(Ok(response.take().unwrap_or_else(|| ApiError::internal().into_response())))
            }
        }
    }
}

fn panic_response(payload: Box<dyn Any + Send + 'static>) -> Response {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("(non-string panic payload)");
    tracing::error!(panic = message, "handler panicked");
    ApiError::internal().into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;
    use tower::ServiceExt;

    #[tokio::test]
    async fn panics_in_call_and_in_future_become_500() {
        let in_future = CatchPanicLayer.layer(tower::service_fn(|fail: bool| async move {
            assert!(!fail, "handler bug");
            Ok::<_, Infallible>(Response::new(axum::body::Body::empty()))
        }));
        assert_eq!(in_future.oneshot(false).await.expect("ok").status(), 200);
        assert_eq!(in_future.oneshot(true).await.expect("ok").status(), 500);

        struct PanicsInCall;
        impl Service<()> for PanicsInCall {
            type Response = Response;
            type Error = Infallible;
            type Future = std::future::Ready<Result<Response, Infallible>>;
            fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
                Poll::Ready(Ok(()))
            }
            fn call(&mut self, (): ()) -> Self::Future {
                panic!("synchronous bug")
            }
        }
        let response = CatchPanicLayer.layer(PanicsInCall).oneshot(()).await.expect("ok");
        assert_eq!(response.status(), 500);
    }
}
