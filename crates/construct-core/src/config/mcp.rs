//! `[mcp]`: the gateway's own MCP server, and MCP servers the user configures.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schema::key_order;
use crate::secret::Secret;

/// The gateway's own MCP server, and the external MCP servers its agent may use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct McpConfig {
    /// Run the MCP server (Streamable HTTP on a random loopback port) while the gateway serves.
    pub enabled: bool,
    /// Seconds an MCP session token lives; 60 to 86400.
    pub session_ttl_secs: u64,
    /// MCP sessions open at once; 1 to 10000.
    pub max_sessions: usize,
    /// Allow stdio MCP servers in `[[mcp.servers]]` and `POST /api/mcp/servers/test` (they run local
    /// commands).
    pub allow_stdio: bool,
    /// `[[mcp.servers]]`: external MCP servers over HTTP.
    pub servers: Vec<ExternalMcpServer>,
}

impl Default for McpConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            session_ttl_secs: 3600,
            max_sessions: 256,
            allow_stdio: false,
            servers: Vec::new(),
        }
    }
}

/// An external MCP server reached over HTTP: one `[[mcp.servers]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = key_order::<Self>)]
pub struct ExternalMcpServer {
    /// Its name, 1 to 100 characters.
    #[schemars(example = &"search")]
    pub name: String,
    /// Its Streamable HTTP endpoint (http or https).
    #[schemars(example = "https://mcp.example.com/mcp")]
    pub url: String,
    /// Headers sent with every request (an `Authorization`, say); the values are secrets, never printed.
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
}
