//! The audit log: an append-only, hash-chained record of security events.
//!
//! Each entry carries the SHA-256 of the previous entry's hash and its own canonical bytes, so editing,
//! deleting or reordering any stored entry breaks the chain from that point, and `verify` names the first
//! entry that no longer fits. Events recorded: pairing successes and failures, lockouts, device
//! revocations and rotations, scope denials (later also configuration changes and terminal sessions).

use async_trait::async_trait;
use serde::Serialize;
use time::OffsetDateTime;

use crate::devices::StoreError;

/// What happened. Stored as its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// A device paired.
    PairSuccess,
    /// A wrong pairing code.
    PairFailure,
    /// A client was locked out after repeated failures.
    Lockout,
    /// The global pairing budget ran out and the code was invalidated.
    PairingCodeInvalidated,
    /// A device was revoked.
    DeviceRevoked,
    /// A device's token was rotated.
    TokenRotated,
    /// A valid principal was refused for lack of a scope.
    ScopeDenied,
    /// A terminal was opened.
    TerminalOpened,
    /// A terminal was closed.
    TerminalClosed,
    /// The configuration file was changed through the API.
    ConfigChanged,
    /// An operator issued a token from the command line (`construct-gateway token create`).
    TokenCreated,
}

impl AuditKind {
    /// Every kind, for parsing.
    pub const ALL: [AuditKind; 11] = [
        AuditKind::PairSuccess,
        AuditKind::PairFailure,
        AuditKind::Lockout,
        AuditKind::PairingCodeInvalidated,
        AuditKind::DeviceRevoked,
        AuditKind::TokenRotated,
        AuditKind::ScopeDenied,
        AuditKind::TerminalOpened,
        AuditKind::TerminalClosed,
        AuditKind::ConfigChanged,
        AuditKind::TokenCreated,
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            AuditKind::PairSuccess => "pair_success",
            AuditKind::PairFailure => "pair_failure",
            AuditKind::Lockout => "lockout",
            AuditKind::PairingCodeInvalidated => "pairing_code_invalidated",
            AuditKind::DeviceRevoked => "device_revoked",
            AuditKind::TokenRotated => "token_rotated",
            AuditKind::ScopeDenied => "scope_denied",
            AuditKind::TerminalOpened => "terminal_opened",
            AuditKind::TerminalClosed => "terminal_closed",
            AuditKind::ConfigChanged => "config_changed",
            AuditKind::TokenCreated => "token_created",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// An event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// What happened.
    pub kind: AuditKind,
    /// Who did it: a device id, `local-operator`, or `None` for anonymous callers.
    pub actor: Option<String>,
    /// The client address (or client key) involved.
    pub client: Option<String>,
    /// Event details. Never secrets: no tokens, no codes.
    pub detail: serde_json::Value,
}

impl AuditEvent {
    /// An event of `kind` with no details yet.
    pub fn new(kind: AuditKind) -> Self {
        Self { kind, actor: None, client: None, detail: serde_json::Value::Null }
    }

    /// Sets the actor.
    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(actor.into());
        self
    }

    /// Sets the client.
    pub fn client(mut self, client: impl ToString) -> Self {
        self.client = Some(client.to_string());
        self
    }

    /// Sets the details.
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub id: u64,
    /// When it was recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What happened (snake_case).
    pub event_type: String,
    /// Who did it.
    pub actor: Option<String>,
    /// The client involved.
    pub client: Option<String>,
    /// Details.
    pub detail: serde_json::Value,
    /// Hex SHA-256 of the previous entry (64 zeros for the first).
    pub prev_hash: String,
    /// Hex SHA-256 of `prev_hash` and this entry's canonical bytes.
    pub hash: String,
}

impl AuditEntry {
    /// The bytes the hash covers, besides the previous hash: a canonical JSON array of the fields (object
    /// keys sorted, no whitespace), so the same entry always hashes the same.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let fields = serde_json::json!([
            self.id,
            self.at.unix_timestamp_nanos().to_string(),
            self.event_type,
            self.actor,
            self.client,
            self.detail
        ]);
        serde_json::to_vec(&fields).unwrap_or_default()
    }
}

/// Which entries to list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditQuery {
    /// At most this many, newest first.
    pub limit: usize,
    /// Only this kind.
    pub kind: Option<AuditKind>,
    /// Only entries at or after this time.
    pub since: Option<OffsetDateTime>,
}

/// The outcome of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Whether every entry fits the chain.
    pub valid: bool,
    /// How many entries were checked.
    pub entries: u64,
    /// The first entry that does not fit, if any.
    pub first_invalid: Option<u64>,
}

/// Where audit entries live.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends an event atomically at the end of the chain.
    async fn append(&self, event: AuditEvent) -> Result<AuditEntry, StoreError>;

    /// Entries matching `query`, newest first.
    async fn list(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError>;

    /// Checks the whole chain.
    async fn verify(&self) -> Result<Verification, StoreError>;
}

/// Records `event`, logging instead of failing when the log cannot be written: an unavailable audit log
/// must not turn into an outage, but it must not pass silently either.
pub async fn record(log: &dyn AuditLog, event: AuditEvent) {
    let kind = event.kind;
    if let Err(error) = log.append(event).await {
        tracing::error!(%error, event = kind.as_str(), "cannot write the audit log");
    }
}
