//! Remote capability providers ("nodes") as other crates see them: what they offer and how to invoke it.
//! The registry of connected nodes lives with their WebSocket (construct-realtime); the REST API and the
//! MCP server reach it through [`NodeDirectory`].

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One advertised capability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capability {
    /// Its name.
    pub name: String,
    /// What it does.
    #[serde(default)]
    pub description: String,
    /// JSON schema of its arguments.
    #[serde(default = "empty_schema")]
    pub parameters: Value,
}

fn empty_schema() -> Value {
    json!({"type": "object", "properties": {}})
}

/// The result of an invocation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvokeResult {
    /// The call's id.
    pub call_id: String,
    /// Whether the node reported success.
    pub success: bool,
    /// What it returned.
    pub output: String,
    /// Its error, when it failed.
    pub error: Option<String>,
}

/// Why an invocation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvokeError {
    /// No such node.
    NotFound,
    /// The node does not advertise the capability.
    UnknownCapability,
    /// No answer in time.
    Timeout,
    /// The node went away first.
    Disconnected,
}

/// The connected nodes.
#[async_trait]
pub trait NodeDirectory: Send + Sync {
    /// The nodes and their capabilities, by id.
    fn list(&self) -> Vec<(String, Vec<Capability>)>;

    /// Invokes `capability` on `node_id` and waits up to `timeout` for its result.
    async fn invoke(
        &self,
        node_id: &str,
        capability: &str,
        args: Value,
        timeout: Duration,
    ) -> Result<InvokeResult, InvokeError>;
}
