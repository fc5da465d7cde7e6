//! The idempotency contract, against memory and SQLite, plus a model-based property test.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use std::collections::HashMap;
use std::time::Duration;

use construct_core::idempotency::{Begin, IdempotencyStore, StoredResponse};
use construct_store::{MemoryIdempotency, SqliteIdempotency, SqliteStore};
use proptest::prelude::*;

fn response(body: &str) -> StoredResponse {
    StoredResponse {
        status: 201,
        headers: vec![("content-type".into(), b"application/json".to_vec())],
        body: body.as_bytes().to_vec(),
    }
}

fn sqlite(dir: &std::path::Path, ttl: Duration, claim_ttl: Duration, max: usize) -> SqliteIdempotency {
    SqliteIdempotency::new(SqliteStore::open_in(dir).unwrap(), ttl, claim_ttl, max)
}

async fn semantics(store: &dyn IdempotencyStore) {
    assert_eq!(store.begin("alice", "k1", [1; 32]).await.unwrap(), Begin::New);
    assert_eq!(store.begin("alice", "k1", [1; 32]).await.unwrap(), Begin::InProgress);
    assert_eq!(store.begin("alice", "k1", [2; 32]).await.unwrap(), Begin::Mismatch);
    assert_eq!(store.begin("bob", "k1", [1; 32]).await.unwrap(), Begin::New, "scoped");
    store.complete("alice", "k1", response("first")).await.unwrap();
    assert_eq!(store.begin("alice", "k1", [1; 32]).await.unwrap(), Begin::Replay(response("first")));
    assert_eq!(store.begin("alice", "k1", [2; 32]).await.unwrap(), Begin::Mismatch);
    assert_eq!(store.begin("alice", "k2", [1; 32]).await.unwrap(), Begin::New);
    store.abandon("alice", "k2").await.unwrap();
    assert_eq!(store.begin("alice", "k2", [1; 32]).await.unwrap(), Begin::New, "released");
    store.abandon("alice", "k1").await.unwrap();
    assert!(
        matches!(store.begin("alice", "k1", [1; 32]).await.unwrap(), Begin::Replay(_)),
        "abandon keeps responses"
    );
}

async fn expiry(store: &dyn IdempotencyStore) {
    assert_eq!(store.begin("a", "k", [1; 32]).await.unwrap(), Begin::New);
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(store.begin("a", "k", [1; 32]).await.unwrap(), Begin::New, "stale claim expired");
    store.complete("a", "k", response("x")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(store.begin("a", "k", [2; 32]).await.unwrap(), Begin::New, "response expired");
}

async fn bounded(store: &dyn IdempotencyStore) {
    for k in ["a", "b"] {
        store.begin("s", k, [0; 32]).await.unwrap();
        store.complete("s", k, response(k)).await.unwrap();
    }
    store.begin("s", "running", [0; 32]).await.unwrap();
    store.begin("s", "c", [0; 32]).await.unwrap();
    store.begin("s", "d", [0; 32]).await.unwrap();
    assert_eq!(
        store.begin("s", "running", [0; 32]).await.unwrap(),
        Begin::InProgress,
        "fresh claims are never evicted"
    );
    assert!(store.begin("s", "a", [0; 32]).await.is_err(), "full of claims: refuse rather than forget one");
}

#[tokio::test]
async fn memory_meets_the_contract() {
    semantics(&MemoryIdempotency::new(Duration::from_secs(300), Duration::from_secs(60), 100)).await;
    expiry(&MemoryIdempotency::new(Duration::from_millis(40), Duration::from_millis(40), 100)).await;
    bounded(&MemoryIdempotency::new(Duration::from_secs(300), Duration::from_secs(60), 3)).await;
}

#[tokio::test]
async fn sqlite_meets_the_contract() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    semantics(&sqlite(dirs[0].path(), Duration::from_secs(300), Duration::from_secs(60), 100)).await;
    expiry(&sqlite(dirs[1].path(), Duration::from_millis(40), Duration::from_millis(40), 100)).await;
    bounded(&sqlite(dirs[2].path(), Duration::from_secs(300), Duration::from_secs(60), 3)).await;
}

#[tokio::test]
async fn sqlite_replays_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = sqlite(dir.path(), Duration::from_secs(300), Duration::from_secs(60), 100);
        store.begin("p", "k", [7; 32]).await.unwrap();
        store.complete("p", "k", response("kept")).await.unwrap();
    }
    let reopened = sqlite(dir.path(), Duration::from_secs(300), Duration::from_secs(60), 100);
    assert_eq!(reopened.begin("p", "k", [7; 32]).await.unwrap(), Begin::Replay(response("kept")));
}

#[derive(Debug, Clone)]
enum Op {
    Begin(u8, u8, u8),
    Complete(u8, u8, u8),
    Abandon(u8, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..2, 0u8..3, 0u8..2).prop_map(|(s, k, f)| Op::Begin(s, k, f)),
        (0u8..2, 0u8..3, 0u8..4).prop_map(|(s, k, b)| Op::Complete(s, k, b)),
        (0u8..2, 0u8..3).prop_map(|(s, k)| Op::Abandon(s, k)),
    ]
}

/// The reference: what each key holds.
#[derive(Clone, PartialEq)]
enum Model {
    Claimed([u8; 32]),
    Done([u8; 32], StoredResponse),
}

async fn check_against_model(store: &dyn IdempotencyStore, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut model: HashMap<(u8, u8), Model> = HashMap::new();
    for op in ops {
        match *op {
            Op::Begin(s, k, f) => {
                let fp = [f; 32];
                let expected = match model.get(&(s, k)) {
                    None => {
                        model.insert((s, k), Model::Claimed(fp));
                        Begin::New
                    }
                    Some(Model::Claimed(held) | Model::Done(held, _)) if *held != fp => Begin::Mismatch,
                    Some(Model::Claimed(_)) => Begin::InProgress,
                    Some(Model::Done(_, r)) => Begin::Replay(r.clone()),
                };
                let got = store.begin(&s.to_string(), &k.to_string(), fp).await.unwrap();
                prop_assert_eq!(got, expected);
            }
            Op::Complete(s, k, b) => {
                let r = response(&b.to_string());
                if let Some(Model::Claimed(fp)) = model.get(&(s, k)).cloned() {
                    model.insert((s, k), Model::Done(fp, r.clone()));
                    store.complete(&s.to_string(), &k.to_string(), r).await.unwrap();
                }
            }
            Op::Abandon(s, k) => {
                if let Some(Model::Claimed(_)) = model.get(&(s, k)) {
                    model.remove(&(s, k));
                }
                store.abandon(&s.to_string(), &k.to_string()).await.unwrap();
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any sequence of operations gives the answers of the reference model: a key runs at most once per
    /// fingerprint until released, replays exactly what was stored, and never crosses scopes.
    #[test]
    fn both_stores_follow_the_model(ops in prop::collection::vec(op(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let memory = MemoryIdempotency::new(Duration::from_secs(300), Duration::from_secs(300), 1_000);
            check_against_model(&memory, &ops).await?;
            let dir = tempfile::tempdir().unwrap();
            let sqlite = sqlite(dir.path(), Duration::from_secs(300), Duration::from_secs(300), 1_000);
            check_against_model(&sqlite, &ops).await
        })?;
    }
}
