//! `WS /ws/mcp/events`: a session's progress relayed from the MCP server's event stream.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

async fn open(
    addr: SocketAddr,
    session: &str,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    String,
> {
    let request = format!("ws://{addr}/ws/mcp/events?session_id={session}").into_client_request().unwrap();
    tokio_tungstenite::connect_async(request).await.map(|(ws, _)| ws).map_err(|e| e.to_string())
}

#[tokio::test]
async fn progress_is_relayed_frame_by_frame_and_the_end_of_the_stream_closes_cleanly() {
    let Served { state, running, addr, dir: _dir, .. } = served().await;
    let session = state.shared().sessions.mint("device-1").unwrap().session_id;
    let mut ws = open(addr, &session).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let http = reqwest::Client::new();
    let called = http
        .post(format!("http://{addr}/api/mcp/call"))
        .json(&json!({"tool": "kumiho_search", "arguments": {"query": "x"}, "session_id": session}))
        .send()
        .await
        .unwrap();
    assert_eq!(called.status(), 200);
    let mut frames = Vec::new();
    while frames.len() < 2 {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await.unwrap().unwrap().unwrap() {
            Message::Text(text) => frames.push(serde_json::from_str::<serde_json::Value>(&text).unwrap()),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        (frames[0]["tool"].as_str(), frames[0]["progress"].as_u64()),
        (Some("kumiho_search"), Some(0))
    );
    assert_eq!(frames[1]["progress"], 1);

    // Someone else's (or no) session is refused before the upgrade, and so is a request without one.
    assert!(open(addr, "not-a-session").await.unwrap_err().contains("404"));
    let bare = format!("ws://{addr}/ws/mcp/events").into_client_request().unwrap();
    assert!(tokio_tungstenite::connect_async(bare).await.unwrap_err().to_string().contains("400"));

    // The MCP server stops: the stream ends and the socket closes normally.
    running.stop().await;
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await.unwrap() {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(u16::from(closed.unwrap().code), 1000);
}

#[tokio::test]
async fn an_unreachable_upstream_closes_with_1011_and_says_why() {
    let Served { state, running, addr, dir: _dir, .. } = served().await;
    let session = state.shared().sessions.mint("device-1").unwrap().session_id;
    // The server goes away while the gateway still believes in its address.
    running.stop().await;
    let mut ws = open(addr, &session).await.unwrap();
    let frame = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await.unwrap() {
            Some(Ok(Message::Close(frame))) => break frame.unwrap(),
            Some(Ok(_)) => continue,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(u16::from(frame.code), 1011);
    assert!(frame.reason.contains("unreachable"), "{}", frame.reason);
}
