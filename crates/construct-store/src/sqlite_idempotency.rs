//! Idempotency keys in the SQLite file, so a retry after a restart still replays instead of running twice.
//!
//! Same rules as [`crate::MemoryIdempotency`]: responses kept `ttl`, unfinished claims `claim_ttl`, at
//! most `max_keys` keys, expired entries evicted first, then the oldest completed ones, never a fresh
//! claim. Each `begin` is one IMMEDIATE transaction, so two processes sharing the file cannot both claim
//! a key.

use std::time::Duration;

use async_trait::async_trait;
use construct_core::devices::StoreError;
use construct_core::idempotency::{Begin, IdempotencyStore, StoredResponse};
use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;

use crate::SqliteStore;

/// See the module documentation.
pub struct SqliteIdempotency {
    store: SqliteStore,
    ttl: Duration,
    claim_ttl: Duration,
    max_keys: usize,
}

impl SqliteIdempotency {
    /// Keys in `store`'s file, with these bounds.
    pub fn new(store: SqliteStore, ttl: Duration, claim_ttl: Duration, max_keys: usize) -> Self {
        Self { store, ttl, claim_ttl, max_keys: max_keys.max(1) }
    }
}

fn nanos(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

#[async_trait]
impl IdempotencyStore for SqliteIdempotency {
    async fn begin(&self, scope: &str, key: &str, fingerprint: [u8; 32]) -> Result<Begin, StoreError> {
        let (scope, key) = (scope.to_owned(), key.to_owned());
        let now = nanos(OffsetDateTime::now_utc());
        let done_cutoff = now.saturating_sub(self.ttl.as_nanos() as i64);
        let claim_cutoff = now.saturating_sub(self.claim_ttl.as_nanos() as i64);
        let max_keys = self.max_keys as i64;
        let outcome = self
            .store
            .run(move |c| {
                let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let expired = "(done = 1 AND created_nanos <= ?1) OR (done = 0 AND created_nanos <= ?2)";
                let existing: Option<(Vec<u8>, bool, Option<u16>, Option<String>, Option<Vec<u8>>, bool)> =
                    tx.query_row(
                        &format!(
                            "SELECT fingerprint, done, status, headers, body, {expired} FROM idempotency
                             WHERE scope = ?3 AND key = ?4"
                        ),
                        params![done_cutoff, claim_cutoff, scope, key],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
                    )
                    .optional()?;
                if let Some((stored_fp, done, status, headers, body, is_expired)) = existing {
                    if !is_expired {
                        let outcome = if stored_fp != fingerprint {
                            Some(Begin::Mismatch)
                        } else if !done {
                            Some(Begin::InProgress)
                        } else {
                            let headers: Vec<(String, Vec<u8>)> =
                                headers.and_then(|h| serde_json::from_str(&h).ok()).unwrap_or_default();
                            Some(Begin::Replay(StoredResponse {
                                status: status.unwrap_or(200),
                                headers,
                                body: body.unwrap_or_default(),
                            }))
                        };
                        tx.commit()?;
                        return Ok(outcome);
                    }
                    tx.execute("DELETE FROM idempotency WHERE scope = ?1 AND key = ?2", params![scope, key])?;
                }
                let count: i64 = tx.query_row("SELECT COUNT(*) FROM idempotency", [], |r| r.get(0))?;
                if count >= max_keys {
                    tx.execute(
                        &format!("DELETE FROM idempotency WHERE {expired}"),
                        params![done_cutoff, claim_cutoff],
                    )?;
                    let count: i64 = tx.query_row("SELECT COUNT(*) FROM idempotency", [], |r| r.get(0))?;
                    if count >= max_keys {
                        tx.execute(
                            "DELETE FROM idempotency WHERE rowid IN
                             (SELECT rowid FROM idempotency WHERE done = 1 ORDER BY created_nanos LIMIT ?1)",
                            params![count - max_keys + 1],
                        )?;
                    }
                    let count: i64 = tx.query_row("SELECT COUNT(*) FROM idempotency", [], |r| r.get(0))?;
                    if count >= max_keys {
                        return Ok(None);
                    }
                }
                // Claim numbers only need to differ between successive claims of one key: the claim time in
                // nanoseconds does, since claims of one key are serialised by this transaction.
                let claim = now;
                tx.execute(
                    "INSERT INTO idempotency (scope, key, fingerprint, done, created_nanos, claim)
                     VALUES (?1, ?2, ?3, 0, ?4, ?5)",
                    params![scope, key, &fingerprint[..], now, claim],
                )?;
                tx.commit()?;
                Ok(Some(Begin::New(claim.max(0) as u64)))
            })
            .await?;
        outcome.ok_or_else(|| {
            StoreError::Unavailable("idempotency store is full of requests in progress".into())
        })
    }

    async fn complete(
        &self,
        scope: &str,
        key: &str,
        claim: u64,
        response: StoredResponse,
    ) -> Result<(), StoreError> {
        let (scope, key) = (scope.to_owned(), key.to_owned());
        let headers =
            serde_json::to_string(&response.headers).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let now = nanos(OffsetDateTime::now_utc());
        self.store
            .run(move |c| {
                c.execute(
                    "UPDATE idempotency SET done = 1, status = ?3, headers = ?4, body = ?5, created_nanos = ?6
                     WHERE scope = ?1 AND key = ?2 AND done = 0 AND claim = ?7",
                    params![scope, key, response.status, headers, response.body, now, claim as i64],
                )
                .map(drop)
            })
            .await
    }

    async fn abandon(&self, scope: &str, key: &str, claim: u64) -> Result<(), StoreError> {
        let (scope, key) = (scope.to_owned(), key.to_owned());
        self.store
            .run(move |c| {
                c.execute(
                    "DELETE FROM idempotency WHERE scope = ?1 AND key = ?2 AND done = 0 AND claim = ?3",
                    params![scope, key, claim as i64],
                )
                .map(drop)
            })
            .await
    }
}
