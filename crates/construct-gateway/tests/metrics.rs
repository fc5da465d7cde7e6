//! `GET /metrics` on a live gateway: what requests, refusals, sockets, streams and turns leave behind.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::ws::*;
use common::*;
use construct_agent::EchoAgent;
use serde_json::json;

/// The metrics page as `token` sees it: (status, content type, body).
async fn scrape(live: &Live, token: Option<&str>) -> (u16, String, String) {
    let client = reqwest::Client::new();
    let mut request = client.get(format!("http://{}/metrics", live.addr));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

fn value_of(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test]
async fn requests_refusals_connections_and_turns_are_counted_for_admins_only() {
    let live = Live::start(Arc::new(EchoAgent), |_| {}).await;
    let h = http_client(&live);
    assert_eq!(h.get("/api/status").await.0, 200);
    assert_eq!(h.get("/api/status").await.0, 200);
    assert_eq!(h.get("/api/devices/no-such-device/nothing").await.0, 404);
    assert_eq!(Http::anonymous(live.addr).get("/api/status").await.0, 401);
    let reader = pair_device(&live, &["read", "chat"]).await;

    let (mut chat, _) = open(authed(&live, "/ws/chat")).await.unwrap();
    until(&mut chat, "session_start").await;
    send(&mut chat, json!({"type": "message", "content": "count this turn"})).await;
    until(&mut chat, "done").await;
    let events = reqwest::Client::new()
        .get(format!("http://{}/api/events", live.addr))
        .bearer_auth(&live.token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);

    let (status, content_type, text) = scrape(&live, Some(&live.token)).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(content_type, "application/openmetrics-text; version=1.0.0; charset=utf-8");
    assert_eq!(
        value_of(&text, "construct_http_requests_total{method=\"GET\",route=\"/api/status\",status=\"200\"}"),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        value_of(&text, "construct_http_requests_total{method=\"GET\",route=\"/api/status\",status=\"401\"}"),
        Some(1.0),
        "{text}"
    );
    assert!(text.contains("route=\"unmatched\",status=\"404\"}"), "unknown paths share one series: {text}");
    assert!(!text.contains("no-such-device"), "raw paths never become labels");
    assert_eq!(
        value_of(&text, "construct_rejected_requests_total{reason=\"unauthenticated\",class=\"api\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value_of(&text, "construct_open_connections{kind=\"websocket\",route=\"/ws/chat\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(value_of(&text, "construct_open_connections{kind=\"sse\",route=\"/api/events\"}"), Some(1.0));
    assert_eq!(
        value_of(&text, "construct_provider_turn_duration_seconds_count{model=\"echo\",outcome=\"ok\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(value_of(&text, "construct_webhook_queue_depth"), Some(0.0), "{text}");
    assert!(text.ends_with("# EOF\n"));

    // Closed connections are no longer counted.
    drop(events);
    chat.close(None).await.unwrap();
    let mut gone = false;
    for _ in 0..50 {
        let (_, _, text) = scrape(&live, Some(&live.token)).await;
        let open = |route: &str, kind: &str| {
            value_of(&text, &format!("construct_open_connections{{kind=\"{kind}\",route=\"{route}\"}}"))
        };
        if open("/ws/chat", "websocket") == Some(0.0) && open("/api/events", "sse") == Some(0.0) {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "the gauges fall back to 0 when the connections close");

    let (status, _, body) = scrape(&live, Some(&reader)).await;
    assert_eq!(status, 403, "read scope is not enough: {body}");
    assert_eq!(scrape(&live, None).await.0, 401);
    let (_, _, text) = scrape(&live, Some(&live.token)).await;
    assert_eq!(
        value_of(&text, "construct_rejected_requests_total{reason=\"forbidden\",class=\"api\"}"),
        Some(1.0),
        "{text}"
    );
}
