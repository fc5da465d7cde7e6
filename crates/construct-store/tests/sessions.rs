//! Chat sessions: one contract, run on a real SQLite file and in memory; then restart survival.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use construct_core::history::{HistoryMessage, SessionHistory};
use construct_core::sessions::{SessionStore, TurnState};
use construct_store::{MemorySessions, SqliteStore};
use time::{Duration, OffsetDateTime};

fn msg(role: &str, content: &str) -> HistoryMessage {
    HistoryMessage { role: role.into(), content: content.into() }
}

async fn contract(store: &dyn SessionStore) {
    assert!(store.get("gw_a").await.unwrap().is_none());
    let opened = store.open("gw_a", None).await.unwrap();
    assert_eq!(
        (opened.channel.as_str(), opened.message_count, opened.state),
        ("gateway", 0, TurnState::Idle)
    );
    assert_eq!(opened.name, None);
    assert_eq!(store.open("gw_a", Some("Plans")).await.unwrap().name.as_deref(), Some("Plans"));
    assert_eq!(store.open("gw_a", None).await.unwrap().name.as_deref(), Some("Plans"), "kept when not given");

    store.append("gw_a", vec![msg("user", "hi"), msg("assistant", "hello")]).await.unwrap();
    store.append("gw_a", vec![msg("user", "again")]).await.unwrap();
    let all = store.load("gw_a", usize::MAX).await.unwrap();
    assert_eq!(all.iter().map(|m| m.content.as_str()).collect::<Vec<_>>(), ["hi", "hello", "again"]);
    assert_eq!(store.load("gw_a", 2).await.unwrap()[0].content, "hello", "the last n, oldest first");
    assert_eq!(store.get("gw_a").await.unwrap().unwrap().message_count, 3);

    // Appending creates a session; its channel comes from its key.
    store.append("whatsapp_+1555", vec![msg("user", "yo")]).await.unwrap();
    assert_eq!(store.get("whatsapp_+1555").await.unwrap().unwrap().channel, "whatsapp");
    let gateway: Vec<String> =
        store.list(Some("gateway")).await.unwrap().into_iter().map(|s| s.key).collect();
    assert_eq!(gateway, ["gw_a"]);
    assert_eq!(store.list(None).await.unwrap().len(), 2);

    store.set_state("gw_a", TurnState::Running, Some("turn-1")).await.unwrap();
    let running = store.get("gw_a").await.unwrap().unwrap();
    assert_eq!((running.state, running.turn_id.as_deref()), (TurnState::Running, Some("turn-1")));
    assert!(running.turn_started_at.is_some());
    store.set_state("gw_a", TurnState::Error, None).await.unwrap();
    let failed = store.get("gw_a").await.unwrap().unwrap();
    assert_eq!((failed.state, failed.turn_id.as_deref()), (TurnState::Error, Some("turn-1")), "keeps the id");
    store.set_state("gw_a", TurnState::Idle, None).await.unwrap();
    let idle = store.get("gw_a").await.unwrap().unwrap();
    assert_eq!((idle.state, idle.turn_id, idle.turn_started_at), (TurnState::Idle, None, None));

    assert!(store.rename("gw_a", "Renamed").await.unwrap());
    assert!(!store.rename("gw_nobody", "x").await.unwrap());
    assert!(store.delete("gw_a").await.unwrap());
    assert!(!store.delete("gw_a").await.unwrap());
    assert!(store.get("gw_a").await.unwrap().is_none());
    assert!(store.load("gw_a", 10).await.unwrap().is_empty(), "messages went with it");

    // Pruning removes idle sessions older than the cutoff, never a running one.
    store.open("gw_busy", None).await.unwrap();
    store.set_state("gw_busy", TurnState::Running, Some("t")).await.unwrap();
    let future = OffsetDateTime::now_utc() + Duration::hours(1);
    assert_eq!(store.prune(future).await.unwrap(), 1, "whatsapp_+1555 goes, gw_busy stays");
    assert!(store.get("gw_busy").await.unwrap().is_some());
    assert_eq!(store.prune(OffsetDateTime::now_utc() - Duration::hours(1)).await.unwrap(), 0);
}

#[tokio::test]
async fn sqlite_sessions_keep_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    contract(&SqliteStore::open_in(dir.path()).unwrap()).await;
}

#[tokio::test]
async fn memory_sessions_keep_the_contract() {
    contract(&MemorySessions::default()).await;
}

#[tokio::test]
async fn sqlite_sessions_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SqliteStore::open_in(dir.path()).unwrap();
        store.open("gw_keep", Some("Kept")).await.unwrap();
        store.append("gw_keep", vec![msg("user", "remember me")]).await.unwrap();
    }
    let store = SqliteStore::open_in(dir.path()).unwrap();
    let info = store.get("gw_keep").await.unwrap().unwrap();
    assert_eq!((info.name.as_deref(), info.message_count), (Some("Kept"), 1));
    assert_eq!(store.load("gw_keep", 10).await.unwrap()[0].content, "remember me");
}

#[tokio::test]
async fn memory_sessions_are_bounded() {
    let store = MemorySessions::new(3, 2);
    store.append("a", (1..=4).map(|n| msg("user", &n.to_string())).collect()).await.unwrap();
    let kept: Vec<String> = store.load("a", 10).await.unwrap().into_iter().map(|m| m.content).collect();
    assert_eq!(kept, ["2", "3", "4"]);
    assert_eq!(store.get("a").await.unwrap().unwrap().message_count, 4, "the count is the true count");
    store.append("b", vec![msg("user", "b")]).await.unwrap();
    store.append("a", vec![msg("user", "5")]).await.unwrap();
    store.append("c", vec![msg("user", "c")]).await.unwrap();
    assert!(store.get("b").await.unwrap().is_none(), "least recently used session dropped");
    assert!(store.get("a").await.unwrap().is_some());
}
