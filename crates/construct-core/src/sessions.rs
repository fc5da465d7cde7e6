//! Chat sessions: the conversations of `/ws/chat` and of the channels, with their messages, name and turn
//! state, kept in the store so a reconnecting client (or a restarted gateway) resumes them.
//!
//! Sessions are keyed by a full key: `gw_<id>` for the dashboard's chat sessions (the namespace keeps them
//! apart from channel conversations such as `whatsapp_+15550100000`, as upstream did), the channel's own
//! session id otherwise. A session's channel is derived from its key ([`channel_of`]).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::devices::StoreError;
use crate::history::SessionHistory;

/// The key prefix of the dashboard's chat sessions.
pub const CHAT_PREFIX: &str = "gw_";
/// Longest accepted chat session id (without the prefix).
pub const MAX_SESSION_ID_LEN: usize = 128;

/// Whether `id` is a valid chat session id: 1 to 128 characters of `A-Z a-z 0-9 _ -`.
pub fn valid_session_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_SESSION_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The store key of chat session `id`.
pub fn chat_key(id: &str) -> String {
    format!("{CHAT_PREFIX}{id}")
}

/// The channel a session key belongs to: `gateway` for chat sessions, the channel for channel
/// conversations, `webhook` for anything else (the generic webhook's `X-Session-Id`).
pub fn channel_of(key: &str) -> &'static str {
    if key.starts_with(CHAT_PREFIX) {
        return "gateway";
    }
    ["whatsapp", "wati", "linq", "nextcloud_talk"]
        .into_iter()
        .find(|channel| key.strip_prefix(channel).is_some_and(|rest| rest.starts_with('_')))
        .unwrap_or("webhook")
}

/// Where a session's turn stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TurnState {
    /// No turn running.
    #[default]
    Idle,
    /// A turn is running.
    Running,
    /// The last turn failed.
    Error,
}

impl TurnState {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            TurnState::Idle => "idle",
            TurnState::Running => "running",
            TurnState::Error => "error",
        }
    }

    /// From the wire name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "idle" => Some(TurnState::Idle),
            "running" => Some(TurnState::Running),
            "error" => Some(TurnState::Error),
            _ => None,
        }
    }
}

/// A session's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The store key.
    pub key: String,
    /// `gateway`, a channel name, or `webhook`.
    pub channel: String,
    /// A name the user gave it.
    pub name: Option<String>,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When a message was last added (or it was created).
    pub last_activity: OffsetDateTime,
    /// Messages stored.
    pub message_count: u64,
    /// Its turn state.
    pub state: TurnState,
    /// The running (or last failed) turn.
    pub turn_id: Option<String>,
    /// When that turn started.
    pub turn_started_at: Option<OffsetDateTime>,
}

/// Chat sessions. Appending through [`SessionHistory`] creates a session that does not exist yet.
#[async_trait]
pub trait SessionStore: SessionHistory {
    /// The session, created if absent; `name`, when given, renames it.
    async fn open(&self, key: &str, name: Option<&str>) -> Result<SessionInfo, StoreError>;

    /// The session, if it exists.
    async fn get(&self, key: &str) -> Result<Option<SessionInfo>, StoreError>;

    /// Sessions of `channel` (all channels when `None`), most recently active first.
    async fn list(&self, channel: Option<&str>) -> Result<Vec<SessionInfo>, StoreError>;

    /// Renames a session; `false` when it does not exist.
    async fn rename(&self, key: &str, name: &str) -> Result<bool, StoreError>;

    /// Deletes a session and its messages; `false` when it did not exist.
    async fn delete(&self, key: &str) -> Result<bool, StoreError>;

    /// Records a turn's state: `Running` with its id when it starts, `Idle` or `Error` when it ends
    /// (`Error` keeps the turn id).
    async fn set_state(&self, key: &str, state: TurnState, turn_id: Option<&str>) -> Result<(), StoreError>;

    /// Deletes sessions idle since before `cutoff`; returns how many.
    async fn prune(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keys_and_channels() {
        assert!(valid_session_id("abc_DEF-123"));
        for bad in ["", "a b", "../x", "a.b", "ü", &"x".repeat(129)] {
            assert!(!valid_session_id(bad), "{bad:?}");
        }
        assert_eq!(chat_key("s1"), "gw_s1");
        assert_eq!(channel_of("gw_s1"), "gateway");
        assert_eq!(channel_of("whatsapp_+1555"), "whatsapp");
        assert_eq!(channel_of("nextcloud_talk_room_alice"), "nextcloud_talk");
        assert_eq!(channel_of("linqx_1"), "webhook");
        assert_eq!(channel_of("support-42"), "webhook");
        assert_eq!(TurnState::parse("running"), Some(TurnState::Running));
        assert_eq!(TurnState::parse("busy"), None);
    }
}
