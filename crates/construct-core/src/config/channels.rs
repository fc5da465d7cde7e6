//! `[channels_config.*]`: the messaging channels that may reach the agent.
//!
//! Every channel is off until its section exists. A channel that is on must have its secret: upstream
//! skipped verification when a secret was missing (and WATI never verified anything), so a forgotten
//! setting opened the channel to anyone. Here that is a startup error naming the key.

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// Default of `[channels_config] queue_capacity`.
pub const QUEUE_CAPACITY_DEFAULT: u64 = 1000;
/// Default of `[channels_config] workers`.
pub const WORKERS_DEFAULT: usize = 2;

/// `[channels_config]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChannelsConfig {
    /// Deliveries accepted and not yet answered, at most; beyond that a channel answers 503 `OVERLOADED` with
    /// `Retry-After` so the provider retries later. Default 1000.
    pub queue_capacity: u64,
    /// Deliveries processed at once (each is one agent turn; one session's deliveries always run one at a
    /// time, in order). Default 2.
    pub workers: usize,
    /// `[channels_config.webhook]`: the generic `POST /webhook`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookChannelConfig>,
    /// `[channels_config.whatsapp]`: WhatsApp Cloud API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<WhatsAppConfig>,
    /// `[channels_config.wati]`: WATI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wati: Option<WatiConfig>,
    /// `[channels_config.linq]`: Linq (iMessage, RCS, SMS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linq: Option<LinqConfig>,
    /// `[channels_config.nextcloud_talk]`: a Nextcloud Talk bot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nextcloud_talk: Option<NextcloudTalkConfig>,
    /// `[channels_config.gmail_push]`: Gmail Pub/Sub push notifications.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gmail_push: Option<GmailPushConfig>,
}

impl Default for ChannelsConfig {
    fn default() -> Self {
        Self {
            queue_capacity: QUEUE_CAPACITY_DEFAULT,
            workers: WORKERS_DEFAULT,
            webhook: None,
            whatsapp: None,
            wati: None,
            linq: None,
            nextcloud_talk: None,
            gmail_push: None,
        }
    }
}

impl ChannelsConfig {
    /// Whether any channel that queues work for the agent (WhatsApp, WATI, Linq, Nextcloud Talk) is on.
    pub fn any_chat_channel(&self) -> bool {
        self.whatsapp.is_some() || self.wati.is_some() || self.linq.is_some() || self.nextcloud_talk.is_some()
    }
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

/// `[channels_config.whatsapp]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WhatsAppConfig {
    /// Graph API token for sending replies. Required.
    pub access_token: Secret,
    /// The sending phone number's id. Required.
    pub phone_number_id: String,
    /// Token Meta echoes in the `GET /whatsapp` handshake. Required.
    pub verify_token: Secret,
    /// App secret for `X-Hub-Signature-256`. Required; env `CONSTRUCT_WHATSAPP_APP_SECRET` overrides.
    pub app_secret: Secret,
    /// Who may talk to the agent: `+E164` numbers, `"*"` for everyone; empty denies everyone.
    pub allowed_numbers: Vec<String>,
    /// Graph API base URL.
    pub api_base_url: String,
}

impl Default for WhatsAppConfig {
    fn default() -> Self {
        Self {
            access_token: Secret::default(),
            phone_number_id: String::new(),
            verify_token: Secret::default(),
            app_secret: Secret::default(),
            allowed_numbers: Vec::new(),
            api_base_url: "https://graph.facebook.com/v18.0".to_owned(),
        }
    }
}

/// `[channels_config.wati]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WatiConfig {
    /// WATI API URL. Required.
    pub api_url: String,
    /// WATI API token. Required.
    pub api_token: Secret,
    /// Tenant id, for multi-tenant WATI accounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Who may talk to the agent (as for WhatsApp).
    pub allowed_numbers: Vec<String>,
    /// Token the `GET /wati` handshake must carry. Required (upstream echoed any challenge).
    pub verify_token: Secret,
    /// Secret every `POST /wati` must carry (`X-Wati-Secret` or `token`). Required (upstream checked nothing).
    pub webhook_secret: Secret,
}

