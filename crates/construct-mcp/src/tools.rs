//! The tools of the gateway's MCP server, independent of any transport: each is a thin call into the same
//! traits the REST API uses (canvas, events, nodes, Kumiho, approvals, sessions). The rmcp server
//! ([`crate::server`]) and `POST /api/mcp/call` both call [`ToolBox::call`].

use std::sync::Arc;
use std::time::Duration;

use construct_core::approvals::{Approval, ApprovalStore, DEFAULT_TTL, Registered, request_approval};
use construct_core::canvas::{CanvasStore, RenderError, clear_canvas, render_frame};
use construct_core::events::EventBus;
use construct_core::ids::valid_id;
use construct_core::nodes::{InvokeError, NodeDirectory};
use construct_core::sessions::SessionStore;
use construct_kumiho::KumihoApi;
use construct_kumiho::model::{ItemQuery, SearchQuery};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::broadcast;

use crate::sessions::ProgressEvent;

/// Most search hits and listed items a tool returns.
pub const MAX_RESULTS: usize = 200;

/// Why a tool call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// No such tool.
    #[error("unknown tool `{0}`")]
    UnknownTool(String),
    /// The arguments do not fit the tool's schema or its rules.
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
    /// What it names does not exist.
    #[error("{0}")]
    NotFound(String),
    /// It ran and failed.
    #[error("{0}")]
    Failed(String),
}

/// Where progress is forwarded besides the session (done, total, message).
type Forward = Box<dyn Fn(u64, Option<u64>, &str) + Send + Sync>;

/// Progress of one call, reported to its session's subscribers (and, through the MCP transport, to the
/// caller when it asked for progress).
pub struct SessionProgress {
    sink: Option<(broadcast::Sender<ProgressEvent>, u64)>,
    tool: String,
    also: Option<Forward>,
}

impl SessionProgress {
    pub(crate) fn new(sink: Option<(broadcast::Sender<ProgressEvent>, u64)>, tool: &str) -> Self {
        Self { sink, tool: tool.to_owned(), also: None }
    }

    /// Also reports to `forward` (the MCP caller's progress notifications).
    pub fn also(&mut self, forward: impl Fn(u64, Option<u64>, &str) + Send + Sync + 'static) {
        self.also = Some(Box::new(forward));
    }

    /// A reporter that reports nowhere.
    pub fn none(tool: &str) -> Self {
        Self::new(None, tool)
    }

    /// Reports `progress` of `total`.
    pub fn report(&self, progress: u64, total: Option<u64>, message: &str) {
        if let Some(forward) = &self.also {
            forward(progress, total, message);
        }
        if let Some((sender, token)) = &self.sink {
            let event = ProgressEvent {
                token: *token,
                progress,
                total,
                message: Some(message.to_owned()),
                tool: Some(self.tool.clone()),
                timestamp: OffsetDateTime::now_utc(),
            };
            // No subscriber is fine: progress is best effort.
            let _ = sender.send(event);
        }
    }
}

/// `canvas_render`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CanvasRender {
    /// The canvas: 1-128 characters of A-Z a-z 0-9 _ - .
    pub canvas_id: String,
    /// `html`, `svg`, `markdown` or `text`.
    pub content_type: String,
    /// The content, at most 256 KiB.
    pub content: String,
}

/// `canvas_clear`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CanvasClear {
    /// The canvas.
    pub canvas_id: String,
}

/// `events_publish`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsPublish {
    /// The event type: 1-64 characters of a-z 0-9 _ . -, not one the gateway itself emits.
    #[serde(rename = "type")]
    pub kind: String,
    /// Any JSON payload (at most 64 KiB).
    #[serde(default)]
    pub payload: Value,
}

/// `nodes_list` and `sessions_list` take nothing.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArguments {}

/// `nodes_invoke`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodesInvoke {
    /// The node.
    pub node_id: String,
    /// One of its advertised capabilities.
    pub capability: String,
    /// The capability's arguments.
    #[serde(default)]
    pub args: Value,
}

