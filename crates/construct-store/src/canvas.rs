//! Canvas frames: in the SQLite file, and in memory.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use construct_core::canvas::{CanvasFrame, CanvasStore, MAX_CANVASES, MAX_HISTORY};
use construct_core::devices::StoreError;
use rusqlite::{OptionalExtension, Row, params};
use time::OffsetDateTime;

use crate::SqliteStore;

fn frame_from_row(row: &Row<'_>) -> rusqlite::Result<CanvasFrame> {
    let nanos: i64 = row.get(3)?;
    Ok(CanvasFrame {
        frame_id: row.get(0)?,
        content_type: row.get(1)?,
        content: row.get(2)?,
        timestamp: OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos)).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Integer, e.into())
        })?,
    })
}

fn nanos(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

#[async_trait]
impl CanvasStore for SqliteStore {
    async fn render(&self, canvas_id: &str, frame: &CanvasFrame) -> Result<bool, StoreError> {
        let (id, frame) = (canvas_id.to_owned(), frame.clone());
        self.run(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let last: Option<i64> = tx
                .query_row("SELECT MAX(seq) FROM canvas_frames WHERE canvas_id = ?1", params![id], |r| {
                    r.get(0)
                })
                .optional()?
                .flatten();
            if last.is_none() {
                let canvases: i64 =
                    tx.query_row("SELECT COUNT(DISTINCT canvas_id) FROM canvas_frames", [], |r| r.get(0))?;
                if canvases >= MAX_CANVASES as i64 {
                    return Ok(false);
                }
            }
            let seq = last.unwrap_or(0) + 1;
            tx.execute(
                "INSERT INTO canvas_frames (canvas_id, seq, frame_id, content_type, content, at_nanos)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, seq, frame.frame_id, frame.content_type, frame.content, nanos(frame.timestamp)],
            )?;
            tx.execute(
                "DELETE FROM canvas_frames WHERE canvas_id = ?1 AND seq <= ?2",
                params![id, seq - MAX_HISTORY as i64],
            )?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn current(&self, canvas_id: &str) -> Result<Option<CanvasFrame>, StoreError> {
        let id = canvas_id.to_owned();
        self.run(move |c| {
            c.query_row(
                "SELECT frame_id, content_type, content, at_nanos FROM canvas_frames
                 WHERE canvas_id = ?1 ORDER BY seq DESC LIMIT 1",
                params![id],
                frame_from_row,
            )
            .optional()
        })
        .await
    }

    async fn history(&self, canvas_id: &str) -> Result<Vec<CanvasFrame>, StoreError> {
        let id = canvas_id.to_owned();
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT frame_id, content_type, content, at_nanos FROM canvas_frames
                 WHERE canvas_id = ?1 ORDER BY seq",
            )?;
            stmt.query_map(params![id], frame_from_row)?.collect()
        })
        .await
    }

    async fn list(&self) -> Result<Vec<String>, StoreError> {
        self.run(|c| {
            let mut stmt =
                c.prepare_cached("SELECT DISTINCT canvas_id FROM canvas_frames ORDER BY canvas_id")?;
            stmt.query_map([], |r| r.get(0))?.collect()
        })
        .await
    }

    async fn clear(&self, canvas_id: &str) -> Result<bool, StoreError> {
        let id = canvas_id.to_owned();
        self.run(move |c| c.execute("DELETE FROM canvas_frames WHERE canvas_id = ?1", params![id]))
            .await
            .map(|n| n > 0)
    }
}

/// Canvas frames in memory, with the same limits.
#[derive(Default)]
pub struct MemoryCanvas {
    canvases: Mutex<BTreeMap<String, VecDeque<CanvasFrame>>>,
}

impl MemoryCanvas {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, BTreeMap<String, VecDeque<CanvasFrame>>>, StoreError> {
        self.canvases.lock().map_err(|_| StoreError::Unavailable("canvas poisoned".into()))
    }
}

#[async_trait]
impl CanvasStore for MemoryCanvas {
    async fn render(&self, canvas_id: &str, frame: &CanvasFrame) -> Result<bool, StoreError> {
        let mut canvases = self.lock()?;
        if !canvases.contains_key(canvas_id) && canvases.len() >= MAX_CANVASES {
            return Ok(false);
        }
        let history = canvases.entry(canvas_id.to_owned()).or_default();
        history.push_back(frame.clone());
        while history.len() > MAX_HISTORY {
            history.pop_front();
        }
        Ok(true)
    }

    async fn current(&self, canvas_id: &str) -> Result<Option<CanvasFrame>, StoreError> {
        Ok(self.lock()?.get(canvas_id).and_then(|h| h.back().cloned()))
    }

    async fn history(&self, canvas_id: &str) -> Result<Vec<CanvasFrame>, StoreError> {
        Ok(self.lock()?.get(canvas_id).map_or_else(Vec::new, |h| h.iter().cloned().collect()))
    }

    async fn list(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.lock()?.keys().cloned().collect())
    }

    async fn clear(&self, canvas_id: &str) -> Result<bool, StoreError> {
        Ok(self.lock()?.remove(canvas_id).is_some())
    }
}