/// `[channels_config.linq]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LinqConfig {
    /// Linq API token. Required.
    pub api_token: Secret,
    /// The number replies are sent from.
    pub from_phone: String,
    /// Signing secret for `X-Webhook-Signature`. Required; env `CONSTRUCT_LINQ_SIGNING_SECRET` overrides.
    pub signing_secret: Secret,
    /// Who may talk to the agent.
    pub allowed_senders: Vec<String>,
    /// Linq API base URL (from your Linq account). Required.
    pub api_base_url: String,
}

/// `[channels_config.nextcloud_talk]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NextcloudTalkConfig {
    /// The Nextcloud server. Required.
    pub base_url: String,
    /// App token, when the bot API needs one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_token: Option<Secret>,
    /// The bot's shared secret (signatures both ways). Required; env
    /// `CONSTRUCT_NEXTCLOUD_TALK_WEBHOOK_SECRET` overrides.
    pub webhook_secret: Secret,
    /// Who may talk to the agent (Nextcloud user ids).
    pub allowed_users: Vec<String>,
    /// The bot's display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bot_name: Option<String>,
}

/// `[channels_config.gmail_push]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GmailPushConfig {
    /// Whether `POST /webhook/gmail` is served.
    pub enabled: bool,
    /// Bearer secret Pub/Sub sends. Required when enabled; env `GMAIL_PUSH_WEBHOOK_SECRET` is used when this
    /// is empty.
    pub webhook_secret: Secret,
}

/// The keys an enabled channel cannot do without, with their values' emptiness: `(key, is_empty)`.
pub(crate) fn required_keys(channels: &ChannelsConfig) -> Vec<(&'static str, bool)> {
    let mut keys = Vec::new();
    if let Some(c) = &channels.whatsapp {
        keys.extend([
            ("channels_config.whatsapp.access_token", c.access_token.is_empty()),
            ("channels_config.whatsapp.phone_number_id", c.phone_number_id.trim().is_empty()),
            ("channels_config.whatsapp.verify_token", c.verify_token.is_empty()),
            ("channels_config.whatsapp.app_secret", c.app_secret.is_empty()),
        ]);
    }
    if let Some(c) = &channels.wati {
        keys.extend([
            ("channels_config.wati.api_url", c.api_url.trim().is_empty()),
            ("channels_config.wati.api_token", c.api_token.is_empty()),
            ("channels_config.wati.verify_token", c.verify_token.is_empty()),
            ("channels_config.wati.webhook_secret", c.webhook_secret.is_empty()),
        ]);
    }
    if let Some(c) = &channels.linq {
        keys.extend([
            ("channels_config.linq.api_token", c.api_token.is_empty()),
            ("channels_config.linq.signing_secret", c.signing_secret.is_empty()),
            ("channels_config.linq.api_base_url", c.api_base_url.trim().is_empty()),
        ]);
    }
    if let Some(c) = &channels.nextcloud_talk {
        keys.extend([
            ("channels_config.nextcloud_talk.base_url", c.base_url.trim().is_empty()),
            ("channels_config.nextcloud_talk.webhook_secret", c.webhook_secret.is_empty()),
        ]);
    }
    if let Some(c) = channels.gmail_push.as_ref().filter(|c| c.enabled) {
        keys.push(("channels_config.gmail_push.webhook_secret", c.webhook_secret.is_empty()));
    }
    keys
}

/// The base URLs replies are sent to, by key: each must be an http(s) URL when set.
pub(crate) fn outbound_urls(channels: &ChannelsConfig) -> Vec<(&'static str, &str)> {
    let mut urls = Vec::new();
    if let Some(c) = &channels.whatsapp {
        urls.push(("channels_config.whatsapp.api_base_url", c.api_base_url.as_str()));
    }
    if let Some(c) = &channels.wati {
        urls.push(("channels_config.wati.api_url", c.api_url.as_str()));
    }
    if let Some(c) = &channels.linq {
        urls.push(("channels_config.linq.api_base_url", c.api_base_url.as_str()));
    }
    if let Some(c) = &channels.nextcloud_talk {
        urls.push(("channels_config.nextcloud_talk.base_url", c.base_url.as_str()));
    }
    urls
}
