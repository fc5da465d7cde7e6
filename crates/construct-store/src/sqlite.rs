//! The SQLite store: the embedded default.
//!
//! One connection behind a mutex, used from tokio's blocking pool. SQLite serialises writers anyway, and a
//! gateway's state traffic is small point reads and writes, so one connection is simpler than a pool and
//! not slower. WAL lets the CLI (a second process) read and write the same file while the gateway runs.
//!
//! Durability: `synchronous=FULL`, so a committed transaction (a paired device, a rotated token) survives
//! power loss before its response is sent.
//!
//! Schema changes are numbered migrations applied in order and recorded in `PRAGMA user_version`.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use construct_core::audit::{AuditEntry, AuditEvent, AuditLog, AuditQuery, Verification};
use construct_core::devices::{Device, DeviceStore, NewDevice, PairingCode, StoreError, TokenHash};
use construct_core::metrics::Metrics;
use construct_core::principal::Scopes;

use crate::audit::{GENESIS, next_entry, verify_chain};
use rusqlite::{Connection, OptionalExtension, Row, params};
use time::OffsetDateTime;

/// The file name under the data directory.
pub const DB_FILE: &str = "gateway.db";

/// Numbered schema migrations; entry `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: devices and the pairing code.
    "CREATE TABLE devices (
         id          TEXT PRIMARY KEY,
         token_hash  BLOB NOT NULL UNIQUE,
         name        TEXT,
         device_type TEXT,
         scopes      TEXT NOT NULL,
         paired_at   INTEGER NOT NULL,
         last_seen   INTEGER,
         ip_address  TEXT,
         expires_at  INTEGER
     );
     CREATE TABLE pairing_code (
         id         INTEGER PRIMARY KEY CHECK (id = 1),
         code       TEXT NOT NULL,
         expires_at INTEGER NOT NULL,
         scopes     TEXT
     );",
    // 2: the hash-chained audit log.
    "CREATE TABLE audit_log (
         id         INTEGER PRIMARY KEY,
         at_nanos   INTEGER NOT NULL,
         event_type TEXT NOT NULL,
         actor      TEXT,
         client     TEXT,
         detail     TEXT NOT NULL,
         prev_hash  TEXT NOT NULL,
         hash       TEXT NOT NULL
     );
     CREATE INDEX audit_log_type ON audit_log (event_type, id);",
    // 3: idempotency keys and the responses kept for replay.
    "CREATE TABLE idempotency (
         scope         TEXT NOT NULL,
         key           TEXT NOT NULL,
         fingerprint   BLOB NOT NULL,
         done          INTEGER NOT NULL,
         status        INTEGER,
         headers       TEXT,
         body          BLOB,
         created_nanos INTEGER NOT NULL,
         PRIMARY KEY (scope, key)
     );
     CREATE INDEX idempotency_age ON idempotency (done, created_nanos);",
    // 4: claim numbers, so a request whose claim expired cannot complete a retry's entry.
    "ALTER TABLE idempotency ADD COLUMN claim INTEGER NOT NULL DEFAULT 0;",
    // 5: webhook work and the dedupe keys of provider message ids.
    "CREATE TABLE work_queue (
         id            INTEGER PRIMARY KEY AUTOINCREMENT,
         channel       TEXT NOT NULL,
         provider_id   TEXT,
         session       TEXT NOT NULL,
         payload       TEXT NOT NULL,
         attempts      INTEGER NOT NULL DEFAULT 0,
         ready_nanos   INTEGER NOT NULL,
         claimed_until INTEGER
     );
     CREATE INDEX work_queue_ready ON work_queue (ready_nanos, id);
     CREATE TABLE work_dedupe (
         channel     TEXT NOT NULL,
         provider_id TEXT NOT NULL,
         seen_nanos  INTEGER NOT NULL,
         PRIMARY KEY (channel, provider_id)
     );",
    // 6: chat sessions and their messages.
    "CREATE TABLE sessions (
         key             TEXT PRIMARY KEY,
         channel         TEXT NOT NULL,
         name            TEXT,
         created_at      INTEGER NOT NULL,
         last_activity   INTEGER NOT NULL,
         message_count   INTEGER NOT NULL DEFAULT 0,
         state           TEXT NOT NULL DEFAULT 'idle',
         turn_id         TEXT,
         turn_started_at INTEGER
     );
     CREATE INDEX sessions_activity ON sessions (channel, last_activity);
     CREATE TABLE session_messages (
         session_key TEXT NOT NULL REFERENCES sessions (key) ON DELETE CASCADE,
         seq         INTEGER NOT NULL,
         role        TEXT NOT NULL,
         content     TEXT NOT NULL,
         at          INTEGER NOT NULL,
         PRIMARY KEY (session_key, seq)
     );",
    // 7: live canvas frames (the newest 50 per canvas).
    "CREATE TABLE canvas_frames (
         canvas_id    TEXT NOT NULL,
         seq          INTEGER NOT NULL,
         frame_id     TEXT NOT NULL,
         content_type TEXT NOT NULL,
         content      TEXT NOT NULL,
         at_nanos     INTEGER NOT NULL,
         PRIMARY KEY (canvas_id, seq)
     );",
    // 8: human approvals workflow runs wait for.
    "CREATE TABLE approvals (
         run_id     TEXT PRIMARY KEY,
         body       TEXT NOT NULL,
         expires_at INTEGER NOT NULL
     );
     CREATE INDEX approvals_expiry ON approvals (expires_at);",
    // 9: model usage per turn, for GET /api/cost.
    "CREATE TABLE usage (
         id            INTEGER PRIMARY KEY,
         model         TEXT NOT NULL,
         input_tokens  INTEGER NOT NULL,
         output_tokens INTEGER NOT NULL,
         cost_usd      REAL NOT NULL,
         at            INTEGER NOT NULL
     );
     CREATE INDEX usage_at ON usage (at);",
];

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the store at {}: {reason}", path.display())]
pub struct StoreOpenError {
    path: PathBuf,
    reason: String,
}

