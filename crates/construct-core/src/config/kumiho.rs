//! `[kumiho]`: where the graph memory lives.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schema::{FilePath, key_order};
use crate::secret::Secret;

/// Which Kumiho the gateway uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KumihoMode {
    /// The embedded store under the data directory (`kumiho.db`).
    #[default]
    Local,
    /// A Kumiho server at `api_url` (Kumiho Cloud, or `construct-gateway kumiho serve`).
    Remote,
}

/// The Kumiho graph memory: embedded by default, or a Kumiho server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct KumihoConfig {
    /// `local`: the embedded store, `kumiho.db` under the data directory. `remote`: a Kumiho server at
    /// `api_url` (Kumiho Cloud, or `construct-gateway kumiho serve` shared by several gateways).
    pub mode: KumihoMode,
    /// The server in remote mode (http or https); `/api/v1` is appended.
    pub api_url: String,
    /// Sent as `X-Kumiho-Token` in remote mode. `KUMIHO_SERVICE_TOKEN` is used when the file sets none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_token: Option<Secret>,
    /// Directories `GET /api/artifact-body` may serve files from; empty means `<data dir>/artifacts`.
    #[schemars(with = "Vec<FilePath>")]
    pub artifact_roots: Vec<PathBuf>,
    /// The project holding agents, teams and workflows: 1 to 128 characters of `A-Za-z0-9_-.`.
    pub harness_project: String,
    /// The project holding skills and memories: 1 to 128 characters of `A-Za-z0-9_-.`.
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
