//! Request metrics: every answered request counts once under its method, matched route pattern (never the
//! raw path, so ids stay out and the series stay bounded; `unmatched` otherwise) and status, and its time
//! to the response head goes into the route's latency histogram.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::response::Response;
use construct_core::metrics::{HttpLabels, Metrics, RouteLabels};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

/// Records request metrics into one gateway's [`Metrics`].
#[derive(Debug, Clone)]
pub struct MetricsLayer {
    metrics: Arc<Metrics>,
}

impl MetricsLayer {
    /// Records into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = Measured<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Measured { inner, metrics: Arc::clone(&self.metrics) }
    }
}

/// The service [`MetricsLayer`] produces.
#[derive(Debug, Clone)]
pub struct Measured<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S> Service<Request> for Measured<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = MeasuredFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str);
        let labels = RouteLabels { method: request.method().as_str().to_owned(), route: route.to_owned() };
        MeasuredFuture {
            inner: self.inner.call(request),
            metrics: Some((Arc::clone(&self.metrics), labels)),
            started: Instant::now(),
        }
    }
}

pin_project! {
    /// Future of [`Measured`].
    pub struct MeasuredFuture<F> {
        #[pin]
        inner: F,
        metrics: Option<(Arc<Metrics>, RouteLabels)>,
        started: Instant,
    }
}

impl<F, E> Future for MeasuredFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let (Ok(response), Some((metrics, labels))) = (&result, this.metrics.take()) {
            metrics.http_duration.get_or_create(&labels).observe(this.started.elapsed().as_secs_f64());
            let RouteLabels { method, route } = labels;
            metrics
                .http_requests
                .get_or_create(&HttpLabels { method, route, status: response.status().as_u16() })
                .inc();
        }
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use http::StatusCode;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn counts_by_route_pattern_and_status() {
        let metrics = Arc::new(Metrics::new());
        let app = Router::new()
            .route("/items/{id}", get(|| async { "ok" }))
            .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
            .layer(MetricsLayer::new(Arc::clone(&metrics)));
        for uri in ["/items/secret-1", "/items/secret-2", "/missing"] {
            app.clone().oneshot(http::Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
        }
        let text = metrics.render();
        assert!(
            text.contains(
                "construct_http_requests_total{method=\"GET\",route=\"/items/{id}\",status=\"200\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains("route=\"/missing\",status=\"404\"} 1"), "{text}");
        assert!(
            text.contains(
                "construct_http_request_duration_seconds_count{method=\"GET\",route=\"/items/{id}\"} 2"
            ),
            "{text}"
        );
        assert!(!text.contains("secret-1"), "raw paths never become labels");
    }
}
