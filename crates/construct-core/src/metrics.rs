//! The gateway's metrics, rendered for Prometheus at `GET /metrics` (OpenMetrics text).
//!
//! One [`Metrics`] per gateway (never a process-wide registry, so two gateways embedded in one process,
//! or two tests, keep their own counts). Every layer that observes something holds an `Arc<Metrics>`
//! and records into the family made for it; label values are small fixed sets (matched route patterns,
//! never raw paths; channel and model names from the configuration), so the series stay bounded.
//!
//! Names follow Prometheus conventions: a `construct_` prefix, base units (seconds), `_total` on
//! counters (added by the encoder).

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `method`, `route` (the matched pattern, or `unmatched`) and `status` of an answered request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// The request method.
    pub method: String,
    /// The matched route pattern, or `unmatched`.
    pub route: String,
    /// The response status.
    pub status: u16,
}

/// `method` and `route` of a request, for its latency.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The request method.
    pub method: String,
    /// The matched route pattern, or `unmatched`.
    pub route: String,
}

/// An open long-lived connection: `kind` is `websocket` or `sse`, `route` what it serves.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConnectionLabels {
    /// `websocket` or `sse`.
    pub kind: &'static str,
    /// The route it serves.
    pub route: &'static str,
}

/// A request the guard refused: `reason` is `unauthenticated` (401), `forbidden` (403: scope, origin,
/// loopback-only), `rate_limited` or `locked_out` (429), `class` the route group's rate class.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RejectionLabels {
    /// Why it was refused.
    pub reason: &'static str,
    /// The route group's rate class (`none` without one).
    pub class: &'static str,
}

/// A channel delivery's `outcome`: `accepted`, `duplicate`, `overloaded`, `invalid_signature`,
/// `invalid_body`, `not_allowed`, `replied`, `reply_failed`, `turn_failed`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WebhookLabels {
    /// The channel (`whatsapp`, `wati`, `linq`, `nextcloud_talk`, `gmail`, `webhook`).
    pub channel: String,
    /// What happened.
    pub outcome: &'static str,
}

/// An agent turn's `model` and `outcome` (`ok`, `cancelled`, `error`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TurnLabels {
    /// The model name.
    pub model: String,
    /// What happened.
    pub outcome: &'static str,
}

/// Tokens by `model` and `direction` (`input` or `output`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TokenLabels {
    /// The model name.
    pub model: String,
    /// `input` or `output`.
    pub direction: &'static str,
}

/// A store call by `store` (the area: devices, sessions, queue, canvas, approvals, usage, idempotency).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StoreLabels {
    /// The store area.
    pub store: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency() -> Histogram {
    // 0.5 ms to ~16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

fn turn_latency() -> Histogram {
    // 50 ms to ~27 min: model turns are slow.
    Histogram::new(exponential_buckets(0.05, 2.0, 16))
}

/// Every metric of one gateway.
pub struct Metrics {
    registry: Registry,
    /// Requests answered, by method, route and status.
    pub http_requests: Family<HttpLabels, Counter>,
    /// Time to the response head, by method and route.
    pub http_duration: Histograms<RouteLabels>,
    /// WebSocket and SSE connections open now.
    pub connections: Family<ConnectionLabels, Gauge>,
    /// Requests refused before reaching their route.
    pub rejections: Family<RejectionLabels, Counter>,
    /// Channel deliveries and replies by outcome.
    pub webhook_deliveries: Family<WebhookLabels, Counter>,
    /// Messages waiting in the channel work queue (sampled when scraped).
    pub webhook_queue_depth: Gauge<u64, AtomicU64>,
    /// Agent turns by model and outcome, with their duration.
    pub provider_turns: Histograms<TurnLabels>,
    /// Tokens the provider reported.
    pub provider_tokens: Family<TokenLabels, Counter>,
    /// Store calls, with their duration (waiting for the connection included).
    pub store_duration: Histograms<StoreLabels>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh set, every family registered under `construct_`.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("construct");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered", http_requests.clone());
        let http_duration: Histograms<RouteLabels> = Family::new_with_constructor(latency);
        registry.register_with_unit(
            "http_request_duration",
            "Time from the request to its response head",
            Unit::Seconds,
            http_duration.clone(),
        );
        let connections = Family::<ConnectionLabels, Gauge>::default();
        registry.register("open_connections", "WebSocket and SSE connections open now", connections.clone());
        let rejections = Family::<RejectionLabels, Counter>::default();
        registry.register(
            "rejected_requests",
            "Requests refused by authentication, authorization or rate limits before their route",
            rejections.clone(),
        );
        let webhook_deliveries = Family::<WebhookLabels, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Messaging-channel deliveries and replies by outcome",
            webhook_deliveries.clone(),
        );
        let webhook_queue_depth = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "webhook_queue_depth",
            "Channel messages waiting for a worker",
            webhook_queue_depth.clone(),
        );
        let provider_turns: Histograms<TurnLabels> = Family::new_with_constructor(turn_latency);
        registry.register_with_unit(
            "provider_turn_duration",
            "Agent turns by model and outcome",
            Unit::Seconds,
            provider_turns.clone(),
        );
        let provider_tokens = Family::<TokenLabels, Counter>::default();
        registry.register("provider_tokens", "Tokens the provider reported", provider_tokens.clone());
        let store_duration: Histograms<StoreLabels> = Family::new_with_constructor(latency);
        registry.register_with_unit(
            "store_operation_duration",
            "Store calls, waiting for the connection included",
            Unit::Seconds,
            store_duration.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            connections,
            rejections,
            webhook_deliveries,
            webhook_queue_depth,
            provider_turns,
            provider_tokens,
            store_duration,
        }
    }

    /// Everything, as OpenMetrics text ([`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Counts one open connection until the returned guard is dropped.
    pub fn open_connection(&self, kind: &'static str, route: &'static str) -> ConnectionGuard {
        let gauge = self.connections.get_or_create(&ConnectionLabels { kind, route }).clone();
        gauge.inc();
        ConnectionGuard(gauge)
    }

    /// Counts a refused request.
    pub fn rejected(&self, reason: &'static str, class: &'static str) {
        self.rejections.get_or_create(&RejectionLabels { reason, class }).inc();
    }

    /// Counts a channel delivery (or reply) outcome.
    pub fn webhook(&self, channel: &str, outcome: &'static str, count: u64) {
        self.webhook_deliveries
            .get_or_create(&WebhookLabels { channel: channel.to_owned(), outcome })
            .inc_by(count);
    }

    /// Records an agent turn.
    pub fn turn(&self, model: &str, outcome: &'static str, took: Duration) {
        self.provider_turns
            .get_or_create(&TurnLabels { model: model.to_owned(), outcome })
            .observe(took.as_secs_f64());
    }

    /// Records the tokens of a turn.
    pub fn tokens(&self, model: &str, input: u64, output: u64) {
        for (direction, count) in [("input", input), ("output", output)] {
            if count > 0 {
                self.provider_tokens
                    .get_or_create(&TokenLabels { model: model.to_owned(), direction })
                    .inc_by(count);
            }
        }
    }

    /// Records a store call.
    pub fn store_call(&self, store: &'static str, took: Duration) {
        self.store_duration.get_or_create(&StoreLabels { store }).observe(took.as_secs_f64());
    }
}

