//! The in-process event bus: a ring of recent events for replay, and a broadcast channel for live ones.
//!
//! Both are bounded. A subscriber that asks for events older than the ring keeps (or for an id this bus
//! never issued, as after a restart) receives a `Reset` notice and then everything the ring holds; one that
//! falls more than the channel's capacity behind receives a `Lagged` notice with the number missed. Either
//! way it carries on.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use construct_core::devices::StoreError;
use construct_core::events::{Delivery, Event, EventBus, EventStream};
use futures_util::StreamExt;
use time::OffsetDateTime;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

struct Ring {
    next_id: u64,
    recent: VecDeque<Event>,
}

/// See the module documentation.
pub struct MemoryEventBus {
    ring: Mutex<Ring>,
    capacity: usize,
    live: broadcast::Sender<Event>,
}

impl MemoryEventBus {
    /// Keeps the last `replay` events for late subscribers; a live subscriber may fall `lag` events behind
    /// before it is told it lagged.
    pub fn new(replay: usize, lag: usize) -> Self {
        let (live, _) = broadcast::channel(lag.max(1));
        Self { ring: Mutex::new(Ring { next_id: 1, recent: VecDeque::new() }), capacity: replay.max(1), live }
    }
}

impl Default for MemoryEventBus {
    fn default() -> Self {
        Self::new(1_024, 4_096)
    }
}

impl MemoryEventBus {
    /// [`EventBus::publish`] without a future: for callers that cannot await, such as a tracing layer.
    pub fn publish_now(&self, kind: &str, payload: serde_json::Value) -> Result<u64, StoreError> {
        let mut ring = self.ring.lock().map_err(|_| StoreError::Unavailable("event ring poisoned".into()))?;
        let event =
            Event { id: ring.next_id, kind: kind.to_owned(), payload, timestamp: OffsetDateTime::now_utc() };
        ring.next_id += 1;
        if ring.recent.len() == self.capacity {
            ring.recent.pop_front();
        }
        ring.recent.push_back(event.clone());
        // Sent under the lock, so live order matches id order. No receivers is not an error.
        let _ = self.live.send(event.clone());
        Ok(event.id)
    }
}

#[async_trait]
impl EventBus for MemoryEventBus {
    async fn publish(&self, kind: &str, payload: serde_json::Value) -> Result<u64, StoreError> {
        self.publish_now(kind, payload)
    }

    fn subscribe(&self, after: Option<u64>) -> EventStream {
        // Subscribe to live events first, then snapshot the ring: nothing published in between is lost, and
        // duplicates are dropped by id below.
        let live = BroadcastStream::new(self.live.subscribe());
        let (backlog, last_replayed) = match self.ring.lock() {
            Ok(ring) => {
                let mut backlog = Vec::new();
                if let Some(mut after) = after {
                    let oldest = ring.recent.front().map_or(ring.next_id, |e| e.id);
                    if after >= ring.next_id {
                        // An id from another life of the bus: everything it holds is new to this subscriber.
                        backlog.push(Delivery::Reset { missed: 0 });
                        after = 0;
                    } else if after + 1 < oldest {
                        backlog.push(Delivery::Reset { missed: oldest - after - 1 });
                    }
                    backlog.extend(ring.recent.iter().filter(|e| e.id > after).cloned().map(Delivery::Event));
                }
                (backlog, ring.next_id - 1)
            }
            Err(_) => (vec![Delivery::Reset { missed: 0 }], 0),
        };
        let live = live.filter_map(move |item| async move {
            match item {
                Ok(event) if event.id <= last_replayed => None,
                Ok(event) => Some(Delivery::Event(event)),
                Err(BroadcastStreamRecvError::Lagged(missed)) => Some(Delivery::Lagged { missed }),
            }
        });
        Box::pin(futures_util::stream::iter(backlog).chain(live))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ids(deliveries: &[Delivery]) -> Vec<String> {
        deliveries
            .iter()
            .map(|d| match d {
                Delivery::Event(e) => e.id.to_string(),
                Delivery::Lagged { missed } => format!("lagged {missed}"),
                Delivery::Reset { missed } => format!("reset {missed}"),
            })
            .collect()
    }

    #[tokio::test]
    async fn live_then_replay_after_an_id() {
        let bus = MemoryEventBus::new(4, 16);
        let mut live = bus.subscribe(None);
        for n in 0..3 {
            bus.publish("tick", json!({"n": n})).await.unwrap();
        }
        let got: Vec<Delivery> = live.by_ref().take(3).collect().await;
        assert_eq!(ids(&got), ["1", "2", "3"]);

        let mut resumed = bus.subscribe(Some(1));
        bus.publish("tick", json!({})).await.unwrap();
        let got: Vec<Delivery> = resumed.by_ref().take(3).collect().await;
        assert_eq!(ids(&got), ["2", "3", "4"], "replay then live, no duplicates");
    }

    #[tokio::test]
    async fn too_old_a_resume_point_is_reported() {
        let bus = MemoryEventBus::new(2, 16);
        for _ in 0..5 {
            bus.publish("tick", json!({})).await.unwrap();
        }
        let got: Vec<Delivery> = bus.subscribe(Some(1)).take(3).collect().await;
        assert_eq!(ids(&got), ["reset 2", "4", "5"]);
        // An id this bus never issued (the client saw a previous process): reset, then all it has.
        let got: Vec<Delivery> = bus.subscribe(Some(99)).take(3).collect().await;
        assert_eq!(ids(&got), ["reset 0", "4", "5"]);
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_told_it_lagged() {
        let bus = MemoryEventBus::new(2, 2);
        let mut slow = bus.subscribe(None);
        for _ in 0..5 {
            bus.publish("tick", json!({})).await.unwrap();
        }
        let got: Vec<Delivery> = slow.by_ref().take(3).collect().await;
        assert_eq!(ids(&got), ["lagged 3", "4", "5"]);
    }
}
