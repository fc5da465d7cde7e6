//! The MCP server driven by the official rmcp client over Streamable HTTP on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use construct_core::events::{Delivery, EventBus};
use construct_core::nodes::{Capability, InvokeError, InvokeResult, NodeDirectory};
use construct_kumiho::model::Metadata;
use construct_kumiho::{KumihoApi, LocalKumiho};
use construct_mcp::McpState;
use construct_mcp::sessions::McpSessions;
use construct_mcp::tools::ToolBox;
use construct_store::{MemoryApprovals, MemoryCanvas, MemoryEventBus, MemorySessions};
use futures_util::StreamExt;
use rmcp::model::{CallToolRequestParams, ProgressNotificationParam};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// One node, `printer`, that answers `print` with its arguments.
struct Printer;

#[async_trait::async_trait]
impl NodeDirectory for Printer {
    fn list(&self) -> Vec<(String, Vec<Capability>)> {
        vec![(
            "printer".into(),
            vec![Capability { name: "print".into(), description: "prints".into(), parameters: json!({}) }],
        )]
    }

    async fn invoke(
        &self,
        node: &str,
        capability: &str,
        args: Value,
        _: Duration,
    ) -> Result<InvokeResult, InvokeError> {
        match (node, capability) {
            ("printer", "print") => Ok(InvokeResult {
                call_id: "c1".into(),
                success: true,
                output: args.to_string(),
                error: None,
            }),
            ("printer", _) => Err(InvokeError::UnknownCapability),
            _ => Err(InvokeError::NotFound),
        }
    }
}

struct Fixture {
    state: McpState,
    events: Arc<MemoryEventBus>,
    canvas: Arc<MemoryCanvas>,
    approvals: Arc<MemoryApprovals>,
    url: String,
    dir: tempfile::TempDir,
    stop: CancellationToken,
    _running: construct_mcp::server::RunningMcp,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let kumiho = Arc::new(LocalKumiho::in_memory().unwrap());
    kumiho.create_project("Construct", None).await.unwrap();
    kumiho.create_space("/Construct", "AgentPool").await.unwrap();
    let meta = Metadata::from([("_search_text".to_owned(), "careful code reviewer".to_owned())]);
    kumiho.create_item("/Construct/AgentPool", "reviewer", "agent", &meta).await.unwrap();
    let events = Arc::new(MemoryEventBus::default());
    let canvas = Arc::new(MemoryCanvas::default());
    let approvals = Arc::new(MemoryApprovals::default());
    let tools = ToolBox {
        canvas: canvas.clone(),
        events: events.clone(),
        nodes: Arc::new(Printer),
        node_timeout: Duration::from_secs(5),
        kumiho,
        approvals: approvals.clone(),
        sessions: Arc::new(MemorySessions::default()),
    };
    let stop = CancellationToken::new();
    let state = McpState::new(
        Arc::new(tools),
        Arc::new(McpSessions::new(Duration::from_secs(600), 8)),
        dir.path().to_owned(),
        stop.clone(),
        construct_auth::ws::WsPolicy::new(
            &construct_core::config::GatewayConfig::default(),
            stop.clone(),
            std::sync::Arc::default(),
        ),
    );
    let running = state.start(stop.clone()).await.unwrap();
    let url = running.url.clone();
    Fixture { state, events, canvas, approvals, url, dir, stop, _running: running }
}

/// A client recording the progress notifications it gets.
#[derive(Clone, Default)]
struct Client(Arc<Mutex<Vec<ProgressNotificationParam>>>);

impl ClientHandler for Client {
    async fn on_progress(&self, params: ProgressNotificationParam, _: NotificationContext<RoleClient>) {
        self.0.lock().unwrap().push(params);
    }
}

async fn connect(url: &str, token: &str) -> Result<RunningService<RoleClient, Client>, String> {
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url.to_owned()).auth_header(token.to_owned()),
    );
    Client::default().serve(transport).await.map_err(|e| e.to_string())
}

fn args(value: Value) -> serde_json::Map<String, Value> {
    value.as_object().unwrap().clone()
}

async fn call(
    client: &RunningService<RoleClient, Client>,
    tool: &str,
    arguments: Value,
) -> Result<(Value, bool), String> {
    let result = client
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args(arguments)))
        .await
        .map_err(|e| e.to_string())?;
    Ok((result.structured_content.clone().unwrap_or(Value::Null), result.is_error.unwrap_or(false)))
}

