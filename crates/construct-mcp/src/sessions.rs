//! MCP sessions: a token the gateway mints for a client of its MCP server, and the progress of that
//! session's tool calls as a stream of events.
//!
//! Tokens are 256-bit random, shown once, kept only as SHA-256 and compared as hashes; they expire after
//! `[mcp] session_ttl_secs` and die with the gateway (they are never stored). Each session has a bounded
//! broadcast of [`ProgressEvent`]s; a subscriber too slow for it learns how many it missed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use construct_auth::token::hash_token;
use construct_core::devices::TokenHash;
use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::broadcast;

/// Progress events buffered per session for slow subscribers.
pub const PROGRESS_BUFFER: usize = 64;

/// One step of a tool call's progress.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgressEvent {
    /// Which call (a counter per session).
    pub token: u64,
    /// How far along.
    pub progress: u64,
    /// Out of how much, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// What is happening.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The tool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
}

/// A minted session, as its creator sees it once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Minted {
    /// Its id.
    pub session_id: String,
    /// The bearer token for the MCP endpoint (shown once).
    pub token: String,
    /// When the token stops working.
    pub expires_at: OffsetDateTime,
}

struct Session {
    token_hash: TokenHash,
    owner: String,
    expires_at: OffsetDateTime,
    progress: broadcast::Sender<ProgressEvent>,
    next_call: u64,
}

/// Why a session could not be minted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MintError {
    /// `[mcp] max_sessions` are open.
    #[error("too many MCP sessions are open")]
    Full,
    /// The system's random source failed.
    #[error("the system's random source is unavailable")]
    Random,
}

/// The open sessions.
pub struct McpSessions {
    ttl: Duration,
    max: usize,
    sessions: Mutex<HashMap<String, Session>>,
    bridge: TokenHash,
    bridge_token: String,
}

/// A fresh token: 256 bits from the system's random source, or `None` when it fails.
fn random_token() -> Option<String> {
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).ok()?;
    Some(format!("mcp_{}", hex::encode(bytes)))
}

impl McpSessions {
    /// Sessions living `ttl`, at most `max` at once.
    pub fn new(ttl: Duration, max: usize) -> Self {
        // Without randomness the bridge gets an unguessable-to-nobody empty credential; `is_bridge` refuses
        // the empty token, so the bridge is simply unusable rather than weak.
        let bridge_token = random_token().unwrap_or_default();
        Self {
            ttl,
            max: max.max(1),
            sessions: Mutex::default(),
            bridge: hash_token(&bridge_token),
            bridge_token,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Mints a session for `owner` (the principal id that asked).
    pub fn mint(&self, owner: &str) -> Result<Minted, MintError> {
        let now = OffsetDateTime::now_utc();
        let mut sessions = self.lock();
        sessions.retain(|_, s| s.expires_at > now);
        if sessions.len() >= self.max {
            return Err(MintError::Full);
        }
        let session_id = uuid::Uuid::new_v4().to_string();
        let token = random_token().ok_or(MintError::Random)?;
        let expires_at = now + self.ttl;
        let (progress, _) = broadcast::channel(PROGRESS_BUFFER);
        sessions.insert(
            session_id.clone(),
            Session {
                token_hash: hash_token(&token),
                owner: owner.to_owned(),
                expires_at,
                progress,
                next_call: 1,
            },
        );
        Ok(Minted { session_id, token, expires_at })
    }

    /// The live session `token` belongs to.
    pub fn authenticate(&self, token: &str) -> Option<String> {
        let hash = hash_token(token);
        let now = OffsetDateTime::now_utc();
        self.lock()
            .iter()
            .find(|(_, s)| s.expires_at > now && bool::from(subtle_eq(&s.token_hash, &hash)))
            .map(|(id, _)| id.clone())
    }

    /// The credential the gateway's own WebSocket bridge presents to read any session's events (and
    /// nothing else); it never leaves this process.
    pub fn bridge_token(&self) -> &str {
        &self.bridge_token
    }

    /// Whether `token` is the bridge's credential.
    pub fn is_bridge(&self, token: &str) -> bool {
        !token.is_empty()
            && !self.bridge_token.is_empty()
            && bool::from(subtle_eq(&self.bridge, &hash_token(token)))
    }

    /// Whether `session_id` is live and was minted by `owner`.
    pub fn owned_by(&self, session_id: &str, owner: &str) -> bool {
        let now = OffsetDateTime::now_utc();
        self.lock().get(session_id).is_some_and(|s| s.expires_at > now && s.owner == owner)
    }

    /// A subscription to a live session's progress.
    pub fn subscribe(&self, session_id: &str) -> Option<broadcast::Receiver<ProgressEvent>> {
        let now = OffsetDateTime::now_utc();
        self.lock().get(session_id).filter(|s| s.expires_at > now).map(|s| s.progress.subscribe())
    }

    /// A reporter for one call of `tool` in `session_id` (a no-op one when the session is gone).
    pub fn reporter(&self, session_id: Option<&str>, tool: &str) -> crate::tools::SessionProgress {
        let mut sessions = self.lock();
        let slot = session_id.and_then(|id| sessions.get_mut(id)).map(|s| {
            let call = s.next_call;
            s.next_call += 1;
            (s.progress.clone(), call)
        });
        crate::tools::SessionProgress::new(slot, tool)
    }

    /// Sessions open now.
    pub fn count(&self) -> usize {
        let now = OffsetDateTime::now_utc();
        self.lock().values().filter(|s| s.expires_at > now).count()
    }
}

/// Constant-time equality of two hashes.
fn subtle_eq(a: &TokenHash, b: &TokenHash) -> subtle::Choice {
    subtle::ConstantTimeEq::ct_eq(&a.0[..], &b.0[..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_authenticate_their_session_until_they_expire() {
        let sessions = McpSessions::new(Duration::from_secs(60), 2);
        let minted = sessions.mint("device-1").unwrap_or_else(|e| panic!("{e}"));
        assert!(minted.token.starts_with("mcp_") && minted.token.len() == 68);
        assert_eq!(sessions.authenticate(&minted.token), Some(minted.session_id.clone()));
        assert_eq!(sessions.authenticate("mcp_wrong"), None);
        assert!(sessions.owned_by(&minted.session_id, "device-1"));
        assert!(!sessions.owned_by(&minted.session_id, "device-2"));
        sessions.mint("device-1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sessions.mint("device-1"), Err(MintError::Full));

        let expired = McpSessions::new(Duration::ZERO, 2);
        let gone = expired.mint("d").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(expired.authenticate(&gone.token), None, "an expired token is refused");
        assert!(expired.subscribe(&gone.session_id).is_none());
    }
}
