//! `[provider]`: which language model the agent talks to.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schema::key_order;
use crate::secret::Secret;

/// Which implementation runs a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Any OpenAI-compatible `/chat/completions` endpoint (OpenAI, Ollama, vLLM, LM Studio, OpenRouter, ...).
    Openai,
    /// Streams the user's words back; for demos and tests.
    Echo,
}

/// The language model behind the agent.
///
/// Secrets print as `********` everywhere, `config check` included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct ProviderConfig {
    /// `openai`: any OpenAI-compatible `/chat/completions` endpoint. `echo`: streams the user's words back
    /// (demos, tests).
    pub kind: ProviderKind,
    /// API base (a local Ollama by default); `/chat/completions` is appended. http or https.
    pub base_url: String,
    /// Model name; not empty.
    pub model: String,
    /// Sampling temperature, 0 to 2; unset leaves the provider's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = 0.7)]
    pub temperature: Option<f64>,
    /// Whole-turn limit in seconds, a stalled stream included; 1 to 3600.
    pub timeout_secs: u64,
    /// Extra request headers (valid header names and values). Values are not masked: put keys in
    /// `api_key`.
    pub extra_headers: BTreeMap<String, String>,
    /// Sent as `Authorization: Bearer`. `CONSTRUCT_PROVIDER_API_KEY` wins over the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// US dollars per million prompt tokens, for `GET /api/cost`; 0 or more (0 suits a local model).
    pub input_price_per_million: f64,
    /// US dollars per million completion tokens; 0 or more.
    pub output_price_per_million: f64,
    /// `echo` only: a pause between words, in milliseconds, so a demo (or a browser test) can watch a turn
    /// stream and cancel it. 0 to 10000; 0 streams at once.
    pub echo_delay_ms: u64,
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
            echo_delay_ms: 0,
        }
    }
}
