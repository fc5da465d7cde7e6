//! Approvals in the SQLite file and in memory.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use construct_core::approvals::{Approval, ApprovalStore, MAX_PENDING, Registered};
use construct_core::devices::StoreError;
use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;

use crate::SqliteStore;
use crate::sqlite::to_unix;

fn encode(approval: &Approval) -> Result<String, StoreError> {
    serde_json::to_string(approval).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn decode(body: &str) -> rusqlite::Result<Approval> {
    serde_json::from_str(body)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, e.into()))
}

#[async_trait]
impl ApprovalStore for SqliteStore {
    async fn register(&self, approval: Approval) -> Result<Registered, StoreError> {
        let body = encode(&approval)?;
        let now = to_unix(OffsetDateTime::now_utc());
        self.run(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.execute("DELETE FROM approvals WHERE expires_at <= ?1", params![now])?;
            let exists: bool = tx
                .query_row("SELECT 1 FROM approvals WHERE run_id = ?1", params![approval.run_id], |_| Ok(()))
                .optional()?
                .is_some();
            let count: i64 = tx.query_row("SELECT COUNT(*) FROM approvals", [], |r| r.get(0))?;
            if !exists && count >= MAX_PENDING as i64 {
                return Ok(Registered::Full);
            }
            tx.execute(
                "INSERT INTO approvals (run_id, body, expires_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (run_id) DO UPDATE SET body = excluded.body, expires_at = excluded.expires_at",
                params![approval.run_id, body, to_unix(approval.expires_at)],
            )?;
            tx.commit()?;
            Ok(Registered::Stored)
        })
        .await
    }

    async fn pending(&self, now: OffsetDateTime) -> Result<Vec<Approval>, StoreError> {
        let now = to_unix(now);
        self.run(move |c| {
            let mut stmt = c.prepare_cached("SELECT body FROM approvals WHERE expires_at > ?1")?;
            let mut found: Vec<Approval> = stmt
                .query_map(params![now], |r| decode(&r.get::<_, String>(0)?))?
                .collect::<Result<_, _>>()?;
            found.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.run_id.cmp(&b.run_id)));
            Ok(found)
        })
        .await
    }

    async fn claim(&self, run_id: &str, now: OffsetDateTime) -> Result<Option<Approval>, StoreError> {
        let (run_id, now) = (run_id.to_owned(), to_unix(now));
        self.run(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let body: Option<String> = tx
                .query_row(
                    "SELECT body FROM approvals WHERE run_id = ?1 AND expires_at > ?2",
                    params![run_id, now],
                    |r| r.get(0),
                )
                .optional()?;
            tx.execute("DELETE FROM approvals WHERE run_id = ?1", params![run_id])?;
            tx.commit()?;
            body.map(|b| decode(&b)).transpose()
        })
        .await
    }
}

/// Approvals in memory, with the same limits.
#[derive(Default)]
pub struct MemoryApprovals {
    pending: Mutex<BTreeMap<String, Approval>>,
}

impl MemoryApprovals {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, BTreeMap<String, Approval>>, StoreError> {
        self.pending.lock().map_err(|_| StoreError::Unavailable("approvals poisoned".into()))
    }
}

#[async_trait]
impl ApprovalStore for MemoryApprovals {
    async fn register(&self, approval: Approval) -> Result<Registered, StoreError> {
        let now = OffsetDateTime::now_utc();
        let mut pending = self.lock()?;
        pending.retain(|_, a| a.expires_at > now);
        if !pending.contains_key(&approval.run_id) && pending.len() >= MAX_PENDING {
            return Ok(Registered::Full);
        }
        pending.insert(approval.run_id.clone(), approval);
        Ok(Registered::Stored)
    }

    async fn pending(&self, now: OffsetDateTime) -> Result<Vec<Approval>, StoreError> {
        let mut found: Vec<Approval> =
            self.lock()?.values().filter(|a| a.expires_at > now).cloned().collect();
        found.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.run_id.cmp(&b.run_id)));
        Ok(found)
    }

    async fn claim(&self, run_id: &str, now: OffsetDateTime) -> Result<Option<Approval>, StoreError> {
        Ok(self.lock()?.remove(run_id).filter(|a| a.expires_at > now))
    }
}