/// The SQLite-backed store.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
    revision: Arc<AtomicU64>,
    /// Set once, by whoever serves metrics; shared by every clone of the store.
    metrics: Arc<OnceLock<Arc<Metrics>>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) `gateway.db` in `data_dir` and brings its schema up to date.
    pub fn open_in(data_dir: &Path) -> Result<Self, StoreOpenError> {
        Self::open(&data_dir.join(DB_FILE))
    }

    /// Opens (creating if needed) the database file at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreOpenError> {
        let fail = |reason: String| StoreOpenError { path: path.to_owned(), reason };
        let mut conn = Connection::open(path).map_err(|e| fail(e.to_string()))?;
        restrict_permissions(path).map_err(|e| fail(format!("cannot make the file private: {e}")))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA busy_timeout = 5000;
             PRAGMA foreign_keys = ON;",
        )
        .map_err(|e| fail(e.to_string()))?;
        migrate(&mut conn).map_err(|e| fail(format!("migration failed: {e}")))?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path: path.to_owned(),
            revision: Arc::new(AtomicU64::new(0)),
            metrics: Arc::default(),
        })
    }

    /// Watches for changes made by other processes (the CLI) and bumps [`DeviceStore::revision`] when one
    /// happens, checking SQLite's `data_version` every `interval`. Stops when the store is dropped.
    pub fn watch_external_changes(&self, interval: Duration) {
        // The baseline is taken now, so a change made right after this call is not mistaken for it.
        let mut last = self
            .conn
            .lock()
            .ok()
            .and_then(|c| c.query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0)).ok());
        let (conn, revision) = (Arc::downgrade(&self.conn), Arc::downgrade(&self.revision));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                let (Some(conn), Some(revision)) = (conn.upgrade(), revision.upgrade()) else { return };
                let version = tokio::task::spawn_blocking(move || {
                    let conn = conn.lock().ok()?;
                    conn.query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0)).ok()
                })
                .await
                .ok()
                .flatten();
                if version.is_some() && last.is_some() && version != last {
                    revision.fetch_add(1, Ordering::AcqRel);
                }
                last = version.or(last);
            }
        });
    }

    fn changed(&self) {
        self.revision.fetch_add(1, Ordering::AcqRel);
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records the time of every store call in `metrics` from now on (by every clone of this store). Only
    /// the first call has an effect.
    pub fn record_metrics(&self, metrics: Arc<Metrics>) {
        let _ = self.metrics.set(metrics);
    }

    /// Runs `f` with the connection on the blocking pool, timing it (waiting for the connection included)
    /// under the store area of the caller's file.
    #[track_caller]
    pub(crate) fn run<T, F>(&self, f: F) -> impl Future<Output = Result<T, StoreError>> + use<T, F>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let area = store_area(std::panic::Location::caller().file());
        let conn = Arc::clone(&self.conn);
        let metrics = self.metrics.get().cloned();
        async move {
            let started = Instant::now();
            let result = tokio::task::spawn_blocking(move || {
                let mut conn =
                    conn.lock().map_err(|_| StoreError::Unavailable("connection mutex poisoned".into()))?;
                f(&mut conn).map_err(into_store_error)
            })
            .await
            .map_err(|e| StoreError::Unavailable(format!("store task failed: {e}")))?;
            if let Some(metrics) = metrics {
                metrics.store_call(area, started.elapsed());
            }
            result
        }
    }
}

