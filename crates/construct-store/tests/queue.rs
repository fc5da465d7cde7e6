//! The webhook work queue: one contract, run on a real SQLite file and in memory; then what only a file
//! can do (survive a restart, be shared by processes).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use std::sync::Arc;
use std::time::Duration;

use construct_core::queue::{Enqueued, WorkQueue};
use construct_store::{MemoryWorkQueue, SqliteStore, SqliteWorkQueue};
use serde_json::json;

fn queue(dir: &std::path::Path, capacity: u64) -> SqliteWorkQueue {
    SqliteWorkQueue::new(SqliteStore::open_in(dir).unwrap(), capacity)
}

/// Runs a contract test (an async fn taking a queue factory, by capacity) against both queues.
macro_rules! both {
    ($name:ident, $test:ident) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let dir = tempfile::tempdir().unwrap();
                $test(&|capacity| Box::new(queue(dir.path(), capacity)) as Box<dyn WorkQueue>).await;
            }
            #[tokio::test]
            async fn memory() {
                $test(&|capacity| Box::new(MemoryWorkQueue::new(capacity)) as Box<dyn WorkQueue>).await;
            }
        }
    };
}

type Factory<'a> = &'a dyn Fn(u64) -> Box<dyn WorkQueue>;

both!(enqueue_claim_ack_and_dedupe, enqueue_claim_ack_and_dedupe_on);
both!(a_full_queue_refuses, a_full_queue_refuses_on);
both!(one_item_per_session_in_flight_and_in_order, one_item_per_session_on);
both!(an_unacknowledged_claim_expires_and_a_retry_waits, claims_expire_on);

fn accepted(e: Enqueued) -> u64 {
    match e {
        Enqueued::Accepted(id) => id,
        other => panic!("expected Accepted, got {other:?}"),
    }
}

async fn enqueue_claim_ack_and_dedupe_on(make: Factory<'_>) {
    let q = make(10);
    let id = accepted(q.enqueue("whatsapp", Some("wamid.1"), "s1", json!({"text": "hi"})).await.unwrap());
    assert_eq!(q.enqueue("whatsapp", Some("wamid.1"), "s1", json!({})).await.unwrap(), Enqueued::Duplicate);
    accepted(q.enqueue("linq", Some("wamid.1"), "s9", json!({})).await.unwrap());
    let item = q.claim(Duration::from_secs(30)).await.unwrap().unwrap();
    assert_eq!(
        (item.id, item.channel.as_str(), item.payload["text"].as_str(), item.attempts),
        (id, "whatsapp", Some("hi"), 0)
    );
    q.ack(id).await.unwrap();
    assert_eq!(
        q.enqueue("whatsapp", Some("wamid.1"), "s1", json!({})).await.unwrap(),
        Enqueued::Duplicate,
        "remembered after ack"
    );
    // Without a provider id nothing can be deduplicated.
    accepted(q.enqueue("webhook", None, "s2", json!({})).await.unwrap());
    accepted(q.enqueue("webhook", None, "s2", json!({})).await.unwrap());
    assert_eq!(q.depth().await.unwrap(), 3);
}

async fn a_full_queue_refuses_on(make: Factory<'_>) {
    let q = make(2);
    accepted(q.enqueue("c", Some("1"), "s", json!({})).await.unwrap());
    accepted(q.enqueue("c", Some("2"), "s", json!({})).await.unwrap());
    assert_eq!(q.enqueue("c", Some("3"), "s", json!({})).await.unwrap(), Enqueued::Full);
    // A refused delivery is not remembered: the provider's retry can get in once there is room.
    let item = q.claim(Duration::from_secs(30)).await.unwrap().unwrap();
    q.ack(item.id).await.unwrap();
    accepted(q.enqueue("c", Some("3"), "s", json!({})).await.unwrap());
}

async fn one_item_per_session_on(make: Factory<'_>) {
    let q = make(10);
    let a = accepted(q.enqueue("c", Some("a"), "s1", json!({})).await.unwrap());
    let b = accepted(q.enqueue("c", Some("b"), "s1", json!({})).await.unwrap());
    let c = accepted(q.enqueue("c", Some("c"), "s2", json!({})).await.unwrap());
    assert_eq!(q.claim(Duration::from_secs(30)).await.unwrap().unwrap().id, a);
    assert_eq!(q.claim(Duration::from_secs(30)).await.unwrap().unwrap().id, c, "s1 is busy, s2 is not");
    assert!(q.claim(Duration::from_secs(30)).await.unwrap().is_none());
    q.ack(a).await.unwrap();
    assert_eq!(q.claim(Duration::from_secs(30)).await.unwrap().unwrap().id, b);
}

async fn claims_expire_on(make: Factory<'_>) {
    let q = make(10);
    let id = accepted(q.enqueue("c", Some("x"), "s", json!({})).await.unwrap());
    q.claim(Duration::from_millis(50)).await.unwrap().unwrap();
    assert!(q.claim(Duration::from_secs(30)).await.unwrap().is_none());
    tokio::time::sleep(Duration::from_millis(70)).await;
    let again = q.claim(Duration::from_secs(30)).await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (id, 1), "a worker that died gives its item back");
    q.retry(id, Duration::from_millis(80)).await.unwrap();
    assert!(q.claim(Duration::from_secs(30)).await.unwrap().is_none(), "not before its delay");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(q.claim(Duration::from_secs(30)).await.unwrap().unwrap().attempts, 2);
}

#[tokio::test]
async fn accepted_work_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let id = accepted(
        queue(dir.path(), 10).enqueue("c", Some("keep"), "s", json!({"text": "later"})).await.unwrap(),
    );
    let reopened = queue(dir.path(), 10);
    let item = reopened.claim(Duration::from_secs(30)).await.unwrap().unwrap();
    assert_eq!((item.id, item.payload["text"].as_str()), (id, Some("later")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_workers_never_share_an_item() {
    let dir = tempfile::tempdir().unwrap();
    let q = queue(dir.path(), 100);
    for n in 0..20 {
        accepted(q.enqueue("c", Some(&n.to_string()), &format!("s{n}"), json!({})).await.unwrap());
    }
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let q = Arc::new(queue(dir.path(), 100));
            tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(item) = q.claim(Duration::from_secs(30)).await.unwrap() {
                    got.push(item.id);
                }
                got
            })
        })
        .collect();
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    all.sort_unstable();
    let before = all.len();
    all.dedup();
    assert_eq!((before, all.len()), (20, 20), "every item claimed exactly once");
}
