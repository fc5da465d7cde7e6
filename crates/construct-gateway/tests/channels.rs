//! The channel webhooks end to end in-process: deliveries through the assembled router, the work queue on
//! a real SQLite file, the workers, and replies landing on a fake channel API served on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use base64::Engine;
use bytes::Bytes;
use common::agents::{Broken, Recorder, Stall};
use common::*;
use construct_agent::Agent;
use construct_core::LoadedConfig;
use construct_core::config::{GmailPushConfig, LinqConfig, NextcloudTalkConfig, WatiConfig, WhatsAppConfig};
use construct_core::events::{Delivery, EventBus};
use construct_core::queue::WorkQueue;
use construct_core::secret::Secret;
use construct_gateway::Gateway;
use construct_store::{MemoryEventBus, SqliteStore, SqliteWorkQueue};
use construct_webhooks::{RetryPolicy, WorkerPool};
use futures_util::StreamExt;
use http::{HeaderMap, Method, StatusCode};
use ring::hmac;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const WA_SECRET: &str = "wa-app-secret";
const WA_VERIFY: &str = "wa-verify-token";
const WATI_VERIFY: &str = "wati-verify-token";
const WATI_SECRET: &str = "wati-shared-secret";
const LINQ_SECRET: &str = "linq-signing-secret";
const NC_SECRET: &str = "nextcloud-bot-secret";
const GMAIL_SECRET: &str = "gmail-push-secret";
const ALLOWED: &str = "+15550100000";

// ---------------------------------------------------------------------------------------------------------
// A fake channel API: records every request, answers 200 unless told to fail.

#[derive(Debug, Clone)]
struct Seen {
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
}

impl Seen {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Clone, Default)]
struct FakeApi {
    seen: Arc<Mutex<Vec<Seen>>>,
    statuses: Arc<Mutex<VecDeque<u16>>>,
}

impl FakeApi {
    async fn start() -> (Self, String) {
        let fake = FakeApi::default();
        let app = Router::new().fallback(record).with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (fake, url)
    }

    /// The next responses' statuses, before 200s resume.
    fn answer_next(&self, statuses: &[u16]) {
        self.statuses.lock().unwrap().extend(statuses);
    }

    fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    /// Waits until `n` requests arrived; returns them all.
    async fn wait_for(&self, n: usize) -> Vec<Seen> {
        for _ in 0..500 {
            if self.count() >= n {
                return self.seen.lock().unwrap().clone();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("expected {n} requests at the fake channel API, got {}", self.count());
    }
}

async fn record(State(fake): State<FakeApi>, request: axum::extract::Request) -> impl IntoResponse {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    fake.seen.lock().unwrap().push(Seen {
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    });
    let status = fake.statuses.lock().unwrap().pop_front().unwrap_or(200);
    (StatusCode::from_u16(status).unwrap(), axum::Json(json!({"ok": status == 200})))
}

// ---------------------------------------------------------------------------------------------------------
// The gateway under test.

struct Setup {
    harness: Harness,
    events: Arc<MemoryEventBus>,
    api: FakeApi,
    queue: Arc<SqliteWorkQueue>,
    stop: CancellationToken,
    pool: Option<WorkerPool>,
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn configure_channels(loaded: &mut LoadedConfig, api: &str) {
    let channels = &mut loaded.config.channels_config;
    channels.whatsapp = Some(WhatsAppConfig {
        access_token: Secret::new("wa-access-token"),
        phone_number_id: "1098765".into(),
        verify_token: Secret::new(WA_VERIFY),
        app_secret: Secret::new(WA_SECRET),
        allowed_numbers: vec![ALLOWED.into()],
        api_base_url: format!("{api}/graph/v18.0"),
    });
    channels.wati = Some(WatiConfig {
        api_url: format!("{api}/wati"),
        api_token: Secret::new("wati-api-token"),
        tenant_id: None,
        allowed_numbers: vec!["+15550111111".into()],
        verify_token: Secret::new(WATI_VERIFY),
        webhook_secret: Secret::new(WATI_SECRET),
    });
    channels.linq = Some(LinqConfig {
        api_token: Secret::new("linq-api-token"),
        from_phone: "+15550199999".into(),
        signing_secret: Secret::new(LINQ_SECRET),
        allowed_senders: vec!["+15550123456".into()],
        api_base_url: format!("{api}/linq/v3"),
    });
    channels.nextcloud_talk = Some(NextcloudTalkConfig {
        base_url: format!("{api}/cloud"),
        app_token: None,
        webhook_secret: Secret::new(NC_SECRET),
        allowed_users: vec!["alice".into()],
        bot_name: None,
    });
    channels.gmail_push = Some(GmailPushConfig { enabled: true, webhook_secret: Secret::new(GMAIL_SECRET) });
}

/// A gateway whose data (the SQLite queue) lives in `dir`, which the caller keeps.
async fn setup_with(
    agent: Arc<dyn Agent>,
    dir: &std::path::Path,
    run_workers: bool,
    configure: impl FnOnce(&mut LoadedConfig),
) -> Setup {
    let (api, url) = FakeApi::start().await;
    let mut loaded = LoadedConfig::with_defaults(dir);
    configure_channels(&mut loaded, &url);
    configure(&mut loaded);
    let events = Arc::new(MemoryEventBus::default());
    let queue = Arc::new(SqliteWorkQueue::new(
        SqliteStore::open_in(dir).unwrap(),
        loaded.config.channels_config.queue_capacity,
    ));
    let gateway = Gateway::builder(loaded)
        .agent(agent)
        .event_bus(events.clone())
        .work_queue(queue.clone())
        .reply_retry(RetryPolicy { attempts: 3, base_delay: Duration::from_millis(10) })
        .worker_grace(Duration::from_millis(100))
        .build()
        .unwrap();
    let stop = CancellationToken::new();
    let pool = if run_workers { gateway.spawn_workers(stop.clone()) } else { None };
    // The harness's own directory is unused: the data lives in `dir`.
    Setup {
        harness: Harness::from_parts(gateway, tempfile::tempdir().unwrap()),
        events,
        api,
        queue,
        stop,
        pool,
    }
}

/// A gateway with running workers; returns the directory that must outlive it.
async fn setup(agent: Arc<dyn Agent>) -> (Setup, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (setup_with(agent, dir.path(), true, |_| {}).await, dir)
}

/// A gateway without workers: accepted deliveries stay queued, so the queue depth counts them.
async fn setup_idle(configure: impl FnOnce(&mut LoadedConfig)) -> (Setup, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (setup_with(Arc::new(Recorder), dir.path(), false, configure).await, dir)
}

// ---------------------------------------------------------------------------------------------------------
// Signing, as each provider does it.

fn hmac_hex(secret: &str, parts: &[&[u8]]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut context = hmac::Context::with_key(&key);
    for part in parts {
        context.update(part);
    }
    hex::encode(context.sign())
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn whatsapp_body(from: &str, wamid: &str, text: &str) -> String {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1098765"},
            "messages": [{"from": from, "id": wamid, "timestamp": "1700000000", "type": "text",
                "text": {"body": text}}]}}]}]})
    .to_string()
}

fn whatsapp(body: &str) -> Call {
    let signature = format!("sha256={}", hmac_hex(WA_SECRET, &[body.as_bytes()]));
    call(Method::POST, "/whatsapp").header("x-hub-signature-256", &signature).raw("application/json", body)
}

fn linq_body(chat: &str, text: &str) -> String {
    linq_message(chat, "+15550123456", &format!("linq-{text}"), text)
}

fn linq_message(chat: &str, from: &str, id: &str, text: &str) -> String {
    json!({"event_type": "message.received", "data": {"chat_id": chat, "from": from,
        "message": {"id": id, "parts": [{"type": "text", "value": text}]}}})
    .to_string()
}

fn linq(body: &str, timestamp: i64) -> Call {
    let ts = timestamp.to_string();
    let signature = hmac_hex(LINQ_SECRET, &[ts.as_bytes(), b".", body.as_bytes()]);
    call(Method::POST, "/linq")
        .header("x-webhook-timestamp", &ts)
        .header("x-webhook-signature", &signature)
        .raw("application/json", body)
}

fn nextcloud_body(actor: &str, text: &str) -> String {
    nextcloud_message(actor, "417", text)
}

fn nextcloud_message(actor: &str, id: &str, text: &str) -> String {
    let content = json!({"message": text, "parameters": []}).to_string();
    json!({"type": "Create", "actor": {"type": "Person", "id": format!("users/{actor}"), "name": actor},
        "object": {"type": "Note", "id": id, "name": "message", "content": content,
            "mediaType": "text/markdown"},
        "target": {"type": "Collection", "id": "room-tok3n", "name": "General"}})
    .to_string()
}