/// The metrics label of the store implemented in `file`: one area per source file.
fn store_area(file: &str) -> &'static str {
    let stem = file.rsplit(['/', '\\']).next().unwrap_or(file).trim_end_matches(".rs");
    match stem {
        "sqlite" => "devices",
        "sqlite_sessions" => "sessions",
        "sqlite_queue" => "queue",
        "sqlite_idempotency" => "idempotency",
        "canvas" => "canvas",
        "approvals" => "approvals",
        "usage" => "usage",
        _ => "other",
    }
}

fn restrict_permissions(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    let _ = path;
    Ok(())
}

fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let current: usize =
        conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))?.try_into().unwrap_or(0);
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "store schema migrated");
    }
    Ok(())
}

fn into_store_error(error: rusqlite::Error) -> StoreError {
    match error {
        rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::InvalidColumnType(..) => {
            StoreError::Corrupt(error.to_string())
        }
        other => StoreError::Unavailable(other.to_string()),
    }
}

pub(crate) fn to_unix(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

pub(crate) fn from_unix(secs: i64) -> rusqlite::Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(|e| corrupt(0, e.to_string()))
}

fn corrupt(column: usize, message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, message.into())
}

fn parse_scopes(column: usize, list: &str) -> rusqlite::Result<Scopes> {
    Scopes::parse_list(list).map_err(|e| corrupt(column, e))
}

const DEVICE_COLUMNS: &str = "id, name, device_type, scopes, paired_at, last_seen, ip_address, expires_at";

fn device_from_row(row: &Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        id: row.get(0)?,
        name: row.get(1)?,
        device_type: row.get(2)?,
        scopes: parse_scopes(3, &row.get::<_, String>(3)?)?,
        paired_at: from_unix(row.get(4)?)?,
        last_seen: row.get::<_, Option<i64>>(5)?.map(from_unix).transpose()?,
        ip_address: row.get(6)?,
        expires_at: row.get::<_, Option<i64>>(7)?.map(from_unix).transpose()?,
    })
}

fn read_code(conn: &Connection) -> rusqlite::Result<Option<PairingCode>> {
    conn.query_row("SELECT code, expires_at, scopes FROM pairing_code WHERE id = 1", [], |row| {
        Ok(PairingCode {
            code: row.get(0)?,
            expires_at: from_unix(row.get(1)?)?,
            scopes: row.get::<_, Option<String>>(2)?.map(|s| parse_scopes(2, &s)).transpose()?,
        })
    })
    .optional()
}

