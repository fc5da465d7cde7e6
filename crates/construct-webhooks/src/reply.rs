//! Replies: the agent's answer sent back through the channel's own API.
//!
//! - WhatsApp Cloud: `POST {api_base_url}/{phone_number_id}/messages`, `Bearer access_token`, a text
//!   message threaded to the inbound wamid.
//! - WATI: `POST {api_url}[/{tenant_id}]/api/v1/sendSessionMessage/{number}?messageText=…`, `Bearer api_token`.
//! - Linq: `POST {api_base_url}/chats/{chat_id}/messages` with text parts, or `POST {api_base_url}/chats`
//!   from `from_phone` when the message came without a chat; `Bearer api_token`.
//! - Nextcloud Talk: `POST {base_url}/ocs/v2.php/apps/spreed/api/v1/bot/{room}/message`, signed with
//!   `X-Nextcloud-Talk-Bot-Random` and `X-Nextcloud-Talk-Bot-Signature` = HMAC-SHA256(secret, random +
//!   message).
//!
//! Every value taken from an inbound payload (chat ids, room tokens, numbers) goes into the URL as one
//! percent-encoded path segment, so a hostile `chat_id` such as `../../admin` cannot steer the request to
//! another endpoint of the provider. Long answers are split to the channel's message limit. Sending retries
//! connection failures, 429 and 5xx with exponential backoff, a bounded number of times; errors never carry
//! the URL (it may hold user text) or a token.

use std::time::Duration;

use construct_core::config::ChannelsConfig;
use reqwest::{Client, RequestBuilder, StatusCode, Url};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::json;

use crate::parse::{Channel, InboundMessage};
use crate::signature::nextcloud_signature;

/// How replies are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// Wait before the second attempt; doubled for each later one.
    pub base_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { attempts: 4, base_delay: Duration::from_millis(500) }
    }
}

/// Why a reply was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The channel is not configured (any more).
    #[error("channel {0} is not configured")]
    NotConfigured(&'static str),
    /// The provider answered with a status that retrying will not change.
    #[error("the provider refused the reply with status {0}")]
    Rejected(u16),
    /// Still failing after every attempt.
    #[error("the provider could not be reached: {0}")]
    Unreachable(String),
}

impl SendError {
    /// A short label for events.
    pub fn kind(&self) -> &'static str {
        match self {
            SendError::NotConfigured(_) => "not_configured",
            SendError::Rejected(_) => "rejected",
            SendError::Unreachable(_) => "unreachable",
        }
    }
}

/// Sends replies. Cheap to share.
pub struct Replier {
    http: Client,
    channels: ChannelsConfig,
    retry: RetryPolicy,
    random: SystemRandom,
}

/// The longest text each channel accepts in one message.
fn message_limit(channel: Channel) -> usize {
    match channel {
        Channel::WhatsApp | Channel::Wati => 4096,
        Channel::Linq => 10_000,
        Channel::NextcloudTalk => 32_000,
    }
}

impl Replier {
    /// A replier for the configured channels.
    pub fn new(channels: &ChannelsConfig, retry: RetryPolicy) -> Result<Self, SendError> {
        let http = Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| SendError::Unreachable(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { http, channels: channels.clone(), retry, random: SystemRandom::new() })
    }

    /// Sends `text` as the answer to `message`, split into as many messages as the channel needs.
    pub async fn send(&self, message: &InboundMessage, text: &str) -> Result<(), SendError> {
        for part in split_message(text, message_limit(message.channel)) {
            self.send_one(message, part).await?;
        }
        Ok(())
    }

    async fn send_one(&self, message: &InboundMessage, text: &str) -> Result<(), SendError> {
        let mut delay = self.retry.base_delay;
        let mut last = SendError::Unreachable("no attempt made".into());
        for attempt in 1..=self.retry.attempts.max(1) {
            if attempt > 1 {
                tokio::time::sleep(delay).await;
                delay = delay.saturating_mul(2);
            }
            let request = self.request(message, text)?;
            match request.send().await {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => {
                    let status = response.status();
                    if !retryable(status) {
                        return Err(SendError::Rejected(status.as_u16()));
                    }
                    last = SendError::Unreachable(format!("status {}", status.as_u16()));
                }
                Err(error) => last = SendError::Unreachable(error.without_url().to_string()),
            }
            tracing::debug!(channel = message.channel.as_str(), attempt, error = %last, "reply attempt failed");
        }
        Err(last)
    }

