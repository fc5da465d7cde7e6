//! Access to the gateway's MCP server for other parts of the gateway (the terminal launching a coding tool
//! connected to it), without depending on the MCP crate.

/// What a client needs to reach the MCP server.
#[derive(Clone, PartialEq, Eq)]
pub struct McpGrant {
    /// `http://127.0.0.1:<port>/mcp`.
    pub url: String,
    /// A session token (secret).
    pub token: String,
    /// Its session.
    pub session_id: String,
}

impl std::fmt::Debug for McpGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpGrant")
            .field("url", &self.url)
            .field("session_id", &self.session_id)
            .finish_non_exhaustive()
    }
}

/// Mints MCP sessions.
pub trait McpIssuer: Send + Sync {
    /// A new session for `owner` (a principal id), or `None` when the server is not running or full.
    fn grant(&self, owner: &str) -> Option<McpGrant>;
}