#[async_trait]
impl DeviceStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn revision(&self) -> u64 {
        self.revision.load(Ordering::Acquire)
    }

    async fn device_count(&self) -> Result<u64, StoreError> {
        self.run(|c| c.query_row("SELECT COUNT(*) FROM devices", [], |r| r.get::<_, i64>(0)))
            .await
            .map(|n| n.max(0) as u64)
    }

    async fn list_devices(&self) -> Result<Vec<Device>, StoreError> {
        self.run(|c| {
            let mut stmt =
                c.prepare_cached(&format!("SELECT {DEVICE_COLUMNS} FROM devices ORDER BY paired_at, id"))?;
            stmt.query_map([], device_from_row)?.collect()
        })
        .await
    }

    async fn device_by_token(&self, hash: &TokenHash) -> Result<Option<Device>, StoreError> {
        let hash = hash.0;
        self.run(move |c| {
            let mut stmt =
                c.prepare_cached(&format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE token_hash = ?1"))?;
            stmt.query_row(params![&hash[..]], device_from_row).optional()
        })
        .await
    }

    async fn revoke_device(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        let revoked = self
            .run(move |c| c.execute("DELETE FROM devices WHERE id = ?1", params![id]).map(|n| n > 0))
            .await;
        if revoked == Ok(true) {
            self.changed();
        }
        revoked
    }

    async fn rotate_token(&self, id: &str, new_hash: &TokenHash) -> Result<Option<Device>, StoreError> {
        let (id, hash) = (id.to_owned(), new_hash.0);
        let rotated = self
            .run(move |c| {
                let tx = c.transaction()?;
                let changed =
                    tx.execute("UPDATE devices SET token_hash = ?1 WHERE id = ?2", params![&hash[..], id])?;
                let device = if changed == 0 {
                    None
                } else {
                    Some(tx.query_row(
                        &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1"),
                        params![id],
                        device_from_row,
                    )?)
                };
                tx.commit()?;
                Ok(device)
            })
            .await;
        if matches!(rotated, Ok(Some(_))) {
            self.changed();
        }
        rotated
    }

    async fn touch_device(&self, id: &str, at: OffsetDateTime, ip: Option<&str>) -> Result<(), StoreError> {
        let (id, ip) = (id.to_owned(), ip.map(str::to_owned));
        self.run(move |c| {
            c.execute(
                "UPDATE devices SET last_seen = ?2, ip_address = COALESCE(?3, ip_address) WHERE id = ?1",
                params![id, to_unix(at), ip],
            )
            .map(drop)
        })
        .await
    }

    async fn set_pairing_code(&self, code: &PairingCode) -> Result<(), StoreError> {
        let code = code.clone();
        self.run(move |c| {
            c.execute(
                "INSERT INTO pairing_code (id, code, expires_at, scopes) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET code = ?1, expires_at = ?2, scopes = ?3",
                params![code.code, to_unix(code.expires_at), code.scopes.map(Scopes::to_list)],
            )
            .map(drop)
        })
        .await
    }

    async fn pairing_code(&self, now: OffsetDateTime) -> Result<Option<PairingCode>, StoreError> {
        self.run(move |c| Ok(read_code(c)?.filter(|code| code.expires_at > now))).await
    }

    async fn clear_pairing_code(&self) -> Result<(), StoreError> {
        self.run(|c| c.execute("DELETE FROM pairing_code", []).map(drop)).await
    }

    async fn create_device(&self, device: &Device, hash: &TokenHash) -> Result<(), StoreError> {
        let (device, hash) = (device.clone(), hash.0);
        self.run(move |c| {
            c.execute(
                "INSERT INTO devices (id, token_hash, name, device_type, scopes, paired_at, last_seen, ip_address, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    device.id,
                    &hash[..],
                    device.name,
                    device.device_type,
                    device.scopes.to_list(),
                    to_unix(device.paired_at),
                    device.last_seen.map(to_unix),
                    device.ip_address,
                    device.expires_at.map(to_unix),
                ],
            )?;
            Ok(())
        })
        .await?;
        self.changed();
        Ok(())
    }

    async fn redeem_pairing_code(
        &self,
        candidate: &str,
        now: OffsetDateTime,
        device: NewDevice,
        hash: &TokenHash,
    ) -> Result<Option<Device>, StoreError> {
        let (candidate, hash) = (candidate.to_owned(), hash.0);
        let redeemed = self.run(move |c| {
            // IMMEDIATE: take the write lock first, so two redemptions of one code cannot both read it.
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let Some(code) = read_code(&tx)?.filter(|code| code.expires_at > now && code.matches(&candidate)) else {
                return Ok(None);
            };
            let existing: i64 = tx.query_row("SELECT COUNT(*) FROM devices", [], |r| r.get(0))?;
            let paired = device.into_device(uuid::Uuid::new_v4().to_string(), &code, existing.max(0) as u64, now);
            tx.execute("DELETE FROM pairing_code", [])?;
            tx.execute(
                "INSERT INTO devices (id, token_hash, name, device_type, scopes, paired_at, last_seen, ip_address, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)",
                params![
                    paired.id,
                    &hash[..],
                    paired.name,
                    paired.device_type,
                    paired.scopes.to_list(),
                    to_unix(now),
                    paired.ip_address,
                    paired.expires_at.map(to_unix),
                ],
            )?;
            tx.commit()?;
            Ok(Some(paired))
        })
        .await;
        if matches!(redeemed, Ok(Some(_))) {
            self.changed();
        }
        redeemed
    }
}

