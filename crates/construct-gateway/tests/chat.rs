//! `WS /ws/chat` over real sockets, and the sessions REST API.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::agents::{Chatty, Slow, Stall};
use common::ws::*;
use common::*;
use construct_agent::EchoAgent;
use construct_core::history::SessionHistory;
use construct_core::sessions::{SessionStore, TurnState};
use futures_util::{SinkExt, StreamExt};
use http::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

// ---------------------------------------------------------------------------------------------------------
// Admission.

#[tokio::test]
async fn chat_sockets_need_credentials_the_chat_scope_and_a_friendly_origin() {
    let live = Live::start(Arc::new(EchoAgent), |_| {}).await;
    assert_eq!(refused(request(&live, "/ws/chat")).await, 401);
    let mut wrong = request(&live, "/ws/chat");
    wrong.headers_mut().insert("authorization", "Bearer cgw_wrong".parse().unwrap());
    assert_eq!(refused(wrong).await, 401);
    // A page on another site using the user's credentials: cross-site WebSocket hijacking.
    let mut foreign = authed(&live, "/ws/chat");
    foreign.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
    assert_eq!(refused(foreign).await, 403);
    // The gateway's own origin is fine.
    let mut own = authed(&live, "/ws/chat");
    own.headers_mut().insert("origin", format!("http://{}", live.addr).parse().unwrap());
    let (mut ws, _) = open(own).await.unwrap();
    assert_eq!(next(&mut ws).await["type"], "session_start");
    // A query token is refused unless the configuration allows it.
    let query = request(&live, &format!("/ws/chat?token={}", live.token));
    assert_eq!(refused(query).await, 401);
    // A bad session id is refused before the upgrade.
    assert_eq!(refused(authed(&live, "/ws/chat?session_id=../etc")).await, 400);
}

#[tokio::test]
async fn the_bearer_subprotocol_authenticates_and_only_construct_v1_is_echoed() {
    let live = Live::start(Arc::new(EchoAgent), |_| {}).await;
    let mut r = request(&live, "/ws/chat");
    r.headers_mut()
        .insert("sec-websocket-protocol", format!("construct.v1, bearer.{}", live.token).parse().unwrap());
    let (mut ws, response) = open(r).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "construct.v1");
    assert_eq!(next(&mut ws).await["type"], "session_start");
}

#[tokio::test]
async fn each_client_has_a_connection_cap() {
    let live =
        Live::start(Arc::new(EchoAgent), |l| l.config.gateway.websocket.max_connections_per_client = 2).await;
    let (mut a, _) = open(authed(&live, "/ws/chat")).await.unwrap();
    let (_b, _) = open(authed(&live, "/ws/chat")).await.unwrap();
    assert_eq!(refused(authed(&live, "/ws/chat")).await, 429);
    // A closed socket gives its slot back.
    a.close(None).await.unwrap();
    while a.next().await.is_some() {}
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (mut c, _) = open(authed(&live, "/ws/chat")).await.unwrap();
    assert_eq!(next(&mut c).await["type"], "session_start");
}

// ---------------------------------------------------------------------------------------------------------
// The conversation.

#[tokio::test]
async fn a_turn_streams_then_finishes_and_a_reconnect_resumes() {
    let live = Live::start(Arc::new(EchoAgent), |_| {}).await;
    let (mut ws, _) = open(authed(&live, "/ws/chat?session_id=s-1&name=Plans")).await.unwrap();
    assert_eq!(
        next(&mut ws).await,
        json!({"type": "session_start", "session_id": "s-1", "resumed": false, "message_count": 0, "name": "Plans"})
    );
    send(&mut ws, json!({"type": "connect", "device_name": "laptop"})).await;
    assert_eq!(next(&mut ws).await, json!({"type": "connected", "message": "Connection established"}));
    send(&mut ws, json!({"type": "message", "content": "hello there friend"})).await;
    let frames = until(&mut ws, "done").await;
    let chunks: String =
        frames.iter().filter(|f| f["type"] == "chunk").map(|f| f["content"].as_str().unwrap()).collect();
    assert_eq!(chunks, "hello there friend");
    let n = frames.len();
    assert_eq!(frames[n - 2], json!({"type": "chunk_reset"}));
    assert_eq!(frames[n - 1], json!({"type": "done", "full_response": "hello there friend"}));
    drop(ws);

    let (mut again, _) = open(authed(&live, "/ws/chat?session_id=s-1")).await.unwrap();
    let start = next(&mut again).await;
    assert_eq!((start["resumed"].clone(), start["message_count"].clone()), (json!(true), json!(2)));
    assert_eq!(start["name"], "Plans");
    let info = live.sessions.get("gw_s-1").await.unwrap().unwrap();
    assert_eq!(info.state, TurnState::Idle);
}

