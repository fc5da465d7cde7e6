//! Nodes: remote capability providers. `WS /ws/nodes` (`construct.nodes.v1`), `GET /api/nodes` and
//! `POST /api/nodes/{id}/invoke`.
//!
//! A node connects with the `[nodes] auth_token` or an admin device token, registers `{node_id,
//! capabilities}` and is answered `registered` (upstream never acknowledged). A node id held by a live
//! connection cannot be taken by another (upstream let any node hijack another's id). An invocation is
//! recorded under its call id *before* it is sent, so a node that answers at once is never missed
//! (upstream raced), waits `invoke_timeout_secs` (504 `NODE_TIMEOUT`, this route's own timeout), and fails
//! with 502 `NODE_DISCONNECTED` the moment its node goes away. Only advertised capabilities can be invoked.
//! Invalid frames get an `error` frame instead of silence.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response;
use construct_auth::Client;
use construct_core::extract::{Json, Path};
use construct_core::nodes::NodeDirectory;
use construct_core::{ApiError, ErrorCode};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::RealtimeState;
use crate::ws::{Frame, NODES_PROTOCOL, Outbox};

/// 404 for a node that is not connected.
pub const NODE_NOT_FOUND: ErrorCode = ErrorCode::new("NODE_NOT_FOUND");
/// 400 for a capability the node did not advertise.
pub const UNKNOWN_CAPABILITY: ErrorCode = ErrorCode::new("UNKNOWN_CAPABILITY");
/// 504 when the node did not answer in time.
pub const NODE_TIMEOUT: ErrorCode = ErrorCode::new("NODE_TIMEOUT");
/// 502 when the node disconnected before answering.
pub const NODE_DISCONNECTED: ErrorCode = ErrorCode::new("NODE_DISCONNECTED");

/// Longest node id and capability name.
pub const MAX_NAME_LEN: usize = 128;
/// Capabilities a node may advertise.
pub const MAX_CAPABILITIES: usize = 256;

pub use construct_core::nodes::{Capability, InvokeError, InvokeResult};

struct Node {
    connection: u64,
    capabilities: Vec<Capability>,
    outbox: Outbox,
}

struct Pending {
    connection: u64,
    reply: oneshot::Sender<InvokeResult>,
}

/// Connected nodes and their invocations in flight.
pub struct NodeRegistry {
    max_nodes: usize,
    next_connection: AtomicU64,
    nodes: Mutex<BTreeMap<String, Node>>,
    pending: Mutex<HashMap<String, Pending>>,
}

