//! Nodes over `WS /ws/nodes` and the invoke API, on a live gateway.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::ws::*;
use common::*;
use construct_agent::EchoAgent;
use construct_core::secret::Secret;
use futures_util::{SinkExt, StreamExt};
use http::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const NODE_TOKEN: &str = "node-shared-token-0123456789";

async fn live() -> Live {
    Live::start(Arc::new(EchoAgent), |l| {
        l.config.nodes.auth_token = Some(Secret::new(NODE_TOKEN));
        l.config.nodes.invoke_timeout_secs = 1;
    })
    .await
}

fn node_request(live: &Live) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut r = request(live, "/ws/nodes");
    r.headers_mut().insert("authorization", format!("Bearer {NODE_TOKEN}").parse().unwrap());
    r
}

async fn register(ws: &mut Ws, node_id: &str, capabilities: Value) -> Value {
    send(ws, json!({"type": "register", "node_id": node_id, "capabilities": capabilities})).await;
    next(ws).await
}

/// A node that answers every invocation at once with its arguments, until `stop`.
async fn echo_node(live: &Live, node_id: &str) -> tokio::task::JoinHandle<()> {
    let (mut ws, _) = open(node_request(live)).await.unwrap();
    let registered =
        register(&mut ws, node_id, json!([{"name": "echo", "description": "says it back"}])).await;
    assert_eq!(registered["type"], "registered", "{registered}");
    tokio::spawn(async move {
        while let Some(Ok(message)) = ws.next().await {
            if let Message::Text(text) = message {
                let invoke: Value = serde_json::from_str(&text).unwrap();
                if invoke["type"] == "invoke" {
                    let result = json!({"type": "result", "call_id": invoke["call_id"], "success": true,
                        "output": invoke["args"].to_string()});
                    ws.send(Message::text(result.to_string())).await.unwrap();
                }
            }
        }
    })
}

#[tokio::test]
async fn nodes_authenticate_with_the_node_token_or_an_admin_device() {
    let live = live().await;
    assert_eq!(refused(request(&live, "/ws/nodes")).await, 401);
    let mut wrong = request(&live, "/ws/nodes");
    wrong.headers_mut().insert("authorization", "Bearer node-shared-token-0123456780".parse().unwrap());
    assert_eq!(refused(wrong).await, 401);
    let mut foreign = node_request(&live);
    foreign.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
    assert_eq!(refused(foreign).await, 403);

    let mut offered = node_request(&live);
    offered.headers_mut().insert("sec-websocket-protocol", "construct.nodes.v1".parse().unwrap());
    let (mut ws, response) = open(offered).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "construct.nodes.v1");
    assert_eq!(
        register(&mut ws, "n1", json!([])).await,
        json!({"type": "registered", "node_id": "n1", "capabilities_count": 0})
    );
    // The paired admin device may connect a node too.
    let (mut admin, _) = open(authed(&live, "/ws/nodes")).await.unwrap();
    assert_eq!(register(&mut admin, "n2", json!([])).await["type"], "registered");
}