/// One open connection, counted until dropped.
#[derive(Debug)]
pub struct ConnectionGuard(Gauge);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_openmetrics_with_conventional_names() {
        let metrics = Metrics::new();
        metrics
            .http_requests
            .get_or_create(&HttpLabels { method: "GET".into(), route: "/api/status".into(), status: 200 })
            .inc();
        metrics
            .http_duration
            .get_or_create(&RouteLabels { method: "GET".into(), route: "/api/status".into() })
            .observe(0.002);
        metrics.rejected("unauthenticated", "api");
        metrics.webhook("whatsapp", "accepted", 2);
        metrics.turn("gpt", "ok", Duration::from_millis(300));
        metrics.tokens("gpt", 10, 0);
        metrics.webhook_queue_depth.set(3);
        let text = metrics.render();
        for line in [
            "construct_http_requests_total{method=\"GET\",route=\"/api/status\",status=\"200\"} 1",
            "construct_http_request_duration_seconds_count{method=\"GET\",route=\"/api/status\"} 1",
            "construct_rejected_requests_total{reason=\"unauthenticated\",class=\"api\"} 1",
            "construct_webhook_deliveries_total{channel=\"whatsapp\",outcome=\"accepted\"} 2",
            "construct_provider_turn_duration_seconds_count{model=\"gpt\",outcome=\"ok\"} 1",
            "construct_provider_tokens_total{model=\"gpt\",direction=\"input\"} 10",
            "construct_webhook_queue_depth 3",
            "# TYPE construct_http_request_duration_seconds histogram",
            "# UNIT construct_http_request_duration_seconds seconds",
            "# EOF",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
        assert!(!text.contains("direction=\"output\""), "no series for zero tokens");
    }

    #[test]
    fn a_connection_counts_until_its_guard_drops() {
        let metrics = Metrics::new();
        let one = metrics.open_connection("websocket", "/ws/chat");
        let two = metrics.open_connection("websocket", "/ws/chat");
        let gauge = |m: &Metrics| {
            m.connections.get_or_create(&ConnectionLabels { kind: "websocket", route: "/ws/chat" }).get()
        };
        assert_eq!(gauge(&metrics), 2);
        drop(one);
        assert_eq!(gauge(&metrics), 1);
        drop(two);
        assert_eq!(gauge(&metrics), 0);
    }

    #[test]
    fn two_gateways_keep_their_own_counts() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.rejected("forbidden", "api");
        assert!(a.render().contains("rejected_requests_total{reason=\"forbidden\""));
        assert!(!b.render().contains("reason=\"forbidden\""));
    }
}
