//! `[channels_config.*]`: the messaging channels that may reach the agent. Every channel is off until
//! configured.

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// `[channels_config]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ChannelsConfig {
    /// `[channels_config.webhook]`: the generic `POST /webhook`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookChannelConfig>,
}

/// `[channels_config.webhook]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookChannelConfig {
    /// When set, callers must also send it in `X-Webhook-Secret` (kept only as SHA-256, compared in
    /// constant time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
}
