//! `[workflows]` and `[clawhub]`: what the workflow routes read, and the skill marketplace they install from.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// `[workflows]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkflowsConfig {
    /// Where the workflow operator writes one `<agent_id>.jsonl` run log per agent, read by
    /// `GET /api/workflows/agent-activity/{agent_id}`. Empty: `<data dir>/runlogs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runlog_dir: Option<PathBuf>,
}

/// `[clawhub]`: the ClawHub skill registry behind `/api/clawhub/*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClawHubConfig {
    /// Off: every ClawHub route answers 400 `CLAWHUB_DISABLED`.
    pub enabled: bool,
    /// The registry (`/api/v1/...` is appended).
    pub api_url: String,
    /// Sent as `Authorization: Bearer` when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_token: Option<Secret>,
}

impl Default for ClawHubConfig {
    fn default() -> Self {
        Self { enabled: true, api_url: "https://clawhub.ai".to_owned(), api_token: None }
    }
}
