//! `[provider]`: which language model the agent talks to.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// Which implementation runs a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Any OpenAI-compatible `/chat/completions` endpoint (OpenAI, Ollama, vLLM, LM Studio, OpenRouter, ...).
    Openai,
    /// Streams the user's words back; for demos and tests.
    Echo,
}

/// `[provider]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProviderConfig {
    /// `openai` (default) or `echo`.
    pub kind: ProviderKind,
    /// Base URL of the API; `/chat/completions` is appended. Default: a local Ollama.
    pub base_url: String,
    /// Model name. Default `llama3.2`.
    pub model: String,
    /// Sampling temperature, 0 to 2. Unset: the provider's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Seconds a whole turn may take, including a stalled stream. Default 120.
    pub timeout_secs: u64,
    /// Extra request headers (for gateways that want them). Values are not secret-masked: put keys in
    /// `api_key`.
    pub extra_headers: BTreeMap<String, String>,
    /// API key, sent as `Authorization: Bearer`. Env `CONSTRUCT_PROVIDER_API_KEY` overrides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// US dollars per million prompt tokens, for `GET /api/cost`. Default 0 (a local model).
    pub input_price_per_million: f64,
    /// US dollars per million completion tokens. Default 0.
    pub output_price_per_million: f64,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        Self {
            kind: ProviderKind::Openai,
            base_url: "http://127.0.0.1:11434/v1".to_owned(),
            model: "llama3.2".to_owned(),
            temperature: None,
            timeout_secs: 120,
            extra_headers: BTreeMap::new(),
            api_key: None,
            input_price_per_million: 0.0,
            output_price_per_million: 0.0,
        }
    }
}
