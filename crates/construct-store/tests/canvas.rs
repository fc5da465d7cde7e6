//! Canvas frames: one contract, on a real SQLite file and in memory.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use construct_core::canvas::{CanvasFrame, CanvasStore, MAX_CANVASES, MAX_HISTORY};
use construct_store::{MemoryCanvas, SqliteStore};

async fn contract(store: &dyn CanvasStore) {
    assert!(store.current("c").await.unwrap().is_none());
    assert!(store.history("c").await.unwrap().is_empty());
    let first = CanvasFrame::new("html", "<b>1</b>");
    assert!(store.render("c", &first).await.unwrap());
    assert_eq!(store.current("c").await.unwrap().unwrap(), first, "round-trips, timestamp included");
    for n in 0..60 {
        store.render("c", &CanvasFrame::new("text", &format!("frame{n}"))).await.unwrap();
    }
    let history = store.history("c").await.unwrap();
    assert_eq!(history.len(), MAX_HISTORY);
    assert_eq!(history[0].content, "frame10", "the oldest are dropped");
    assert_eq!(store.current("c").await.unwrap().unwrap().content, "frame59");

    for n in 1..MAX_CANVASES {
        assert!(store.render(&format!("k{n:03}"), &CanvasFrame::new("text", "x")).await.unwrap());
    }
    assert!(!store.render("one-too-many", &CanvasFrame::new("text", "x")).await.unwrap(), "the cap holds");
    assert!(store.current("one-too-many").await.unwrap().is_none());
    assert!(store.render("c", &CanvasFrame::new("text", "existing ids still render")).await.unwrap());
    assert_eq!(store.list().await.unwrap().len(), MAX_CANVASES);
    // Clearing removes the canvas for good, which frees its place.
    assert!(store.clear("c").await.unwrap());
    assert!(!store.clear("c").await.unwrap());
    assert!(store.history("c").await.unwrap().is_empty());
    assert!(store.render("one-too-many", &CanvasFrame::new("text", "now")).await.unwrap());
}

#[tokio::test]
async fn sqlite_canvas_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    contract(&SqliteStore::open_in(dir.path()).unwrap()).await;
}

#[tokio::test]
async fn memory_canvas_keeps_the_contract() {
    contract(&MemoryCanvas::default()).await;
}
