//! `[nodes]` and `[terminal]`: the realtime features that reach beyond the gateway.

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// `[nodes]`: remote capability providers connecting over `WS /ws/nodes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodesConfig {
    /// Serve `/ws/nodes` and `/api/nodes*`. Default true; false removes the routes.
    pub enabled: bool,
    /// A token nodes may present instead of an admin device token (kept as SHA-256, compared in constant
    /// time). Unset: only admin devices may connect nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_token: Option<Secret>,
    /// Nodes registered at once. Default 16.
    pub max_nodes: usize,
    /// Seconds `POST /api/nodes/{id}/invoke` waits for a result. Default 30.
    pub invoke_timeout_secs: u64,
}

impl Default for NodesConfig {
    fn default() -> Self {
        Self { enabled: true, auth_token: None, max_nodes: 16, invoke_timeout_secs: 30 }
    }
}

/// `[terminal]`: a shell over `WS /ws/terminal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TerminalConfig {
    /// Serve `/ws/terminal`. Default false: a shell is opt-in.
    pub enabled: bool,
    /// The shell to run. Unset: `$SHELL`, else `/bin/sh`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<String>,
    /// Variables passed to the shell besides PATH, HOME, LANG, LC_*, TERM, USER, SHELL and TZ.
    pub env_passthrough: Vec<String>,
    /// Terminals open at once. Default 4.
    pub max_sessions: usize,
    /// The programs `?tool=claude|codex|opencode|gemini` run, when not the name found on `PATH`
    /// (`[terminal.tools] claude = "/opt/claude/bin/claude"`).
    pub tools: std::collections::BTreeMap<String, String>,
}

impl Default for TerminalConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            shell: None,
            env_passthrough: Vec::new(),
            max_sessions: 4,
            tools: std::collections::BTreeMap::new(),
        }
    }
}
