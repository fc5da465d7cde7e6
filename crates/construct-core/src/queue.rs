//! Webhook work: accepted deliveries waiting for the agent.
//!
//! Channel routes verify a delivery, enqueue it and answer at once; workers claim items and run the agent.
//! The queue is durable (a delivery acknowledged to a provider survives a crash), deduplicates by
//! (channel, provider message id) for a day so a provider's retry never causes a second reply, serialises
//! work per conversation (one item per session in flight), and hands an item out again if its worker dies
//! (the claim expires).

use std::time::Duration;

use async_trait::async_trait;

use crate::devices::StoreError;

/// How long a provider message id is remembered for deduplication.
pub const DEDUPE_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// A delivery to process.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkItem {
    /// Queue id.
    pub id: u64,
    /// `whatsapp`, `linq`, ...
    pub channel: String,
    /// The provider's message id, when it has one.
    pub provider_id: Option<String>,
    /// The conversation; items of one session are processed one at a time, in order.
    pub session: String,
    /// Channel-specific data (sender, reply target, text).
    pub payload: serde_json::Value,
    /// How many times it was claimed before.
    pub attempts: u32,
}

/// What `enqueue` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// Queued under this id.
    Accepted(u64),
    /// The same (channel, provider id) was seen within the dedupe window: nothing queued.
    Duplicate,
    /// The queue is at capacity: answer 503 so the provider retries later.
    Full,
}

/// The queue.
#[async_trait]
pub trait WorkQueue: Send + Sync {
    /// Queues a delivery unless it is a duplicate or the queue is full.
    async fn enqueue(
        &self,
        channel: &str,
        provider_id: Option<&str>,
        session: &str,
        payload: serde_json::Value,
    ) -> Result<Enqueued, StoreError>;

    /// The oldest ready item whose session has nothing else in flight, claimed for `visibility`; after
    /// that, unless acknowledged, it is handed out again.
    async fn claim(&self, visibility: Duration) -> Result<Option<WorkItem>, StoreError>;

    /// The item is done: removed for good (its dedupe key stays).
    async fn ack(&self, id: u64) -> Result<(), StoreError>;

    /// The item failed this time: released, to be claimed again after `delay`.
    async fn retry(&self, id: u64, delay: Duration) -> Result<(), StoreError>;

    /// Items queued or in flight.
    async fn depth(&self) -> Result<u64, StoreError>;
}
