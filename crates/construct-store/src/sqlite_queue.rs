//! The webhook work queue in the gateway's SQLite file. Every operation is one transaction, so a delivery
//! acknowledged to a provider is on disk, and two workers (or processes) never claim the same item.

use std::time::Duration;

use async_trait::async_trait;
use construct_core::devices::StoreError;
use construct_core::queue::{DEDUPE_WINDOW, Enqueued, WorkItem, WorkQueue};
use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;

use crate::SqliteStore;

/// See the module documentation.
pub struct SqliteWorkQueue {
    store: SqliteStore,
    capacity: u64,
}

impl SqliteWorkQueue {
    /// A queue in `store`'s file holding at most `capacity` items.
    pub fn new(store: SqliteStore, capacity: u64) -> Self {
        Self { store, capacity: capacity.max(1) }
    }
}

fn now_nanos() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

fn nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

#[async_trait]
impl WorkQueue for SqliteWorkQueue {
    async fn enqueue(
        &self,
        channel: &str,
        provider_id: Option<&str>,
        session: &str,
        payload: serde_json::Value,
    ) -> Result<Enqueued, StoreError> {
        let (channel, provider_id, session) =
            (channel.to_owned(), provider_id.map(str::to_owned), session.to_owned());
        let payload = payload.to_string();
        let capacity = self.capacity as i64;
        self.store
            .run(move |c| {
                let now = now_nanos();
                let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                tx.execute("DELETE FROM work_dedupe WHERE seen_nanos <= ?1", params![now.saturating_sub(nanos(DEDUPE_WINDOW))])?;
                if let Some(id) = &provider_id {
                    let seen: Option<i64> = tx
                        .query_row("SELECT 1 FROM work_dedupe WHERE channel = ?1 AND provider_id = ?2", params![channel, id], |r| r.get(0))
                        .optional()?;
                    if seen.is_some() {
                        return Ok(Enqueued::Duplicate);
                    }
                }
                let depth: i64 = tx.query_row("SELECT COUNT(*) FROM work_queue", [], |r| r.get(0))?;
                if depth >= capacity {
                    return Ok(Enqueued::Full);
                }
                if let Some(id) = &provider_id {
                    tx.execute(
                        "INSERT INTO work_dedupe (channel, provider_id, seen_nanos) VALUES (?1, ?2, ?3)",
                        params![channel, id, now],
                    )?;
                }
                tx.execute(
                    "INSERT INTO work_queue (channel, provider_id, session, payload, ready_nanos) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![channel, provider_id, session, payload, now],
                )?;
                let id = tx.last_insert_rowid();
                tx.commit()?;
                Ok(Enqueued::Accepted(id.max(0) as u64))
            })
            .await
    }

    async fn claim(&self, visibility: Duration) -> Result<Option<WorkItem>, StoreError> {
        self.store
            .run(move |c| {
                let now = now_nanos();
                let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                // Only the oldest item of each session is eligible, so a session's items run one at a time
                // and in order (a later one never overtakes an earlier one in flight or waiting to retry).
                let row = tx
                    .query_row(
                        "SELECT id, channel, provider_id, session, payload, attempts FROM work_queue w
                         WHERE ready_nanos <= ?1 AND (claimed_until IS NULL OR claimed_until <= ?1)
                           AND NOT EXISTS (SELECT 1 FROM work_queue o WHERE o.session = w.session AND o.id < w.id)
                         ORDER BY id LIMIT 1",
                        params![now],
                        |r| {
                            Ok((
                                r.get::<_, i64>(0)?,
                                r.get::<_, String>(1)?,
                                r.get::<_, Option<String>>(2)?,
                                r.get::<_, String>(3)?,
                                r.get::<_, String>(4)?,
                                r.get::<_, i64>(5)?,
                            ))
                        },
                    )
                    .optional()?;
                let Some((id, channel, provider_id, session, payload, attempts)) = row else {
                    return Ok(None);
                };
                tx.execute(
                    "UPDATE work_queue SET claimed_until = ?2, attempts = attempts + 1 WHERE id = ?1",
                    params![id, now.saturating_add(nanos(visibility))],
                )?;
                tx.commit()?;
                let payload = serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null);
                Ok(Some(WorkItem {
                    id: id.max(0) as u64,
                    channel,
                    provider_id,
                    session,
                    payload,
                    attempts: attempts.clamp(0, i64::from(u32::MAX)) as u32,
                }))
            })
            .await
    }

    async fn ack(&self, id: u64) -> Result<(), StoreError> {
        self.store
            .run(move |c| c.execute("DELETE FROM work_queue WHERE id = ?1", params![id as i64]).map(drop))
            .await
    }

    async fn retry(&self, id: u64, delay: Duration) -> Result<(), StoreError> {
        self.store
            .run(move |c| {
                c.execute(
                    "UPDATE work_queue SET claimed_until = NULL, ready_nanos = ?2 WHERE id = ?1",
                    params![id as i64, now_nanos().saturating_add(nanos(delay))],
                )
                .map(drop)
            })
            .await
    }

    async fn depth(&self) -> Result<u64, StoreError> {
        self.store
            .run(|c| c.query_row("SELECT COUNT(*) FROM work_queue", [], |r| r.get::<_, i64>(0)))
            .await
            .map(|n| n.max(0) as u64)
    }
}