/// `kumiho_search`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KumihoSearch {
    /// Words to search for.
    pub query: String,
    /// Only items of this kind.
    #[serde(default)]
    pub kind: Option<String>,
}

/// `kumiho_get_item`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KumihoGetItem {
    /// `kref://project/space/item.kind`.
    pub kref: String,
}

/// `kumiho_list_items`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KumihoListItems {
    /// `/project/space`.
    pub space_path: String,
}

/// `approvals_request`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalsRequest {
    /// The workflow run waiting.
    pub run_id: String,
    /// The step waiting.
    pub step_id: String,
    /// What the person is asked.
    pub message: String,
}

/// Event types the gateway emits itself: a tool may not forge them.
const RESERVED_EVENTS: &[&str] = &[
    "canvas_updated",
    "device_paired",
    "device_revoked",
    "human_approval_request",
    "human_approval_resolved",
    "channel_event",
    "config_changed",
    "agent_start",
    "agent_end",
    "error",
];

/// The tools and what they call.
pub struct ToolBox {
    /// Canvas frames.
    pub canvas: Arc<dyn CanvasStore>,
    /// The event bus.
    pub events: Arc<dyn EventBus>,
    /// Connected nodes.
    pub nodes: Arc<dyn NodeDirectory>,
    /// How long a node has to answer.
    pub node_timeout: Duration,
    /// The graph memory.
    pub kumiho: Arc<dyn KumihoApi>,
    /// Pending approvals.
    pub approvals: Arc<dyn ApprovalStore>,
    /// Chat sessions.
    pub sessions: Arc<dyn SessionStore>,
}

fn arguments<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, ToolError> {
    let value = if value.is_null() { json!({}) } else { value };
    serde_json::from_value(value).map_err(|e| ToolError::InvalidArguments(e.to_string()))
}

fn render_error(error: RenderError) -> ToolError {
    match error {
        RenderError::Store(store) => ToolError::Failed(store.to_string()),
        other => ToolError::InvalidArguments(other.to_string()),
    }
}

fn kumiho_error(error: construct_kumiho::KumihoError) -> ToolError {
    if error.is_not_found() {
        ToolError::NotFound(error.to_string())
    } else {
        ToolError::Failed(error.to_string())
    }
}

/// Every tool: name, description, and the JSON schema of its arguments.
pub fn catalogue() -> Vec<(&'static str, &'static str, Value)> {
    fn schema<T: JsonSchema>() -> Value {
        serde_json::to_value(schemars::schema_for!(T)).unwrap_or_else(|_| json!({"type": "object"}))
    }
    vec![
        ("canvas_render", "Render HTML, SVG, Markdown or text onto a live canvas.", schema::<CanvasRender>()),
        ("canvas_clear", "Clear a canvas and its history.", schema::<CanvasClear>()),
        ("events_publish", "Publish an event to the gateway's live event stream.", schema::<EventsPublish>()),
        ("nodes_list", "List the connected nodes and their capabilities.", schema::<NoArguments>()),
        (
            "nodes_invoke",
            "Invoke a capability of a connected node and wait for its result.",
            schema::<NodesInvoke>(),
        ),
        ("kumiho_search", "Full-text search of the graph memory.", schema::<KumihoSearch>()),
        ("kumiho_get_item", "One item of the graph memory by kref.", schema::<KumihoGetItem>()),
        ("kumiho_list_items", "The items of one space of the graph memory.", schema::<KumihoListItems>()),
        (
            "approvals_request",
            "Ask a person to approve a step of a workflow run.",
            schema::<ApprovalsRequest>(),
        ),
        ("sessions_list", "List the dashboard's chat sessions.", schema::<NoArguments>()),
    ]
}