const AUDIT_COLUMNS: &str = "id, at_nanos, event_type, actor, client, detail, prev_hash, hash";

fn audit_from_row(row: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    let nanos: i64 = row.get(1)?;
    let detail: String = row.get(5)?;
    Ok(AuditEntry {
        id: row.get::<_, i64>(0)?.max(0) as u64,
        at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
            .map_err(|e| corrupt(1, e.to_string()))?,
        event_type: row.get(2)?,
        actor: row.get(3)?,
        client: row.get(4)?,
        detail: serde_json::from_str(&detail).map_err(|e| corrupt(5, e.to_string()))?,
        prev_hash: row.get(6)?,
        hash: row.get(7)?,
    })
}

#[async_trait]
impl AuditLog for SqliteStore {
    async fn append(&self, event: AuditEvent) -> Result<AuditEntry, StoreError> {
        self.run(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let last: Option<(i64, String)> = tx
                .query_row("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            let (id, prev) = last.map_or((1, GENESIS.to_owned()), |(id, hash)| (id.max(0) as u64 + 1, hash));
            // Nanosecond precision survives the round trip through an i64 until the year 2262.
            let entry = next_entry(id, &prev, event, OffsetDateTime::now_utc());
            let detail = serde_json::to_string(&entry.detail).map_err(|e| corrupt(5, e.to_string()))?;
            tx.execute(
                &format!("INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
                params![
                    entry.id as i64,
                    entry.at.unix_timestamp_nanos() as i64,
                    entry.event_type,
                    entry.actor,
                    entry.client,
                    detail,
                    entry.prev_hash,
                    entry.hash
                ],
            )?;
            tx.commit()?;
            Ok(entry)
        })
        .await
    }

    async fn list(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let query = query.clone();
        self.run(move |c| {
            let since =
                query.since.map_or(i64::MIN, |s| i64::try_from(s.unix_timestamp_nanos()).unwrap_or(i64::MAX));
            let kind = query.kind.map(|k| k.as_str());
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_log
                 WHERE at_nanos >= ?1 AND (?2 IS NULL OR event_type = ?2)
                 ORDER BY id DESC LIMIT ?3"
            ))?;
            stmt.query_map(params![since, kind, query.limit as i64], audit_from_row)?.collect()
        })
        .await
    }

    async fn verify(&self) -> Result<Verification, StoreError> {
        self.run(|c| {
            let mut stmt = c.prepare(&format!("SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY id"))?;
            let entries: Vec<AuditEntry> =
                stmt.query_map([], audit_from_row)?.collect::<rusqlite::Result<_>>()?;
            Ok(verify_chain(entries.iter()))
        })
        .await
    }
}

#[cfg(test)]
mod metrics_tests {
    use construct_core::sessions::SessionStore;

    use super::*;

    #[test]
    fn each_source_file_is_one_store_area() {
        assert_eq!(store_area("crates/construct-store/src/sqlite.rs"), "devices");
        assert_eq!(store_area("crates\\construct-store\\src\\sqlite_sessions.rs"), "sessions");
        assert_eq!(store_area("/abs/src/sqlite_queue.rs"), "queue");
        assert_eq!(store_area("elsewhere.rs"), "other");
    }

    #[tokio::test]
    async fn calls_are_timed_under_their_area_once_metrics_are_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_in(dir.path()).unwrap();
        store.device_count().await.unwrap();
        let metrics = Arc::new(Metrics::new());
        let clone = store.clone();
        store.record_metrics(Arc::clone(&metrics));
        clone.device_count().await.unwrap();
        SessionStore::list(&clone, None).await.unwrap();
        let text = metrics.render();
        assert!(
            text.contains("construct_store_operation_duration_seconds_count{store=\"devices\"} 1"),
            "only calls after recording began, by every clone: {text}"
        );
        assert!(
            text.contains("construct_store_operation_duration_seconds_count{store=\"sessions\"} 1"),
            "{text}"
        );
    }
}