#[tokio::test]
async fn a_live_node_id_cannot_be_taken_and_bad_frames_are_answered() {
    let live = live().await;
    let (mut first, _) = open(node_request(&live)).await.unwrap();
    assert_eq!(register(&mut first, "camera", json!([{"name": "snap"}])).await["type"], "registered");
    let (mut thief, _) = open(node_request(&live)).await.unwrap();
    assert_eq!(register(&mut thief, "camera", json!([{"name": "steal"}])).await["code"], "NODE_ID_IN_USE");
    // The same connection may update its capabilities.
    assert_eq!(
        register(&mut first, "camera", json!([{"name": "snap"}, {"name": "zoom"}])).await["capabilities_count"],
        2
    );

    thief.send(Message::text("{oops")).await.unwrap();
    assert_eq!(next(&mut thief).await["code"], "INVALID_JSON");
    send(&mut thief, json!({"type": "hello"})).await;
    assert_eq!(next(&mut thief).await["code"], "UNKNOWN_MESSAGE_TYPE");
    send(&mut thief, json!({"type": "register", "node_id": ""})).await;
    assert_eq!(next(&mut thief).await["code"], "INVALID_FRAME");
    send(&mut thief, json!({"type": "register", "node_id": "", "capabilities": []})).await;
    assert_eq!(next(&mut thief).await["code"], "INVALID_FRAME");
    send(&mut thief, json!({"type": "result", "call_id": 5})).await;
    assert_eq!(next(&mut thief).await["code"], "INVALID_FRAME");
    thief.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(next(&mut thief).await["code"], "INVALID_FRAME");

    // Once the holder leaves, the id is free.
    drop(first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(register(&mut thief, "camera", json!([])).await["type"], "registered");
}

#[tokio::test]
async fn invoke_success_unknown_targets_timeout_and_disconnect() {
    let live = live().await;
    let h = http_client(&live);
    let _node = echo_node(&live, "echoer").await;
    let (_, listed) = h.get("/api/nodes").await;
    assert_eq!(
        listed,
        json!({"count": 1, "nodes": [{"node_id": "echoer", "capability_count": 1,
        "capabilities": [{"name": "echo", "description": "says it back"}]}]})
    );

    // The node answers at once: the result is never lost to a race.
    for n in 0..20 {
        let (status, body) = h
            .send(Method::POST, "/api/nodes/echoer/invoke", json!({"capability": "echo", "args": {"n": n}}))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            (body["success"].as_bool(), body["output"].as_str()),
            (Some(true), Some(format!("{{\"n\":{n}}}").as_str()))
        );
    }
    let invoke = |path: &'static str, body: Value| h.send(Method::POST, path, body);
    assert_eq!(
        invoke("/api/nodes/ghost/invoke", json!({"capability": "echo"})).await.1["code"],
        "NODE_NOT_FOUND"
    );
    assert_eq!(
        invoke("/api/nodes/echoer/invoke", json!({"capability": "rm"})).await.1["code"],
        "UNKNOWN_CAPABILITY"
    );
    assert_eq!(invoke("/api/nodes/echoer/invoke", json!({"capability": ""})).await.0, 422);
    assert_eq!(invoke("/api/nodes/echoer/invoke", json!({})).await.0, 422);

    // A node that never answers: 504 after the configured second.
    let (mut silent, _) = open(node_request(&live)).await.unwrap();
    register(&mut silent, "silent", json!([{"name": "wait"}])).await;
    let (status, body) = invoke("/api/nodes/silent/invoke", json!({"capability": "wait"})).await;
    assert_eq!((status, body["code"].as_str()), (504, Some("NODE_TIMEOUT")));
    assert_eq!(next(&mut silent).await["type"], "invoke", "it was sent the call it ignored");

    // A node that disconnects while a call waits: 502 at once, not after the timeout.
    let call = tokio::spawn({
        let h = http_client(&live);
        async move { h.send(Method::POST, "/api/nodes/silent/invoke", json!({"capability": "wait"})).await }
    });
    let invoked = next(&mut silent).await;
    assert_eq!(invoked["type"], "invoke");
    let started = tokio::time::Instant::now();
    drop(silent);
    let (status, body) = call.await.unwrap();
    assert_eq!((status, body["code"].as_str()), (502, Some("NODE_DISCONNECTED")));
    assert!(started.elapsed() < Duration::from_millis(900));
    assert_eq!(h.get("/api/nodes").await.1["count"], 1, "the silent node is gone");
}

#[tokio::test]
async fn disabled_nodes_have_no_routes() {
    let live = Live::start(Arc::new(EchoAgent), |l| l.config.nodes.enabled = false).await;
    let h = http_client(&live);
    assert_eq!(h.get("/api/nodes").await.0, 404);
    assert_eq!(refused(authed(&live, "/ws/nodes")).await, 404);
}
