//! The MCP server: rmcp over Streamable HTTP at `/mcp` on a loopback listener with a random port.
//!
//! Every request to `/mcp` and `/session/{id}/events` carries `Authorization: Bearer <token>` from
//! `POST /api/mcp/session` (401 otherwise). `GET /health` says the server is up and nothing else. Tool calls
//! go to [`ToolBox::call`]; their progress reaches the MCP caller as progress notifications (when it sent a
//! progress token) and the session's subscribers (`GET /session/{id}/events`, Server-Sent Events).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, Request, State};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::StreamExt;
use http::StatusCode;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, ListToolsResult,
    PaginatedRequestParams, ProgressNotificationParam, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_util::sync::CancellationToken;

use crate::discovery::{self, Discovery};
use crate::sessions::McpSessions;
use crate::tools::{ToolBox, ToolError, catalogue};

/// The MCP protocol revision this server is built for (as rmcp negotiates it).
pub const PROTOCOL: &str = "2025-06-18";

/// Who an MCP request authenticated as.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Caller {
    /// A session's token.
    Session(String),
    /// The gateway's WebSocket bridge (session event streams only).
    Bridge,
}

/// The rmcp handler: lists the tool catalogue and runs calls through the tool box.
#[derive(Clone)]
struct Handler {
    tools: Arc<ToolBox>,
    sessions: Arc<McpSessions>,
}

fn tool_error(error: ToolError) -> Result<CallToolResponse, ErrorData> {
    match error {
        ToolError::UnknownTool(_) | ToolError::InvalidArguments(_) => {
            Err(ErrorData::invalid_params(error.to_string(), None))
        }
        ToolError::NotFound(_) | ToolError::Failed(_) => {
            Ok(CallToolResult::error(vec![ContentBlock::text(error.to_string())]).into())
        }
    }
}

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("construct-gateway", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Tools of a Construct gateway: canvas, events, nodes, graph memory, approvals, sessions.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let tools = catalogue()
            .into_iter()
            .map(|(name, description, schema)| {
                let schema = match schema {
                    Value::Object(object) => object,
                    _ => serde_json::Map::new(),
                };
                Tool::new(name, description, Arc::new(schema))
            })
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let session = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Caller>())
            .and_then(|caller| match caller {
                Caller::Session(id) => Some(id.clone()),
                Caller::Bridge => None,
            });
        let name = request.name.to_string();
        let mut progress = self.sessions.reporter(session.as_deref(), &name);
        // Progress for the MCP caller goes out in order through one forwarding task per call.
        let forwarder = context.meta.get_progress_token().map(|token| {
            let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<(u64, Option<u64>, String)>();
            let peer = context.peer.clone();
            let task = tokio::spawn(async move {
                while let Some((done, total, message)) = receiver.recv().await {
                    let mut param =
                        ProgressNotificationParam::new(token.clone(), done as f64).with_message(message);
                    if let Some(total) = total {
                        param = param.with_total(total as f64);
                    }
                    if peer.notify_progress(param).await.is_err() {
                        break;
                    }
                }
            });
            progress.also(move |done, total, message| {
                let _ = sender.send((done, total, message.to_owned()));
            });
            task
        });
        let arguments = request.arguments.map(Value::Object).unwrap_or(Value::Null);
        let outcome = self.tools.call(&name, arguments, &progress).await;
        drop(progress);
        if let Some(task) = forwarder {
            let _ = task.await;
        }
        match outcome {
            Ok(value) => {
                let text = serde_json::to_string(&value).unwrap_or_default();
                let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
                result.structured_content = Some(value);
                Ok(result.into())
            }
            Err(error) => tool_error(error),
        }
    }
}

#[derive(Clone)]
struct ListenerState {
    sessions: Arc<McpSessions>,
    closing: CancellationToken,
    started: Instant,
    started_at: OffsetDateTime,
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "a valid MCP session token is required", "code": "UNAUTHORIZED"})),
    )
        .into_response()
}

