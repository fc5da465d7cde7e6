//! `GET /api/events` through the assembled router: ids, names, replay, reset, lag, keep-alive.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use common::*;
use construct_core::LoadedConfig;
use construct_core::events::EventBus;
use construct_gateway::Gateway;
use construct_store::MemoryEventBus;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn setup(bus: MemoryEventBus) -> (Harness, Arc<MemoryEventBus>, String) {
    let dir = tempfile::tempdir().unwrap();
    let loaded = LoadedConfig::with_defaults(dir.path());
    let events = Arc::new(bus);
    let gateway = Gateway::builder(loaded).event_bus(events.clone()).build().unwrap();
    let h = Harness::from_parts(gateway, dir);
    let (token, _) = pair_first(&h).await;
    (h, events, token)
}

/// An open event stream, read frame by frame.
struct Stream {
    body: Body,
    buffer: String,
}

#[derive(Debug, PartialEq)]
struct Frame {
    id: Option<String>,
    event: Option<String>,
    data: Value,
}

impl Stream {
    async fn open(
        h: &Harness,
        token: &str,
        last_event_id: Option<&str>,
    ) -> (StatusCode, http::HeaderMap, Self) {
        let mut request = Request::builder()
            .method(Method::GET)
            .uri("/api/events")
            .header("host", "gateway.example")
            .header("authorization", format!("Bearer {token}"));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let mut request = request.body(Body::empty()).unwrap();
        request.extensions_mut().insert(ConnectInfo(REMOTE.parse::<std::net::SocketAddr>().unwrap()));
        let response = h.router.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        (parts.status, parts.headers, Stream { body, buffer: String::new() })
    }

    /// The next frame (comments included, as a frame with only `data: null` and `event: ":comment"`).
    async fn next(&mut self) -> Frame {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut frame = Frame { id: None, event: None, data: Value::Null };
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ").or_else(|| line.strip_prefix("id:")) {
                        frame.id = Some(v.to_owned());
                    } else if let Some(v) =
                        line.strip_prefix("event: ").or_else(|| line.strip_prefix("event:"))
                    {
                        frame.event = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("data: ").or_else(|| line.strip_prefix("data:"))
                    {
                        frame.data = serde_json::from_str(v).unwrap();
                    } else if line.starts_with(':') {
                        frame.event = Some(":comment".into());
                    }
                }
                return frame;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(30), self.body.frame())
                .await
                .expect("a frame in time")
                .expect("the stream is open")
                .unwrap();
            if let Ok(data) = chunk.into_data() {
                self.buffer.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
    }
}

