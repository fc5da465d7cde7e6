//! Conversation history per session, as the agent needs it: load the recent messages, append new ones.
//!
//! The webhook routes keep a history per `X-Session-Id`; the realtime chat keeps richer sessions that
//! also implement this trait, so both read and write the same conversations.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::devices::StoreError;

/// One stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

/// Where conversations live.
#[async_trait]
pub trait SessionHistory: Send + Sync {
    /// The last `limit` messages of `session`, oldest first.
    async fn load(&self, session: &str, limit: usize) -> Result<Vec<HistoryMessage>, StoreError>;

    /// Appends `messages` to `session` in order.
    async fn append(&self, session: &str, messages: Vec<HistoryMessage>) -> Result<(), StoreError>;
}