#[tokio::test]
async fn every_tool_answers_through_the_official_client() {
    let f = fixture().await;
    let minted = f.state.shared().sessions.mint("device-1").unwrap();
    let client = connect(&f.url, &minted.token).await.unwrap();
    let names: Vec<String> =
        client.list_all_tools().await.unwrap().into_iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names.len(), 10, "{names:?}");
    for expected in [
        "canvas_render",
        "canvas_clear",
        "events_publish",
        "nodes_list",
        "nodes_invoke",
        "kumiho_search",
        "kumiho_get_item",
        "kumiho_list_items",
        "approvals_request",
        "sessions_list",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
    }

    // Canvas: the same store and bus the REST API and live viewers use.
    let mut bus = f.events.subscribe(None);
    let (rendered, failed) = call(
        &client,
        "canvas_render",
        json!({"canvas_id": "mcp", "content_type": "html", "content": "<b>hi</b>"}),
    )
    .await
    .unwrap();
    assert!(!failed);
    let current = construct_core::canvas::CanvasStore::current(&*f.canvas, "mcp").await.unwrap().unwrap();
    assert_eq!(
        (current.content.as_str(), rendered["frame_id"].as_str()),
        ("<b>hi</b>", Some(current.frame_id.as_str()))
    );
    match bus.next().await.unwrap() {
        Delivery::Event(event) => assert_eq!(event.kind, "canvas_updated"),
        other => panic!("{other:?}"),
    }
    assert!(
        call(&client, "canvas_render", json!({"canvas_id": "../x", "content_type": "html", "content": ""}))
            .await
            .is_err(),
        "bad ids are invalid params"
    );
    assert_eq!(call(&client, "canvas_clear", json!({"canvas_id": "mcp"})).await.unwrap().0["cleared"], true);

    // Events: published, but never as one of the gateway's own kinds.
    assert_eq!(
        call(&client, "events_publish", json!({"type": "build.done", "payload": {"ok": true}}))
            .await
            .unwrap()
            .0["published"],
        true
    );
    assert!(call(&client, "events_publish", json!({"type": "device_paired", "payload": {}})).await.is_err());

    // Nodes.
    assert_eq!(call(&client, "nodes_list", json!({})).await.unwrap().0["count"], 1);
    let (invoked, _) = call(
        &client,
        "nodes_invoke",
        json!({"node_id": "printer", "capability": "print", "args": {"page": 1}}),
    )
    .await
    .unwrap();
    assert_eq!(invoked["output"], r#"{"page":1}"#);
    let (missing, failed) =
        call(&client, "nodes_invoke", json!({"node_id": "ghost", "capability": "print"})).await.unwrap();
    assert!(failed, "a missing node is a tool error: {missing}");

    // Kumiho.
    let (found, _) = call(&client, "kumiho_search", json!({"query": "reviewer"})).await.unwrap();
    assert_eq!(found["total"], 1, "{found}");
    let (item, _) =
        call(&client, "kumiho_get_item", json!({"kref": "kref://Construct/AgentPool/reviewer.agent"}))
            .await
            .unwrap();
    assert_eq!(item["item"]["item_name"], "reviewer");
    let (_, failed) =
        call(&client, "kumiho_get_item", json!({"kref": "kref://Construct/AgentPool/nobody.agent"}))
            .await
            .unwrap();
    assert!(failed);
    assert_eq!(call(&client, "kumiho_list_items", json!({"space_path": "/Construct/AgentPool"})).await.unwrap().0["items"].as_array().unwrap().len(), 1);
    assert!(call(&client, "kumiho_list_items", json!({"space_path": "/Construct/../etc"})).await.is_err());

    // Approvals and sessions.
    assert_eq!(
        call(&client, "approvals_request", json!({"run_id": "run-1", "step_id": "gate", "message": "ship?"}))
            .await
            .unwrap()
            .0["registered"],
        true
    );
    let pending =
        construct_core::approvals::ApprovalStore::pending(&*f.approvals, time::OffsetDateTime::now_utc())
            .await
            .unwrap();
    assert_eq!((pending.len(), pending[0].message.as_str()), (1, "ship?"));
    assert_eq!(call(&client, "sessions_list", json!({})).await.unwrap().0["count"], 0);

    // Unknown tools and fields are protocol errors.
    assert!(call(&client, "rm_rf", json!({})).await.is_err());
    assert!(call(&client, "nodes_list", json!({"extra": 1})).await.is_err());
    client.cancel().await.unwrap();
    f.stop.cancel();
}

#[tokio::test]
async fn progress_reaches_the_caller_and_the_sessions_event_stream() {
    let f = fixture().await;
    let minted = f.state.shared().sessions.mint("device-1").unwrap();
    let events_url = f.url.replace("/mcp", &format!("/session/{}/events", minted.session_id));
    let http = reqwest::Client::new();
    let stream = http.get(&events_url).bearer_auth(&minted.token).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let mut body = stream.bytes_stream();
    let client = connect(&f.url, &minted.token).await.unwrap();
    call(&client, "nodes_invoke", json!({"node_id": "printer", "capability": "print"})).await.unwrap();
    let progress = client.service().0.lock().unwrap().clone();
    assert!(progress.len() >= 2, "the caller saw progress: {progress:?}");
    assert_eq!(progress.last().unwrap().progress, 1.0);
    let mut seen = String::new();
    while !seen.contains("\"progress\":1") {
        let chunk =
            tokio::time::timeout(Duration::from_secs(5), body.next()).await.unwrap().unwrap().unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("\"tool\":\"nodes_invoke\""), "{seen}");

    // Another session's token cannot read this stream.
    let other = f.state.shared().sessions.mint("device-2").unwrap();
    assert_eq!(http.get(&events_url).bearer_auth(&other.token).send().await.unwrap().status(), 401);
    client.cancel().await.unwrap();
    f.stop.cancel();
}

#[tokio::test]
async fn the_endpoint_needs_a_live_token_and_discovery_follows_the_server() {
    let f = fixture().await;
    let http = reqwest::Client::new();
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
    for token in [None, Some("mcp_wrong")] {
        let mut request =
            http.post(&f.url).header("accept", "application/json, text/event-stream").json(&initialize);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        assert_eq!(request.send().await.unwrap().status(), 401, "{token:?}");
    }
    assert!(connect(&f.url, "mcp_wrong").await.is_err());

    let file = construct_mcp::discovery::path(f.dir.path());
    let found = construct_mcp::discovery::read(f.dir.path()).unwrap();
    assert_eq!((found.url.as_str(), found.pid), (f.url.as_str(), std::process::id()));
    let (_, health) = construct_mcp::discovery::discover(f.dir.path(), &http).await.unwrap();
    assert_eq!(health["status"], "ok");
    f.stop.cancel();
    for _ in 0..50 {
        if !file.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!file.exists(), "the discovery file goes with the server");
    assert_eq!(
        construct_mcp::discovery::discover(f.dir.path(), &http).await.unwrap_err(),
        construct_mcp::discovery::DiscoverError::Missing
    );
}
