//! What the MCP route tests share: a tool box over in-memory stores, and the routes behind a stand-in guard.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // Tests fail loudly by design.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::middleware::Next;
use construct_auth::ClientInfo;
use construct_auth::client::ClientKey;
use construct_core::principal::{Principal, PrincipalKind, Scopes};
use construct_kumiho::LocalKumiho;
use construct_mcp::McpState;
use construct_mcp::sessions::McpSessions;
use construct_mcp::tools::ToolBox;
use construct_store::{MemoryApprovals, MemoryCanvas, MemoryEventBus, MemorySessions};
use tokio_util::sync::CancellationToken;

pub struct NoNodes;

#[async_trait::async_trait]
impl construct_core::nodes::NodeDirectory for NoNodes {
    fn list(&self) -> Vec<(String, Vec<construct_core::nodes::Capability>)> {
        Vec::new()
    }
    async fn invoke(
        &self,
        _: &str,
        _: &str,
        _: serde_json::Value,
        _: Duration,
    ) -> Result<construct_core::nodes::InvokeResult, construct_core::nodes::InvokeError> {
        Err(construct_core::nodes::InvokeError::NotFound)
    }
}

/// The MCP routes behind a stand-in guard that admits everyone as `device-1`.
pub async fn serve(state: McpState) -> SocketAddr {
    let mut app = axum::Router::new();
    for group in construct_mcp::route_groups(state) {
        app = app.merge(group.into_router());
    }
    let app = app.layer(axum::middleware::from_fn(|mut request: Request, next: Next| async move {
        let principal = Principal {
            kind: PrincipalKind::Device { device_id: "device-1".into(), name: None },
            scopes: Scopes::FIRST_DEVICE,
        };
        let ip = std::net::IpAddr::from([127, 0, 0, 1]);
        request.extensions_mut().insert(principal);
        request.extensions_mut().insert(ClientInfo { ip, key: ClientKey::from_ip(ip) });
        next.run(request).await
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

pub fn state(dir: &std::path::Path, stop: &CancellationToken) -> McpState {
    let tools = ToolBox {
        canvas: Arc::new(MemoryCanvas::default()),
        events: Arc::new(MemoryEventBus::default()),
        nodes: Arc::new(NoNodes),
        node_timeout: Duration::from_secs(1),
        kumiho: Arc::new(LocalKumiho::in_memory().unwrap()),
        approvals: Arc::new(MemoryApprovals::default()),
        sessions: Arc::new(MemorySessions::default()),
    };
    McpState::new(
        Arc::new(tools),
        Arc::new(McpSessions::new(Duration::from_secs(600), 8)),
        dir.to_owned(),
        stop.clone(),
        construct_auth::ws::WsPolicy::new(
            &construct_core::config::GatewayConfig::default(),
            stop.clone(),
            std::sync::Arc::default(),
        ),
    )
}

/// A running MCP server and the routes in front of it.
pub struct Served {
    pub dir: tempfile::TempDir,
    pub stop: CancellationToken,
    pub state: McpState,
    pub running: construct_mcp::server::RunningMcp,
    pub addr: SocketAddr,
}

/// Starts the MCP server and serves the routes on a loopback port.
pub async fn served() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let stop = CancellationToken::new();
    let state = state(dir.path(), &stop);
    let running = state.start(stop.clone()).await.unwrap();
    let addr = serve(state.clone()).await;
    Served { dir, stop, state, running, addr }
}