#[tokio::test]
async fn events_need_the_read_scope() {
    let (h, _, _) = setup(MemoryEventBus::default()).await;
    let got = call(Method::GET, "/api/events").send(&h.router).await;
    assert_error(&got, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
}

#[tokio::test]
async fn frames_carry_ids_names_and_json_data() {
    let (h, bus, token) = setup(MemoryEventBus::default()).await;
    let (status, headers, mut stream) = Stream::open(&h, &token, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/event-stream");
    let before = bus.publish("agent_start", json!({"model": "m"})).await.unwrap();
    bus.publish("webhook_received", json!({"channel": "linq"})).await.unwrap();
    let first = stream.next().await;
    assert_eq!(first.id, Some(before.to_string()));
    assert_eq!(first.event.as_deref(), Some("agent_start"));
    assert_eq!(first.data["type"], "agent_start");
    assert_eq!(first.data["model"], "m");
    assert!(first.data["timestamp"].as_str().unwrap().ends_with('Z'));
    let second = stream.next().await;
    assert_eq!(
        (second.event.as_deref(), second.data["channel"].as_str()),
        (Some("webhook_received"), Some("linq"))
    );
}

#[tokio::test]
async fn last_event_id_replays_and_a_too_old_id_resets() {
    let (h, bus, token) = setup(MemoryEventBus::new(3, 64)).await;
    let mut ids = Vec::new();
    for n in 1..=5 {
        ids.push(bus.publish("tick", json!({"n": n})).await.unwrap());
    }
    // Ticks 3, 4 and 5 are in the ring.
    let (_, _, mut stream) = Stream::open(&h, &token, Some(&ids[2].to_string())).await;
    assert_eq!(stream.next().await.data["n"], 4);
    assert_eq!(stream.next().await.data["n"], 5);

    let (_, _, mut stream) = Stream::open(&h, &token, Some(&ids[0].to_string())).await;
    let reset = stream.next().await;
    assert_eq!(reset.event.as_deref(), Some("reset"));
    assert_eq!(reset.data, json!({"type": "reset", "missed": 1}));
    assert_eq!(stream.next().await.data["n"], 3, "then everything the ring holds");

    let got =
        call(Method::GET, "/api/events").token(&token).header("last-event-id", "soon").send(&h.router).await;
    assert_error(&got, StatusCode::BAD_REQUEST, "INVALID_LAST_EVENT_ID");
    let got = call(Method::GET, "/api/events?last_event_id=x").token(&token).send(&h.router).await;
    assert_error(&got, StatusCode::BAD_REQUEST, "INVALID_LAST_EVENT_ID");
}

#[tokio::test]
async fn a_slow_subscriber_is_told_it_lagged_and_keeps_going() {
    let (h, bus, token) = setup(MemoryEventBus::new(4, 4)).await;
    let (_, _, mut stream) = Stream::open(&h, &token, None).await;
    // Nothing reads while twenty events go out: the subscriber falls behind its four-event buffer.
    for n in 1..=20 {
        bus.publish("tick", json!({"n": n})).await.unwrap();
    }
    let lagged = stream.next().await;
    assert_eq!(lagged.event.as_deref(), Some("lagged"));
    assert_eq!(lagged.data, json!({"type": "lagged", "missed": 16}));
    assert_eq!(stream.next().await.data["n"], 17, "then the newest events");
    bus.publish("tick", json!({"n": 21})).await.unwrap();
    for n in 18..=21 {
        assert_eq!(stream.next().await.data["n"], n);
    }
}

#[tokio::test(start_paused = true)]
async fn idle_streams_get_keep_alive_comments() {
    let (h, _, token) = setup(MemoryEventBus::default()).await;
    let (_, _, mut stream) = Stream::open(&h, &token, None).await;
    let started = tokio::time::Instant::now();
    let frame = stream.next().await;
    assert_eq!(frame.event.as_deref(), Some(":comment"));
    assert!(started.elapsed() >= Duration::from_secs(15));
}

#[tokio::test]
async fn pairing_and_revoking_devices_are_announced_without_tokens() {
    let (h, bus, token) = setup(MemoryEventBus::default()).await;
    let (_, _, listed) = call(Method::GET, "/api/devices").token(&token).send(&h.router).await;
    let id = listed["devices"][0]["id"].as_str().unwrap().to_owned();
    let got = call(Method::DELETE, &format!("/api/devices/{id}")).token(&token).send(&h.router).await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.2);
    use futures_util::StreamExt;
    let seen: Vec<construct_core::events::Delivery> = bus.subscribe(Some(0)).take(2).collect().await;
    let events: Vec<(String, Value)> = seen
        .into_iter()
        .filter_map(|d| match d {
            construct_core::events::Delivery::Event(e) => Some((e.kind, e.payload)),
            _ => None,
        })
        .collect();
    assert_eq!(events[0].0, "device_paired");
    assert_eq!(events[0].1["device_id"], id.as_str());
    assert!(!events[0].1.to_string().contains(&token), "never the token");
    assert_eq!(events[1], ("device_revoked".to_owned(), json!({"device_id": id})));
}

#[tokio::test]
async fn a_plain_get_on_a_websocket_route_is_an_enveloped_error() {
    let (h, _, token) = setup(MemoryEventBus::default()).await;
    let got = call(Method::GET, "/ws/chat").token(&token).send(&h.router).await;
    assert!(got.0.is_client_error(), "{}", got.0);
    assert!(got.2["code"].is_string(), "JSON envelope, not library text: {}", got.2);
}
