//! Approvals: one contract, on a real SQLite file and in memory.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use std::sync::Arc;

use construct_core::approvals::{Approval, ApprovalStore, Registered};
use construct_store::{MemoryApprovals, SqliteStore};
use time::{Duration, OffsetDateTime};

fn approval(run: &str, ttl: Duration) -> Approval {
    let now = OffsetDateTime::now_utc();
    Approval {
        run_id: run.into(),
        step_id: "review".into(),
        workflow: "ship".into(),
        approve_keywords: vec!["approve".into()],
        reject_keywords: vec!["reject".into()],
        message: "Ship it?".into(),
        created_at: now,
        expires_at: now + ttl,
    }
}

async fn contract(store: Arc<dyn ApprovalStore>) {
    let now = OffsetDateTime::now_utc();
    assert_eq!(store.register(approval("r1", Duration::hours(1))).await.unwrap(), Registered::Stored);
    assert_eq!(store.register(approval("r2", Duration::seconds(-1))).await.unwrap(), Registered::Stored);
    let pending = store.pending(now).await.unwrap();
    assert_eq!(
        pending.iter().map(|a| a.run_id.as_str()).collect::<Vec<_>>(),
        ["r1"],
        "expired ones are not waiting"
    );
    assert_eq!(pending[0].message, "Ship it?");
    // Exactly one of two concurrent deciders gets it.
    let (a, b) = tokio::join!(store.claim("r1", now), store.claim("r1", now));
    assert_eq!([a.unwrap().is_some(), b.unwrap().is_some()].iter().filter(|x| **x).count(), 1);
    assert!(store.claim("r1", now).await.unwrap().is_none());
    assert!(store.claim("r2", now).await.unwrap().is_none(), "an expired approval cannot be claimed");
    assert!(store.pending(now).await.unwrap().is_empty());
}

#[tokio::test]
async fn sqlite_approvals_keep_the_contract_and_survive_restarts() {
    let dir = tempfile::tempdir().unwrap();
    contract(Arc::new(SqliteStore::open_in(dir.path()).unwrap())).await;
    SqliteStore::open_in(dir.path()).unwrap().register(approval("kept", Duration::hours(1))).await.unwrap();
    let reopened = SqliteStore::open_in(dir.path()).unwrap();
    assert_eq!(reopened.pending(OffsetDateTime::now_utc()).await.unwrap()[0].run_id, "kept");
}

#[tokio::test]
async fn memory_approvals_keep_the_contract_and_are_bounded() {
    contract(Arc::new(MemoryApprovals::default())).await;
    let store = MemoryApprovals::default();
    for n in 0..construct_core::approvals::MAX_PENDING {
        store.register(approval(&format!("r{n}"), Duration::hours(1))).await.unwrap();
    }
    assert_eq!(store.register(approval("one-more", Duration::hours(1))).await.unwrap(), Registered::Full);
    assert_eq!(
        store.register(approval("r0", Duration::hours(2))).await.unwrap(),
        Registered::Stored,
        "replacing is fine"
    );
}
