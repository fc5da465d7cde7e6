//! `[workflows]` and `[clawhub]`: what the workflow routes read, and the skill marketplace they install from.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schema::{FilePath, key_order};
use crate::secret::Secret;

/// Where the workflow routes find what the workflow operator wrote.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct WorkflowsConfig {
    /// Where the workflow operator writes one `<agent_id>.jsonl` run log per agent, read by
    /// `GET /api/workflows/agent-activity/{agent_id}`; unset means `<data dir>/runlogs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<FilePath>", example = "/var/lib/construct/runlogs")]
    pub runlog_dir: Option<PathBuf>,
}

/// The ClawHub skill registry behind `/api/clawhub/*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct ClawHubConfig {
    /// Serve `/api/clawhub/*`; off, each answers 400 `CLAWHUB_DISABLED`.
    pub enabled: bool,
    /// The registry (http or https); `/api/v1/...` is appended.
    pub api_url: String,
    /// Sent as `Authorization: Bearer` to the registry when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_token: Option<Secret>,
}

impl Default for ClawHubConfig {
    fn default() -> Self {
        Self { enabled: true, api_url: "https://clawhub.ai".to_owned(), api_token: None }
    }
}
