//! `[mcp]`: the gateway's own MCP server, and MCP servers the user configures.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// `[mcp]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct McpConfig {
    /// Start the MCP server (Streamable HTTP on a random loopback port) with the gateway. Default true.
    pub enabled: bool,
    /// Seconds an MCP session token lives. Default 3600.
    pub session_ttl_secs: u64,
    /// MCP sessions open at once. Default 256.
    pub max_sessions: usize,
    /// Allow `stdio` servers in `[[mcp.servers]]` and `POST /api/mcp/servers/test` (they run local
    /// commands). Default false.
    pub allow_stdio: bool,
    /// `[[mcp.servers]]`: external MCP servers.
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

/// An external MCP server reached over HTTP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalMcpServer {
    /// Its name.
    pub name: String,
    /// Its Streamable HTTP endpoint.
    pub url: String,
    /// Headers sent with every request (an `Authorization`, say); secret, never printed.
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
}