impl ToolBox {
    /// Runs tool `name` with `arguments`, reporting progress to `progress`.
    pub async fn call(
        &self,
        name: &str,
        args: Value,
        progress: &SessionProgress,
    ) -> Result<Value, ToolError> {
        match name {
            "canvas_render" => self.canvas_render(arguments(args)?).await,
            "canvas_clear" => self.canvas_clear(arguments(args)?).await,
            "events_publish" => self.events_publish(arguments(args)?).await,
            "nodes_list" => {
                arguments::<NoArguments>(args)?;
                Ok(self.nodes_list())
            }
            "nodes_invoke" => self.nodes_invoke(arguments(args)?, progress).await,
            "kumiho_search" => self.kumiho_search(arguments(args)?, progress).await,
            "kumiho_get_item" => self.kumiho_get_item(arguments(args)?).await,
            "kumiho_list_items" => self.kumiho_list_items(arguments(args)?).await,
            "approvals_request" => self.approvals_request(arguments(args)?).await,
            "sessions_list" => {
                arguments::<NoArguments>(args)?;
                self.sessions_list().await
            }
            other => Err(ToolError::UnknownTool(other.chars().take(64).collect())),
        }
    }

    async fn canvas_render(&self, a: CanvasRender) -> Result<Value, ToolError> {
        let frame = render_frame(&*self.canvas, &*self.events, &a.canvas_id, &a.content_type, &a.content)
            .await
            .map_err(render_error)?;
        Ok(json!({"canvas_id": a.canvas_id, "frame_id": frame.frame_id}))
    }

    async fn canvas_clear(&self, a: CanvasClear) -> Result<Value, ToolError> {
        let cleared = clear_canvas(&*self.canvas, &*self.events, &a.canvas_id).await.map_err(render_error)?;
        Ok(json!({"canvas_id": a.canvas_id, "cleared": cleared}))
    }

    async fn events_publish(&self, a: EventsPublish) -> Result<Value, ToolError> {
        let valid = !a.kind.is_empty()
            && a.kind.len() <= 64
            && a.kind
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-'));
        if !valid {
            return Err(ToolError::InvalidArguments("type is 1-64 characters of a-z 0-9 _ . -".into()));
        }
        if RESERVED_EVENTS.contains(&a.kind.as_str()) || a.kind.starts_with("workflow_") {
            return Err(ToolError::InvalidArguments(format!(
                "`{}` is emitted by the gateway itself",
                a.kind
            )));
        }
        if a.payload.to_string().len() > 64 * 1024 {
            return Err(ToolError::InvalidArguments("payload is at most 64 KiB of JSON".into()));
        }
        let id =
            self.events.publish(&a.kind, a.payload).await.map_err(|e| ToolError::Failed(e.to_string()))?;
        Ok(json!({"published": true, "id": id}))
    }

    fn nodes_list(&self) -> Value {
        let nodes: Vec<Value> = self
            .nodes
            .list()
            .into_iter()
            .map(|(id, capabilities)| json!({"node_id": id, "capability_count": capabilities.len(), "capabilities": capabilities}))
            .collect();
        json!({"count": nodes.len(), "nodes": nodes})
    }

    async fn nodes_invoke(&self, a: NodesInvoke, progress: &SessionProgress) -> Result<Value, ToolError> {
        progress.report(0, Some(1), &format!("invoking {} on {}", a.capability, a.node_id));
        let args = if a.args.is_null() { json!({}) } else { a.args };
        let result = self.nodes.invoke(&a.node_id, &a.capability, args, self.node_timeout).await;
        progress.report(1, Some(1), "done");
        match result {
            Ok(result) => Ok(serde_json::to_value(result).unwrap_or_default()),
            Err(InvokeError::NotFound) => Err(ToolError::NotFound(format!("Node not found: {}", a.node_id))),
            Err(InvokeError::UnknownCapability) => Err(ToolError::InvalidArguments(format!(
                "node {} has no capability {}",
                a.node_id, a.capability
            ))),
            Err(InvokeError::Timeout) => Err(ToolError::Failed("the node did not answer in time".into())),
            Err(InvokeError::Disconnected) => Err(ToolError::Failed("the node disconnected".into())),
        }
    }