#[tokio::test]
async fn tool_calls_arrive_once_in_order() {
    let live = Live::start(Arc::new(Chatty { chunks: 2 }), |_| {}).await;
    let (mut ws, _) = open(authed(&live, "/ws/chat")).await.unwrap();
    next(&mut ws).await;
    send(&mut ws, json!({"type": "message", "content": "go"})).await;
    let kinds: Vec<String> =
        until(&mut ws, "done").await.iter().map(|f| f["type"].as_str().unwrap().to_owned()).collect();
    assert_eq!(kinds, ["thinking", "chunk", "chunk", "tool_call", "tool_result", "chunk_reset", "done"]);
}

#[tokio::test]
async fn bad_frames_get_their_error_codes_and_the_socket_stays_open() {
    let live = Live::start(Arc::new(EchoAgent), |_| {}).await;
    let (mut ws, _) = open(authed(&live, "/ws/chat")).await.unwrap();
    next(&mut ws).await;
    ws.send(Message::text("not json")).await.unwrap();
    assert_eq!(next(&mut ws).await["code"], "INVALID_JSON");
    send(&mut ws, json!({"type": "dance"})).await;
    let unknown = next(&mut ws).await;
    assert_eq!(unknown["code"], "UNKNOWN_MESSAGE_TYPE");
    assert!(unknown["message"].as_str().unwrap().contains("dance"));
    send(&mut ws, json!({"content": "no type"})).await;
    assert_eq!(next(&mut ws).await["code"], "UNKNOWN_MESSAGE_TYPE");
    for bad in [
        json!({"type": "message"}),
        json!({"type": "message", "content": "  "}),
        json!({"type": "message", "content": 5}),
    ] {
        send(&mut ws, bad).await;
        assert_eq!(next(&mut ws).await["code"], "EMPTY_CONTENT");
    }
    send(&mut ws, json!({"type": "message", "content": "still here"})).await;
    assert_eq!(until(&mut ws, "done").await.last().unwrap()["full_response"], "still here");
}

#[tokio::test]
async fn an_oversized_message_closes_with_1009() {
    let live =
        Live::start(Arc::new(EchoAgent), |l| l.config.gateway.websocket.max_message_bytes = 1024).await;
    let (mut ws, _) = open(authed(&live, "/ws/chat")).await.unwrap();
    next(&mut ws).await;
    send(&mut ws, json!({"type": "message", "content": "x".repeat(4096)})).await;
    assert_eq!(close_code(&mut ws).await, Some(1009));
}

#[tokio::test]
async fn cancel_stops_the_running_turn() {
    let stall = Arc::new(Stall::default());
    let started = stall.started.clone();
    let live = Live::start(stall, |_| {}).await;
    let (mut ws, _) = open(authed(&live, "/ws/chat?session_id=c-1")).await.unwrap();
    next(&mut ws).await;
    send(&mut ws, json!({"type": "message", "content": "think forever"})).await;
    tokio::time::timeout(Duration::from_secs(10), started.notified()).await.unwrap();
    send(&mut ws, json!({"type": "cancel"})).await;
    let error = next(&mut ws).await;
    assert_eq!((error["type"].as_str(), error["code"].as_str()), (Some("error"), Some("CANCELLED")));
    let info = live.sessions.get("gw_c-1").await.unwrap().unwrap();
    assert_eq!(info.state, TurnState::Error);
    assert!(info.turn_id.is_some());
}

