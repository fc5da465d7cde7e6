//! `GET /api/mcp/servers` and `POST /api/mcp/servers/test` against real servers: this crate's own over
//! HTTP, a silent socket, and a stdio fixture.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use common::*;
use construct_core::config::ExternalMcpServer;
use construct_core::secret::Secret;
use construct_mcp::External;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

async fn test(addr: std::net::SocketAddr, body: Value) -> (u16, Value) {
    let answer = reqwest::Client::new()
        .post(format!("http://{addr}/api/mcp/servers/test"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap())
}

#[tokio::test]
async fn http_servers_are_tested_with_their_headers_and_failures_are_reported() {
    let Served { state, running, addr, stop, dir: _dir } = served().await;
    let token = state.shared().sessions.mint("someone").unwrap().token;
    state.set_external(External {
        servers: vec![ExternalMcpServer {
            name: "configured".into(),
            url: running.url.clone(),
            headers: [("Authorization".to_owned(), Secret::new(format!("Bearer {token}")))].into(),
        }],
        allow_stdio: false,
    });

    let (status, ok) = test(
        addr,
        json!({"name": "self", "url": running.url, "headers": {"Authorization": format!("Bearer {token}")}}),
    )
    .await;
    assert_eq!((status, ok["ok"].as_bool(), ok["tool_count"].as_u64()), (200, Some(true), Some(10)), "{ok}");
    let (_, configured) = test(addr, json!({"name": "configured"})).await;
    assert_eq!(configured["ok"], true, "{configured}");
    let listed: Value =
        reqwest::get(format!("http://{addr}/api/mcp/servers")).await.unwrap().json().await.unwrap();
    assert_eq!(listed["servers"][0]["header_names"], json!(["Authorization"]));
    assert!(!listed.to_string().contains(&token), "header values never leave the gateway");

    let (_, refused) = test(
        addr,
        json!({"name": "x", "url": running.url, "headers": {"Authorization": "Bearer mcp_wrong"}}),
    )
    .await;
    assert_eq!(refused["ok"], false, "{refused}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (_, unreachable) = test(addr, json!({"name": "x", "url": format!("http://{closed}/mcp")})).await;
    assert_eq!(unreachable["ok"], false);
    // A server that accepts and never answers runs into the time limit.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let (_, slow) =
        test(addr, json!({"name": "x", "url": format!("http://{silent_addr}/mcp"), "timeout_ms": 300})).await;
    assert!(slow["error"].as_str().unwrap().contains("timed out"), "{slow}");
    // Any JSON number is brought into range: -5 means the 100 ms floor, 300.5 a fraction of a second.
    for timeout in [json!(-5), json!(300.5)] {
        let body = json!({"name": "x", "url": format!("http://{silent_addr}/mcp"), "timeout_ms": timeout});
        let (status, answer) = test(addr, body).await;
        assert_eq!(status, 200, "{answer}");
        assert!(answer["error"].as_str().unwrap().contains("timed out"), "{answer}");
        assert!(answer["latency_ms"].as_u64().unwrap() < 5_000, "{answer}");
    }

    for (body, status, code) in [
        (json!({"name": ""}), 422, "INVALID_FIELD"),
        (json!({"name": "unknown"}), 404, "MCP_SERVER_NOT_FOUND"),
        (json!({"name": "x".repeat(101), "url": "http://example.com"}), 422, "INVALID_FIELD"),
        (json!({"name": "é".repeat(100), "transport": "stdio"}), 403, "STDIO_DISABLED"),
        (json!({"name": "x", "url": "ftp://example.com"}), 422, "INVALID_FIELD"),
        (json!({"name": "x", "url": "http://example.com", "verbose": true}), 422, "INVALID_BODY"),
        (json!({"name": "x", "transport": "carrier-pigeon"}), 422, "INVALID_BODY"),
        (json!({"name": "x", "transport": "stdio", "command": "python3"}), 403, "STDIO_DISABLED"),
    ] {
        let (got, answer) = test(addr, body.clone()).await;
        assert_eq!((got, answer["code"].as_str()), (status, Some(code)), "{body}: {answer}");
    }
    stop.cancel();
}

#[tokio::test]
async fn stdio_servers_run_only_when_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let stop = CancellationToken::new();
    let state = state(dir.path(), &stop);
    state.set_external(External { servers: Vec::new(), allow_stdio: true });
    let addr = serve(state).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/stdio_server.py");
    let (status, ok) =
        test(addr, json!({"name": "fixture", "transport": "stdio", "command": "python3", "args": [script]}))
            .await;
    assert_eq!((status, ok["ok"].as_bool(), ok["tools"].clone()), (200, Some(true), json!(["echo"])), "{ok}");
    let (_, missing) =
        test(addr, json!({"name": "x", "transport": "stdio", "command": "/nonexistent/mcp-server"})).await;
    assert!(missing["error"].as_str().unwrap().contains("cannot start"), "{missing}");
    let (status, answer) = test(addr, json!({"name": "x", "transport": "stdio"})).await;
    assert_eq!((status, answer["code"].as_str()), (422, Some("INVALID_FIELD")));
    stop.cancel();
}
