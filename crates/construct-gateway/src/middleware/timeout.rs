//! Request timeout: the response head must be ready within the route group's limit, or the client gets a
//! 408 envelope.
//!
//! tower-http has a timeout layer, but it polls its timer before the handler, which registers a timer
//! in tokio's wheel on every request (a shared lock, measurable in `cargo xtask bench`). This one polls
//! the handler first and arms a timer only for a handler that is still pending, so fast requests never
//! touch the timer wheel. The deadline is still measured from the moment the request arrived.
//!
//! Only the time to the response head is bounded: a streaming body (SSE, a WebSocket upgrade) that has
//! started is not cut off.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use construct_core::ApiError;
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tower::{Layer, Service};

/// Bounds the time to the response head.
#[derive(Debug, Clone, Copy)]
pub struct TimeoutLayer {
    timeout: Duration,
}

impl TimeoutLayer {
    /// A layer with this limit.
    pub fn new(timeout: Duration) -> Self {
        Self { timeout }
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Timeout { inner, timeout: self.timeout }
    }
}

/// The service [`TimeoutLayer`] produces.
#[derive(Debug, Clone, Copy)]
pub struct Timeout<S> {
    inner: S,
    timeout: Duration,
}

impl<S, R> Service<R> for Timeout<S>
where
    S: Service<R, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = TimeoutFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        // A timeout too large to add is as good as none: far_future() is about 30 years away.
        let deadline = Instant::now().checked_add(self.timeout).unwrap_or_else(far_future);
        TimeoutFuture { inner: self.inner.call(request), deadline, sleep: None }
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

pin_project! {
    /// Future of [`Timeout`].
    pub struct TimeoutFuture<F> {
        #[pin]
        inner: F,
        deadline: Instant,
        sleep: Option<Pin<Box<Sleep>>>,
    }
}

impl<F, E> Future for TimeoutFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(result) = this.inner.poll(cx) {
            return Poll::Ready(result);
        }
        let deadline = *this.deadline;
        let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Ok(ApiError::request_timeout().into_response())),
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;
    use tower::ServiceExt;

    fn service(
        delay: Duration,
    ) -> impl Service<(), Response = Response, Error = Infallible, Future: Send> + Clone {
        TimeoutLayer::new(Duration::from_secs(1)).layer(tower::service_fn(move |()| async move {
            tokio::time::sleep(delay).await;
            Ok::<_, Infallible>(Response::new(axum::body::Body::from("done")))
        }))
    }

    #[tokio::test(start_paused = true)]
    async fn slow_inner_times_out_with_408() {
        let response = service(Duration::from_secs(5)).oneshot(()).await.expect("infallible");
        assert_eq!(response.status(), http::StatusCode::REQUEST_TIMEOUT);
    }

    #[tokio::test(start_paused = true)]
    async fn pending_but_in_time_completes() {
        let response = service(Duration::from_millis(900)).oneshot(()).await.expect("infallible");
        assert_eq!(response.status(), http::StatusCode::OK);
    }

    #[tokio::test(start_paused = true)]
    async fn an_enormous_timeout_does_not_overflow() {
        let svc = TimeoutLayer::new(Duration::MAX).layer(tower::service_fn(|()| async {
            Ok::<_, Infallible>(Response::new(axum::body::Body::empty()))
        }));
        assert_eq!(svc.oneshot(()).await.expect("infallible").status(), http::StatusCode::OK);
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_counts_from_the_call_not_the_first_poll() {
        let mut svc = service(Duration::from_millis(900));
        let future = svc.call(());
        tokio::time::sleep(Duration::from_millis(200)).await;
        // 200 ms already spent + 900 ms of work > 1 s.
        assert_eq!(future.await.expect("infallible").status(), http::StatusCode::REQUEST_TIMEOUT);
    }
}
