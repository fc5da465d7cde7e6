//! `/api/mcp/*` through a gateway serving on a real loopback port, with its MCP server running.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use construct_agent::EchoAgent;
use futures_util::StreamExt;
use serde_json::{Value, json};

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(live: &Live) -> Self {
        Self { http: reqwest::Client::new(), base: format!("http://{}", live.addr) }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, token, Some(body)).await
    }

    /// A token with only `scopes`, paired through the API.
    async fn token_with(&self, admin: &str, scopes: &[&str]) -> String {
        let (_, code) = self.post("/api/pairing/initiate", Some(admin), json!({"scopes": scopes})).await;
        let response = self
            .http
            .post(format!("{}/pair", self.base))
            .header("x-pairing-code", code["pairing_code"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        response.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
    }
}

async fn wait_for_mcp(api: &Api, token: &str) -> Value {
    for _ in 0..100 {
        let (_, found) = api.get("/api/mcp/discovery", Some(token)).await;
        if found["available"] == true {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the MCP server never became discoverable");
}

#[tokio::test]
async fn sessions_calls_and_progress_through_the_gateway_with_scopes() {
    let mut live = Live::start(Arc::new(EchoAgent), |_| {}).await;
    let api = Api::new(&live);
    let found = wait_for_mcp(&api, &live.token).await;
    assert!(found["url"].as_str().unwrap().starts_with("http://127.0.0.1:"), "{found}");
    let (status, health) = api.get("/api/mcp/health", Some(&live.token)).await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));

    let (status, minted) = api.post("/api/mcp/session", Some(&live.token), json!({})).await;
    assert_eq!(status, 200, "{minted}");
    let session = minted["session_id"].as_str().unwrap().to_owned();
    assert!(minted["token"].as_str().unwrap().starts_with("mcp_") && minted["expires_at"].is_string());
    assert_eq!(minted["url"], found["url"]);

    // The session's progress, read through the gateway while a call runs through the gateway.
    let events = api
        .http
        .get(format!("{}/api/mcp/session/{session}/events", api.base))
        .bearer_auth(&live.token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let mut stream = events.bytes_stream();
    let (status, called) = api
        .post(
            "/api/mcp/call",
            Some(&live.token),
            json!({"tool": "kumiho_search", "arguments": {"query": "anything"}, "session_id": session}),
        )
        .await;
    assert_eq!((status, called["result"]["total"].as_u64()), (200, Some(0)), "{called}");
    let mut seen = String::new();
    while !seen.contains("kumiho_search") {
        let chunk =
            tokio::time::timeout(Duration::from_secs(5), stream.next()).await.unwrap().unwrap().unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }

    // Bad calls get exact errors.
    for (body, status, code) in [
        (json!({"tool": "rm_rf"}), 404, "UNKNOWN_TOOL"),
        (json!({"tool": "nodes_list", "arguments": {"extra": true}}), 422, "INVALID_ARGUMENTS"),
        (json!({"tool": "nodes_list", "arguments": [1]}), 422, "INVALID_ARGUMENTS"),
        (
            json!({"tool": "nodes_invoke", "arguments": {"node_id": "ghost", "capability": "x"}}),
            404,
            "NOT_FOUND",
        ),
        (json!({"tool": "nodes_list", "session_id": "not-mine"}), 404, "SESSION_NOT_FOUND"),
        (json!({"tools": "nodes_list"}), 422, "INVALID_BODY"),
    ] {
        let (got, answer) = api.post("/api/mcp/call", Some(&live.token), body.clone()).await;
        assert_eq!((got, answer["code"].as_str()), (status, Some(code)), "{body}: {answer}");
    }

    // Scopes: reading the discovery needs read; sessions and calls need chat; someone else's session is not yours.
    let reader = api.token_with(&live.token, &["read"]).await;
    assert_eq!(api.get("/api/mcp/discovery", Some(&reader)).await.0, 200);
    assert_eq!(api.post("/api/mcp/session", Some(&reader), json!({})).await.1["code"], "FORBIDDEN_SCOPE");
    assert_eq!(api.post("/api/mcp/call", Some(&reader), json!({"tool": "nodes_list"})).await.0, 403);
    assert_eq!(api.get("/api/mcp/discovery", None).await.0, 401);
    let chatter = api.token_with(&live.token, &["chat"]).await;
    let (status, other) = api.get(&format!("/api/mcp/session/{session}/events"), Some(&chatter)).await;
    assert_eq!((status, other["code"].as_str()), (404, Some("SESSION_NOT_FOUND")));

    // The discovery file lives while the gateway serves, privately, and goes when it stops.
    let file = live.data_dir.join("mcp.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    live.shutdown().await;
    assert!(!file.exists(), "removed on shutdown");
}

#[tokio::test]
async fn a_gateway_without_mcp_says_so() {
    let live = Live::start(Arc::new(EchoAgent), |l| l.config.mcp.enabled = false).await;
    let api = Api::new(&live);
    let (status, found) = api.get("/api/mcp/discovery", Some(&live.token)).await;
    assert_eq!((status, found["available"].as_bool()), (200, Some(false)));
    let (status, refused) = api.post("/api/mcp/session", Some(&live.token), json!({})).await;
    assert_eq!((status, refused["code"].as_str()), (503, Some("MCP_UNAVAILABLE")));
}
