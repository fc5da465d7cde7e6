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

fn claim(begun: Begin) -> u64 {
    match begun {
        Begin::New(claim) => claim,
        other => panic!("expected a new claim, got {other:?}"),
    }
}

async fn semantics(store: &dyn IdempotencyStore) {
    let k1 = claim(store.begin("alice", "k1", [1; 32]).await.unwrap());
    assert_eq!(store.begin("alice", "k1", [1; 32]).await.unwrap(), Begin::InProgress);
    assert_eq!(store.begin("alice", "k1", [2; 32]).await.unwrap(), Begin::Mismatch);
    claim(store.begin("bob", "k1", [1; 32]).await.unwrap());
    store.complete("alice", "k1", k1, response("first")).await.unwrap();
    assert_eq!(store.begin("alice", "k1", [1; 32]).await.unwrap(), Begin::Replay(response("first")));
    assert_eq!(store.begin("alice", "k1", [2; 32]).await.unwrap(), Begin::Mismatch);
    let k2 = claim(store.begin("alice", "k2", [1; 32]).await.unwrap());
    store.abandon("alice", "k2", k2).await.unwrap();
    claim(store.begin("alice", "k2", [1; 32]).await.unwrap());
    store.abandon("alice", "k1", k1).await.unwrap();
    assert!(
        matches!(store.begin("alice", "k1", [1; 32]).await.unwrap(), Begin::Replay(_)),
        "abandon keeps responses"
    );
}

async fn expiry(store: &dyn IdempotencyStore) {
    let stale = claim(store.begin("a", "k", [1; 32]).await.unwrap());
    tokio::time::sleep(Duration::from_millis(60)).await;
    let retry = claim(store.begin("a", "k", [1; 32]).await.unwrap());
    assert_ne!(stale, retry);
    // The first request finishes late: it must not complete (or release) the retry's claim.
    store.complete("a", "k", stale, response("late")).await.unwrap();
    store.abandon("a", "k", stale).await.unwrap();
    assert_eq!(
        store.begin("a", "k", [1; 32]).await.unwrap(),
        Begin::InProgress,
        "the retry still holds the key"
    );
    store.complete("a", "k", retry, response("x")).await.unwrap();
    assert_eq!(store.begin("a", "k", [1; 32]).await.unwrap(), Begin::Replay(response("x")));
    tokio::time::sleep(Duration::from_millis(60)).await;
    claim(store.begin("a", "k", [2; 32]).await.unwrap());
}

async fn bounded(store: &dyn IdempotencyStore) {
    for k in ["a", "b"] {
        let c = claim(store.begin("s", k, [0; 32]).await.unwrap());
        store.complete("s", k, c, response(k)).await.unwrap();
    }
    claim(store.begin("s", "running", [0; 32]).await.unwrap());
    claim(store.begin("s", "c", [0; 32]).await.unwrap());
    claim(store.begin("s", "d", [0; 32]).await.unwrap());
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
        let c = claim(store.begin("p", "k", [7; 32]).await.unwrap());
        store.complete("p", "k", c, response("kept")).await.unwrap();
    }
    let reopened = sqlite(dir.path(), Duration::from_secs(300), Duration::from_secs(60), 100);
    assert_eq!(reopened.begin("p", "k", [7; 32]).await.unwrap(), Begin::Replay(response("kept")));
}

#[derive(Debug, Clone)]
enum Op {
    Begin(u8, u8, u8),
    Complete(u8, u8, u8),
    Abandon(u8, u8),
    /// Completes with a claim number nobody holds, as a request whose claim was taken over would.
    CompleteStale(u8, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..2, 0u8..3, 0u8..2).prop_map(|(s, k, f)| Op::Begin(s, k, f)),
        (0u8..2, 0u8..3, 0u8..4).prop_map(|(s, k, b)| Op::Complete(s, k, b)),
        (0u8..2, 0u8..3).prop_map(|(s, k)| Op::Abandon(s, k)),
        (0u8..2, 0u8..3).prop_map(|(s, k)| Op::CompleteStale(s, k)),
    ]
}

/// The reference: what each key holds.
#[derive(Clone, PartialEq)]
enum Model {
    Claimed([u8; 32], u64),
    Done([u8; 32], StoredResponse),
}

async fn check_against_model(store: &dyn IdempotencyStore, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut model: HashMap<(u8, u8), Model> = HashMap::new();
    for op in ops {
        match *op {
            Op::Begin(s, k, f) => {
                let fp = [f; 32];
                let got = store.begin(&s.to_string(), &k.to_string(), fp).await.unwrap();
                match model.get(&(s, k)) {
                    None => {
                        let Begin::New(claim) = got else {
                            return Err(TestCaseError::fail(format!("expected New, got {got:?}")));
                        };
                        model.insert((s, k), Model::Claimed(fp, claim));
                    }
                    Some(Model::Claimed(held, _) | Model::Done(held, _)) if *held != fp => {
                        prop_assert_eq!(got, Begin::Mismatch)
                    }
                    Some(Model::Claimed(..)) => prop_assert_eq!(got, Begin::InProgress),
                    Some(Model::Done(_, r)) => prop_assert_eq!(got, Begin::Replay(r.clone())),
                }
            }
            Op::Complete(s, k, b) => {
                let r = response(&b.to_string());
                if let Some(Model::Claimed(fp, claim)) = model.get(&(s, k)).cloned() {
                    model.insert((s, k), Model::Done(fp, r.clone()));
                    store.complete(&s.to_string(), &k.to_string(), claim, r).await.unwrap();
                }
            }
            Op::Abandon(s, k) => {
                if let Some(Model::Claimed(_, claim)) = model.get(&(s, k)).cloned() {
                    model.remove(&(s, k));
                    store.abandon(&s.to_string(), &k.to_string(), claim).await.unwrap();
                }
            }
            Op::CompleteStale(s, k) => {
                // Nothing may change: no claim number is u64::MAX.
                store.complete(&s.to_string(), &k.to_string(), u64::MAX, response("stale")).await.unwrap();
                store.abandon(&s.to_string(), &k.to_string(), u64::MAX).await.unwrap();
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
