//! `[nodes]` and `[terminal]`: the realtime features that reach beyond the gateway.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schema::key_order;
use crate::secret::Secret;

/// Remote capability providers connecting over `WS /ws/nodes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct NodesConfig {
    /// Serve `/ws/nodes` and `/api/nodes*`; `false` removes the routes.
    pub enabled: bool,
    /// A token nodes may present instead of an admin device token (kept as SHA-256, compared in constant
    /// time). Unset: only admin devices may connect nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_token: Option<Secret>,
    /// Nodes registered at once, 1 to 10000.
    pub max_nodes: usize,
    /// How long `POST /api/nodes/{id}/invoke` waits for the node, in seconds (the route's own timeout), 1
    /// to 3600.
    pub invoke_timeout_secs: u64,
}

impl Default for NodesConfig {
    fn default() -> Self {
        Self { enabled: true, auth_token: None, max_nodes: 16, invoke_timeout_secs: 30 }
    }
}

/// A shell over `WS /ws/terminal`, off unless asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct TerminalConfig {
    /// Serve `/ws/terminal` (a shell).
    pub enabled: bool,
    /// Absolute path of the shell; unset means `$SHELL` (when absolute), else `/bin/sh`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "/bin/bash")]
    pub shell: Option<String>,
    /// Variables passed to the shell besides PATH, HOME, LANG, LC_*, TERM, USER, LOGNAME, SHELL and TZ.
    pub env_passthrough: Vec<String>,
    /// Terminals open at once, 1 to 256; beyond it 429 `TOO_MANY_TERMINALS`.
    pub max_sessions: usize,
    /// The program `?tool=` runs for `claude`, `codex`, `opencode` or `gemini`, as an absolute path
    /// (`[terminal.tools] claude = "/opt/claude/bin/claude"`); unset: the name on `PATH`.
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
