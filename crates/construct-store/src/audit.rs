//! Audit log backends and the hash chain they share.
//!
//! `hash = SHA-256(prev_hash_hex || canonical_bytes(entry))`, with 64 zeros as the first `prev_hash`.
//! Verification recomputes every link, so an edited, deleted or reordered row is found.

use std::sync::Mutex;

use async_trait::async_trait;
use construct_core::audit::{AuditEntry, AuditEvent, AuditLog, AuditQuery, Verification};
use construct_core::devices::StoreError;
use ring::digest::{Context, SHA256};
use time::OffsetDateTime;

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash sealing `entry` after `prev_hash`.
pub fn seal(prev_hash: &str, entry: &AuditEntry) -> String {
    let mut context = Context::new(&SHA256);
    context.update(prev_hash.as_bytes());
    context.update(&entry.canonical_bytes());
    hex::encode(context.finish())
}

/// A new entry at position `id` after `prev_hash`, sealed.
pub fn next_entry(id: u64, prev_hash: &str, event: AuditEvent, at: OffsetDateTime) -> AuditEntry {
    let mut entry = AuditEntry {
        id,
        at,
        event_type: event.kind.as_str().to_owned(),
        actor: event.actor,
        client: event.client,
        detail: event.detail,
        prev_hash: prev_hash.to_owned(),
        hash: String::new(),
    };
    entry.hash = seal(prev_hash, &entry);
    entry
}

/// Checks entries given oldest first.
pub fn verify_chain<'a>(entries: impl IntoIterator<Item = &'a AuditEntry>) -> Verification {
    let mut expected_prev = GENESIS.to_owned();
    let mut expected_id = 1;
    let mut count = 0;
    let mut first_invalid = None;
    for entry in entries {
        count += 1;
        let fits = entry.id == expected_id
            && entry.prev_hash == expected_prev
            && entry.hash == seal(&entry.prev_hash, entry);
        if !fits && first_invalid.is_none() {
            first_invalid = Some(entry.id);
        }
        expected_prev = entry.hash.clone();
        expected_id = entry.id + 1;
    }
    Verification { valid: first_invalid.is_none(), entries: count, first_invalid }
}

/// Newest first, filtered and limited.
pub fn select(entries: impl DoubleEndedIterator<Item = AuditEntry>, query: &AuditQuery) -> Vec<AuditEntry> {
    entries
        .rev()
        .filter(|e| query.kind.is_none_or(|k| e.event_type == k.as_str()))
        .filter(|e| query.since.is_none_or(|since| e.at >= since))
        .take(query.limit)
        .collect()
}

/// The in-memory audit log.
#[derive(Default)]
pub struct MemoryAuditLog {
    entries: Mutex<Vec<AuditEntry>>,
}

impl MemoryAuditLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Vec<AuditEntry>) -> T) -> Result<T, StoreError> {
        let mut entries =
            self.entries.lock().map_err(|_| StoreError::Unavailable("audit log poisoned".into()))?;
        Ok(f(&mut entries))
    }
}

#[async_trait]
impl AuditLog for MemoryAuditLog {
    async fn append(&self, event: AuditEvent) -> Result<AuditEntry, StoreError> {
        self.with(|entries| {
            let (id, prev) =
                entries.last().map_or((1, GENESIS.to_owned()), |last| (last.id + 1, last.hash.clone()));
            let entry = next_entry(id, &prev, event, OffsetDateTime::now_utc());
            entries.push(entry.clone());
            entry
        })
    }

    async fn list(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        self.with(|entries| select(entries.iter().cloned(), query))
    }

    async fn verify(&self) -> Result<Verification, StoreError> {
        self.with(|entries| verify_chain(entries.iter()))
    }
}
