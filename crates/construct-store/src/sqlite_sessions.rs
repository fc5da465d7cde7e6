//! Chat sessions in the gateway's SQLite file: a `sessions` row per conversation and its messages in order.

use async_trait::async_trait;
use construct_core::devices::StoreError;
use construct_core::history::{HistoryMessage, SessionHistory};
use construct_core::sessions::{SessionInfo, SessionStore, TurnState, channel_of};
use rusqlite::{Connection, OptionalExtension, Row, params};
use time::OffsetDateTime;

use crate::SqliteStore;
use crate::sqlite::{from_unix, to_unix};

const COLUMNS: &str =
    "key, channel, name, created_at, last_activity, message_count, state, turn_id, turn_started_at";

fn info_from_row(row: &Row<'_>) -> rusqlite::Result<SessionInfo> {
    let state: String = row.get(6)?;
    Ok(SessionInfo {
        key: row.get(0)?,
        channel: row.get(1)?,
        name: row.get(2)?,
        created_at: from_unix(row.get(3)?)?,
        last_activity: from_unix(row.get(4)?)?,
        message_count: row.get::<_, i64>(5)?.max(0) as u64,
        state: TurnState::parse(&state).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, state.into())
        })?,
        turn_id: row.get(7)?,
        turn_started_at: row.get::<_, Option<i64>>(8)?.map(from_unix).transpose()?,
    })
}

fn ensure(c: &Connection, key: &str, now: i64) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO sessions (key, channel, created_at, last_activity) VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT (key) DO NOTHING",
        params![key, channel_of(key), now],
    )
    .map(drop)
}

fn get(c: &Connection, key: &str) -> rusqlite::Result<Option<SessionInfo>> {
    c.query_row(&format!("SELECT {COLUMNS} FROM sessions WHERE key = ?1"), params![key], info_from_row)
        .optional()
}

#[async_trait]
impl SessionHistory for SqliteStore {
    async fn load(&self, session: &str, limit: usize) -> Result<Vec<HistoryMessage>, StoreError> {
        let (key, limit) = (session.to_owned(), i64::try_from(limit).unwrap_or(i64::MAX));
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT role, content FROM (SELECT seq, role, content FROM session_messages
                 WHERE session_key = ?1 ORDER BY seq DESC LIMIT ?2) ORDER BY seq",
            )?;
            stmt.query_map(params![key, limit], |r| {
                Ok(HistoryMessage { role: r.get(0)?, content: r.get(1)? })
            })?
            .collect()
        })
        .await
    }

    async fn append(&self, session: &str, messages: Vec<HistoryMessage>) -> Result<(), StoreError> {
        let key = session.to_owned();
        self.run(move |c| {
            let now = to_unix(OffsetDateTime::now_utc());
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            ensure(&tx, &key, now)?;
            let mut seq: i64 = tx.query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM session_messages WHERE session_key = ?1",
                params![key],
                |r| r.get(0),
            )?;
            for message in &messages {
                seq += 1;
                tx.execute(
                    "INSERT INTO session_messages (session_key, seq, role, content, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![key, seq, message.role, message.content, now],
                )?;
            }
            tx.execute(
                "UPDATE sessions SET message_count = message_count + ?2, last_activity = ?3 WHERE key = ?1",
                params![key, messages.len() as i64, now],
            )?;
            tx.commit()
        })
        .await
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn open(&self, key: &str, name: Option<&str>) -> Result<SessionInfo, StoreError> {
        let (key, name) = (key.to_owned(), name.map(str::to_owned));
        let found = self
            .run(move |c| {
                let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                ensure(&tx, &key, to_unix(OffsetDateTime::now_utc()))?;
                if let Some(name) = &name {
                    tx.execute("UPDATE sessions SET name = ?2 WHERE key = ?1", params![key, name])?;
                }
                let info = get(&tx, &key)?;
                tx.commit()?;
                Ok(info)
            })
            .await?;
        found.ok_or_else(|| StoreError::Unavailable("session vanished while opening".into()))
    }

    async fn get(&self, key: &str) -> Result<Option<SessionInfo>, StoreError> {
        let key = key.to_owned();
        self.run(move |c| get(c, &key)).await
    }

    async fn list(&self, channel: Option<&str>) -> Result<Vec<SessionInfo>, StoreError> {
        let channel = channel.map(str::to_owned);
        self.run(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM sessions WHERE ?1 IS NULL OR channel = ?1
                 ORDER BY last_activity DESC, key"
            ))?;
            stmt.query_map(params![channel], info_from_row)?.collect()
        })
        .await
    }

    async fn rename(&self, key: &str, name: &str) -> Result<bool, StoreError> {
        let (key, name) = (key.to_owned(), name.to_owned());
        self.run(move |c| c.execute("UPDATE sessions SET name = ?2 WHERE key = ?1", params![key, name]))
            .await
            .map(|n| n > 0)
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let key = key.to_owned();
        self.run(move |c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM session_messages WHERE session_key = ?1", params![key])?;
            let n = tx.execute("DELETE FROM sessions WHERE key = ?1", params![key])?;
            tx.commit()?;
            Ok(n > 0)
        })
        .await
    }

    async fn set_state(&self, key: &str, state: TurnState, turn_id: Option<&str>) -> Result<(), StoreError> {
        let (key, turn_id) = (key.to_owned(), turn_id.map(str::to_owned));
        self.run(move |c| {
            let now = to_unix(OffsetDateTime::now_utc());
            ensure(c, &key, now)?;
            match state {
                TurnState::Running => c.execute(
                    "UPDATE sessions SET state = 'running', turn_id = ?2, turn_started_at = ?3 WHERE key = ?1",
                    params![key, turn_id, now],
                ),
                TurnState::Idle => c.execute(
                    "UPDATE sessions SET state = 'idle', turn_id = NULL, turn_started_at = NULL WHERE key = ?1",
                    params![key],
                ),
                TurnState::Error => c.execute(
                    "UPDATE sessions SET state = 'error', turn_id = COALESCE(?2, turn_id) WHERE key = ?1",
                    params![key, turn_id],
                ),
            }
            .map(drop)
        })
        .await
    }

    async fn prune(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        let cutoff = to_unix(cutoff);
        self.run(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "DELETE FROM session_messages WHERE session_key IN
                 (SELECT key FROM sessions WHERE last_activity < ?1 AND state != 'running')",
                params![cutoff],
            )?;
            let n = tx.execute(
                "DELETE FROM sessions WHERE last_activity < ?1 AND state != 'running'",
                params![cutoff],
            )?;
            tx.commit()?;
            Ok(n as u64)
        })
        .await
    }
}
