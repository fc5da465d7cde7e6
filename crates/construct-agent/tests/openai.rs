//! The OpenAI-compatible provider against a fake provider on loopback that speaks the real wire format.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use construct_agent::{Agent, AgentError, Message, OpenAiAgent, Role, TurnEvent, TurnRequest};
use construct_core::config::ProviderConfig;
use construct_core::secret::Secret;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const KEY: &str = "sk-test-key-9f8e7d";

/// What the fake answers to the n-th call (0-based); the last entry repeats.
#[derive(Clone)]
enum Reply {
    Stream(Vec<&'static str>),
    StreamThenStall(Vec<&'static str>),
    Json(Value),
    Status(u16, &'static str),
}

#[derive(Default)]
struct Recorded {
    bodies: Vec<Value>,
    auth: Vec<Option<String>>,
    extra: Vec<Option<String>>,
}

#[derive(Clone)]
struct Fake {
    replies: Arc<Vec<Reply>>,
    recorded: Arc<Mutex<Recorded>>,
}

async fn completions(State(fake): State<Fake>, headers: HeaderMap, body: Bytes) -> Response {
    let n = {
        let mut recorded = fake.recorded.lock().unwrap();
        recorded.bodies.push(serde_json::from_slice(&body).unwrap_or(Value::Null));
        recorded.auth.push(headers.get("authorization").map(|v| v.to_str().unwrap().to_owned()));
        recorded.extra.push(headers.get("x-org").map(|v| v.to_str().unwrap().to_owned()));
        recorded.bodies.len() - 1
    };
    let reply = fake.replies.get(n).or(fake.replies.last()).unwrap().clone();
    let sse = |events: Vec<&'static str>, stall: bool| {
        let frames = futures_util::stream::iter(
            events.into_iter().map(|e| Ok::<_, std::io::Error>(Bytes::from(format!("data: {e}\n\n")))),
        );
        let body = if stall {
            Body::from_stream(frames.chain(futures_util::stream::pending()))
        } else {
            Body::from_stream(frames)
        };
        ([("content-type", "text/event-stream")], body).into_response()
    };
    match reply {
        Reply::Stream(events) => sse(events, false),
        Reply::StreamThenStall(events) => sse(events, true),
        Reply::Json(value) => axum::Json(value).into_response(),
        Reply::Status(code, text) => {
            let mut response = (StatusCode::from_u16(code).unwrap(), text).into_response();
            if code == 429 {
                response.headers_mut().insert("retry-after", "0".parse().unwrap());
            }
            response
        }
    }
}

async fn fake(replies: Vec<Reply>) -> (String, Arc<Mutex<Recorded>>) {
    let recorded = Arc::new(Mutex::new(Recorded::default()));
    let state = Fake { replies: Arc::new(replies), recorded: Arc::clone(&recorded) };
    let app = Router::new().route("/v1/chat/completions", post(completions)).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/v1"), recorded)
}

fn agent(base_url: &str, timeout_secs: u64) -> OpenAiAgent {
    let mut config = ProviderConfig {
        base_url: base_url.into(),
        model: "test-model".into(),
        temperature: Some(0.2),
        timeout_secs,
        api_key: Some(Secret::new(KEY)),
        ..ProviderConfig::default()
    };
    config.extra_headers.insert("x-org".into(), "acme".into());
    OpenAiAgent::new(&config).unwrap().with_backoff(Duration::from_millis(10))
}

async fn run(agent: &OpenAiAgent, cancel: CancellationToken) -> (Result<String, AgentError>, Vec<TurnEvent>) {
    let (tx, mut rx) = mpsc::channel(64);
    let request =
        TurnRequest { history: vec![Message::new(Role::System, "be brief")], input: "hi there".into() };
    let result = agent.run_turn(request, tx, cancel).await;
    let mut events = Vec::new();
    while let Ok(event) = rx.try_recv() {
        events.push(event);
    }
    (result, events)
}

fn assert_no_key(error: &AgentError) {
    assert!(!error.to_string().contains(KEY), "the key leaked: {error}");
}

#[tokio::test]
async fn streams_chunks_and_usage_and_sends_the_right_request() {
    let (url, recorded) = fake(vec![Reply::Stream(vec![
        r#"{"choices":[{"delta":{"role":"assistant"}}]}"#,
        r#"{"choices":[{"delta":{"content":"Hel"}}]}"#,
        r#"{"choices":[{"delta":{"content":"lo"}}]}"#,
        r#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2}}"#,
        "[DONE]",
    ])])
    .await;
    let (result, events) = run(&agent(&url, 5), CancellationToken::new()).await;
    assert_eq!(result.unwrap(), "Hello");
    assert_eq!(
        events,
        [
            TurnEvent::Chunk { content: "Hel".into() },
            TurnEvent::Chunk { content: "lo".into() },
            TurnEvent::Usage { input: 12, output: 2 }
        ]
    );
    let recorded = recorded.lock().unwrap();
    let body = &recorded.bodies[0];
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(body["temperature"], 0.2);
    assert_eq!(
        body["messages"],
        json!([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi there"}])
    );
    assert_eq!(recorded.auth[0].as_deref(), Some(format!("Bearer {KEY}").as_str()));
    assert_eq!(recorded.extra[0].as_deref(), Some("acme"));
}

#[tokio::test]
async fn thinking_and_tool_calls_are_streamed() {
    let (url, _) = fake(vec![Reply::Stream(vec![
        r#"{"choices":[{"delta":{"reasoning_content":"let me see"}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"search","arguments":"{\"q\":"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"rust\"}"}}]}}]}"#,
        r#"{"choices":[{"delta":{"content":"done"}}]}"#,
        "[DONE]",
    ])])
    .await;
    let (result, events) = run(&agent(&url, 5), CancellationToken::new()).await;
    assert_eq!(result.unwrap(), "done");
    assert!(events.contains(&TurnEvent::Thinking { content: "let me see".into() }));
    assert!(events.contains(&TurnEvent::ToolCall {
        id: "call_1".into(),
        name: "search".into(),
        args: json!({"q": "rust"})
    }));
}

#[tokio::test]
async fn bad_credentials_fail_at_once_without_echoing_the_key() {
    let (url, recorded) =
        fake(vec![Reply::Status(401, "Incorrect API key provided: sk-test-key-9f8e7d")]).await;
    let (result, _) = run(&agent(&url, 5), CancellationToken::new()).await;
    let error = result.unwrap_err();
    assert!(matches!(error, AgentError::Auth(_)), "{error:?}");
    assert_eq!(error.kind(), "auth");
    assert_no_key(&error);
    assert_eq!(recorded.lock().unwrap().bodies.len(), 1, "401 is not retried");
}

#[tokio::test]
async fn rate_limited_then_success_is_retried() {
    let (url, recorded) = fake(vec![
        Reply::Status(429, "slow down"),
        Reply::Stream(vec![r#"{"choices":[{"delta":{"content":"ok"}}]}"#, "[DONE]"]),
    ])
    .await;
    let (result, events) = run(&agent(&url, 5), CancellationToken::new()).await;
    assert_eq!(result.unwrap(), "ok");
    assert_eq!(recorded.lock().unwrap().bodies.len(), 2);
    assert!(events.iter().any(|e| matches!(e, TurnEvent::Status { phase, .. } if phase == "retrying")));
}

#[tokio::test]
async fn persistent_rate_limiting_and_server_errors_give_up_after_three_attempts() {
    let (url, recorded) = fake(vec![Reply::Status(429, "no")]).await;
    let (result, _) = run(&agent(&url, 5), CancellationToken::new()).await;
    assert_eq!(result.unwrap_err(), AgentError::RateLimited { retry_after: Some(0) });
    assert_eq!(recorded.lock().unwrap().bodies.len(), 3);

    let (url, recorded) = fake(vec![Reply::Status(500, "internal")]).await;
    let (result, _) = run(&agent(&url, 5), CancellationToken::new()).await;
    let error = result.unwrap_err();
    assert!(matches!(error, AgentError::Provider { status: Some(500), .. }), "{error:?}");
    assert_eq!(recorded.lock().unwrap().bodies.len(), 3);

    let (url, recorded) = fake(vec![Reply::Status(400, "bad request")]).await;
    let (result, _) = run(&agent(&url, 5), CancellationToken::new()).await;
    assert!(matches!(result.unwrap_err(), AgentError::Provider { status: Some(400), .. }));
    assert_eq!(recorded.lock().unwrap().bodies.len(), 1, "other 4xx are not retried");
}

#[tokio::test]
async fn a_stalled_stream_times_out() {
    let (url, _) =
        fake(vec![Reply::StreamThenStall(vec![r#"{"choices":[{"delta":{"content":"par"}}]}"#])]).await;
    let started = std::time::Instant::now();
    let (result, events) = run(&agent(&url, 1), CancellationToken::new()).await;
    assert_eq!(result.unwrap_err(), AgentError::Timeout);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(events, [TurnEvent::Chunk { content: "par".into() }]);
}

#[tokio::test]
async fn cancellation_stops_a_running_turn() {
    let (url, _) =
        fake(vec![Reply::StreamThenStall(vec![r#"{"choices":[{"delta":{"content":"x"}}]}"#])]).await;
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        trigger.cancel();
    });
    let (result, _) = run(&agent(&url, 30), cancel).await;
    assert_eq!(result.unwrap_err(), AgentError::Cancelled);
}

#[tokio::test]
async fn malformed_events_are_skipped() {
    let (url, _) = fake(vec![Reply::Stream(vec![
        r#"{"choices":[{"delta":{"content":"a"}}]}"#,
        "{not json",
        r#"{"choices":"nope"}"#,
        "",
        r#"{"choices":[{"delta":{"content":"b"}}]}"#,
        "[DONE]",
    ])])
    .await;
    let (result, _) = run(&agent(&url, 5), CancellationToken::new()).await;
    assert_eq!(result.unwrap(), "ab");

    let (url, _) = fake(vec![Reply::Stream(vec!["{garbage", "more garbage"])]).await;
    let (result, _) = run(&agent(&url, 5), CancellationToken::new()).await;
    assert!(matches!(result.unwrap_err(), AgentError::Provider { .. }), "a stream with no answer fails");

    let (url, _) = fake(vec![Reply::Stream(vec![r#"{"error":{"message":"model overloaded"}}"#])]).await;
    let (result, _) = run(&agent(&url, 5), CancellationToken::new()).await;
    assert!(result.unwrap_err().to_string().contains("model overloaded"));
}

#[tokio::test]
async fn a_non_streaming_answer_is_accepted() {
    let (url, _) = fake(vec![Reply::Json(json!({
        "choices": [{"message": {"role": "assistant", "content": "plain answer"}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2}
    }))])
    .await;
    let (result, events) = run(&agent(&url, 5), CancellationToken::new()).await;
    assert_eq!(result.unwrap(), "plain answer");
    assert!(events.contains(&TurnEvent::Usage { input: 3, output: 2 }));

    let (url, _) = fake(vec![Reply::Json(json!({"choices": []}))]).await;
    assert!(matches!(
        run(&agent(&url, 5), CancellationToken::new()).await.0.unwrap_err(),
        AgentError::Provider { .. }
    ));
}

#[tokio::test]
async fn an_unreachable_provider_is_retried_then_reported_without_secrets() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (result, events) =
        run(&agent(&format!("http://127.0.0.1:{port}/v1"), 5), CancellationToken::new()).await;
    let error = result.unwrap_err();
    assert!(matches!(error, AgentError::Provider { status: None, .. }), "{error:?}");
    assert_no_key(&error);
    assert_eq!(events.iter().filter(|e| matches!(e, TurnEvent::Status { .. })).count(), 2, "two retries");
}

#[tokio::test]
async fn the_configured_provider_is_built() {
    let echo = construct_agent::from_config(&ProviderConfig {
        kind: construct_core::config::ProviderKind::Echo,
        ..ProviderConfig::default()
    })
    .unwrap();
    assert_eq!(echo.model(), "echo");
    let openai = construct_agent::from_config(&ProviderConfig::default()).unwrap();
    assert_eq!(openai.model(), "llama3.2");
}