fn nextcloud(body: &str) -> Call {
    let random = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2";
    let signature = hmac_hex(NC_SECRET, &[random.as_bytes(), body.as_bytes()]);
    call(Method::POST, "/nextcloud-talk")
        .header("x-nextcloud-talk-random", random)
        .header("x-nextcloud-talk-signature", &signature)
        .raw("application/json", body)
}

fn wati_body(wa_id: &str, id: &str, text: &str) -> String {
    json!({"id": id, "whatsappMessageId": format!("wamid.{id}"), "waId": wa_id, "text": text,
        "type": "text", "owner": false, "eventType": "message"})
    .to_string()
}

async fn ok_accepted(got: (StatusCode, HeaderMap, Value), n: u64) {
    assert_eq!(got.0, StatusCode::OK, "{}", got.2);
    assert_eq!(got.2, json!({"status": "ok", "accepted": n}));
}

/// Every event of `kind` published so far (the bus keeps a replay ring).
async fn events_of(events: &MemoryEventBus, kind: &str) -> Vec<Value> {
    let mut stream = events.subscribe(Some(0));
    let mut found = Vec::new();
    while let Ok(Some(delivery)) = tokio::time::timeout(Duration::from_millis(50), stream.next()).await {
        if let Delivery::Event(event) = delivery
            && event.kind == kind
        {
            found.push(event.payload);
        }
    }
    found
}

/// The four chat channels, for tests that must hold for each.
#[derive(Debug, Clone, Copy)]
enum Ch {
    WhatsApp,
    Wati,
    Linq,
    Nextcloud,
}

const CHANNELS: [Ch; 4] = [Ch::WhatsApp, Ch::Wati, Ch::Linq, Ch::Nextcloud];

impl Ch {
    /// A sender on the channel's allowlist.
    fn allowed(self) -> &'static str {
        match self {
            Ch::WhatsApp => "15550100000",
            Ch::Wati => "15550111111",
            Ch::Linq => "+15550123456",
            Ch::Nextcloud => "alice",
        }
    }

    /// A correctly signed delivery of one message.
    fn deliver(self, sender: &str, id: &str, text: &str) -> Call {
        match self {
            Ch::WhatsApp => whatsapp(&whatsapp_body(sender, &format!("wamid.{id}"), text)),
            Ch::Wati => call(Method::POST, "/wati")
                .header("x-wati-secret", WATI_SECRET)
                .raw("application/json", wati_body(sender, id, text)),
            Ch::Linq => linq(&linq_message("chat-7", sender, id, text), now()),
            Ch::Nextcloud => {
                let numeric: u64 = id.bytes().map(u64::from).sum();
                nextcloud(&nextcloud_message(sender, &numeric.to_string(), text))
            }
        }
    }

    /// The text of a reply as the channel's API received it.
    fn reply_text(self, seen: &Seen) -> String {
        let text = match self {
            Ch::WhatsApp => seen.json()["text"]["body"].as_str().map(str::to_owned),
            Ch::Wati => seen.query.as_deref().and_then(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "messageText")
                    .map(|(_, v)| v.into_owned())
            }),
            Ch::Linq => seen.json()["message"]["parts"][0]["value"].as_str().map(str::to_owned),
            Ch::Nextcloud => seen.json()["message"].as_str().map(str::to_owned),
        };
        text.unwrap_or_else(|| panic!("no reply text for {self:?} in {seen:?}"))
    }
}

// ---------------------------------------------------------------------------------------------------------
// Handshakes.

#[tokio::test]
async fn whatsapp_handshake_echoes_the_challenge_only_for_the_right_token() {
    let (s, _dir) = setup(Arc::new(Recorder)).await;
    let r = &s.harness.router;
    let uri = |mode: &str, token: &str| {
        format!("/whatsapp?hub.mode={mode}&hub.verify_token={token}&hub.challenge=ch4llenge-1")
    };
    let (status, headers, text) = call(Method::GET, &uri("subscribe", WA_VERIFY)).send_text(r).await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, "ch4llenge-1"));
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    for (mode, token) in [("subscribe", "wrong"), ("subscribe", ""), ("unsubscribe", WA_VERIFY)] {
        assert_error(
            &call(Method::GET, &uri(mode, token)).send(r).await,
            StatusCode::FORBIDDEN,
            "VERIFICATION_FAILED",
        );
    }
    let no_challenge = format!("/whatsapp?hub.mode=subscribe&hub.verify_token={WA_VERIFY}");
    assert_error(
        &call(Method::GET, &no_challenge).send(r).await,
        StatusCode::BAD_REQUEST,
        "MISSING_CHALLENGE",
    );
}

