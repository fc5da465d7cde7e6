//! The event bus: how agent activity, webhook deliveries and errors reach live clients (SSE, WebSockets).
//!
//! The bus assigns every event an increasing id. A subscriber may ask to start after an id it already saw
//! (`Last-Event-ID`), and is told, never silently, when it missed events: because it was too slow, or
//! because the events it asked for are older than the bus keeps.

use std::pin::Pin;

use async_trait::async_trait;
use futures_core::Stream;
use serde::Serialize;
use time::OffsetDateTime;

use crate::devices::StoreError;

/// One published event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Assigned by the bus, increasing.
    pub id: u64,
    /// The event type (`agent_start`, `agent_end`, `error`, `webhook_received`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Event data.
    pub payload: serde_json::Value,
    /// When it was published.
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
}

/// What a subscriber receives.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// The next event.
    Event(Event),
    /// `missed` live events were skipped because the subscriber read too slowly. It should resynchronise
    /// whatever state it derives from events.
    Lagged {
        /// How many.
        missed: u64,
    },
    /// The resume point asked for is not in the bus's memory (older than it keeps, or from before a
    /// restart): `missed` events at least are gone, and what follows is everything the bus still has. The
    /// subscriber should resynchronise from scratch.
    Reset {
        /// How many events are known to be gone (0 when unknown, e.g. after a restart).
        missed: u64,
    },
}

/// A subscription.
pub type EventStream = Pin<Box<dyn Stream<Item = Delivery> + Send>>;

/// Publishes and distributes events.
#[async_trait]
pub trait EventBus: Send + Sync {
    /// Publishes an event; returns its id.
    async fn publish(&self, kind: &str, payload: serde_json::Value) -> Result<u64, StoreError>;

    /// Events after `after` (or only new ones when `None`), then live ones.
    fn subscribe(&self, after: Option<u64>) -> EventStream;
}
