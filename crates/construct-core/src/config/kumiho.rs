//! `[kumiho]`: where the graph memory lives.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// Which Kumiho the gateway uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum KumihoMode {
    /// The embedded store under the data directory (`kumiho.db`).
    #[default]
    Local,
    /// A Kumiho server at `api_url` (Kumiho Cloud, or `construct-gateway kumiho serve`).
    Remote,
}

/// `[kumiho]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KumihoConfig {
    /// `local` (default) or `remote`.
    pub mode: KumihoMode,
    /// The server, in remote mode; `/api/v1` is appended.
    pub api_url: String,
    /// Sent as `X-Kumiho-Token` in remote mode. Env `KUMIHO_SERVICE_TOKEN` is used when this is empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_token: Option<Secret>,
    /// Directories `GET /api/artifact-body` may read from. Empty: `<data dir>/artifacts`.
    pub artifact_roots: Vec<PathBuf>,
    /// The project holding agents, teams and workflows. Default `Construct`.
    pub harness_project: String,
    /// The project holding skills and memories. Default `CognitiveMemory`.
    pub memory_project: String,
}

impl Default for KumihoConfig {
    fn default() -> Self {
        Self {
            mode: KumihoMode::Local,
            api_url: "https://api.kumiho.cloud".to_owned(),
            service_token: None,
            artifact_roots: Vec::new(),
            harness_project: "Construct".to_owned(),
            memory_project: "CognitiveMemory".to_owned(),
        }
    }
}
