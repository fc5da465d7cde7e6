//! `[channels_config.*]`: the messaging channels that may reach the agent.
//!
//! Every channel is off until its section exists. A channel that is on must have its secret: upstream
//! skipped verification when a secret was missing (and WATI never verified anything), so a forgotten
//! setting opened the channel to anyone. Here that is a startup error naming the key.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schema::key_order;
use crate::secret::Secret;

/// Default of `[channels_config] queue_capacity`.
pub const QUEUE_CAPACITY_DEFAULT: u64 = 1000;
/// Default of `[channels_config] workers`.
pub const WORKERS_DEFAULT: usize = 2;

/// The messaging channels, and the queue their messages wait in.
///
/// Each channel is off until its section exists. A channel that is on must have every key marked
/// required; a missing one is a startup error naming it (upstream silently skipped verification, and WATI
/// never verified anything, so a forgotten setting opened the channel to anyone). Secrets print as
/// `********`. Base URLs (`api_base_url`, `api_url`, `base_url`) must be http(s) URLs; point them at a fake
/// server to test without the real provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct ChannelsConfig {
    /// Messages accepted and not yet answered, at most (at least 1). Beyond it the channel routes answer
    /// 503 `OVERLOADED` with `Retry-After`, so the provider retries later. The queue lives in `gateway.db`,
    /// so accepted work survives a restart.
    pub queue_capacity: u64,
    /// Messages answered at once (each is one agent turn), 1 to 64. One conversation's messages are always
    /// answered one at a time, in order.
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

/// The generic `POST /webhook`: on once this section exists.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct WebhookChannelConfig {
    /// When set, `POST /webhook` also requires `X-Webhook-Secret` with this value (kept only as SHA-256,
    /// compared in constant time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
}

/// WhatsApp Cloud API: `GET /whatsapp` (Meta's verification handshake) and `POST /whatsapp` (messages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct WhatsAppConfig {
    /// Graph API token for sending replies. Required.
    pub access_token: Secret,
    /// The sending phone number's id. Required.
    #[schemars(example = "123456789012345")]
    pub phone_number_id: String,
    /// Token Meta echoes in the `GET /whatsapp` handshake. Required.
    pub verify_token: Secret,
    /// App secret for `X-Hub-Signature-256`. Required; `CONSTRUCT_WHATSAPP_APP_SECRET` wins over the file.
    pub app_secret: Secret,
    /// Who may talk to the agent: `+E164` numbers, `["*"]` for everyone; empty denies everyone.
    pub allowed_numbers: Vec<String>,
    /// Graph API base URL (http or https).
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

/// WATI: `GET /wati` (verification) and `POST /wati` (messages).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct WatiConfig {
    /// WATI API URL (http or https), from the WATI dashboard. Required.
    #[schemars(example = "https://live-mt-server.wati.io/123456")]
    pub api_url: String,
    /// WATI API token. Required.
    pub api_token: Secret,
    /// Tenant id, for multi-tenant WATI accounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "123456")]
    pub tenant_id: Option<String>,
    /// Who may talk to the agent: `+E164` numbers, `["*"]` for everyone; empty denies everyone.
    pub allowed_numbers: Vec<String>,
    /// Token the `GET /wati` handshake must carry. Required (upstream echoed any challenge).
    pub verify_token: Secret,
    /// Secret every `POST /wati` must carry (`X-Wati-Secret` or `token`). Required (upstream checked
    /// nothing).
    pub webhook_secret: Secret,
}

/// Linq (iMessage, RCS, SMS): `POST /linq`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct LinqConfig {
    /// Linq API token. Required.
    pub api_token: Secret,
    /// The number replies are sent from.
    #[schemars(example = "+15551234567")]
    pub from_phone: String,
    /// Signing secret for `X-Webhook-Signature`. Required; `CONSTRUCT_LINQ_SIGNING_SECRET` wins over the
    /// file.
    pub signing_secret: Secret,
    /// Who may talk to the agent (phone numbers or addresses).
    pub allowed_senders: Vec<String>,
    /// Linq API base URL (http or https), from your Linq account. Required.
    #[schemars(example = "https://api.linq.example/v3")]
    pub api_base_url: String,
}

/// A Nextcloud Talk bot: `POST /nextcloud-talk`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct NextcloudTalkConfig {
    /// The Nextcloud server (http or https). Required.
    #[schemars(example = "https://cloud.example.com")]
    pub base_url: String,
    /// App token, when the bot API needs one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_token: Option<Secret>,
    /// The bot's shared secret (signatures both ways). Required; `CONSTRUCT_NEXTCLOUD_TALK_WEBHOOK_SECRET`
    /// wins over the file.
    pub webhook_secret: Secret,
    /// Who may talk to the agent (Nextcloud user ids).
    pub allowed_users: Vec<String>,
    /// The bot's display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"Construct")]
    pub bot_name: Option<String>,
}

/// Gmail Pub/Sub push notifications: `POST /webhook/gmail`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct GmailPushConfig {
    /// Whether `POST /webhook/gmail` is served.
    pub enabled: bool,
    /// Bearer secret Pub/Sub sends. Required when enabled; `GMAIL_PUSH_WEBHOOK_SECRET` is used when this
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