/// Why a registration was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterError {
    /// Another live connection holds the id.
    Taken,
    /// `max_nodes` are registered.
    Full,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl NodeRegistry {
    /// A registry holding at most `max_nodes`.
    pub fn new(max_nodes: usize) -> Self {
        Self {
            max_nodes: max_nodes.max(1),
            next_connection: AtomicU64::new(1),
            nodes: Mutex::default(),
            pending: Mutex::default(),
        }
    }

    fn connection_id(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers (or, from the connection holding it, updates) `node_id`.
    pub fn register(
        &self,
        connection: u64,
        node_id: &str,
        capabilities: Vec<Capability>,
        outbox: Outbox,
    ) -> Result<(), RegisterError> {
        let mut nodes = lock(&self.nodes);
        let full = nodes.len() >= self.max_nodes;
        match nodes.get_mut(node_id) {
            Some(node) if node.connection != connection => Err(RegisterError::Taken),
            Some(node) => {
                node.capabilities = capabilities;
                Ok(())
            }
            None if full => Err(RegisterError::Full),
            None => {
                nodes.insert(node_id.to_owned(), Node { connection, capabilities, outbox });
                Ok(())
            }
        }
    }

    /// Removes everything `connection` registered and fails its invocations in flight; returns the node
    /// ids it held.
    fn disconnect(&self, connection: u64) -> Vec<String> {
        let gone: Vec<String> = {
            let mut nodes = lock(&self.nodes);
            let ids: Vec<String> =
                nodes.iter().filter(|(_, n)| n.connection == connection).map(|(id, _)| id.clone()).collect();
            for id in &ids {
                nodes.remove(id);
            }
            ids
        };
        // Dropping the senders wakes their callers with NODE_DISCONNECTED.
        lock(&self.pending).retain(|_, p| p.connection != connection);
        gone
    }

    fn resolve(&self, connection: u64, result: InvokeResult) {
        let mut pending = lock(&self.pending);
        // Only the connection the call went to may answer it.
        if pending.get(&result.call_id).is_some_and(|p| p.connection == connection)
            && let Some(call) = pending.remove(&result.call_id)
        {
            let _ = call.reply.send(result);
        }
    }
}

#[async_trait::async_trait]
impl NodeDirectory for NodeRegistry {
    /// The nodes and their capabilities, by id.
    fn list(&self) -> Vec<(String, Vec<Capability>)> {
        lock(&self.nodes).iter().map(|(id, n)| (id.clone(), n.capabilities.clone())).collect()
    }

    /// Invokes `capability` on `node_id` and waits up to `timeout` for its result.
    async fn invoke(
        &self,
        node_id: &str,
        capability: &str,
        args: Value,
        timeout: Duration,
    ) -> Result<InvokeResult, InvokeError> {
        let (outbox, connection) = {
            let nodes = lock(&self.nodes);
            let node = nodes.get(node_id).ok_or(InvokeError::NotFound)?;
            if !node.capabilities.iter().any(|c| c.name == capability) {
                return Err(InvokeError::UnknownCapability);
            }
            (node.outbox.clone(), node.connection)
        };
        let call_id = uuid::Uuid::new_v4().to_string();
        let (reply, answer) = oneshot::channel();
        // Recorded before sending: an immediate answer finds its caller.
        lock(&self.pending).insert(call_id.clone(), Pending { connection, reply });
        let frame = json!({"type": "invoke", "call_id": call_id, "capability": capability, "args": args});
        let outcome = async {
            outbox.control(&frame).await.map_err(|_| InvokeError::Disconnected)?;
            answer.await.map_err(|_| InvokeError::Disconnected)
        };
        let result = tokio::time::timeout(timeout, outcome).await.unwrap_or(Err(InvokeError::Timeout));
        lock(&self.pending).remove(&call_id);
        result
    }
}

fn valid_name(name: &str) -> bool {
    !name.trim().is_empty() && name.len() <= MAX_NAME_LEN && !name.chars().any(char::is_control)
}

fn error_frame(message: &str, code: &str) -> Value {
    json!({"type": "error", "message": message, "code": code})
}

#[derive(Deserialize)]
struct Register {
    node_id: String,
    capabilities: Vec<Capability>,
}

#[derive(Deserialize)]
struct ResultFrame {
    call_id: String,
    success: bool,
    #[serde(default)]
    output: String,
    #[serde(default)]
    error: Option<String>,
}

pub(crate) async fn ws_nodes(
    State(state): State<RealtimeState>,
    Client(client): Client,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let permit = state.0.ws.admit(&headers, client.key, "/ws/nodes")?;
    Ok(state.0.ws.configure(upgrade, NODES_PROTOCOL).on_upgrade(move |socket| async move {
        let (mut reader, outbox) = state.0.ws.connect(socket, permit);
        let registry = &state.0.nodes;
        let connection = registry.connection_id();
        while let Some(frame) = reader.next().await {
            let Frame::Text(text) = frame else {
                let _ = outbox.control(&error_frame("Send JSON text frames", "INVALID_FRAME")).await;
                continue;
            };
            let reply = on_frame(&state, connection, &outbox, &text).await;
            if let Some(reply) = reply {
                let _ = outbox.control(&reply).await;
            }
        }
        for node_id in registry.disconnect(connection) {
            state.0.publish("node_disconnected", json!({"node_id": node_id})).await;
        }
    }))
}

async fn on_frame(state: &RealtimeState, connection: u64, outbox: &Outbox, text: &str) -> Option<Value> {
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) => return Some(error_frame(&format!("Invalid JSON: {error}"), "INVALID_JSON")),
    };
    match value["type"].as_str() {
        Some("register") => {
            let register: Register = match serde_json::from_value(value) {
                Ok(register) => register,
                Err(error) => {
                    return Some(error_frame(&format!("Invalid register frame: {error}"), "INVALID_FRAME"));
                }
            };
            if !valid_name(&register.node_id) {
                return Some(error_frame("node_id must be 1-128 printable characters", "INVALID_FRAME"));
            }
            if register.capabilities.len() > MAX_CAPABILITIES
                || register.capabilities.iter().any(|c| !valid_name(&c.name))
            {
                return Some(error_frame(
                    "capabilities: at most 256, each named with 1-128 printable characters",
                    "INVALID_FRAME",
                ));
            }
            let count = register.capabilities.len();
            let names: Vec<String> = register.capabilities.iter().map(|c| c.name.clone()).collect();
            match state.0.nodes.register(connection, &register.node_id, register.capabilities, outbox.clone())
            {
                Ok(()) => {
                    let event = json!({"node_id": register.node_id, "capabilities": names});
                    state.0.publish("node_connected", event).await;
                    Some(
                        json!({"type": "registered", "node_id": register.node_id, "capabilities_count": count}),
                    )
                }
                Err(RegisterError::Taken) => {
                    Some(error_frame("node_id is held by another connection", "NODE_ID_IN_USE"))
                }
                Err(RegisterError::Full) => Some(error_frame("Too many nodes are registered", "NODE_LIMIT")),
            }
        }
        Some("result") => match serde_json::from_value::<ResultFrame>(value) {
            Ok(result) => {
                let result = InvokeResult {
                    call_id: result.call_id,
                    success: result.success,
                    output: result.output,
                    error: result.error,
                };
                state.0.nodes.resolve(connection, result);
                None
            }
            Err(error) => Some(error_frame(&format!("Invalid result frame: {error}"), "INVALID_FRAME")),
        },
        other => Some(error_frame(
            &format!("Unsupported message type \"{}\"", other.unwrap_or("unknown")),
            "UNKNOWN_MESSAGE_TYPE",
        )),
    }
}