    fn request(&self, message: &InboundMessage, text: &str) -> Result<RequestBuilder, SendError> {
        let channels = &self.channels;
        let missing = || SendError::NotConfigured(message.channel.as_str());
        let target = message.reply_target.as_str();
        Ok(match message.channel {
            Channel::WhatsApp => {
                let c = channels.whatsapp.as_ref().ok_or_else(missing)?;
                let url = endpoint(&c.api_base_url, &[&c.phone_number_id, "messages"])?;
                let mut body = json!({
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": target.trim_start_matches('+'),
                    "type": "text",
                    "text": {"preview_url": false, "body": text},
                });
                if let Some(wamid) = &message.provider_id {
                    body["context"] = json!({"message_id": wamid});
                }
                self.http.post(url).bearer_auth(c.access_token.expose()).json(&body)
            }
            Channel::Wati => {
                let c = channels.wati.as_ref().ok_or_else(missing)?;
                let number = target.trim_start_matches('+');
                let mut segments = Vec::new();
                if let Some(tenant) = c.tenant_id.as_deref().filter(|t| !t.trim().is_empty()) {
                    segments.push(tenant.trim());
                }
                segments.extend(["api", "v1", "sendSessionMessage", number]);
                let mut url = endpoint(&c.api_url, &segments)?;
                url.query_pairs_mut().append_pair("messageText", text);
                self.http.post(url).bearer_auth(c.api_token.expose())
            }
            Channel::Linq => {
                let c = channels.linq.as_ref().ok_or_else(missing)?;
                let parts = json!([{"type": "text", "value": text}]);
                let request = match &message.thread {
                    Some(chat) => self
                        .http
                        .post(endpoint(&c.api_base_url, &["chats", chat, "messages"])?)
                        .json(&json!({"message": {"parts": parts}})),
                    None => self.http.post(endpoint(&c.api_base_url, &["chats"])?).json(&json!({
                        "from": c.from_phone,
                        "to": [target],
                        "message": {"parts": parts},
                    })),
                };
                request.bearer_auth(c.api_token.expose())
            }
            Channel::NextcloudTalk => {
                let c = channels.nextcloud_talk.as_ref().ok_or_else(missing)?;
                let url = endpoint(
                    &c.base_url,
                    &["ocs", "v2.php", "apps", "spreed", "api", "v1", "bot", target, "message"],
                )?;
                let random = self.random_hex()?;
                let signature = nextcloud_signature(c.webhook_secret.expose(), &random, text.as_bytes());
                let mut body = json!({"message": text});
                if let Some(id) = message.provider_id.as_deref().and_then(|id| id.parse::<u64>().ok()) {
                    body["replyTo"] = json!(id);
                }
                self.http
                    .post(url)
                    .header("OCS-APIRequest", "true")
                    .header("Accept", "application/json")
                    .header("X-Nextcloud-Talk-Bot-Random", random)
                    .header("X-Nextcloud-Talk-Bot-Signature", signature)
                    .json(&body)
            }
        })
    }

    fn random_hex(&self) -> Result<String, SendError> {
        let mut bytes = [0u8; 32];
        self.random
            .fill(&mut bytes)
            .map_err(|_| SendError::Unreachable("the system random generator failed".into()))?;
        Ok(hex::encode(bytes))
    }
}

fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
}

/// `base` with `segments` appended, each percent-encoded as one segment (a `/` or `..` inside a segment
/// stays inside it).
fn endpoint(base: &str, segments: &[&str]) -> Result<Url, SendError> {
    let mut url =
        Url::parse(base).map_err(|_| SendError::Unreachable("the configured base URL is invalid".into()))?;
    {
        let mut path = url
            .path_segments_mut()
            .map_err(|()| SendError::Unreachable("the configured base URL cannot take a path".into()))?;
        path.pop_if_empty();
        for segment in segments {
            // `.` and `..` are the two segments that would still move the path; nothing legitimate uses them.
            let segment = match *segment {
                "." => "%2E",
                ".." => "%2E%2E",
                other => other,
            };
            path.push(segment);
        }
    }
    Ok(url)
}

/// Splits `text` into pieces of at most `limit` characters, preferring to break after a newline, then
/// after a space; never inside a character.
pub fn split_message(text: &str, limit: usize) -> Vec<&str> {
    let limit = limit.max(1);
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if rest.chars().count() <= limit {
            parts.push(rest);
            break;
        }
        let hard = rest.char_indices().nth(limit).map_or(rest.len(), |(i, _)| i);
        let window = &rest[..hard];
        let cut = window.rfind('\n').or_else(|| window.rfind(' ')).filter(|&i| i > 0).map_or(hard, |i| i + 1);
        parts.push(rest[..cut].trim_end());
        rest = rest[cut..].trim_start();
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting_respects_limits_and_characters() {
        assert_eq!(split_message("short", 10), vec!["short"]);
        assert!(split_message("   ", 10).is_empty());
        assert_eq!(split_message("one two three", 8), vec!["one two", "three"]);
        assert_eq!(split_message("line one\nline two", 12), vec!["line one", "line two"]);
        assert_eq!(split_message("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        let emoji = "👋".repeat(5);
        let parts = split_message(&emoji, 2);
        assert_eq!(parts, vec!["👋👋", "👋👋", "👋"]);
        for part in split_message(&"word ".repeat(2000), 4096) {
            assert!(part.chars().count() <= 4096);
        }
    }

    #[test]
    fn hostile_segments_stay_inside_their_segment() {
        let url = endpoint("https://api.example/v3/", &["chats", "../../admin", "messages"]).unwrap();
        assert_eq!(url.as_str(), "https://api.example/v3/chats/..%2F..%2Fadmin/messages");
        let url = endpoint("https://api.example/v3", &["chats", "..", "messages"]).unwrap();
        assert_eq!(url.as_str(), "https://api.example/v3/chats/%252E%252E/messages");
        let url = endpoint("https://api.example", &["a?b#c"]).unwrap();
        assert_eq!(url.path(), "/a%3Fb%23c");
    }
}