#[tokio::test]
async fn a_disconnect_cancels_the_turn_unless_another_socket_watches() {
    let stall = Arc::new(Stall::default());
    let started = stall.started.clone();
    let live = Live::start(stall, |_| {}).await;
    let (mut ws, _) = open(authed(&live, "/ws/chat?session_id=d-1")).await.unwrap();
    next(&mut ws).await;
    send(&mut ws, json!({"type": "message", "content": "x"})).await;
    tokio::time::timeout(Duration::from_secs(10), started.notified()).await.unwrap();
    drop(ws);
    let mut state = TurnState::Running;
    for _ in 0..100 {
        state = live.sessions.get("gw_d-1").await.unwrap().unwrap().state;
        if state != TurnState::Running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(state, TurnState::Error, "the lone socket's turn was cancelled");

    // With a second socket on the session, the first one leaving does not stop the turn.
    let (mut first, _) = open(authed(&live, "/ws/chat?session_id=d-2")).await.unwrap();
    let (mut watcher, _) = open(authed(&live, "/ws/chat?session_id=d-2")).await.unwrap();
    next(&mut first).await;
    next(&mut watcher).await;
    send(&mut first, json!({"type": "message", "content": "x"})).await;
    tokio::time::timeout(Duration::from_secs(10), started.notified()).await.unwrap();
    drop(first);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(live.sessions.get("gw_d-2").await.unwrap().unwrap().state, TurnState::Running);
}

#[tokio::test]
async fn two_sockets_on_one_session_share_history_and_take_turns() {
    let slow = Arc::new(Slow::new(Duration::from_millis(150)));
    let live = Live::start(slow.clone(), |_| {}).await;
    let (mut a, _) = open(authed(&live, "/ws/chat?session_id=shared")).await.unwrap();
    let (mut b, _) = open(authed(&live, "/ws/chat?session_id=shared")).await.unwrap();
    next(&mut a).await;
    next(&mut b).await;
    send(&mut a, json!({"type": "message", "content": "from a"})).await;
    send(&mut b, json!({"type": "message", "content": "from b"})).await;
    let done_a = until(&mut a, "done").await.pop().unwrap();
    let done_b = until(&mut b, "done").await.pop().unwrap();
    assert_eq!(slow.max_seen.load(Ordering::SeqCst), 1, "never two turns of one session at once");
    // Whichever ran second saw the first one's exchange in the shared history.
    let mut answers = [
        done_a["full_response"].as_str().unwrap().to_owned(),
        done_b["full_response"].as_str().unwrap().to_owned(),
    ];
    answers.sort();
    assert!(answers[0].starts_with("0 prior"), "{answers:?}");
    assert!(answers[1].starts_with("2 prior"), "{answers:?}");
    assert_eq!(live.sessions.get("gw_shared").await.unwrap().unwrap().message_count, 4);
}

#[tokio::test]
async fn a_reader_too_slow_for_the_stream_is_told_it_lagged() {
    let live = Live::start(Arc::new(Chatty { chunks: 100_000 }), |_| {}).await;
    let (mut ws, _) = open(authed(&live, "/ws/chat")).await.unwrap();
    next(&mut ws).await;
    send(&mut ws, json!({"type": "message", "content": "flood me"})).await;
    // Do not read while ten megabytes of chunks are produced.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let frames = until(&mut ws, "done").await;
    let lagged: u64 =
        frames.iter().filter(|f| f["type"] == "lagged").map(|f| f["missed"].as_u64().unwrap()).sum();
    let streamed = ["thinking", "chunk", "tool_call", "tool_result"];
    let delivered = frames.iter().filter(|f| streamed.contains(&f["type"].as_str().unwrap())).count() as u64;
    assert!(lagged > 0, "the skip was reported");
    assert_eq!(delivered + lagged, 100_003, "every streamed frame was delivered or counted as missed");
    assert_eq!(frames.last().unwrap()["full_response"], "final", "the final answer always arrives");
}

#[tokio::test]
async fn channel_events_are_relayed_as_agent_events() {
    let live = Live::start(Arc::new(EchoAgent), |_| {}).await;
    let (mut ws, _) = open(authed(&live, "/ws/chat")).await.unwrap();
    next(&mut ws).await;
    use construct_core::events::EventBus;
    live.events.publish("agent_start", json!({"ignored": true})).await.unwrap();
    live.events.publish("channel_event", json!({"kind": "deploy", "ok": true})).await.unwrap();
    assert_eq!(next(&mut ws).await, json!({"type": "agent_event", "event": {"kind": "deploy", "ok": true}}));
}

#[tokio::test]
async fn quiet_clients_are_closed_and_shutdown_says_going_away() {
    let mut live = Live::start(Arc::new(EchoAgent), |l| {
        l.config.gateway.websocket.ping_interval_secs = 1;
        l.config.gateway.websocket.idle_timeout_secs = 2;
    })
    .await;
    // A client that never reads never answers the Pings: after the idle timeout it is closed.
    let (mut quiet, _) = open(authed(&live, "/ws/chat")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert_eq!(close_code(&mut quiet).await, Some(1001));

    let (mut ws, _) = open(authed(&live, "/ws/chat")).await.unwrap();
    next(&mut ws).await;
    live.shutdown().await;
    assert_eq!(close_code(&mut ws).await, Some(1001));
}

#[tokio::test]
async fn a_responsive_client_stays_connected_past_the_idle_timeout() {
    let live = Live::start(Arc::new(EchoAgent), |l| {
        l.config.gateway.websocket.ping_interval_secs = 1;
        l.config.gateway.websocket.idle_timeout_secs = 2;
    })
    .await;
    let (mut ws, _) = open(authed(&live, "/ws/chat")).await.unwrap();
    next(&mut ws).await;
    // Reading answers the server's Pings (the client library sends the Pongs).
    let deadline = tokio::time::Instant::now() + Duration::from_millis(3500);
    let mut pings = 0;
    while tokio::time::Instant::now() < deadline {
        if let Ok(Some(Ok(Message::Ping(_)))) =
            tokio::time::timeout(Duration::from_millis(200), ws.next()).await
        {
            pings += 1;
        }
    }
    assert!(pings >= 2, "the server pings ({pings})");
    send(&mut ws, json!({"type": "message", "content": "still alive"})).await;
    assert_eq!(until(&mut ws, "done").await.last().unwrap()["full_response"], "still alive");
}

// ---------------------------------------------------------------------------------------------------------
// REST.

#[tokio::test]
async fn sessions_rest_lists_reads_renames_and_deletes() {
    let stall = Arc::new(Stall::default());
    let started = stall.started.clone();
    let live = Live::start(stall, |_| {}).await;
    let h = http_client(&live);
    live.sessions.open("gw_alpha", Some("Alpha")).await.unwrap();
    live.sessions
        .append(
            "gw_alpha",
            vec![construct_core::history::HistoryMessage { role: "user".into(), content: "hi".into() }],
        )
        .await
        .unwrap();
    live.sessions.append("whatsapp_+1555", vec![]).await.unwrap();

    let (status, body) = h.get("/api/sessions").await;
    assert_eq!(status, 200);
    let sessions = body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "only the dashboard's sessions: {body}");
    assert_eq!(sessions[0]["id"], "alpha");
    assert_eq!(sessions[0]["channel"], "gateway");
    assert_eq!(sessions[0]["status"], "active");
    assert_eq!(sessions[0]["message_count"], 1);
    assert_eq!(sessions[0]["name"], "Alpha");

    let (_, body) = h.get("/api/sessions/alpha/messages").await;
    assert_eq!(body["messages"], json!([{"role": "user", "content": "hi"}]));
    let (_, body) = h.get("/api/sessions/alpha/state").await;
    assert_eq!(body, json!({"session_id": "alpha", "state": "idle"}));
    assert_eq!(h.get("/api/sessions/nobody/state").await.0, 404);
    assert_eq!(h.get("/api/sessions/bad%20id/state").await.0, 400);

    assert_eq!(
        h.send(Method::PUT, "/api/sessions/alpha", json!({"name": " Renamed "})).await,
        (200, json!({"session_id": "alpha", "name": "Renamed"}))
    );
    assert_eq!(
        h.send(Method::PUT, "/api/sessions/alpha", json!({"name": "  "})).await.1["code"],
        "INVALID_NAME"
    );
    assert_eq!(h.send(Method::PUT, "/api/sessions/nobody", json!({"name": "x"})).await.0, 404);
    assert_eq!(h.send(Method::PUT, "/api/sessions/alpha", json!({"title": "x"})).await.0, 422);

    // A running session shows up as running and cannot be deleted under its turn.
    let (mut ws, _) = open(authed(&live, "/ws/chat?session_id=busy")).await.unwrap();
    next(&mut ws).await;
    send(&mut ws, json!({"type": "message", "content": "x"})).await;
    tokio::time::timeout(Duration::from_secs(10), started.notified()).await.unwrap();
    let (_, body) = h.get("/api/sessions/running").await;
    assert_eq!(body["sessions"][0]["session_id"], "busy");
    assert!(body["sessions"][0]["turn_id"].is_string());
    assert_eq!(h.send(Method::DELETE, "/api/sessions/busy", Value::Null).await.1["code"], "SESSION_BUSY");

    assert_eq!(
        h.send(Method::DELETE, "/api/sessions/alpha", Value::Null).await,
        (200, json!({"deleted": true, "session_id": "alpha"}))
    );
    assert_eq!(h.send(Method::DELETE, "/api/sessions/alpha", Value::Null).await.0, 404);
}

// ---------------------------------------------------------------------------------------------------------
// Pushing into a live session.

#[tokio::test]
async fn messages_and_turns_pushed_over_rest_reach_every_attached_socket() {
    let live = Live::start(Arc::new(EchoAgent), |_| {}).await;
    let http = http_client(&live);
    let (mut first, _) = open(authed(&live, "/ws/chat?session_id=ops")).await.unwrap();
    let (mut second, _) = open(authed(&live, "/ws/chat?session_id=ops")).await.unwrap();
    for ws in [&mut first, &mut second] {
        assert_eq!(next(ws).await["type"], "session_start");
    }

    let (status, pushed) = http
        .send(
            Method::POST,
            "/api/sessions/ops/messages",
            json!({"role": "event", "content": "build is green"}),
        )
        .await;
    assert_eq!((status, pushed["delivered"].as_u64()), (201, Some(2)), "{pushed}");
    for ws in [&mut first, &mut second] {
        let frame = next(ws).await;
        assert_eq!(
            (frame["type"].as_str(), frame["event"]["content"].as_str()),
            (Some("agent_event"), Some("build is green"))
        );
    }
    let (status, _) = http
        .send(Method::POST, "/api/sessions/ops/messages", json!({"role": "assistant", "content": "noted"}))
        .await;
    assert_eq!(status, 201);
    assert_eq!(next(&mut first).await, json!({"type": "message", "role": "assistant", "content": "noted"}));
    let _ = next(&mut second).await;

    // A turn started over REST streams to both sockets and lands in the history.
    let (status, accepted) =
        http.send(Method::POST, "/api/sessions/ops/turns", json!({"content": "run the report"})).await;
    assert_eq!((status, accepted["attached"].as_u64()), (202, Some(2)), "{accepted}");
    for ws in [&mut first, &mut second] {
        let frames = until(ws, "done").await;
        assert_eq!(frames.last().unwrap()["full_response"], "run the report");
    }
    let (_, history) = http.get("/api/sessions/ops/messages").await;
    let roles: Vec<&str> =
        history["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["event", "assistant", "user", "assistant"], "{history}");

    // Bad pushes change nothing.
    for (path, body, status, code) in [
        ("/api/sessions/ops/messages", json!({"role": "user", "content": "x"}), 422, "INVALID_MESSAGE"),
        ("/api/sessions/ops/messages", json!({"role": "system", "content": "  "}), 422, "INVALID_MESSAGE"),
        ("/api/sessions/ops/messages", json!({"role": "system"}), 422, "INVALID_BODY"),
        (
            "/api/sessions/nobody/messages",
            json!({"role": "system", "content": "x"}),
            404,
            "SESSION_NOT_FOUND",
        ),
        ("/api/sessions/bad%20id/turns", json!({"content": "x"}), 400, "INVALID_SESSION_ID"),
        ("/api/sessions/ops/turns", json!({"content": ""}), 422, "INVALID_MESSAGE"),
    ] {
        let (got, answer) = http.send(Method::POST, path, body.clone()).await;
        assert_eq!((got, answer["code"].as_str()), (status, Some(code)), "{path} {body}: {answer}");
    }
    let (_, history) = http.get("/api/sessions/ops/messages").await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 4);
    let reader = pair_device(&live, &["read"]).await;
    let (status, _) = Http::with_token(live.addr, &reader)
        .send(Method::POST, "/api/sessions/ops/messages", json!({"role": "system", "content": "x"}))
        .await;
    assert_eq!(status, 403);
}