#[utoipa::path(
    get,
    path = "/api/nodes",
    tag = "nodes",
    operation_id = "list_nodes",
    summary = "List the connected nodes and their capabilities",
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The connected nodes, by id.", body = crate::openapi::schemas::NodeList),
    )
)]
pub(crate) async fn list(State(state): State<RealtimeState>) -> Json<Value> {
    let nodes: Vec<Value> = state
        .0
        .nodes
        .list()
        .into_iter()
        .map(|(id, caps)| {
            let capabilities: Vec<Value> =
                caps.iter().map(|c| json!({"name": c.name, "description": c.description})).collect();
            json!({"node_id": id, "capability_count": capabilities.len(), "capabilities": capabilities})
        })
        .collect();
    Json(json!({"count": nodes.len(), "nodes": nodes}))
}

/// Body of `POST /api/nodes/{id}/invoke`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct Invoke {
    /// A capability the node advertises: a name of 1-128 printable characters, as nodes register them.
    #[schema(
        pattern = r"^[\t\n\x0b\x0c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^\x00-\x1f\x7f-\x9f \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]([^\x00-\x1f\x7f-\x9f]{0,126}[^\x00-\x1f\x7f-\x9f \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?[\t\n\x0b\x0c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    capability: String,
    /// Its arguments, per the capability's JSON schema; `{}` when absent.
    #[serde(default = "empty_args")]
    #[schema(value_type = Object)]
    args: Value,
}

fn empty_args() -> Value {
    json!({})
}

#[utoipa::path(
    post,
    path = "/api/nodes/{id}/invoke",
    tag = "nodes",
    operation_id = "invoke_node",
    summary = "Invoke a capability of a connected node and wait for its answer",
    params(
        ("id" = String, Path, description = "The node id."),
    ),
    request_body(content = Invoke, content_type = "application/json"),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "The node's answer (`success` false when the node reported a failure).", body = crate::openapi::schemas::Invocation),
        (status = 400, description = "`UNKNOWN_CAPABILITY`: the node does not advertise this capability; `INVALID_JSON`: the body is not JSON; `INVALID_PATH`: a malformed path parameter; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`NODE_NOT_FOUND`: no connected node has this id.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::IdempotencyInProgress,
        construct_core::openapi::BodyTooLarge,
        construct_core::openapi::NotJson,
        (status = 422, description = "`INVALID_BODY`: a blank, missing or mistyped `capability`, or a mistyped field; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        (status = 502, description = "`NODE_DISCONNECTED`: the node disconnected before answering.", body = construct_core::openapi::ErrorBody),
        (status = 504, description = "`NODE_TIMEOUT`: the node did not answer within `[nodes] invoke_timeout_secs`.", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn invoke(
    State(state): State<RealtimeState>,
    Path(node_id): Path<String>,
    Json(body): Json<Invoke>,
) -> Result<Json<InvokeResult>, ApiError> {
    if body.capability.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::INVALID_BODY,
            "capability is required",
        ));
    }
    let timeout = state.0.node_timeout;
    let result = state.0.nodes.invoke(&node_id, &body.capability, body.args, timeout).await;
    result.map(Json).map_err(|error| match error {
        InvokeError::NotFound => {
            ApiError::new(StatusCode::NOT_FOUND, NODE_NOT_FOUND, format!("Node not found: {node_id}"))
        }
        InvokeError::UnknownCapability => ApiError::new(
            StatusCode::BAD_REQUEST,
            UNKNOWN_CAPABILITY,
            format!("Node {node_id} does not offer {}", body.capability),
        ),
        InvokeError::Timeout => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            NODE_TIMEOUT,
            format!("Node invocation timed out ({}s)", timeout.as_secs()),
        ),
        InvokeError::Disconnected => ApiError::new(
            StatusCode::BAD_GATEWAY,
            NODE_DISCONNECTED,
            "The node disconnected before answering",
        ),
    })
}
