//! `POST /webhook` through the assembled router, with stand-in agents.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use std::sync::Arc;

use common::agents::{Broken, Recorder};
use common::*;
use construct_agent::Agent;
use construct_core::LoadedConfig;
use construct_core::config::WebhookChannelConfig;
use construct_core::events::{Delivery, EventBus};
use construct_core::secret::Secret;
use construct_gateway::Gateway;
use construct_store::MemoryEventBus;
use futures_util::StreamExt;
use http::{Method, StatusCode};
use serde_json::json;

struct Setup {
    harness: Harness,
    events: Arc<MemoryEventBus>,
}

fn setup(agent: Arc<dyn Agent>, secret: Option<&str>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let mut loaded = LoadedConfig::with_defaults(dir.path());
    if let Some(secret) = secret {
        loaded.config.channels_config.webhook =
            Some(WebhookChannelConfig { secret: Some(Secret::new(secret)) });
    }
    let events = Arc::new(MemoryEventBus::default());
    let gateway = Gateway::builder(loaded).agent(agent).event_bus(events.clone()).build().unwrap();
    Setup { harness: Harness::from_parts(gateway, dir), events }
}

#[tokio::test]
async fn a_prompt_gets_the_agents_answer_and_sessions_keep_history() {
    let s = setup(Arc::new(Recorder), None);
    let (token, _) = pair_first(&s.harness).await;
    let mut live = s.events.subscribe(None);
    let (status, _, body) = call(Method::POST, "/webhook")
        .token(&token)
        .json(json!({"message": "hello"}))
        .send(&s.harness.router)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"response": "0 prior; you said hello", "model": "test-model"}));
    let kinds: Vec<String> = live
        .by_ref()
        .take(3)
        .map(|d| match d {
            Delivery::Event(e) => e.kind,
            Delivery::Lagged { .. } | Delivery::Reset { .. } => "lagged".into(),
        })
        .collect()
        .await;
    assert_eq!(kinds, ["webhook_received", "agent_start", "agent_end"]);

    let in_session = |text: &str| {
        call(Method::POST, "/webhook")
            .token(&token)
            .header("x-session-id", "chat-1")
            .json(json!({"message": text}))
    };
    in_session("one").send(&s.harness.router).await;
    let (_, _, body) = in_session("two").send(&s.harness.router).await;
    assert_eq!(body["response"], "2 prior; you said two", "the first exchange was remembered");
    let (_, _, body) = call(Method::POST, "/webhook")
        .token(&token)
        .header("x-session-id", "chat-2")
        .json(json!({"message": "x"}))
        .send(&s.harness.router)
        .await;
    assert_eq!(body["response"], "0 prior; you said x", "sessions are separate");
}

#[tokio::test]
async fn bad_input_gets_exact_errors() {
    let s = setup(Arc::new(Recorder), None);
    let (token, _) = pair_first(&s.harness).await;
    let r = &s.harness.router;
    let post = || call(Method::POST, "/webhook").token(&token);
    assert_error(&post().raw("application/json", "{").send(r).await, StatusCode::BAD_REQUEST, "INVALID_JSON");
    assert_error(
        &post().json(json!({"msg": "x"})).send(r).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_BODY",
    );
    assert_error(
        &post().json(json!({"message": " "})).send(r).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_BODY",
    );
    assert_error(
        &post().header("x-session-id", "../etc").json(json!({"message": "x"})).send(r).await,
        StatusCode::BAD_REQUEST,
        "INVALID_SESSION_ID",
    );
    assert_error(
        &call(Method::POST, "/webhook").json(json!({"message": "x"})).send(r).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
    );
}

#[tokio::test]
async fn the_webhook_secret_is_checked_before_the_body() {
    let s = setup(Arc::new(Recorder), Some("hook-secret"));
    let (token, _) = pair_first(&s.harness).await;
    let r = &s.harness.router;
    let post = || call(Method::POST, "/webhook").token(&token);
    assert_error(
        &post().json(json!({"message": "x"})).send(r).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_SIGNATURE",
    );
    assert_error(
        &post().header("x-webhook-secret", "wrong").json(json!({"message": "x"})).send(r).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_SIGNATURE",
    );
    // Even a malformed body is refused for the secret first: nothing is parsed for an unverified caller.
    assert_error(
        &post().raw("application/json", "{").send(r).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_SIGNATURE",
    );
    let (status, _, body) =
        post().header("x-webhook-secret", "hook-secret").json(json!({"message": "x"})).send(r).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_failing_agent_is_a_502_and_an_error_event_and_is_not_replayed() {
    let s = setup(Arc::new(Broken), None);
    let (token, _) = pair_first(&s.harness).await;
    let mut live = s.events.subscribe(None);
    let post = || {
        call(Method::POST, "/webhook")
            .token(&token)
            .header("idempotency-key", "w1")
            .json(json!({"message": "x"}))
    };
    let got = post().send(&s.harness.router).await;
    assert_error(&got, StatusCode::BAD_GATEWAY, "AGENT_ERROR");
    assert!(!got.2.to_string().contains("exploded"), "provider details stay in the log");
    let kinds: Vec<String> = live
        .by_ref()
        .take(4)
        .map(|d| match d {
            Delivery::Event(e) => e.kind,
            Delivery::Lagged { .. } | Delivery::Reset { .. } => "lagged".into(),
        })
        .collect()
        .await;
    assert_eq!(kinds, ["webhook_received", "agent_start", "agent_end", "error"]);
    // A 5xx is not stored: the retry runs the agent again instead of replaying the failure.
    let retry = post().send(&s.harness.router).await;
    assert!(retry.1.get("idempotent-replayed").is_none());
}
