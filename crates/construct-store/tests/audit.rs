//! The audit log contract, against memory and a real SQLite file, and tamper detection in the file.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use construct_core::audit::{AuditEvent, AuditKind, AuditLog, AuditQuery};
use construct_store::{MemoryAuditLog, SqliteStore};
use serde_json::json;

async fn contract(log: &dyn AuditLog) {
    assert_eq!(log.verify().await.unwrap().entries, 0);
    assert!(log.verify().await.unwrap().valid);
    let first = log.append(AuditEvent::new(AuditKind::PairFailure).client("198.51.100.1")).await.unwrap();
    assert_eq!(first.id, 1);
    assert_eq!(first.prev_hash, "0".repeat(64));
    let second = log
        .append(
            AuditEvent::new(AuditKind::PairSuccess)
                .actor("dev-1")
                .detail(json!({"scopes": ["read"], "b": 1, "a": 2})),
        )
        .await
        .unwrap();
    assert_eq!(second.prev_hash, first.hash);
    log.append(AuditEvent::new(AuditKind::DeviceRevoked).actor("dev-1")).await.unwrap();

    let all = log.list(&AuditQuery { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), [3, 2, 1], "newest first");
    assert_eq!(all[1].detail, json!({"a": 2, "b": 1, "scopes": ["read"]}));
    let successes = log
        .list(&AuditQuery { limit: 10, kind: Some(AuditKind::PairSuccess), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(successes.len(), 1);
    let limited = log.list(&AuditQuery { limit: 1, ..Default::default() }).await.unwrap();
    assert_eq!(limited[0].id, 3);
    let future = log
        .list(&AuditQuery {
            limit: 10,
            since: Some(time::OffsetDateTime::now_utc() + time::Duration::hours(1)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(future.is_empty());

    let verification = log.verify().await.unwrap();
    assert!(verification.valid);
    assert_eq!((verification.entries, verification.first_invalid), (3, None));
}

#[tokio::test]
async fn memory_audit_log_meets_the_contract() {
    contract(&MemoryAuditLog::new()).await;
}

#[tokio::test]
async fn sqlite_audit_log_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    contract(&SqliteStore::open_in(dir.path()).unwrap()).await;
}

async fn seeded(dir: &std::path::Path) -> SqliteStore {
    let store = SqliteStore::open_in(dir).unwrap();
    for n in 0..5 {
        store.append(AuditEvent::new(AuditKind::PairFailure).detail(json!({"n": n}))).await.unwrap();
    }
    store
}

#[tokio::test]
async fn editing_a_row_in_the_file_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(dir.path()).await;
    let raw = rusqlite::Connection::open(store.path()).unwrap();
    raw.execute("UPDATE audit_log SET event_type = 'pair_success' WHERE id = 3", []).unwrap();
    let verification = store.verify().await.unwrap();
    assert!(!verification.valid);
    assert_eq!(verification.first_invalid, Some(3));
}

#[tokio::test]
async fn deleting_or_resealing_a_row_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(dir.path()).await;
    let raw = rusqlite::Connection::open(store.path()).unwrap();
    raw.execute("DELETE FROM audit_log WHERE id = 2", []).unwrap();
    assert_eq!(store.verify().await.unwrap().first_invalid, Some(3));

    // Recomputing an edited row's own hash does not help: the next row still points at the old one.
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(dir.path()).await;
    let raw = rusqlite::Connection::open(store.path()).unwrap();
    let mut entry = store.list(&AuditQuery { limit: 10, ..Default::default() }).await.unwrap().remove(2);
    entry.detail = json!({"n": 99});
    entry.hash = construct_store::audit::seal(&entry.prev_hash, &entry);
    raw.execute(
        "UPDATE audit_log SET detail = ?1, hash = ?2 WHERE id = ?3",
        rusqlite::params![entry.detail.to_string(), entry.hash, entry.id as i64],
    )
    .unwrap();
    assert_eq!(store.verify().await.unwrap().first_invalid, Some(entry.id + 1));
}

#[tokio::test]
async fn appends_from_many_tasks_form_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(SqliteStore::open_in(dir.path()).unwrap());
    let tasks: Vec<_> = (0..16)
        .map(|n| {
            let store = std::sync::Arc::clone(&store);
            tokio::spawn(async move {
                store.append(AuditEvent::new(AuditKind::Lockout).detail(json!({"n": n}))).await.unwrap()
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let verification = store.verify().await.unwrap();
    assert!(verification.valid);
    assert_eq!(verification.entries, 16);
}