/// Admits requests carrying a live session token and records which session it is.
async fn authenticate(State(state): State<ListenerState>, mut request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    let Some(token) = token else { return unauthorized() };
    let caller = match state.sessions.authenticate(token) {
        Some(session) => Caller::Session(session),
        // The bridge reads event streams; it cannot call tools.
        None if request.uri().path().starts_with("/session/") && state.sessions.is_bridge(token) => {
            Caller::Bridge
        }
        None => return unauthorized(),
    };
    request.extensions_mut().insert(caller);
    next.run(request).await
}

async fn health(State(state): State<ListenerState>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "pid": std::process::id(),
        "uptime_seconds": state.started.elapsed().as_secs(),
        "started_at": state.started_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "protocol_version": PROTOCOL,
        "sessions": state.sessions.count(),
    }))
}

/// A session's progress as Server-Sent Events: `data: <ProgressEvent>`; a subscriber that fell behind gets
/// `event: lagged` with how many it missed. The stream ends when `closing` is cancelled (shutdown), so an
/// open subscriber never holds the server up.
pub fn progress_stream(
    receiver: tokio::sync::broadcast::Receiver<crate::sessions::ProgressEvent>,
    closing: CancellationToken,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let ended = async move { closing.cancelled_owned().await };
    let stream = BroadcastStream::new(receiver).take_until(ended).map(|item| {
        Ok(match item {
            Ok(event) => Event::default().data(serde_json::to_string(&event).unwrap_or_default()),
            Err(BroadcastStreamRecvError::Lagged(missed)) => {
                Event::default().event("lagged").data(json!({"missed": missed}).to_string())
            }
        })
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

async fn session_events(
    State(state): State<ListenerState>,
    Path(id): Path<String>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Response {
    if caller != Caller::Bridge && caller != Caller::Session(id.clone()) {
        return unauthorized();
    }
    match state.sessions.subscribe(&id) {
        Some(receiver) => progress_stream(receiver, state.closing.clone()).into_response(),
        None => unauthorized(),
    }
}

/// A running MCP server.
pub struct RunningMcp {
    /// `http://127.0.0.1:<port>/mcp`.
    pub url: String,
    /// The listener's address.
    pub addr: SocketAddr,
    stop: CancellationToken,
    served: tokio::task::JoinHandle<()>,
}

impl RunningMcp {
    /// Stops the server, waits for it, and removes the discovery file.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.served.await;
    }
}

/// Starts the MCP server on `127.0.0.1:0` and writes the discovery file into `data_dir` (removed when it
/// stops). It runs until [`RunningMcp::stop`] or until `shutdown` is cancelled.
pub async fn start(
    tools: Arc<ToolBox>,
    sessions: Arc<McpSessions>,
    data_dir: PathBuf,
    shutdown: CancellationToken,
) -> std::io::Result<RunningMcp> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let stop = shutdown.child_token();
    let handler = Handler { tools, sessions: Arc::clone(&sessions) };
    let mcp = StreamableHttpService::new(
        move || Ok(handler.clone()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default()
            .with_sse_keep_alive(Some(Duration::from_secs(15)))
            .with_cancellation_token(stop.child_token()),
    );
    let state = ListenerState {
        sessions,
        closing: stop.clone(),
        started: Instant::now(),
        started_at: OffsetDateTime::now_utc(),
    };
    let protected = Router::new()
        .nest_service("/mcp", mcp)
        .route("/session/{id}/events", get(session_events))
        .layer(axum::middleware::from_fn_with_state(state.clone(), authenticate));
    let router = Router::new().route("/health", get(health)).merge(protected).with_state(state.clone());
    let url = format!("http://{addr}/mcp");
    let record = Discovery {
        url: url.clone(),
        pid: std::process::id(),
        started_at: state.started_at,
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    discovery::write(&data_dir, &record)?;
    let until = stop.clone();
    let served = tokio::spawn(async move {
        let serving =
            axum::serve(listener, router).with_graceful_shutdown(async move { until.cancelled().await });
        if let Err(error) = serving.await {
            tracing::warn!(%error, "the MCP server stopped with an error");
        }
        discovery::remove(&data_dir, &record);
    });
    tracing::info!(%url, "MCP server listening");
    Ok(RunningMcp { url, addr, stop, served })
}