#[tokio::test]
async fn wati_handshake_requires_the_verify_token() {
    let (s, _dir) = setup(Arc::new(Recorder)).await;
    let r = &s.harness.router;
    let good = format!("/wati?hub.verify_token={WATI_VERIFY}&hub.challenge=abc");
    let (status, _, text) = call(Method::GET, &good).send_text(r).await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, "abc"));
    // Upstream echoed any challenge; here a missing or wrong token is refused.
    for uri in ["/wati?hub.challenge=abc", "/wati?hub.verify_token=nope&hub.challenge=abc"] {
        assert_error(&call(Method::GET, uri).send(r).await, StatusCode::FORBIDDEN, "VERIFICATION_FAILED");
    }
}

// ---------------------------------------------------------------------------------------------------------
// Verification: signatures and secrets, before any parsing; nothing refused is queued.

#[tokio::test]
async fn whatsapp_signatures_right_wrong_missing_truncated_wrong_prefix_and_tampered() {
    let (s, _dir) = setup_idle(|_| {}).await;
    let r = &s.harness.router;
    let body = whatsapp_body("15550100000", "wamid.SIG", "hello");
    let good = format!("sha256={}", hmac_hex(WA_SECRET, &[body.as_bytes()]));
    let post = |signature: Option<&str>, body: &str| {
        let c = call(Method::POST, "/whatsapp").raw("application/json", body.to_owned());
        match signature {
            Some(sig) => c.header("x-hub-signature-256", sig),
            None => c,
        }
    };
    let wrong_secret = format!("sha256={}", hmac_hex("not-the-secret", &[body.as_bytes()]));
    let tampered = body.replace("hello", "HELLO");
    let upper_prefix = good.replacen("sha256=", "SHA256=", 1);
    let cases: Vec<(Option<&str>, &str)> = vec![
        (Some(&wrong_secret), &body),
        (None, &body),
        (Some(""), &body),
        (Some(&good[..good.len() - 2]), &body),
        (Some(&good[7..]), &body),
        (Some(&upper_prefix), &body),
        (Some("sha256=not-hex"), &body),
        (Some(&good), &tampered),
    ];
    for (signature, body) in cases {
        let got = post(signature, body).send(r).await;
        assert_error(&got, StatusCode::UNAUTHORIZED, "INVALID_SIGNATURE");
    }
    assert_eq!(s.queue.depth().await.unwrap(), 0, "nothing refused was queued");
    // A bad signature is refused even when the body is not JSON: the signature comes first.
    assert_error(
        &post(Some(&wrong_secret), "{").send(r).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_SIGNATURE",
    );
    // A good signature over bad JSON is a 400.
    assert_error(&whatsapp("{not json").send(r).await, StatusCode::BAD_REQUEST, "INVALID_JSON");
    ok_accepted(post(Some(&good), &body).send(r).await, 1).await;
    assert_eq!(s.queue.depth().await.unwrap(), 1);
    ok_accepted(post(Some(&good), &body).send(r).await, 0).await;
    let metrics = s.harness.gateway.metrics().render();
    for line in [
        "construct_webhook_deliveries_total{channel=\"whatsapp\",outcome=\"invalid_signature\"} 9",
        "construct_webhook_deliveries_total{channel=\"whatsapp\",outcome=\"accepted\"} 1",
        "construct_webhook_deliveries_total{channel=\"whatsapp\",outcome=\"duplicate\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
}

#[tokio::test]
async fn linq_signatures_and_stale_timestamps() {
    let (s, _dir) = setup_idle(|_| {}).await;
    let r = &s.harness.router;
    let body = linq_body("chat-1", "hi");
    ok_accepted(linq(&body, now()).send(r).await, 1).await;
    let stale = linq(&linq_body("chat-1", "old"), now() - 301).send(r).await;
    assert_error(&stale, StatusCode::UNAUTHORIZED, "INVALID_SIGNATURE");
    let future = linq(&linq_body("chat-1", "future"), now() + 301).send(r).await;
    assert_error(&future, StatusCode::UNAUTHORIZED, "INVALID_SIGNATURE");
    let ts = now().to_string();
    let sig = hmac_hex(LINQ_SECRET, &[ts.as_bytes(), b".", body.as_bytes()]);
    let variants = [
        ("", sig.clone(), body.clone()),
        (ts.as_str(), String::new(), body.clone()),
        (ts.as_str(), hmac_hex("wrong", &[ts.as_bytes(), b".", body.as_bytes()]), body.clone()),
        (ts.as_str(), sig[..40].to_owned(), body.clone()),
        (ts.as_str(), format!("sha1={sig}"), body.clone()),
        (ts.as_str(), sig.clone(), body.replace("hi", "HI")),
    ];
    for (ts, sig, body) in variants {
        let got = call(Method::POST, "/linq")
            .header("x-webhook-timestamp", ts)
            .header("x-webhook-signature", &sig)
            .raw("application/json", body)
            .send(r)
            .await;
        assert_error(&got, StatusCode::UNAUTHORIZED, "INVALID_SIGNATURE");
    }
    // The optional `sha256=` prefix is accepted.
    let body = linq_body("chat-2", "prefixed");
    let ts = now().to_string();
    let sig = format!("sha256={}", hmac_hex(LINQ_SECRET, &[ts.as_bytes(), b".", body.as_bytes()]));
    let got = call(Method::POST, "/linq")
        .header("x-webhook-timestamp", &ts)
        .header("x-webhook-signature", &sig)
        .raw("application/json", body)
        .send(r)
        .await;
    ok_accepted(got, 1).await;
    assert_eq!(s.queue.depth().await.unwrap(), 2);
}

#[tokio::test]
async fn nextcloud_and_wati_and_gmail_secrets() {
    let (s, _dir) = setup_idle(|_| {}).await;
    let r = &s.harness.router;
    let body = nextcloud_body("alice", "hi bot");
    ok_accepted(nextcloud(&body).send(r).await, 1).await;
    let random = "r4nd0m";
    let sig = hmac_hex(NC_SECRET, &[random.as_bytes(), body.as_bytes()]);
    for (random, sig, body) in [
        ("", sig.clone(), body.clone()),
        (random, String::new(), body.clone()),
        ("other", sig.clone(), body.clone()),
        (random, sig[..10].to_owned(), body.clone()),
        (random, format!("sha1={sig}"), body.clone()),
        (random, sig.clone(), body.replace("hi bot", "rm -rf")),
    ] {
        let got = call(Method::POST, "/nextcloud-talk")
            .header("x-nextcloud-talk-random", random)
            .header("x-nextcloud-talk-signature", &sig)
            .raw("application/json", body)
            .send(r)
            .await;
        assert_error(&got, StatusCode::UNAUTHORIZED, "INVALID_SIGNATURE");
    }

    // WATI: the secret in X-Wati-Secret or in the `token` query value; upstream checked nothing.
    let post = |uri: &str, secret: Option<&str>, body: String| {
        let c = call(Method::POST, uri).raw("application/json", body);
        match secret {
            Some(secret) => c.header("x-wati-secret", secret),
            None => c,
        }
    };
    ok_accepted(post("/wati", Some(WATI_SECRET), wati_body("15550111111", "w1", "a")).send(r).await, 1).await;
    let by_query = format!("/wati?token={WATI_SECRET}");
    ok_accepted(post(&by_query, None, wati_body("15550111111", "w2", "b")).send(r).await, 1).await;
    for (uri, secret) in [("/wati", None), ("/wati", Some("wrong")), ("/wati?token=wrong", None)] {
        let got = post(uri, secret, wati_body("15550111111", "w3", "c")).send(r).await;
        assert_error(&got, StatusCode::UNAUTHORIZED, "INVALID_SIGNATURE");
    }

    // Gmail push: bearer secret, then the Pub/Sub envelope.
    let data = base64::engine::general_purpose::STANDARD
        .encode(br#"{"emailAddress":"me@example.com","historyId":4242}"#);
    let envelope = json!({"message": {"data": data, "messageId": "pubsub-1"}, "subscription": "projects/p/subscriptions/s"});
    let gmail = |token: &str, body: String| {
        call(Method::POST, "/webhook/gmail").token(token).raw("application/json", body)
    };
    let got = gmail(GMAIL_SECRET, envelope.to_string()).send(r).await;
    assert_eq!((got.0, got.2.clone()), (StatusCode::OK, json!({"status": "ok"})));
    let published = events_of(&s.events, "gmail_notification").await;
    assert_eq!(
        published,
        vec![json!({"email_address": "me@example.com", "history_id": 4242, "message_id": "pubsub-1"})]
    );
    assert_error(
        &gmail("wrong", envelope.to_string()).send(r).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_SIGNATURE",
    );
    let unauthenticated = call(Method::POST, "/webhook/gmail").raw("application/json", envelope.to_string());
    assert_error(&unauthenticated.send(r).await, StatusCode::UNAUTHORIZED, "INVALID_SIGNATURE");
    assert_error(&gmail(GMAIL_SECRET, "{".into()).send(r).await, StatusCode::BAD_REQUEST, "INVALID_JSON");
    let bad = json!({"message": {"data": "bm90IGpzb24="}}).to_string();
    assert_error(&gmail(GMAIL_SECRET, bad).send(r).await, StatusCode::BAD_REQUEST, "INVALID_ENVELOPE");
    // Its own 1 MiB limit, above the global default.
    let big = json!({"message": {"data": data, "padding": "x".repeat(200_000)}}).to_string();
    assert_eq!(gmail(GMAIL_SECRET, big).send(r).await.0, StatusCode::OK);
    let huge = json!({"message": {"data": data, "padding": "x".repeat(1_100_000)}}).to_string();
    assert_error(
        &gmail(GMAIL_SECRET, huge).send(r).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
    );
}

#[tokio::test]
async fn channels_that_are_off_are_404() {
    let h = harness(|_| {});
    for (method, uri) in [
        (Method::GET, "/whatsapp?hub.mode=subscribe&hub.verify_token=x&hub.challenge=y"),
        (Method::POST, "/whatsapp"),
        (Method::GET, "/wati?hub.verify_token=x&hub.challenge=y"),
        (Method::POST, "/wati"),
        (Method::POST, "/linq"),
        (Method::POST, "/nextcloud-talk"),
        (Method::POST, "/webhook/gmail"),
    ] {
        let got = call(method, uri).raw("application/json", "{}").send(&h.router).await;
        assert_error(&got, StatusCode::NOT_FOUND, "CHANNEL_NOT_CONFIGURED");
    }
}

// ---------------------------------------------------------------------------------------------------------
// Processing: replies, duplicates, allowlists, failures, back-pressure, restarts.

#[tokio::test]
async fn a_whatsapp_message_is_answered_through_the_graph_api() {
    let (s, _dir) = setup(Arc::new(Recorder)).await;
    let body = whatsapp_body("15550100000", "wamid.HBgL", "what time is it");
    ok_accepted(whatsapp(&body).send(&s.harness.router).await, 1).await;
    let sent = s.api.wait_for(1).await;
    let reply = &sent[0];
    assert_eq!(reply.path, "/graph/v18.0/1098765/messages");
    assert_eq!(reply.headers["authorization"], "Bearer wa-access-token");
    let json = reply.json();
    assert_eq!(json["messaging_product"], "whatsapp");
    assert_eq!(json["to"], "15550100000");
    assert_eq!(json["text"]["body"], "0 prior; you said what time is it");
    assert_eq!(json["context"]["message_id"], "wamid.HBgL", "threaded to the provider's message id");

    // The session keeps its history: a second message sees the first exchange.
    let body = whatsapp_body("15550100000", "wamid.second", "and now");
    ok_accepted(whatsapp(&body).send(&s.harness.router).await, 1).await;
    let sent = s.api.wait_for(2).await;
    assert_eq!(sent[1].json()["text"]["body"], "2 prior; you said and now");
    let kinds: Vec<Value> = events_of(&s.events, "webhook_received").await;
    assert_eq!(kinds[0]["channel"], "whatsapp");
    assert_eq!(events_of(&s.events, "agent_end").await.len(), 2);
}

#[tokio::test]
async fn wati_linq_and_nextcloud_replies_reach_their_apis() {
    let (s, _dir) = setup(Arc::new(Recorder)).await;
    let r = &s.harness.router;
    let wati = call(Method::POST, "/wati")
        .header("x-wati-secret", WATI_SECRET)
        .raw("application/json", wati_body("15550111111", "w9", "from wati"));
    ok_accepted(wati.send(r).await, 1).await;
    let reply = s.api.wait_for(1).await.remove(0);
    assert_eq!(reply.path, "/wati/api/v1/sendSessionMessage/15550111111");
    assert_eq!(reply.query.as_deref(), Some("messageText=0+prior%3B+you+said+from+wati"));
    assert_eq!(reply.headers["authorization"], "Bearer wati-api-token");

    // A hostile chat id cannot leave its path segment.
    ok_accepted(linq(&linq_body("../../admin", "from linq"), now()).send(r).await, 1).await;
    let reply = s.api.wait_for(2).await.remove(1);
    assert_eq!(reply.path, "/linq/v3/chats/..%2F..%2Fadmin/messages");
    assert_eq!(reply.headers["authorization"], "Bearer linq-api-token");
    assert_eq!(
        reply.json()["message"]["parts"],
        json!([{"type": "text", "value": "0 prior; you said from linq"}])
    );

    ok_accepted(nextcloud(&nextcloud_body("alice", "from talk")).send(r).await, 1).await;
    let reply = s.api.wait_for(3).await.remove(2);
    assert_eq!(reply.path, "/cloud/ocs/v2.php/apps/spreed/api/v1/bot/room-tok3n/message");
    assert_eq!(reply.headers["ocs-apirequest"], "true");
    let json = reply.json();
    assert_eq!(json["message"], "0 prior; you said from talk");
    assert_eq!(json["replyTo"], 417);
    // Signed as Nextcloud checks it: HMAC(secret, random + message).
    let random = reply.headers["x-nextcloud-talk-bot-random"].to_str().unwrap();
    let expected = hmac_hex(NC_SECRET, &[random.as_bytes(), b"0 prior; you said from talk"]);
    assert_eq!(reply.headers["x-nextcloud-talk-bot-signature"].to_str().unwrap(), expected);
    assert!(random.len() >= 32);
}

#[tokio::test]
async fn every_channel_answers_a_delivery_once_however_often_it_is_retried() {
    let (s, _dir) = setup(Arc::new(Recorder)).await;
    for (n, ch) in CHANNELS.into_iter().enumerate() {
        ok_accepted(ch.deliver(ch.allowed(), "dup-1", "hello there").send(&s.harness.router).await, 1).await;
        // The provider retries (it did not see our 200, say): acknowledged, not queued again.
        ok_accepted(ch.deliver(ch.allowed(), "dup-1", "hello there").send(&s.harness.router).await, 0).await;
        let sent = s.api.wait_for(n + 1).await;
        assert_eq!(ch.reply_text(&sent[n]), "0 prior; you said hello there", "{ch:?}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.api.count(), CHANNELS.len(), "one reply per delivery");
    let received = events_of(&s.events, "webhook_received").await;
    assert_eq!(received.iter().filter(|e| e["duplicates"] == 1).count(), CHANNELS.len());
}

#[tokio::test]
async fn every_channel_ignores_senders_outside_its_allowlist() {
    let (s, _dir) = setup(Arc::new(Recorder)).await;
    for ch in CHANNELS {
        let stranger = if matches!(ch, Ch::Nextcloud) { "mallory" } else { "+19995550000" };
        ok_accepted(ch.deliver(stranger, "x-1", "let me in").send(&s.harness.router).await, 0).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.api.count(), 0);
    assert_eq!(s.queue.depth().await.unwrap(), 0);
}

#[tokio::test]
async fn every_channel_apologises_and_reports_when_the_provider_fails() {
    let (s, _dir) = setup(Arc::new(Broken)).await;
    for (n, ch) in CHANNELS.into_iter().enumerate() {
        ok_accepted(ch.deliver(ch.allowed(), "fail-1", "hello?").send(&s.harness.router).await, 1).await;
        let sent = s.api.wait_for(n + 1).await;
        assert_eq!(ch.reply_text(&sent[n]), "Sorry, I couldn't process your message right now.", "{ch:?}");
    }
    let errors = events_of(&s.events, "error").await;
    let components: Vec<&str> = errors.iter().map(|e| e["component"].as_str().unwrap()).collect();
    assert_eq!(components, ["whatsapp", "wati", "linq", "nextcloud_talk"]);
    assert!(errors.iter().all(|e| e["kind"] == "provider"));
}

#[tokio::test]
async fn every_channel_answers_503_when_the_queue_is_full() {
    let (s, _dir) = setup_idle(|l| l.config.channels_config.queue_capacity = 1).await;
    ok_accepted(
        Ch::WhatsApp.deliver(Ch::WhatsApp.allowed(), "first", "one").send(&s.harness.router).await,
        1,
    )
    .await;
    for ch in CHANNELS {
        let got = ch.deliver(ch.allowed(), "second", "two").send(&s.harness.router).await;
        assert_error(&got, StatusCode::SERVICE_UNAVAILABLE, "OVERLOADED");
        assert_eq!(got.1["retry-after"], "30", "{ch:?}");
    }
    assert_eq!(s.queue.depth().await.unwrap(), 1);
}

#[tokio::test]
async fn channel_routes_are_rate_limited_as_webhooks() {
    let (s, _dir) = setup_idle(|l| l.config.gateway.webhook_rate_limit_per_minute = 2).await;
    let r = &s.harness.router;
    for n in 0..2 {
        let got = Ch::Linq.deliver(Ch::Linq.allowed(), &format!("rl-{n}"), "hi").send(r).await;
        assert_eq!(got.0, StatusCode::OK, "{}", got.2);
    }
    let got = Ch::Linq.deliver(Ch::Linq.allowed(), "rl-3", "hi").send(r).await;
    assert_error(&got, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    assert!(got.1.contains_key("retry-after"));
    // Unsigned floods are limited too, before any verification work.
    let got = call(Method::POST, "/whatsapp").raw("application/json", "{}").send(r).await;
    assert_error(&got, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
}

#[tokio::test]
async fn replies_are_retried_on_5xx_and_given_up_on_4xx() {
    let (s, _dir) = setup(Arc::new(Recorder)).await;
    s.api.answer_next(&[503, 500]);
    ok_accepted(
        whatsapp(&whatsapp_body("15550100000", "wamid.R1", "retry me")).send(&s.harness.router).await,
        1,
    )
    .await;
    let sent = s.api.wait_for(3).await;
    assert!(sent.iter().all(|seen| seen.json()["text"]["body"] == "0 prior; you said retry me"));
    assert!(events_of(&s.events, "error").await.is_empty(), "delivered on the third attempt");

    s.api.answer_next(&[400]);
    ok_accepted(
        whatsapp(&whatsapp_body("15550100000", "wamid.R2", "refused")).send(&s.harness.router).await,
        1,
    )
    .await;
    s.api.wait_for(4).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(s.api.count(), 4, "a 400 is not retried");
    let errors = events_of(&s.events, "error").await;
    assert_eq!(
        errors,
        vec![json!({"component": "channel_reply", "channel": "whatsapp", "kind": "rejected"})]
    );
    assert_eq!(s.queue.depth().await.unwrap(), 0, "handled either way");
}

#[tokio::test]
async fn a_full_queue_answers_503_with_retry_after_and_the_retry_gets_in_later() {
    let (s, _dir) = setup_idle(|l| l.config.channels_config.queue_capacity = 1).await;
    let r = &s.harness.router;
    ok_accepted(whatsapp(&whatsapp_body("15550100000", "wamid.Q1", "one")).send(r).await, 1).await;
    let second = whatsapp_body("15550100000", "wamid.Q2", "two");
    let got = whatsapp(&second).send(r).await;
    assert_error(&got, StatusCode::SERVICE_UNAVAILABLE, "OVERLOADED");
    assert_eq!(got.1["retry-after"], "30");
    // Once the queue drains, the provider's retry of the refused delivery is accepted (not a "duplicate").
    let item = s.queue.claim(Duration::from_secs(30)).await.unwrap().unwrap();
    s.queue.ack(item.id).await.unwrap();
    ok_accepted(whatsapp(&second).send(r).await, 1).await;
}

#[tokio::test]
async fn a_delivery_accepted_before_shutdown_is_answered_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let stall = Arc::new(Stall::default());
    let started = Arc::clone(&stall.started);
    let mut first = setup_with(stall, dir.path(), true, |_| {}).await;
    let body = whatsapp_body("15550100000", "wamid.LATE", "are you there");
    ok_accepted(whatsapp(&body).send(&first.harness.router).await, 1).await;
    tokio::time::timeout(Duration::from_secs(10), started.notified()).await.expect("the turn started");
    // Shut down mid-turn: after the grace the turn is cancelled and the delivery released, not lost.
    first.stop.cancel();
    first.pool.take().unwrap().join(Duration::from_secs(10)).await;
    assert_eq!(first.api.count(), 0, "nothing was sent for the interrupted turn");
    drop(first);

    let second = setup_with(Arc::new(Recorder), dir.path(), true, |_| {}).await;
    let sent = second.api.wait_for(1).await;
    assert_eq!(sent[0].json()["text"]["body"], "0 prior; you said are you there");
    // The provider's retry of the same delivery after the restart is still a duplicate.
    ok_accepted(whatsapp(&body).send(&second.harness.router).await, 0).await;
}

#[tokio::test]
async fn an_unparseable_or_empty_payload_is_acknowledged_with_nothing_accepted() {
    let (s, _dir) = setup(Arc::new(Recorder)).await;
    let r = &s.harness.router;
    for body in ["{}", "[]", "null", r#"{"entry": "nope"}"#, r#"{"entry": [{"changes": [{"value": 3}]}]}"#] {
        ok_accepted(whatsapp(body).send(r).await, 0).await;
    }
    ok_accepted(linq(r#"{"event_type": "message.sent"}"#, now()).send(r).await, 0).await;
}