    async fn kumiho_search(&self, a: KumihoSearch, progress: &SessionProgress) -> Result<Value, ToolError> {
        let query = a.query.trim();
        if query.is_empty() || query.chars().count() > 500 {
            return Err(ToolError::InvalidArguments("query is 1 to 500 characters".into()));
        }
        progress.report(0, None, "searching");
        let search = SearchQuery {
            query: query.to_owned(),
            context: None,
            kind: a.kind.filter(|k| !k.is_empty()),
            include_deprecated: false,
        };
        let hits = self.kumiho.search(&search).await.map_err(kumiho_error)?;
        progress.report(1, Some(1), &format!("{} hits", hits.len()));
        let total = hits.len();
        let shown: Vec<_> = hits.into_iter().take(MAX_RESULTS).collect();
        Ok(json!({"total": total, "results": shown}))
    }

    async fn kumiho_get_item(&self, a: KumihoGetItem) -> Result<Value, ToolError> {
        let kref =
            construct_kumiho::Kref::parse(&a.kref).map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
        let item = self.kumiho.get_item(&kref.item().to_string()).await.map_err(kumiho_error)?;
        Ok(json!({"item": item}))
    }

    async fn kumiho_list_items(&self, a: KumihoListItems) -> Result<Value, ToolError> {
        let path = a.space_path.trim();
        let valid = path.starts_with('/') && path.len() <= 512 && path[1..].split('/').all(valid_id);
        if !valid {
            return Err(ToolError::InvalidArguments("space_path is /project/space with plain names".into()));
        }
        let query = ItemQuery {
            space_path: path.to_owned(),
            name_filter: None,
            include_deprecated: false,
            limit: Some(MAX_RESULTS as u32 + 1),
            offset: None,
        };
        let mut items = self.kumiho.list_items(&query).await.map_err(kumiho_error)?;
        let truncated = items.len() > MAX_RESULTS;
        items.truncate(MAX_RESULTS);
        Ok(json!({"items": items, "truncated": truncated}))
    }

    async fn approvals_request(&self, a: ApprovalsRequest) -> Result<Value, ToolError> {
        if !valid_id(&a.run_id) || !valid_id(&a.step_id) {
            return Err(ToolError::InvalidArguments(
                "run_id and step_id are 1-128 characters of A-Z a-z 0-9 . _ -".into(),
            ));
        }
        let message: String = a.message.chars().take(4_000).collect();
        let now = OffsetDateTime::now_utc();
        let approval = Approval {
            run_id: a.run_id.clone(),
            step_id: a.step_id.clone(),
            workflow: String::new(),
            approve_keywords: ["approve", "yes", "lgtm"].map(str::to_owned).to_vec(),
            reject_keywords: vec!["reject".to_owned()],
            message,
            created_at: now,
            expires_at: now + DEFAULT_TTL,
        };
        match request_approval(&*self.approvals, &*self.events, approval, "Human approval needed").await {
            Ok(Registered::Stored) => {
                Ok(json!({"registered": true, "run_id": a.run_id, "step_id": a.step_id}))
            }
            Ok(Registered::Full) => Err(ToolError::Failed("too many approvals are waiting".into())),
            Err(error) => Err(ToolError::Failed(error.to_string())),
        }
    }

    async fn sessions_list(&self) -> Result<Value, ToolError> {
        let sessions =
            self.sessions.list(Some("gateway")).await.map_err(|e| ToolError::Failed(e.to_string()))?;
        let listed: Vec<Value> = sessions
            .iter()
            .map(|s| {
                json!({
                    "session_id": s.key.strip_prefix("gw_").unwrap_or(&s.key),
                    "name": s.name,
                    "message_count": s.message_count,
                    "state": s.state,
                    "last_activity": s.last_activity.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                })
            })
            .collect();
        Ok(json!({"count": listed.len(), "sessions": listed}))
    }
}
